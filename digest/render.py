"""Telegram HTML for digests, related coverage and breaking news.

Telegram's HTML parse mode rejects malformed markup with a 400, and every string that
comes from an article is untrusted, so the rules here are strict:

* Only ``<b>``, ``<i>`` and ``<a href="...">`` are produced, always balanced, and only
  ``&amp;``, ``&lt;``, ``&gt;`` and ``&quot;`` are used as entities.
* Untrusted text loses C0 control characters (bar newline and tab), DEL and lone
  surrogates (they cannot be UTF-8 encoded, so the send itself would fail); single-line
  fields also lose bidi embedding/override/isolate controls, which could otherwise flip
  the rest of a line and disguise a link.
* Links are emitted only for absolute http(s) URLs (``digest.urls.is_http_url``), so a
  ``javascript:`` URL is shown as plain text.
* Message length is measured in UTF-16 code units of the raw HTML, an upper bound on
  what Telegram counts (it counts the text after parsing), so a message that passes here
  passes there. Messages are split only between blocks (entries); an oversized block is
  cut between characters of its text, never inside a tag or entity, and its open tags are
  closed. Entry blocks are built so that only the excerpt can be cut (see
  :func:`_entry_block`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from urllib.parse import urlsplit

from digest.assemble import Digest, Entry
from digest.model import Candidate
from digest.urls import is_http_url

MAX_MESSAGE = 4096
MAX_CALLBACK_BYTES = 64
MAX_TITLE = 300
MAX_EXCERPT = 280
MAX_PROVIDER = 64
MAX_HEADING = 200
# An href longer than this (escaped) is shown as plain text: with it the title line plus
# the meta line always fit in one message, so a cut can only land in the excerpt.
MAX_HREF = 2048
MAX_ALSO = 5
BUTTONS_PER_ROW = 5
ELLIPSIS = "…"
MORE_CALLBACK = "digest:more"

_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")
_BIDI_CONTROLS = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Tags, entities, runs of text; a stray "<" or "&" (never produced here) is a 1-char token.
_HTML_TOKEN = re.compile(r"</?[a-zA-Z][^<>]*>|&#?\w+;|[^<&]+|[<&]")
_TAG_NAME = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)")
_BARE_URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
_URL_TRAILING = ".,;:!?'\")]}"


@dataclass(frozen=True, slots=True)
class Button:
    """An inline-keyboard button; Telegram allows 1-64 bytes of callback data."""

    label: str
    callback_data: str

    def __post_init__(self) -> None:
        size = len(self.callback_data.encode("utf-8"))
        if not 1 <= size <= MAX_CALLBACK_BYTES:
            raise ValueError(f"callback_data must be 1-64 bytes of UTF-8, got {size}")


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """One Telegram message: HTML text and inline-keyboard rows."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class RelatedItem:
    """One line of "related coverage"."""

    title: str
    web_url: str
    provider: str
    published_at: datetime | None = None


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units (astral characters count 2), as Telegram counts."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def escape(text: str) -> str:
    """Text safe between tags: ``& < >`` escaped, unsendable control characters removed."""
    return _UNSAFE.sub("", text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attr(text: str) -> str:
    """Text safe inside a double-quoted attribute value."""
    return escape(text).replace('"', "&quot;")


# A digest tick renders the same few thousand articles for many readers, so the
# per-string work (URL checks, cleaning) is memoised; the caches hold only strings.
@functools.lru_cache(maxsize=16384)
def _href(url: str) -> str | None:
    """The escaped href for a usable http(s) URL, else None."""
    if not is_http_url(url):
        return None
    href = escape_attr(url)
    return href if utf16_len(href) <= MAX_HREF else None


def link(url: str, label: str) -> str:
    """``<a href="url">label</a>`` for a usable http(s) URL, else just the escaped label."""
    text = escape(label)
    href = _href(url)
    if href is None:
        return text
    # Telegram drops a link with no visible text; show the address instead.
    return f'<a href="{href}">{text if text.strip() else href}</a>'


@functools.lru_cache(maxsize=16384)
def _clean(text: str, limit: int) -> str:
    """Untrusted single-line text: no bidi overrides, whitespace collapsed, ≤ limit chars."""
    text = " ".join(_BIDI_CONTROLS.sub("", _UNSAFE.sub("", text)).split())
    return _trim(text, limit)


def _trim(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word boundary when one is near, with "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–—") + ELLIPSIS


def _when(moment: datetime, tz: tzinfo, now: datetime | None) -> str:
    """Local time: 13:29 today (in tz), else 14 Jun, 13:29 (14 Jun 2023, 13:29 other years).

    Without ``now`` (alerts, related lists) the date is always shown.
    """
    local = moment.astimezone(tz)
    clock = f"{local.hour:02d}:{local.minute:02d}"
    day = f"{local.day} {_MONTHS[local.month - 1]}"
    if now is None:
        return f"{day}, {clock}"
    today = now.astimezone(tz).date()
    if local.date() == today:
        return clock
    if local.year != today.year:
        day = f"{day} {local.year}"
    return f"{day}, {clock}"


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def _also_line(links: Sequence[str], hidden: int) -> str:
    line = "also: " + ", ".join(links)
    return f"{line} and {hidden} more" if hidden else line


def _entry_block(
    lead: Candidate,
    also: Sequence[Candidate],
    *,
    number: int | None,
    tz: tzinfo,
    now: datetime | None,
) -> str:
    """One story: title link, provider and time, excerpt, other coverage.

    Size bound: the title line is at most ~12 + 15 + MAX_HREF + 5·MAX_TITLE units and the
    meta line ~5·MAX_PROVIDER + 30, under 4,000 together, so if the block is too long the
    cut falls in the excerpt. Also-links are added only while the block still fits.
    """
    title = _clean(lead.title, MAX_TITLE) or _clean(lead.provider, MAX_PROVIDER) or "Untitled"
    head = link(lead.web_url, title)
    if number is not None:
        head = f"<b>{number}.</b> {head}"
    meta = " · ".join(
        part
        for part in (_clean(lead.provider, MAX_PROVIDER), _when(lead.published_at, tz, now))
        if part
    )
    lines = [head, f"<i>{escape(meta)}</i>"]
    excerpt = _clean(lead.excerpt, MAX_EXCERPT)
    if excerpt:
        lines.append(escape(excerpt))
    block = "\n".join(lines)

    shown: list[str] = []
    room = MAX_MESSAGE - utf16_len(block) - 1  # 1 for the newline before the line
    for other in also[:MAX_ALSO]:
        label = _clean(other.provider, MAX_PROVIDER) or _host(other.web_url) or "link"
        trial = [*shown, link(other.web_url, label)]
        if utf16_len(_also_line(trial, len(also) - len(trial))) > room:
            break
        shown = trial
    if shown:
        block = f"{block}\n{_also_line(shown, len(also) - len(shown))}"
    return block


def _truncate_html(html: str, limit: int) -> str:
    """``html`` cut to ≤ ``limit`` UTF-16 units between characters of text, open tags closed.

    Expects well-formed input (as everything built here is). An element whose content
    would be cut away entirely is dropped rather than left empty.
    """
    if utf16_len(html) <= limit:
        return html
    budget = limit - utf16_len(ELLIPSIS)
    out: list[str] = []
    is_open: list[bool] = []  # parallel to out: piece is an opening tag
    closers: list[str] = []
    used = closing = 0
    for match in _HTML_TOKEN.finditer(html):
        token = match.group()
        size = utf16_len(token)
        tag = _TAG_NAME.match(token) if token.startswith("<") and len(token) > 1 else None
        if tag and token.startswith("</"):
            # Its length is already reserved in ``closing``, so it always fits.
            if closers:
                closing -= len(closers.pop())
            out.append(token)
            is_open.append(False)
            used += size
            continue
        if tag:
            closer = f"</{tag.group(1)}>"
            if used + size + len(closer) + closing > budget:
                break
            closers.append(closer)
            closing += len(closer)
        elif token.startswith("&") and len(token) > 1:
            if used + size + closing > budget:
                break
        elif used + size + closing > budget:
            room = budget - used - closing
            out.append(_text_prefix(token, room))
            is_open.append(False)
            break
        out.append(token)
        is_open.append(tag is not None)
        used += size
    while out and (is_open[-1] or not out[-1].strip()):
        if is_open.pop():
            closers.pop()
        out.pop()
    if out:
        out[-1] = out[-1].rstrip()
    return "".join(out) + ELLIPSIS + "".join(reversed(closers))


def _text_prefix(text: str, room: int) -> str:
    """The longest prefix of plain text within ``room`` UTF-16 units, at a word if near."""
    units = 0
    for end, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > room:
            prefix = text[:end]
            break
    else:
        return text
    space = max(prefix.rfind(" "), prefix.rfind("\n"))
    if space > 0 and len(prefix) - space <= 40:
        prefix = prefix[:space]
    return prefix


def _pack(blocks: Sequence[str], limit: int, sep: str) -> list[list[int]]:
    """Greedy grouping of block indices into messages of ≤ limit units (blocks fit)."""
    sep_units = utf16_len(sep)
    groups: list[list[int]] = []
    current: list[int] = []
    length = 0
    for i, block in enumerate(blocks):
        size = utf16_len(block)
        if current and length + sep_units + size > limit:
            groups.append(current)
            current, length = [], 0
        length += size + (sep_units if current else 0)
        current.append(i)
    if current:
        groups.append(current)
    return groups


def pack_blocks(blocks: Sequence[str], limit: int = MAX_MESSAGE, sep: str = "\n\n") -> list[str]:
    """Whole blocks packed greedily into messages of ≤ ``limit`` UTF-16 units.

    A block is never split across messages; one that alone exceeds the limit is cut
    (see :func:`_truncate_html`). Empty blocks are skipped, since Telegram refuses an
    empty message.
    """
    if limit < utf16_len(ELLIPSIS):
        raise ValueError("limit too small")
    fitted = [_truncate_html(b, limit) for b in blocks if b.strip()]
    return [sep.join(fitted[i] for i in group) for group in _pack(fitted, limit, sep)]


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
) -> list[RenderedMessage]:
    """A digest as one or more messages, each with a related-coverage button per entry.

    The last message ends with "+N more" and a "More (N)" button when ``digest.more``.
    ``cache``: entry blocks already rendered for other readers with the same ``now`` —
    a tick renders the same few hundred stories for many readers.
    """
    sep = "\n\n"
    blocks: list[str] = []
    entry_of_block: list[tuple[int, Entry] | None] = []  # (number, entry) per block
    title = _clean(heading, MAX_HEADING)
    if title:
        blocks.append(f"<b>{escape(title)}</b>")
        entry_of_block.append(None)
    for number, entry in enumerate(digest.entries, 1):
        key = (entry.lead.id, *(a.id for a in entry.also), number, tz)
        block = cache.get(key) if cache is not None else None
        if block is None:
            block = _entry_block(entry.lead, entry.also, number=number, tz=tz, now=now)
            block = _truncate_html(block, MAX_MESSAGE)
            if cache is not None:
                cache[key] = block
        blocks.append(block)
        entry_of_block.append((number, entry))
    if not digest.entries and not digest.more:
        blocks.append("<i>No new stories.</i>")
        entry_of_block.append(None)
    if digest.more > 0:
        blocks.append(f"<i>+{digest.more} more</i>")
        entry_of_block.append(None)

    blocks = [_truncate_html(b, MAX_MESSAGE) for b in blocks]
    groups = _pack(blocks, MAX_MESSAGE, sep)
    messages: list[RenderedMessage] = []
    for g, group in enumerate(groups):
        buttons = [
            Button(f"🔗 {held[0]}", f"rel:{held[1].lead.id}")
            for held in (entry_of_block[i] for i in group)
            if held is not None
        ]
        rows = _rows(buttons)
        if g == len(groups) - 1 and digest.more > 0:
            rows.append((Button(f"More ({digest.more})", MORE_CALLBACK),))
        messages.append(RenderedMessage(sep.join(blocks[i] for i in group), tuple(rows)))
    return messages


def render_related(article_title: str, links: Sequence[RelatedItem], *, tz: tzinfo) -> list[str]:
    """A "Related coverage" heading and one line per link, packed into messages."""
    blocks = [f"<b>Related coverage: {escape(_clean(article_title, MAX_TITLE))}</b>\n"]
    if not links:
        blocks.append("<i>No other coverage yet.</i>")
    for item in links:
        provider = _clean(item.provider, MAX_PROVIDER)
        label = _clean(item.title, MAX_TITLE) or provider or _host(item.web_url) or "link"
        line = f"• {link(item.web_url, label)}"
        when = _when(item.published_at, tz, None) if item.published_at else ""
        tail = " · ".join(part for part in (provider, when) if part)
        blocks.append(f"{line} — {escape(tail)}" if tail else line)
    return pack_blocks(blocks, sep="\n")


def render_breaking(c: Candidate, *, tz: tzinfo) -> str:
    """A breaking-news alert for one article, ≤ one message."""
    block = _entry_block(c, (), number=None, tz=tz, now=None)
    return _truncate_html(f"🔴 <b>Breaking</b>\n\n{block}", MAX_MESSAGE)


def _linkify(match: re.Match[str]) -> str:
    url = match.group()
    # Sentence punctuation after a URL is not part of it; a ")" is, when it closes a "("
    # inside the URL (Wikipedia-style links).
    trailing = ""
    while url and url[-1] in _URL_TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        trailing = url[-1] + trailing
        url = url[:-1]
    return link(url, url) + escape(trailing)


def render_breaking_text(text: str) -> str:
    """Admin free text as HTML: escaped, bare http(s) URLs linked, ≤ one message."""
    text = _UNSAFE.sub("", text)
    pieces: list[str] = []
    last = 0
    for match in _BARE_URL.finditer(text):
        pieces.append(escape(text[last : match.start()]))
        pieces.append(_linkify(match))
        last = match.end()
    pieces.append(escape(text[last:]))
    return _truncate_html("".join(pieces), MAX_MESSAGE)
