"""Message layouts: digests, story cards, related coverage and breaking news as Telegram HTML.

Built from :mod:`digest.html`'s primitives, so every untrusted string is escaped and
every link checked there. Messages are split only between blocks (entries); entry
blocks are built so that only the excerpt can be cut (see :func:`_entry_block`).

A digest entry names its sources ("🗞 5 sources · Euronews, BBC, Le Monde +2": distinct
providers of its coverage in this digest, its lead's first, each a link to that
provider's article) and has one 🗞 button that opens its story card in place; each
message of a digest comes with the :class:`digest.parts.DigestPart` it shows, from which
:func:`render_part` renders it again, text and buttons, for the card's Back button.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from enum import StrEnum
from urllib.parse import urlsplit

from babel.dates import format_date

from digest.assemble import Digest, Entry, provider_key
from digest.callbacks import DigestMore, StoryBack, StoryOpen, StoryVote, StoryWhy, VoteValue
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
from digest.parts import DigestPart
from digest.reading import reading_minutes
from digest.settings_callbacks import MuteMenu
from digest.texts import SOURCE_TEXTS, Texts

MAX_TITLE = 300
MAX_EXCERPT = 280
MAX_PROVIDER = 64
MAX_HEADING = 200
MAX_NAMED_SOURCES = 3  # providers named on an entry's sources line; the rest are "+N"
MAX_CARD_ITEMS = 30  # coverage lines on a story card
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


def _source_key(c: Candidate) -> str:
    """Articles of one provider share a source (by name, else by host)."""
    return provider_key(c.provider) if c.provider else _host(c.web_url)


def distinct_sources(lead: Candidate, also: Sequence[Candidate]) -> list[Candidate]:
    """The first article of each distinct source, the lead's first, then in rank order."""
    seen: set[str] = set()
    found: list[Candidate] = []
    for c in (lead, *also):
        key = _source_key(c)
        if key not in seen:
            seen.add(key)
            found.append(c)
    return found


def _source_label(c: Candidate, texts: Texts) -> str:
    return clean(c.provider, MAX_PROVIDER) or _host(c.web_url) or texts.gettext("link")


def reading_text(words: int, texts: Texts = SOURCE_TEXTS) -> str:
    """``4 min read`` in the reader's language; empty without a body."""
    minutes = reading_minutes(words)
    if not minutes:
        return ""
    # TRANSLATORS: an article's reading time on a digest entry or story card.
    return texts.ngettext("{n} min read", "{n} min read", minutes).format(n=minutes)


def sources_line(
    lead: Candidate,
    also: Sequence[Candidate],
    room: int = MAX_MESSAGE,
    texts: Texts = SOURCE_TEXTS,
) -> str:
    """``🗞 5 sources · Euronews, BBC, Le Monde +2`` (other sources' names link to their
    coverage), or "" for a story of one source. Names are added while the line fits
    ``room`` UTF-16 units, at most :data:`MAX_NAMED_SOURCES`."""
    sources = distinct_sources(lead, also)
    if len(sources) < 2:
        return ""
    # TRANSLATORS: the start of a digest entry's sources line: "🗞 5 sources · BBC, AP +3".
    count = texts.ngettext("{n} source", "{n} sources", len(sources)).format(n=len(sources))
    head = f"🗞 {escape(count)} · "
    names: list[str] = []
    for i, c in enumerate(sources[:MAX_NAMED_SOURCES]):
        label = _source_label(c, texts)
        name = escape(label) if i == 0 else link(c.web_url, label)
        trial = [*names, name]
        hidden = len(sources) - len(trial)
        line = head + ", ".join(trial) + (f" +{hidden}" if hidden else "")
        if utf16_len(line) > room:
            break
        names = trial
    hidden = len(sources) - len(names)
    return head + ", ".join(names) + (f" +{hidden}" if hidden else "")


def _entry_block(
    lead: Candidate,
    also: Sequence[Candidate],
    *,
    number: int | None,
    tz: tzinfo,
    now: datetime | None,
    texts: Texts = SOURCE_TEXTS,
) -> str:
    """One story: title link, provider, time and reading time, excerpt, its sources.

    Size bound: the title line is at most ~12 + 15 + MAX_HREF + 5·MAX_TITLE units and the
    meta line ~5·MAX_PROVIDER + 45, under 4,000 together, so if the block is too long the
    cut falls in the excerpt. Source names are added only while the block still fits.
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
            reading_text(lead.body_words, texts),
        )
        if part
    )
    lines = [head, f"<i>{escape(meta)}</i>"]
    excerpt = clean(lead.excerpt, MAX_EXCERPT)
    if excerpt:
        lines.append(escape(excerpt))
    block = "\n".join(lines)
    room = MAX_MESSAGE - utf16_len(block) - 1  # 1 for the newline before the line
    sources = sources_line(lead, also, room, texts) if also else ""
    return f"{block}\n{sources}" if sources else block


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
        block = _entry_block(entry.lead, entry.also, number=number, tz=tz, now=now, texts=texts)
        block = truncate_html(block, MAX_MESSAGE)
        if cache is not None:
            cache[key] = block
    return block


def _heading_block(title: str) -> str:
    return truncate_html(f"<b>{escape(title)}</b>", MAX_MESSAGE)


def _more_block(more: int, texts: Texts) -> str:
    # TRANSLATORS: the end of a digest: how many more stories the "More" button brings.
    label = texts.ngettext("+{n} more", "+{n} more", more).format(n=more)
    return f"<i>{escape(label)}</i>"


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
        blocks.append(_more_block(digest.more, texts))
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
        blocks.append(_more_block(part.more, texts))
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


@dataclass(frozen=True, slots=True)
class StoryCard:
    """What a story card shows: the lead and every stored article on its story."""

    lead: Candidate
    coverage: tuple[RelatedLink, ...]  # other coverage (any order; shown newest first)


def _newest_first(items: Sequence[RelatedLink]) -> list[RelatedLink]:
    dated = sorted((i for i in items if i.published_at), key=_published, reverse=True)
    return dated + [i for i in items if not i.published_at]


def _published(item: RelatedLink) -> datetime:
    assert item.published_at is not None
    return item.published_at


def _coverage_line(item: RelatedLink, tz: tzinfo, texts: Texts) -> str:
    provider = clean(item.provider.name if item.provider else "", MAX_PROVIDER)
    label = clean(item.title, MAX_TITLE) or provider or _host(item.web_url) or texts.gettext("link")
    line = f"• {link(item.web_url, label)}"
    when = _when(item.published_at, tz, None, texts.language) if item.published_at else ""
    tail = " · ".join(part for part in (provider, when) if part)
    return f"{line} — {escape(tail)}" if tail else line


def card_items(card: StoryCard) -> list[RelatedLink]:
    """The card's lines: the lead and its coverage, one per article (normalised URL),
    newest first (undated last)."""
    lead = card.lead
    seen = {lead.url}
    items = [lead.as_related_link()]
    for item in card.coverage:
        if item.url not in seen:
            seen.add(item.url)
            items.append(item)
    return _newest_first(items)


def card_sources(items: Sequence[RelatedLink]) -> int:
    """How many distinct sources (providers, else hosts) the lines come from."""
    return len({provider_key(i.provider.name) if i.provider else _host(i.web_url) for i in items})


def render_story_card(card: StoryCard, *, tz: tzinfo, texts: Texts = SOURCE_TEXTS) -> str:
    """The story in one message: its title and sources, then all its coverage (the lead
    among it), newest first, one line each; lines that do not fit become "+N more"."""
    lead = card.lead
    items = card_items(card)
    sources = card_sources(items)
    title = clean(lead.title, MAX_TITLE) or texts.gettext("Untitled")
    facts = " · ".join(
        part
        for part in (
            texts.ngettext("{n} source", "{n} sources", sources).format(n=sources),
            texts.ngettext("{n} article", "{n} articles", len(items)).format(n=len(items)),
            reading_text(lead.body_words, texts),
        )
        if part
    )
    head = f"🗞 <b>{link(lead.web_url, title)}</b>\n<i>{escape(facts)}</i>\n"
    excerpt = clean(lead.excerpt, MAX_EXCERPT)
    if excerpt:
        head += f"{escape(excerpt)}\n"
    text = truncate_html(head, MAX_MESSAGE - 100)
    shown = 0
    for item in items[:MAX_CARD_ITEMS]:
        line = _coverage_line(item, tz, texts)
        rest = len(items) - shown - 1
        tail = "\n" + _more_block(rest, texts) if rest else ""
        if utf16_len(text) + 1 + utf16_len(line) + utf16_len(tail) > MAX_MESSAGE:
            break
        text += "\n" + line
        shown += 1
    if shown < len(items):
        text += "\n" + _more_block(len(items) - shown, texts)
    return text


def story_card_buttons(
    article_id: int,
    outbox_id: int,
    *,
    vote: int = 0,
    follow: Button | None = None,
    texts: Texts = SOURCE_TEXTS,
) -> Keyboard:
    """[👍] [👎] [Why this?], then [🔔 Follow] (``follow``, see digest.follow) [◀ Back].

    ``vote``: the subscription's vote on the story (+1, -1, 0), marked on its button.
    """
    up = StoryVote(VoteValue.UP, article_id).button("👍 ✓" if vote > 0 else "👍")
    down = StoryVote(VoteValue.DOWN, article_id).button("👎 ✓" if vote < 0 else "👎")
    why = StoryWhy(article_id).button(texts.gettext("Why this?"))
    back = StoryBack(outbox_id).button(texts.gettext("◀ Back"))
    # The follow button (issue 12 item 2) goes before Back on the second row.
    return ((up, down, why), (back,) if follow is None else (follow, back))
