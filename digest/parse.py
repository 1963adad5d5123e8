"""Parse and validate one article file: Markdown with YAML frontmatter.

Files come from an upstream pipeline and are never trusted. Every failure is an
:class:`ArticleError` whose message says what is wrong, so the caller can report
the file and go on. YAML goes through the safe loader only (libyaml's when present):
it builds YAML's own types - strings, numbers, dates, lists, mappings - and refuses any
other tag, so no Python object is ever constructed from a file.

Loading is the cost of ingestion, so the frontmatter is turned into Python values by
:class:`_Builder` rather than PyYAML's generic constructor: libyaml still scans, parses
and composes the node graph, and the plain nodes (strings, lists, mappings - nearly all
of an article) are converted directly, everything else by PyYAML's own safe constructor.
The builder also measures the structure as if every alias were expanded, without
expanding anything, so an alias bomb is refused after a handful of nodes.

Errors::

    ArticleError
    ├── FileRejected      -- empty, too large, binary, not UTF-8
    ├── FrontmatterError  -- missing or unparseable YAML, not a mapping, too complex
    └── FieldError        -- a required field is missing or a field has the wrong type
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import yaml
from frontmatter.default_handlers import YAMLHandler
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from digest.model import Article, Image, Provider, RelatedLink
from digest.urls import is_http_url, normalize_url

MAX_FILE_BYTES = 1024 * 1024
MAX_YAML_NODES = 20_000  # a real article has ~100; billion-laughs expands to 10**9
# Without aliases the text in the YAML cannot exceed the file; with them it can, hugely.
MAX_YAML_CHARS = MAX_FILE_BYTES
MAX_YAML_DEPTH = 50  # a real article nests 4 deep
MAX_TITLE_CHARS = 1_000
MAX_TOPICS = 50
MAX_TOPIC_CHARS = 100
MAX_RELATED = 100
MAX_IMAGES = 50
MAX_NUMBER = 1_000_000_000  # quality and heat: far beyond any real score, within SQLite's

_KNOWN_FIELDS = frozenset(
    {
        "title", "excerpt", "publishedDateTime", "webUrl", "originalUrl", "quality", "heat",
        "published", "provider", "topics", "images", "related", "secured", "category", "type",
    }
)  # fmt: skip


class ArticleError(ValueError):
    """The file cannot become an article; ``str(error)`` is the reason."""


class FileRejected(ArticleError):
    pass


class FrontmatterError(ArticleError):
    pass


class FieldError(ArticleError):
    pass


_UTC_SECONDS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", re.ASCII)
_STR_TAG = "tag:yaml.org,2002:str"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class _Loader(yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader):  # type: ignore[misc]
    """The safe loader: plain data only, no Python object tags."""

    def resolve(self, kind: type[Node], value: str | None, implicit: tuple[bool, bool]) -> str:
        # Same answer as yaml.resolver.Resolver.resolve (the safe loader has no path
        # resolvers), faster: libyaml calls this for every node of every file, and the
        # plain scalars of articles - field names, numbers, dates - repeat endlessly.
        if kind is ScalarNode:
            if implicit[0]:
                assert value is not None
                return _short_plain_tag(value) if len(value) <= 32 else _implicit_tag(value)
            return _STR_TAG
        return _SEQ_TAG if kind is SequenceNode else _MAP_TAG

    # PyYAML calls these around every node to serve path resolvers, which the safe
    # loader has none of. Its versions are Python calls that do nothing here; these do
    # nothing in C (dict.get takes the node and index and returns the index).
    descend_resolver = dict[object, object]().get
    ascend_resolver = ().__len__

    def construct_lenient_timestamp(self, node: ScalarNode) -> object:
        # A timestamp-shaped scalar that is not a real date (2023-13-45) stays text, so
        # the field check can say which field holds a bad date instead of failing the YAML.
        try:
            if _UTC_SECONDS.fullmatch(node.value):  # the pipeline's format: a shortcut
                return datetime.fromisoformat(node.value)
            return SafeConstructor.construct_yaml_timestamp(self, node)
        except ValueError:
            return str(node.value)


_Loader.add_constructor(_TIMESTAMP_TAG, _Loader.construct_lenient_timestamp)
_WILDCARD: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    _Loader.yaml_implicit_resolvers.get(None, [])
)
_IMPLICIT: dict[str, tuple[tuple[str, re.Pattern[str]], ...]] = {
    first: (*resolvers, *_WILDCARD)
    for first, resolvers in _Loader.yaml_implicit_resolvers.items()
    if first is not None
}


@functools.lru_cache(maxsize=10_000)
def _short_plain_tag(value: str) -> str:
    """Memoised: a plain scalar's tag depends on its text only, and short ones repeat."""
    return _implicit_tag(value)


def _implicit_tag(value: str) -> str:
    for tag, regexp in _IMPLICIT.get(value[:1], _WILDCARD):
        if regexp.match(value):
            return tag
    return _STR_TAG


_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)", re.ASCII)


def _construct_int(loader: _Loader, node: ScalarNode) -> int:
    # Plain decimals - nearly every number in an article - skip PyYAML's checks for
    # underscores, octal, hex and base 60, which cannot change their value.
    value = node.value
    if _DECIMAL.fullmatch(value):
        return int(value)
    return int(SafeConstructor.construct_yaml_int(loader, node))


# Scalar tags converted by calling the safe constructor's function for them directly.
_SCALAR_CONSTRUCTORS = {
    tag: _Loader.yaml_constructors[tag]
    for tag in ("tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:float")
}
_SCALAR_CONSTRUCTORS["tag:yaml.org,2002:int"] = _construct_int
_SCALAR_CONSTRUCTORS[_TIMESTAMP_TAG] = _Loader.construct_lenient_timestamp


class _Handler(YAMLHandler):
    def load(self, fm: str, **kwargs: object) -> Any:
        loader = _Loader(fm)
        try:
            node = loader.get_single_node()
            return None if node is None else _Builder(loader).value(node)
        finally:
            loader.dispose()


_HANDLER = _Handler()


class _Builder:
    """Composed YAML nodes → plain values, measuring the size with aliases expanded.

    Each container is built once (an alias shares the object, as with PyYAML) and its
    expanded size - nodes and characters - is remembered, so a parent's size is the sum
    of its children's: exact for any alias graph, found without expanding anything.
    """

    __slots__ = ("_done", "_loader", "_open")

    def __init__(self, loader: _Loader) -> None:
        self._loader = loader
        self._done: dict[Node, tuple[object, int, int]] = {}
        self._open: set[Node] = set()

    def value(self, root: Node) -> object:
        return self._build(root, 0)[0]

    def _build(self, node: Node, depth: int) -> tuple[object, int, int]:
        kind = type(node)
        if kind is ScalarNode:
            if node.tag == _STR_TAG:
                return node.value, 1, len(node.value)
            construct = _SCALAR_CONSTRUCTORS.get(node.tag)
            if construct is not None:
                return construct(self._loader, node), 1, len(node.value)
        done = self._done.get(node)
        if done is not None:
            return done
        if node in self._open:
            raise FrontmatterError("YAML alias refers to its own parent (a recursive alias)")
        if depth >= MAX_YAML_DEPTH:
            raise FrontmatterError(f"YAML nested too deeply (over {MAX_YAML_DEPTH} levels)")
        self._open.add(node)
        result = None
        if kind is SequenceNode and node.tag == _SEQ_TAG:
            result = self._sequence(node.value, depth + 1)
        elif kind is MappingNode and node.tag == _MAP_TAG:
            result = self._mapping(node.value, depth + 1)
        if result is None:
            # Anything else - merge keys, !!set, !!binary, non-string keys, unknown
            # tags - is rare: PyYAML's safe constructor builds it, or refuses the tag.
            built = self._loader.construct_object(node, deep=True)
            result = (built, *_expanded_size(built))
        self._open.discard(node)
        self._done[node] = result
        return result

    # Strings are handled inline in both loops: most values are, and a call per value is
    # measurable. Sizes are checked after each nested value, where an alias can make them
    # explode, and at the end; a run of strings grows them only as far as the text goes.

    def _sequence(self, items: list[Node], depth: int) -> tuple[object, int, int]:
        out: list[object] = []
        nodes, chars = 1, 0
        for item in items:
            if type(item) is ScalarNode and item.tag == _STR_TAG:
                text = item.value
                out.append(text)
                nodes += 1
                chars += len(text)
            else:
                value, n, c = self._build(item, depth)
                out.append(value)
                nodes += n
                chars += c
                if nodes > MAX_YAML_NODES or chars > MAX_YAML_CHARS:
                    _too_large()
        if nodes > MAX_YAML_NODES or chars > MAX_YAML_CHARS:
            _too_large()
        return out, nodes, chars

    def _mapping(
        self, pairs: list[tuple[Node, Node]], depth: int
    ) -> tuple[object, int, int] | None:
        """The mapping, or ``None`` when a key is not a plain string (``<<``, a number...)."""
        out: dict[str, object] = {}
        nodes, chars = 1, 0
        for key, item in pairs:
            if type(key) is not ScalarNode or key.tag != _STR_TAG:
                return None
            name = key.value
            if type(item) is ScalarNode and item.tag == _STR_TAG:
                text = item.value
                out[name] = text  # a later duplicate key wins, as in PyYAML
                nodes += 2
                chars += len(name) + len(text)
            else:
                value, n, c = self._build(item, depth)
                out[name] = value
                nodes += n + 1
                chars += c + len(name)
                if nodes > MAX_YAML_NODES or chars > MAX_YAML_CHARS:
                    _too_large()
        if nodes > MAX_YAML_NODES or chars > MAX_YAML_CHARS:
            _too_large()
        return out, nodes, chars


def _too_large() -> None:
    raise FrontmatterError(
        f"YAML structure too large once aliases are expanded (over {MAX_YAML_NODES} nodes "
        f"or {MAX_YAML_CHARS} characters; an alias bomb?)"
    )


def _expanded_size(root: object) -> tuple[int, int]:
    """Nodes and characters of a built value, walking shared parts each time they occur."""
    nodes = chars = 0
    stack: list[object] = [root]
    while stack:
        node = stack.pop()
        nodes += 1
        if isinstance(node, str | bytes):
            chars += len(node)
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list | tuple | set):
            stack.extend(node)
        if nodes > MAX_YAML_NODES or chars > MAX_YAML_CHARS:
            _too_large()
    return nodes, chars


def decode_article_bytes(data: bytes) -> str:
    """Bytes of a file → text, refusing what cannot be an article."""
    if len(data) > MAX_FILE_BYTES:
        raise FileRejected(f"file too large ({len(data)} bytes, limit {MAX_FILE_BYTES})")
    if not data or data.isspace():  # isspace() stops at the first other byte; no copy
        raise FileRejected("empty file")
    if b"\x00" in data:
        raise FileRejected("binary file (contains NUL bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileRejected(f"not UTF-8 text (bad byte at offset {exc.start})") from None
    return text.removeprefix("\ufeff")


def parse_article_bytes(data: bytes) -> Article:
    """Parse a file's bytes into an :class:`Article` or raise :class:`ArticleError`."""
    return parse_article_text(decode_article_bytes(data))


def parse_article_text(text: str) -> Article:
    metadata, body = _load_frontmatter(text)
    return _build_article(metadata, body)


def _load_frontmatter(text: str) -> tuple[dict[str, Any], str]:
    stripped = text.lstrip()
    if not _HANDLER.detect(stripped):
        raise FrontmatterError("no YAML frontmatter (the file must start with a '---' line)")
    try:
        fm, body = _HANDLER.split(stripped)
    except ValueError:
        raise FrontmatterError("frontmatter is not closed by a '---' line") from None
    try:
        metadata = _HANDLER.load(fm)
    except ArticleError:
        raise
    except yaml.constructor.ConstructorError as exc:
        if exc.problem and exc.problem.startswith("could not determine a constructor"):
            tag = exc.problem.rpartition(" ")[2]
            raise FrontmatterError(
                f"YAML tag not allowed{_where(exc, text, stripped)}: {tag}"
            ) from None
        raise FrontmatterError(_yaml_problem(exc, text, stripped)) from None
    except yaml.YAMLError as exc:
        raise FrontmatterError(_yaml_problem(exc, text, stripped)) from None
    except RecursionError:
        raise FrontmatterError("YAML nested too deeply") from None
    except (ValueError, OverflowError) as exc:
        # A constructor refusing a value, e.g. an integer of more than 4300 digits.
        raise FrontmatterError(f"invalid YAML value: {exc}") from None
    if metadata is None:
        raise FrontmatterError("frontmatter is empty")
    if not isinstance(metadata, dict):
        raise FrontmatterError(
            f"frontmatter must be a mapping of fields, not {_type_name(metadata)}"
        )
    return metadata, body.strip()


def _yaml_problem(exc: yaml.YAMLError, text: str, stripped: str) -> str:
    problem = getattr(exc, "problem", None) or type(exc).__name__
    return f"invalid YAML{_where(exc, text, stripped)}: {problem}"


def _where(exc: yaml.YAMLError, text: str, stripped: str) -> str:
    mark = getattr(exc, "problem_mark", None)
    if mark is None:
        return ""
    # The mark counts lines from 0 at the end of the opening "---" line, so line 0 + 1 is
    # that line's number; blank lines before it were stripped and are added back.
    line = mark.line + 1 + text[: len(text) - len(stripped)].count("\n")
    return f" at line {line}, column {mark.column + 1}"


def _build_article(meta: dict[str, Any], body: str) -> Article:
    title = _required_str(meta, "title")
    if len(title) > MAX_TITLE_CHARS:
        raise FieldError(f"title too long ({len(title)} characters, limit {MAX_TITLE_CHARS})")
    web_url = _required_url(meta, "webUrl")
    published_at = _required_datetime(meta, "publishedDateTime")
    original_url = _optional_str(meta, "originalUrl")
    provider = _provider(meta.get("provider"), "provider")
    return Article(
        url=normalize_url(web_url),
        web_url=web_url,
        title=title,
        published_at=published_at,
        excerpt=_optional_str(meta, "excerpt") or "",
        original_url=original_url if is_http_url(original_url) else None,
        quality=_optional_int(meta, "quality"),
        heat=_heat(meta),
        published=_optional_bool(meta, "published"),
        provider=provider,
        topics=_topics(meta.get("topics")),
        images=_images(meta.get("images")),
        related=_related(meta.get("related")),
        category=_optional_str(meta, "category"),
        kind=_optional_str(meta, "type"),
        secured=_optional_str(meta, "secured"),
        body=body,
        extra={str(k): _json_safe(v) for k, v in meta.items() if k not in _KNOWN_FIELDS},
    )


def _required_str(meta: Mapping[str, Any], name: str) -> str:
    if name not in meta or meta[name] is None:
        raise FieldError(f"missing required field '{name}'")
    value = meta[name]
    if not isinstance(value, str):
        raise FieldError(f"'{name}' must be a string, not {_type_name(value)}")
    value = value.strip()
    if not value:
        raise FieldError(f"'{name}' is empty")
    return value


def _required_url(meta: Mapping[str, Any], name: str) -> str:
    value = _required_str(meta, name)
    if not is_http_url(value):
        raise FieldError(f"'{name}' must be an absolute http(s) URL, got {value[:80]!r}")
    return value


def _required_datetime(meta: Mapping[str, Any], name: str) -> datetime:
    if name not in meta or meta[name] is None:
        raise FieldError(f"missing required field '{name}'")
    parsed = parse_datetime(meta[name])
    if parsed is None:
        raise FieldError(
            f"'{name}' is not an ISO 8601 date-time (e.g. 2023-06-14T11:29:00Z): "
            f"{str(meta[name])[:60]!r}"
        )
    return parsed


def parse_datetime(value: object) -> datetime | None:
    """YAML timestamp or ISO 8601 string → aware UTC datetime; ``None`` when invalid."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        if not 10 <= len(text) <= 40:
            return None
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        parsed = parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    # Stored as text whose order is time order, which holds for four-digit years only.
    return parsed if parsed.year >= 1000 else None


def _optional_str(meta: Mapping[str, Any], name: str) -> str | None:
    value = meta.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldError(f"'{name}' must be a string, not {_type_name(value)}")
    return value.strip()


def _optional_int(meta: Mapping[str, Any], name: str) -> int | None:
    value = meta.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldError(f"'{name}' must be a number, not {_type_name(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise FieldError(f"'{name}' must be a finite number")
    if abs(value) > MAX_NUMBER:
        raise FieldError(f"'{name}' is out of range: {value}")
    return round(value)


def _heat(meta: Mapping[str, Any]) -> int | None:
    heat = _optional_int(meta, "heat")
    return None if heat is None or heat < 0 else heat


def _optional_bool(meta: Mapping[str, Any], name: str) -> bool | None:
    value = meta.get(name)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise FieldError(f"'{name}' must be true or false, not {_type_name(value)}")
    return value


def _provider(value: object, where: str) -> Provider | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise FieldError(f"'{where}' must be a mapping with name and domain")
    name = value.get("name")
    domain = value.get("domain")
    if name is not None and not isinstance(name, str):
        raise FieldError(f"'{where}.name' must be a string, not {_type_name(name)}")
    if domain is not None and not isinstance(domain, str):
        raise FieldError(f"'{where}.domain' must be a string, not {_type_name(domain)}")
    name = (name or "").strip()[:200]
    domain = (domain or "").strip()[:200]
    if not name and not domain:
        return None
    return Provider(name=name or domain, domain=domain)


def _topics(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise FieldError(f"'topics' must be a list of strings, not {_type_name(value)}")
    seen: dict[str, str] = {}
    for item in value:
        if not isinstance(item, str):
            raise FieldError(f"'topics' must be a list of strings; found {_type_name(item)}")
        topic = " ".join(item.split())  # trims and folds inner whitespace
        if not topic:
            continue
        if len(topic) > MAX_TOPIC_CHARS:
            raise FieldError(f"topic too long ({len(topic)} characters, limit {MAX_TOPIC_CHARS})")
        seen.setdefault(topic.casefold(), topic)
    if len(seen) > MAX_TOPICS:
        raise FieldError(f"too many topics ({len(seen)}, limit {MAX_TOPICS})")
    return tuple(seen.values())


def _list_of_mappings(value: object, name: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise FieldError(f"'{name}' must be a list, not {_type_name(value)}")
    for item in value:
        if not isinstance(item, dict):
            raise FieldError(f"'{name}' entries must be mappings; found {_type_name(item)}")
    return value


def _images(value: object) -> tuple[Image, ...]:
    images = []
    for item in _list_of_mappings(value, "images")[:MAX_IMAGES]:
        url = item.get("url")
        if not is_http_url(url):
            continue  # an image we cannot link to is simply not shown
        width, height = item.get("width"), item.get("height")
        images.append(
            Image(
                url=url,
                width=width if isinstance(width, int) and not isinstance(width, bool) else None,
                height=height if isinstance(height, int) and not isinstance(height, bool) else None,
            )
        )
    return tuple(images)


def _related(value: object) -> tuple[RelatedLink, ...]:
    links: list[RelatedLink] = []
    seen: set[str] = set()
    for item in _list_of_mappings(value, "related")[:MAX_RELATED]:
        title, web_url = item.get("title"), item.get("webUrl")
        # A related entry we cannot show or link is dropped, not fatal: it is secondary data.
        if not isinstance(title, str) or not title.strip() or not is_http_url(web_url):
            continue
        url = normalize_url(web_url)
        if url in seen:
            continue
        seen.add(url)
        excerpt = item.get("excerpt")
        quality = item.get("quality")
        provider = item.get("provider")
        links.append(
            RelatedLink(
                title=title.strip()[:MAX_TITLE_CHARS],
                url=url,
                web_url=web_url,
                excerpt=excerpt.strip()[:2000] if isinstance(excerpt, str) else "",
                published_at=parse_datetime(item.get("publishedDateTime")),
                provider=_related_provider(provider),
                quality=_related_quality(quality),
            )
        )
    return tuple(links)


def _related_quality(value: object) -> int | None:
    # Dropped when unusable, like the top-level quality's checks but not fatal; the range
    # matters: SQLite refuses integers past 64 bits, and 1.0e+30 is a valid YAML float.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or abs(value) > MAX_NUMBER:
        return None
    return round(value)


def _related_provider(value: object) -> Provider | None:
    # Secondary data, like the rest of a related entry: a malformed provider is dropped.
    try:
        return _provider(value, "related provider") if isinstance(value, dict) else None
    except FieldError:
        return None


def _json_safe(value: object) -> object:
    """Unknown fields are kept for reference only, converted to JSON-safe plain values."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_json_safe(v) for v in value]
    return str(value)


def _type_name(value: object) -> str:
    names = {dict: "a mapping", list: "a list", str: "a string", int: "a number",
             float: "a number", bool: "a boolean", type(None): "null"}  # fmt: skip
    return names.get(type(value), type(value).__name__)
