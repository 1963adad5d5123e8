"""Message layouts: digests, related coverage and breaking news as Telegram HTML.

Built from :mod:`digest.html`'s primitives, so every untrusted string is escaped and
every link checked there. Messages are split only between blocks (entries); entry
blocks are built so that only the excerpt can be cut (see :func:`_entry_block`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from enum import StrEnum
from urllib.parse import urlsplit

from babel.dates import format_date

from digest.assemble import Digest, Entry
from digest.callbacks import DigestMore, RelatedStory
from digest.html import (
    BARE_URL,
    MAX_MESSAGE,
    UNSAFE_CHARS,
    clean,
    escape,
    link,
    linkify_match,
    pack_blocks,
    pack_groups,
    truncate_html,
    utf16_len,
)
from digest.keyboard import Button, Keyboard
from digest.model import Candidate, RelatedLink
from digest.settings_callbacks import MuteMenu
from digest.texts import SOURCE_TEXTS, Texts

MAX_TITLE = 300
MAX_EXCERPT = 280
MAX_PROVIDER = 64
MAX_HEADING = 200
MAX_ALSO = 5
BUTTONS_PER_ROW = 5


class LinkPreviews(StrEnum):
    """Link previews under a digest (a message shows at most one)."""

    OFF = "off"
    FIRST = "first"  # the first entry's link, under the first message
    ALL = "all"  # one message per entry, each with its entry's preview


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """One Telegram message: HTML text, inline-keyboard rows, and the articles it shows."""

    text: str
    buttons: Keyboard = ()
    article_ids: tuple[int, ...] = ()  # each entry's lead, then its other coverage
    preview_url: str | None = None  # the link to preview; None: previews off


def _when(moment: datetime, tz: tzinfo, now: datetime | None, language: str) -> str:
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


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def _also_line(links: Sequence[str], hidden: int, texts: Texts) -> str:
    shown = ", ".join(links)
    if hidden:
        # TRANSLATORS: under a digest entry: the other sources covering the story (links).
        return texts.ngettext(
            "also: {links} and {n} more", "also: {links} and {n} more", hidden
        ).format(links=shown, n=hidden)
    return texts.gettext("also: {links}").format(links=shown)


def _entry_block(
    lead: Candidate,
    also: Sequence[Candidate],
    *,
    number: int | None,
    tz: tzinfo,
    now: datetime | None,
    texts: Texts = SOURCE_TEXTS,
) -> str:
    """One story: title link, provider and time, excerpt, other coverage.

    Size bound: the title line is at most ~12 + 15 + MAX_HREF + 5·MAX_TITLE units and the
    meta line ~5·MAX_PROVIDER + 30, under 4,000 together, so if the block is too long the
    cut falls in the excerpt. Also-links are added only while the block still fits.
    """
    title = (
        clean(lead.title, MAX_TITLE)
        or clean(lead.provider, MAX_PROVIDER)
        or texts.gettext("Untitled")
    )
    head = link(lead.web_url, title)
    if number is not None:
        head = f"<b>{number}.</b> {head}"
    meta = " · ".join(
        part
        for part in (
            clean(lead.provider, MAX_PROVIDER),
            _when(lead.published_at, tz, now, texts.language),
        )
        if part
    )
    lines = [head, f"<i>{escape(meta)}</i>"]
    excerpt = clean(lead.excerpt, MAX_EXCERPT)
    if excerpt:
        lines.append(escape(excerpt))
    block = "\n".join(lines)

    shown: list[str] = []
    room = MAX_MESSAGE - utf16_len(block) - 1  # 1 for the newline before the line
    for other in also[:MAX_ALSO]:
        label = clean(other.provider, MAX_PROVIDER) or _host(other.web_url) or texts.gettext("link")
        trial = [*shown, link(other.web_url, label)]
        if utf16_len(_also_line(trial, len(also) - len(trial), texts)) > room:
            break
        shown = trial
    if shown:
        block = f"{block}\n{_also_line(shown, len(also) - len(shown), texts)}"
    return block


def _rows(buttons: Sequence[Button]) -> list[tuple[Button, ...]]:
    return [
        tuple(buttons[i : i + BUTTONS_PER_ROW]) for i in range(0, len(buttons), BUTTONS_PER_ROW)
    ]


EntryCache = dict[tuple[object, ...], str]


def render_digest(
    digest: Digest,
    *,
    tz: tzinfo,
    heading: str,
    now: datetime,
    cache: EntryCache | None = None,
    previews: LinkPreviews = LinkPreviews.OFF,
    mute_chat: int | None = None,
    texts: Texts = SOURCE_TEXTS,
) -> list[RenderedMessage]:
    """A digest as one or more messages, each with a related-coverage button per entry.

    The last message ends with "+N more" and a "More (N)" button when ``digest.more``, and
    with ``mute_chat`` a "Mute a source" button (the menu of that subscription's sources).
    ``previews``: which messages show a link preview (:class:`LinkPreviews`).
    ``cache``: entry blocks already rendered for other readers with the same ``now`` —
    a tick renders the same few hundred stories for many readers.
    ``texts``: the reader's language (labels, buttons and dates; article text as it is).
    """
    sep = "\n\n"
    blocks: list[str] = []
    entry_of_block: list[tuple[int, Entry] | None] = []  # (number, entry) per block
    title = clean(heading, MAX_HEADING)
    if title:
        blocks.append(f"<b>{escape(title)}</b>")
        entry_of_block.append(None)
    for number, entry in enumerate(digest.entries, 1):
        key = (entry.lead.id, *(a.id for a in entry.also), number, tz, texts.language)
        block = cache.get(key) if cache is not None else None
        if block is None:
            block = _entry_block(entry.lead, entry.also, number=number, tz=tz, now=now, texts=texts)
            block = truncate_html(block, MAX_MESSAGE)
            if cache is not None:
                cache[key] = block
        blocks.append(block)
        entry_of_block.append((number, entry))
    if not digest.entries and not digest.more:
        nothing = texts.gettext("No new stories.")
        blocks.append(f"<i>{escape(nothing)}</i>")
        entry_of_block.append(None)
    if digest.more > 0:
        # TRANSLATORS: the end of a digest: how many more stories the "More" button brings.
        more = texts.ngettext("+{n} more", "+{n} more", digest.more).format(n=digest.more)
        blocks.append(f"<i>{escape(more)}</i>")
        entry_of_block.append(None)

    blocks = [truncate_html(b, MAX_MESSAGE) for b in blocks]
    groups = (
        _one_entry_each(blocks, entry_of_block, sep)
        if previews is LinkPreviews.ALL
        else pack_groups(blocks, MAX_MESSAGE, sep)
    )
    messages: list[RenderedMessage] = []
    for g, group in enumerate(groups):
        held = [entry for entry in (entry_of_block[i] for i in group) if entry is not None]
        rows = _rows([RelatedStory(entry.lead.id).button(f"🔗 {number}") for number, entry in held])
        last = g == len(groups) - 1
        if last and digest.more > 0:
            more_label = texts.gettext("More ({n})").format(n=digest.more)
            rows.append((DigestMore().button(more_label),))
        if last and mute_chat is not None and digest.entries:
            rows.append((MuteMenu(mute_chat).button(texts.gettext("🔇 Mute a source")),))
        shown = [a.id for _, entry in held for a in (entry.lead, *entry.also)]
        preview = None
        if held and (previews is LinkPreviews.ALL or (previews is LinkPreviews.FIRST and g == 0)):
            preview = held[0][1].lead.web_url
        messages.append(
            RenderedMessage(sep.join(blocks[i] for i in group), tuple(rows), tuple(shown), preview)
        )
    return messages


def _one_entry_each(
    blocks: Sequence[str], entry_of_block: Sequence[tuple[int, Entry] | None], sep: str
) -> list[list[int]]:
    """One message per entry: the heading joins the first, the "+N more" line the last."""
    groups: list[list[int]] = []
    pending: list[int] = []
    for i, entry in enumerate(entry_of_block):
        if entry is None:
            (groups[-1] if groups and not pending else pending).append(i)
            continue
        groups.append([*pending, i])
        pending = []
    if pending:
        groups.append(pending)
    # A heading and an entry may not fit one message together: split those few again.
    fitted: list[list[int]] = []
    for group in groups:
        fitted.extend([group[k] for k in part] for part in pack_groups(
            [blocks[k] for k in group], MAX_MESSAGE, sep))  # fmt: skip
    return fitted


def render_related(
    article_title: str,
    links: Sequence[RelatedLink],
    *,
    tz: tzinfo,
    texts: Texts = SOURCE_TEXTS,
) -> list[str]:
    """A "Related coverage" heading and one line per link, packed into messages."""
    heading = texts.gettext("Related coverage: {title}").format(
        title=escape(clean(article_title, MAX_TITLE))
    )
    blocks = [f"<b>{heading}</b>\n"]
    if not links:
        none_yet = texts.gettext("No other coverage yet.")
        blocks.append(f"<i>{escape(none_yet)}</i>")
    for item in links:
        provider = clean(item.provider.name if item.provider else "", MAX_PROVIDER)
        label = (
            clean(item.title, MAX_TITLE) or provider or _host(item.web_url) or texts.gettext("link")
        )
        line = f"• {link(item.web_url, label)}"
        when = _when(item.published_at, tz, None, texts.language) if item.published_at else ""
        tail = " · ".join(part for part in (provider, when) if part)
        blocks.append(f"{line} — {escape(tail)}" if tail else line)
    return pack_blocks(blocks, sep="\n")


def render_breaking(c: Candidate, *, tz: tzinfo, texts: Texts = SOURCE_TEXTS) -> str:
    """A breaking-news alert for one article, ≤ one message."""
    block = _entry_block(c, (), number=None, tz=tz, now=None, texts=texts)
    return truncate_html(f"{breaking_heading(texts)}\n\n{block}", MAX_MESSAGE)


def breaking_heading(texts: Texts = SOURCE_TEXTS) -> str:
    label = texts.gettext("Breaking")
    return f"🔴 <b>{escape(label)}</b>"


def render_breaking_text(text: str) -> str:
    """Admin free text as HTML: escaped, bare http(s) URLs linked, ≤ one message."""
    text = UNSAFE_CHARS.sub("", text)
    pieces: list[str] = []
    last = 0
    for match in BARE_URL.finditer(text):
        pieces.append(escape(text[last : match.start()]))
        pieces.append(linkify_match(match))
        last = match.end()
    pieces.append(escape(text[last:]))
    return truncate_html("".join(pieces), MAX_MESSAGE)
