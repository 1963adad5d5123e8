"""Inline mode's pieces, pure: a stored story as an inline result, and the paging offset.

``@<botname> words`` in any chat shows matching stories; each result is a title, a
"source · date" line and the message the user sends by choosing it: the story card
(headline link, source and date, excerpt, how many other sources cover it). Every
string is untrusted article text, so the card goes through :mod:`digest.html` like a
digest does, and the plain title and description lose control and bidi characters.

The offset Telegram echoes back for the next page is the position of the page's first
story in the query's ranked list, canonical ASCII decimal; anything else (a forged or
stale offset) means the first page.

The card's own words (the coverage line, "Untitled", the month) are in ``texts``' language:
the language of whoever sends the query, as it is their message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, tzinfo

from babel.dates import format_date

from digest.html import MAX_MESSAGE, clean, escape, link, truncate_html
from digest.model import Candidate
from digest.texts import SOURCE_TEXTS, Texts

PAGE_SIZE = 20  # results per answer (Telegram allows 50; cards are up to 4 KB each)
MAX_STORIES = 100  # stories a query offers in all, over its pages
MAX_OFFSET_BYTES = 64  # Telegram's limit for next_offset
CACHE_SECONDS = 60  # a query's stories are kept this long, here and by Telegram
CACHE_ENTRIES = 256  # distinct queries kept: 100 stories of ~1 KB each, ~25 MB at most
MAX_RESULT_TITLE = 120
MAX_RESULT_DESCRIPTION = 120
MAX_CARD_TITLE = 300
MAX_CARD_EXCERPT = 600
MAX_PROVIDER = 64
_CANONICAL_POSITION = re.compile(r"[1-9][0-9]{0,5}")  # ASCII only; "0" is the first page anyway


@dataclass(frozen=True, slots=True)
class InlineStory:
    """One story found for an inline query: its best article and how much else covers it."""

    lead: Candidate
    other_coverage: int = 0  # other articles and links on the same story


@dataclass(frozen=True, slots=True)
class InlineResult:
    """An inline result as Telegram shows it (``InlineQueryResultArticle``)."""

    id: str  # unique within an answer, ≤ 64 bytes
    title: str  # plain text
    description: str  # plain text: "source · date"
    card: str  # the message sent when chosen: Telegram HTML, ≤ 4096 UTF-16 units


def parse_offset(text: str) -> int:
    """The position an offset names; 0 (the first page) for anything not written by
    :func:`encode_offset`."""
    if _CANONICAL_POSITION.fullmatch(text) is None:
        return 0
    position = int(text)
    return position if position < MAX_STORIES else 0


def encode_offset(position: int) -> str:
    """``next_offset`` for the page starting at ``position`` (> 0, < MAX_STORIES)."""
    if type(position) is not int or not 0 < position < MAX_STORIES:
        raise ValueError(f"no page starts at {position!r}")
    text = str(position)
    assert len(text.encode()) <= MAX_OFFSET_BYTES
    return text


def page_of(stories: tuple[InlineStory, ...], position: int) -> tuple[tuple[InlineStory, ...], str]:
    """The stories of the page at ``position`` and the next page's offset ("" at the end)."""
    page = stories[position : position + PAGE_SIZE]
    after = position + PAGE_SIZE
    more = after < len(stories) and after < MAX_STORIES
    return page, encode_offset(after) if more else ""


def story_date(moment: datetime, tz: tzinfo, language: str = SOURCE_TEXTS.language) -> str:
    """``14 Jun 2023, 11:29`` in ``tz`` (the month in ``language``): cards live on in chats,
    so the year is always shown."""
    local = moment.astimezone(tz)
    day = format_date(local.date(), "d MMM y", locale=language)
    return f"{day}, {local.hour:02d}:{local.minute:02d}"


def _source_line(lead: Candidate, tz: tzinfo, texts: Texts) -> str:
    provider = clean(lead.provider, MAX_PROVIDER)
    when = story_date(lead.published_at, tz, texts.language)
    return " · ".join(part for part in (provider, when) if part)


def _coverage_line(count: int, texts: Texts) -> str:
    line = texts.ngettext(
        "{n} other source on this story", "{n} other sources on this story", count
    ).format(n=count)
    return f"🗞 {escape(line)}"


def _title(lead: Candidate, limit: int, texts: Texts) -> str:
    return (
        clean(lead.title, limit) or clean(lead.provider, MAX_PROVIDER) or texts.gettext("Untitled")
    )


def render_card(story: InlineStory, *, tz: tzinfo, texts: Texts = SOURCE_TEXTS) -> str:
    """The story card sent into the chat: headline link, source · date, excerpt, coverage."""
    lead = story.lead
    title = _title(lead, MAX_CARD_TITLE, texts)
    source_line = escape(_source_line(lead, tz, texts))
    lines = [f"<b>{link(lead.web_url, title)}</b>", f"<i>{source_line}</i>"]
    excerpt = clean(lead.excerpt, MAX_CARD_EXCERPT)
    if excerpt:
        lines += ["", escape(excerpt)]
    if story.other_coverage > 0:
        lines += ["", _coverage_line(story.other_coverage, texts)]
    return truncate_html("\n".join(lines), MAX_MESSAGE)


def inline_result(story: InlineStory, *, tz: tzinfo, texts: Texts = SOURCE_TEXTS) -> InlineResult:
    lead = story.lead
    return InlineResult(
        id=f"a{lead.id}",
        title=_title(lead, MAX_RESULT_TITLE, texts),
        description=clean(_source_line(lead, tz, texts), MAX_RESULT_DESCRIPTION),
        card=render_card(story, tz=tz, texts=texts),
    )
