"""Message layouts: digests, related coverage and breaking news as Telegram HTML (story
cards: :mod:`digest.story_card`).

Built from :mod:`digest.html`'s primitives, so every untrusted string is escaped and
every link checked there. Messages are split only between blocks (entries); entry
blocks are built so that only the excerpt can be cut (see :func:`digest.entries.entry_block`).

A digest entry names its sources ("🗞 5 sources · Euronews, BBC, Le Monde +2": distinct
providers of its coverage in this digest, its lead's first, each a link to that
provider's article) and has one 🗞 button that opens its story card in place; each
message of a digest comes with the :class:`digest.parts.DigestPart` it shows, from which
:func:`render_part` renders it again, text and buttons, for the card's Back button.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum

from digest.assemble import Digest, Entry
from digest.callbacks import DigestMore, StoryOpen
from digest.entries import entry_block
from digest.html import (
    BARE_URL,
    MAX_MESSAGE,
    UNSAFE_CHARS,
    clean,
    escape,
    linkify_match,
    pack_blocks,
    pack_groups,
    truncate_html,
)
from digest.keyboard import Button, Keyboard
from digest.labels import (
    MAX_TITLE,
    coverage_line,
    more_line,
)
from digest.model import Candidate, RelatedLink
from digest.parts import DigestPart
from digest.settings_callbacks import MuteMenu
from digest.texts import SOURCE_TEXTS, Texts

MAX_HEADING = 200
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
    part: DigestPart | None = None  # a digest's message: what renders it again


def _rows(buttons: Sequence[Button]) -> list[tuple[Button, ...]]:
    return [
        tuple(buttons[i : i + BUTTONS_PER_ROW]) for i in range(0, len(buttons), BUTTONS_PER_ROW)
    ]


EntryCache = dict[tuple[object, ...], str]


def _numbered_block(
    entry: Entry,
    number: int,
    tz: tzinfo,
    now: datetime,
    cache: EntryCache | None,
    texts: Texts,
) -> str:
    key = (entry.lead.id, *(a.id for a in entry.also), number, tz, texts.language)
    block = cache.get(key) if cache is not None else None
    if block is None:
        block = entry_block(entry.lead, entry.also, number=number, tz=tz, now=now, texts=texts)
        block = truncate_html(block, MAX_MESSAGE)
        if cache is not None:
            cache[key] = block
    return block


def _heading_block(title: str) -> str:
    return truncate_html(f"<b>{escape(title)}</b>", MAX_MESSAGE)


def _part_buttons(part: DigestPart, texts: Texts) -> Keyboard:
    """One 🗞 per entry (its number), then More and Mute when the part has them."""
    rows = _rows(
        [
            StoryOpen(entry[0]).button(f"🗞 {number}")
            for number, entry in enumerate(part.entries, part.first_number)
        ]
    )
    if part.more > 0:
        rows.append((DigestMore().button(texts.gettext("More ({n})").format(n=part.more)),))
    if part.mute_chat is not None:
        rows.append((MuteMenu(part.mute_chat).button(texts.gettext("🔇 Mute a source")),))
    return tuple(rows)


_SEP = "\n\n"


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
    """A digest as one or more messages, each with a story-card button per entry.

    The last message ends with "+N more" and a "More (N)" button when ``digest.more``, and
    with ``mute_chat`` a "Mute a source" button (the menu of that subscription's sources).
    ``previews``: which messages show a link preview (:class:`LinkPreviews`).
    ``cache``: entry blocks already rendered for other readers with the same ``now`` —
    a tick renders the same few hundred stories for many readers. Each message carries
    its :class:`DigestPart`: :func:`render_part` of it is the same message.
    ``texts``: the reader's language (labels, buttons and dates; article text as it is).
    """
    blocks: list[str] = []
    entry_of_block: list[tuple[int, Entry] | None] = []  # (number, entry) per block
    title = clean(heading, MAX_HEADING)
    if title:
        blocks.append(_heading_block(title))
        entry_of_block.append(None)
    for number, entry in enumerate(digest.entries, 1):
        blocks.append(_numbered_block(entry, number, tz, now, cache, texts))
        entry_of_block.append((number, entry))
    if not digest.entries and not digest.more:
        blocks.append(f"<i>{escape(texts.gettext('No new stories.'))}</i>")
        entry_of_block.append(None)
    if digest.more > 0:
        blocks.append(more_line(digest.more, texts))
        entry_of_block.append(None)

    groups = (
        _one_entry_each(blocks, entry_of_block, _SEP)
        if previews is LinkPreviews.ALL
        else pack_groups(blocks, MAX_MESSAGE, _SEP)
    )
    messages: list[RenderedMessage] = []
    next_number = 1
    for g, group in enumerate(groups):
        held = [entry for entry in (entry_of_block[i] for i in group) if entry is not None]
        last = g == len(groups) - 1
        part = DigestPart(
            entries=tuple((e.lead.id, *(a.id for a in e.also)) for _, e in held),
            first_number=held[0][0] if held else next_number,
            heading=title if title and group[0] == 0 else "",
            more=digest.more if last and digest.more > 0 else 0,
            mute_chat=mute_chat if last and mute_chat is not None and digest.entries else None,
        )
        next_number = part.first_number + len(held)
        preview = None
        if held and (previews is LinkPreviews.ALL or (previews is LinkPreviews.FIRST and g == 0)):
            preview = held[0][1].lead.web_url
        messages.append(
            RenderedMessage(
                _SEP.join(blocks[i] for i in group),
                _part_buttons(part, texts),
                part.article_ids,
                preview,
                part,
            )
        )
    return messages


def render_part(
    part: DigestPart,
    entries: Sequence[Entry | None],
    *,
    tz: tzinfo,
    now: datetime,
    preview_url: str | None = None,
    texts: Texts = SOURCE_TEXTS,
) -> RenderedMessage:
    """A digest message again, from its part and its entries read back from the store
    (``entries[i]`` for ``part.entries[i]``; None: no longer stored, left out). ``now``:
    when it was rendered first (times show as they did)."""
    blocks: list[str] = []
    if part.heading:
        blocks.append(_heading_block(part.heading))
    kept: list[tuple[int, ...]] = []
    for number, (ids, entry) in enumerate(
        zip(part.entries, entries, strict=True), part.first_number
    ):
        if entry is not None:
            blocks.append(_numbered_block(entry, number, tz, now, None, texts))
            kept.append(ids)
    if part.more > 0:
        blocks.append(more_line(part.more, texts))
    if not blocks:
        blocks.append(f"<i>{escape(texts.gettext('These stories are no longer stored.'))}</i>")
    # Buttons only for the stories still stored; numbers stay as they were.
    shown = DigestPart(tuple(kept), part.first_number, part.heading, part.more, part.mute_chat)
    buttons = (
        _part_buttons(part, texts)
        if len(kept) == len(part.entries)
        else _kept_buttons(part, kept, texts)
    )
    return RenderedMessage(_SEP.join(blocks), buttons, shown.article_ids, preview_url, part)


def _kept_buttons(part: DigestPart, kept: Sequence[tuple[int, ...]], texts: Texts) -> Keyboard:
    wanted = set(kept)
    rows = _rows(
        [
            StoryOpen(entry[0]).button(f"🗞 {number}")
            for number, entry in enumerate(part.entries, part.first_number)
            if entry in wanted
        ]
    )
    extra = _part_buttons(DigestPart((), part.first_number, "", part.more, part.mute_chat), texts)
    return (*rows, *extra)


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
    blocks.extend(coverage_line(item, tz, texts) for item in links)
    return pack_blocks(blocks, sep="\n")


def render_breaking(c: Candidate, *, tz: tzinfo, texts: Texts = SOURCE_TEXTS) -> str:
    """A breaking-news alert for one article, ≤ one message."""
    block = entry_block(c, (), number=None, tz=tz, now=None, texts=texts)
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
