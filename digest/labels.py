"""Small pieces of message text shared by every layout: times, hosts, reading time,
"+N more", one line of coverage. Article strings are escaped and links checked by
:mod:`digest.html`."""

from __future__ import annotations

import functools
from datetime import date, datetime, tzinfo
from urllib.parse import urlsplit

from babel.dates import format_date

from digest.html import clean, escape, link
from digest.model import RelatedLink
from digest.reading import reading_minutes
from digest.texts import SOURCE_TEXTS, Texts

MAX_TITLE = 300
MAX_PROVIDER = 64


def when_label(moment: datetime, tz: tzinfo, now: datetime | None, language: str) -> str:
    """Local time: 13:29 today (in tz), else 14 Jun, 13:29 (14 Jun 2023, 13:29 other years),
    the month in ``language``.

    Without ``now`` (alerts, related lists) the date is always shown.
    """
    local = moment.astimezone(tz)
    clock = f"{local.hour:02d}:{local.minute:02d}"
    if now is not None and local.date() == now.astimezone(tz).date():
        return clock
    other_year = now is not None and local.year != now.astimezone(tz).year
    return f"{_day(local.date(), language, with_year=other_year)}, {clock}"


@functools.lru_cache(maxsize=4096)
def _day(day: date, language: str, *, with_year: bool) -> str:
    """ "14 Jun", "14 июн.", "14 Jun 2023" (cached: a tick shows the same few days)."""
    return format_date(day, "d MMM y" if with_year else "d MMM", locale=language)


def host_of(url: str) -> str:
    """The link's host name ("" when it has none or does not parse)."""
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def reading_text(words: int, texts: Texts = SOURCE_TEXTS) -> str:
    """``4 min read`` in the reader's language; empty without a body."""
    minutes = reading_minutes(words)
    if not minutes:
        return ""
    # TRANSLATORS: an article's reading time on a digest entry or story card.
    return texts.ngettext("{n} min read", "{n} min read", minutes).format(n=minutes)


def more_line(more: int, texts: Texts) -> str:
    """ "+N more" in italics, after the lines or entries that did not fit."""
    # TRANSLATORS: the end of a digest: how many more stories the "More" button brings.
    label = texts.ngettext("+{n} more", "+{n} more", more).format(n=more)
    return f"<i>{escape(label)}</i>"


def coverage_line(item: RelatedLink, tz: tzinfo, texts: Texts) -> str:
    """ "• <title link> — Provider · 14 Jun, 13:29": one article of a story."""
    provider = clean(item.provider.name if item.provider else "", MAX_PROVIDER)
    label = (
        clean(item.title, MAX_TITLE) or provider or host_of(item.web_url) or texts.gettext("link")
    )
    line = f"• {link(item.web_url, label)}"
    when = when_label(item.published_at, tz, None, texts.language) if item.published_at else ""
    tail = " · ".join(part for part in (provider, when) if part)
    return f"{line} — {escape(tail)}" if tail else line
