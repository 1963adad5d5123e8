"""A strict validator for Telegram's ``parse_mode="HTML"`` subset.

Telegram's own parser (tdlib) is lenient in a few places -- it keeps a bare ``&`` as text and
silently ignores unknown attributes. This one follows the *documented* rules instead ("all ``<``,
``>`` and ``&`` symbols that are not part of a tag or an HTML entity must be replaced"), so a bot
that forgets to escape user-controlled text fails in tests instead of in production on the one
article whose title contains ``<``. Error wording mirrors tdlib so assertions read like the real
thing: ``<reason> at byte offset N`` where N counts UTF-8 bytes of the *input*.

A bare ``>`` is accepted, like the real server does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "HtmlParseError",
    "ParsedHtml",
    "parse_html",
    "parse_html_entities",
    "utf16_len",
]

# Tag name -> MessageEntity type. Aliases map onto the same entity like on Telegram.
_ENTITY_TYPES: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}

# Attributes each tag may carry; anything else is rejected (Telegram would ignore it, but an
# unexpected attribute in generated HTML is almost always a bug worth seeing).
_ALLOWED_ATTRIBUTES: dict[str, frozenset[str]] = {
    "a": frozenset({"href"}),
    "code": frozenset({"class"}),
    "span": frozenset({"class"}),
    "tg-emoji": frozenset({"emoji-id"}),
    "blockquote": frozenset({"expandable"}),
}
_NO_ATTRIBUTES: frozenset[str] = frozenset()
# Tags that are invalid without an attribute, so they must take the general path.
_REQUIRED_ATTRIBUTE_TAGS = frozenset({"a", "span", "tg-emoji"})

_NAMED_ENTITIES: dict[str, str] = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

_SPECIAL = re.compile(r"[<&]")
_ENTITY = re.compile(r"&(?:#([0-9]{1,10})|#[xX]([0-9a-fA-F]{1,8})|([A-Za-z][A-Za-z0-9]*));")
_TAG_NAME = re.compile(r"[^\s>]*")
# Attribute-less tags are the vast majority; one regex handles them without the general path.
_PLAIN_TAG = re.compile(r"<([A-Za-z-]+)>")
_END_TAG = re.compile(r"</([^\s>]*)\s*>")
_SPACES = re.compile(r"\s*")
_ATTRIBUTE_NAME = re.compile(r"[^\s=>]*")
_NAME_TOKEN = re.compile(r"[A-Za-z0-9.\-]*")
_URL_SCHEMES = frozenset({"http", "https", "tg"})


class HtmlParseError(ValueError):
    """Raised for text Telegram would answer with ``can't parse entities``.

    ``str(error)`` is the part after ``Bad Request: can't parse entities: ``.
    """

    def __init__(self, message: str, byte_offset: int, detail: str = "") -> None:
        self.message = message
        self.byte_offset = byte_offset
        self.detail = detail  # tdlib appends some context *after* the offset
        super().__init__(f"{message} at byte offset {byte_offset}{detail}")


@dataclass(slots=True)
class ParsedHtml:
    """Plain text plus Bot API ``MessageEntity`` dicts (offsets in UTF-16 code units)."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class _OpenTag:
    name: str
    argument: str
    utf16_start: int
    index: int  # character index of '<'; converted to a byte offset only for errors
    pre_language: str | None = None  # set by a <code class="language-x"> directly inside <pre>
    has_code_child: bool = False


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram uses for limits and entity offsets."""
    # Encoding is done in C and beats a per-character loop by far on long digests.
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def parse_html(text: str) -> str:
    """Validate ``text`` as Telegram HTML and return the plain text the user would see."""
    return parse_html_entities(text).text


def parse_html_entities(text: str) -> ParsedHtml:
    """Validate ``text`` as Telegram HTML; return plain text and the entities it produces."""
    if "<" not in text and "&" not in text:
        return ParsedHtml(text)
    return _Parser(text).run()


class _Parser:
    """Single pass over the input; regexes jump between the interesting characters."""

    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0
        self.chunks: list[str] = []
        self.utf16 = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[dict[str, Any]] = []

    # -- helpers ---------------------------------------------------------------------------
    def byte_offset(self, index: int) -> int:
        # Only computed when raising, so the O(n) slice costs nothing on valid input.
        return len(self.src[:index].encode("utf-8"))

    def fail(self, message: str, index: int, detail: str = "") -> HtmlParseError:
        return HtmlParseError(message, self.byte_offset(index), detail)

    def emit(self, chunk: str) -> None:
        if chunk:
            self.chunks.append(chunk)
            self.utf16 += utf16_len(chunk)

    # -- main loop -------------------------------------------------------------------------
    def run(self) -> ParsedHtml:
        src = self.src
        while True:
            match = _SPECIAL.search(src, self.pos)
            if match is None:
                self.emit(src[self.pos :])
                break
            start = match.start()
            self.emit(src[self.pos : start])
            if src[start] == "&":
                char, self.pos = self.read_entity(start)
                self.emit(char)
            elif src.startswith("</", start):
                self.pos = self.read_end_tag(start)
            else:
                self.pos = self.read_start_tag(start)
        if self.stack:
            tag = self.stack[-1]
            raise self.fail(
                f'Can\'t find end tag corresponding to start tag "{tag.name}"', tag.index
            )
        # Telegram lists entities by offset, outer (longer) entity first.
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return ParsedHtml("".join(self.chunks), self.entities)

    def read_entity(self, start: int) -> tuple[str, int]:
        match = _ENTITY.match(self.src, start)
        if match is None:
            raise self.fail("Character entity expected", start)
        decimal, hexadecimal, name = match.groups()
        if name is not None:
            if name not in _NAMED_ENTITIES:
                raise self.fail(f'Unsupported HTML entity "&{name};"', start)
            return _NAMED_ENTITIES[name], match.end()
        code = int(decimal) if decimal is not None else int(hexadecimal, 16)
        if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise self.fail("Invalid character entity", start)
        return chr(code), match.end()

    def read_start_tag(self, start: int) -> int:
        src = self.src
        plain = _PLAIN_TAG.match(src, start)
        if plain is not None:
            name = plain.group(1).lower()
            if name in _ENTITY_TYPES and name not in _REQUIRED_ATTRIBUTE_TAGS:
                self.stack.append(_OpenTag(name, "", self.utf16, start))
                return plain.end()
        name_match = _TAG_NAME.match(src, start + 1)
        assert name_match is not None  # the pattern matches the empty string
        i = name_match.end()
        if i >= len(src):
            raise self.fail("Unclosed start tag", start)
        name = name_match.group().lower()
        if name not in _ENTITY_TYPES:
            raise self.fail(f'Unsupported start tag "{name}"', start)
        attributes, i = self.read_attributes(name, start, i)
        argument = self.check_attributes(name, attributes, start)
        self.stack.append(_OpenTag(name, argument, self.utf16, start))
        return i + 1  # past '>'

    def read_attributes(self, tag: str, start: int, i: int) -> tuple[dict[str, str], int]:
        """Parse ``name="value"`` pairs up to the closing ``>``; returns them and its index."""
        src = self.src
        attributes: dict[str, str] = {}
        allowed = _ALLOWED_ATTRIBUTES.get(tag, _NO_ATTRIBUTES)
        while True:
            i = self.skip_spaces(i)
            if i >= len(src):
                raise self.fail("Unclosed start tag", start)
            if src[i] == ">":
                return attributes, i
            name_match = _ATTRIBUTE_NAME.match(src, i)
            assert name_match is not None
            attribute = name_match.group().lower()
            if not attribute:
                raise self.fail(f'Empty attribute name in the tag "{tag}"', start)
            if attribute not in allowed:
                raise self.fail(f'Unsupported attribute "{attribute}" in the tag "{tag}"', start)
            i = self.skip_spaces(name_match.end())
            if i < len(src) and src[i] != "=" and tag == "blockquote":
                attributes[attribute] = ""  # <blockquote expandable> is a boolean attribute
                continue
            if i >= len(src) or src[i] != "=":
                raise self.fail(
                    f'Expected equal sign in declaration of an attribute of the tag "{tag}"', start
                )
            i = self.skip_spaces(i + 1)
            if i >= len(src):
                raise self.fail(f'Unclosed start tag "{tag}"', start)
            value, i = self.read_attribute_value(start, i)
            attributes[attribute] = value

    def read_attribute_value(self, start: int, i: int) -> tuple[str, int]:
        src = self.src
        quote = src[i]
        if quote not in "'\"":
            token = _NAME_TOKEN.match(src, i)
            assert token is not None
            end = token.end()
            if end < len(src) and not src[end].isspace() and src[end] != ">":
                raise self.fail("Unexpected end of name token", i)
            return token.group().lower(), end
        end = src.find(quote, i + 1)
        if end < 0:
            raise self.fail("Unclosed start tag", start)
        raw = src[i + 1 : end]
        if "&" not in raw:
            return raw, end + 1
        # Entities inside attribute values are decoded too (and must be valid).
        decoded: list[str] = []
        j = i + 1
        while j < end:
            amp = src.find("&", j, end)
            if amp < 0:
                decoded.append(src[j:end])
                break
            decoded.append(src[j:amp])
            # An entity cannot run past the closing quote: quotes never match _ENTITY.
            char, j = self.read_entity(amp)
            decoded.append(char)
        return "".join(decoded), end + 1

    def check_attributes(self, tag: str, attributes: dict[str, str], start: int) -> str:
        """Enforce per-tag attribute rules; return the tag's argument (URL, language...)."""
        if tag == "a":
            if "href" not in attributes:
                raise self.fail('Tag "a" must have attribute "href"', start)
            href = attributes["href"].strip()
            if not _is_supported_url(href):
                raise self.fail(f'Tag "a" has unsupported URL "{href}"', start)
            return href
        if tag == "span":
            if attributes.get("class") != "tg-spoiler":
                raise self.fail('Tag "span" must have class "tg-spoiler"', start)
            return ""
        if tag == "code" and "class" in attributes:
            css = attributes["class"]
            if not css.startswith("language-") or len(css) == len("language-"):
                raise self.fail(f'Unsupported class "{css}" in the tag "code"', start)
            return css[len("language-") :]
        if tag == "tg-emoji":
            emoji_id = attributes.get("emoji-id", "")
            if not (emoji_id.isascii() and emoji_id.isdigit()):
                raise self.fail("Invalid custom emoji identifier specified", start)
            return emoji_id
        if tag == "blockquote":
            return "expandable" if "expandable" in attributes else ""
        return ""

    def read_end_tag(self, start: int) -> int:
        match = _END_TAG.match(self.src, start)
        if not self.stack:
            raise self.fail("Unexpected end tag", start)
        if match is None:
            raise self.fail("Unclosed end tag", start)
        name = match.group(1).lower()
        tag = self.stack.pop()
        if name and name != tag.name:
            raise self.fail(
                "Unmatched end tag", start, f', expected "</{tag.name}>", found "</{name}>"'
            )
        self.close(tag)
        return match.end()

    def close(self, tag: _OpenTag) -> None:
        length = self.utf16 - tag.utf16_start
        parent = self.stack[-1] if self.stack else None
        if tag.name == "code" and parent is not None and parent.name == "pre":
            # <pre><code class="language-x"> is one pre entity with a language, like Telegram.
            parent.has_code_child = True
            if tag.argument:
                parent.pre_language = tag.argument
            return
        if length <= 0:
            return  # empty entities are dropped by Telegram
        entity: dict[str, Any] = {
            "type": _ENTITY_TYPES[tag.name],
            "offset": tag.utf16_start,
            "length": length,
        }
        if tag.name == "a":
            entity["url"] = tag.argument
        elif tag.name == "pre" and tag.pre_language:
            entity["language"] = tag.pre_language
        elif tag.name == "tg-emoji":
            entity["custom_emoji_id"] = tag.argument
        elif tag.name == "blockquote" and tag.argument:
            entity["type"] = "expandable_blockquote"
        self.entities.append(entity)

    def skip_spaces(self, i: int) -> int:
        match = _SPACES.match(self.src, i)
        assert match is not None
        return match.end()


def _is_supported_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in _URL_SCHEMES and bool(parts.netloc)
