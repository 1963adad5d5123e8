"""Telegram HTML primitives: escaping, safe links, UTF-16 lengths, cutting and packing.

Telegram's HTML parse mode rejects malformed markup with a 400, and every string that
comes from an article is untrusted, so the rules here are strict:

* Only ``<b>``, ``<i>`` and ``<a href="...">`` are produced (by the layouts in
  :mod:`digest.render`), always balanced, and only ``&amp;``, ``&lt;``, ``&gt;`` and
  ``&quot;`` are used as entities.
* Untrusted text loses C0 control characters (bar newline and tab), DEL and lone
  surrogates (they cannot be UTF-8 encoded, so the send itself would fail); single-line
  fields also lose bidi embedding/override/isolate controls, which could otherwise flip
  the rest of a line and disguise a link.
* Links are emitted only for absolute http(s) URLs (``digest.urls.is_http_url``), so a
  ``javascript:`` URL is shown as plain text.
* Message length is measured in UTF-16 code units of the raw HTML, an upper bound on
  what Telegram counts (it counts the text after parsing), so a message that passes here
  passes there. An oversized block is cut between characters of its text, never inside
  a tag or entity, and its open tags are closed.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from digest.urls import is_http_url

MAX_MESSAGE = 4096
# An href longer than this (escaped) is shown as plain text: with it the title line plus
# the meta line always fit in one message, so a cut can only land in the excerpt.
MAX_HREF = 2048
ELLIPSIS = "…"
UNSAFE_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")
_BIDI_CONTROLS = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
# Tags, entities, runs of text; a stray "<" or "&" (never produced here) is a 1-char token.
_HTML_TOKEN = re.compile(r"</?[a-zA-Z][^<>]*>|&#?\w+;|[^<&]+|[<&]")
_TAG_NAME = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)")
BARE_URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
_URL_TRAILING = ".,;:!?'\")]}"


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units (astral characters count 2), as Telegram counts."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def escape(text: str) -> str:
    """Text safe between tags: ``& < >`` escaped, unsendable control characters removed."""
    return (
        UNSAFE_CHARS.sub("", text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    )


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
def clean(text: str, limit: int) -> str:
    """Untrusted single-line text: no bidi overrides, whitespace collapsed, ≤ limit chars."""
    text = " ".join(_BIDI_CONTROLS.sub("", UNSAFE_CHARS.sub("", text)).split())
    return trim(text, limit)


def trim(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word boundary when one is near, with "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–—") + ELLIPSIS


def truncate_html(html: str, limit: int) -> str:
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
            out.append(text_prefix(token, room))
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


def text_prefix(text: str, room: int) -> str:
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


def pack_groups(blocks: Sequence[str], limit: int, sep: str) -> list[list[int]]:
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
    (see :func:`truncate_html`). Empty blocks are skipped, since Telegram refuses an
    empty message.
    """
    if limit < utf16_len(ELLIPSIS):
        raise ValueError("limit too small")
    fitted = [truncate_html(b, limit) for b in blocks if b.strip()]
    return [sep.join(fitted[i] for i in group) for group in pack_groups(fitted, limit, sep)]


def linkify_match(match: re.Match[str]) -> str:
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
