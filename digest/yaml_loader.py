"""The bounded YAML loader: frontmatter text → plain Python values, or a named refusal.

YAML goes through the safe loader only (libyaml's when present): it builds YAML's own
types - strings, numbers, dates, lists, mappings - and refuses any other tag, so no
Python object is ever constructed from a file.

Loading is the cost of ingestion, so the frontmatter is turned into Python values by
:class:`_Builder` rather than PyYAML's generic constructor: libyaml still scans, parses
and composes the node graph, and the plain nodes (strings, lists, mappings - nearly all
of an article) are converted directly, everything else by PyYAML's own safe constructor.
The builder also measures the structure as if every alias were expanded, without
expanding anything, so an alias bomb is refused after a handful of nodes. Merge keys
(``<<``) are counted the same way before PyYAML flattens them (:func:`_check_merges`):
before 6.0.4 it copies merged pairs into each mapping, so nested merges of anchors grow
exponentially (662 bytes took 20 s and 700 MB); here such a file is refused at once,
whatever the PyYAML version.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime
from typing import Any

import yaml
from frontmatter.default_handlers import YAMLHandler
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from digest.errors import ArticleError, FrontmatterError, type_name

MAX_YAML_NODES = 20_000  # a real article has ~100; billion-laughs expands to 10**9
# Without aliases the text in the YAML cannot exceed the file (1 MiB at most); with them
# it can, hugely.
MAX_YAML_CHARS = 1024 * 1024
MAX_YAML_DEPTH = 50  # a real article nests 4 deep
MAX_YAML_MERGES = 100  # merge keys (<<) in one file; articles have none

_UTC_SECONDS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", re.ASCII)
_STR_TAG = "tag:yaml.org,2002:str"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_MERGE_TAG = "tag:yaml.org,2002:merge"


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
            return None if node is None else _Builder(loader, node).value()
        finally:
            loader.dispose()


_HANDLER = _Handler()


class _Builder:
    """Composed YAML nodes → plain values, measuring the size with aliases expanded.

    Each container is built once (an alias shares the object, as with PyYAML) and its
    expanded size - nodes and characters - is remembered, so a parent's size is the sum
    of its children's: exact for any alias graph, found without expanding anything.
    """

    __slots__ = ("_done", "_loader", "_merges_checked", "_open", "_root")

    def __init__(self, loader: _Loader, root: Node) -> None:
        self._loader = loader
        self._root = root
        self._done: dict[Node, tuple[object, int, int]] = {}
        self._open: set[Node] = set()
        self._merges_checked = False

    def value(self) -> object:
        return self._build(self._root, 0)[0]

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
            if not self._merges_checked:
                # Once, over the whole document, before PyYAML flattens any merge in place.
                self._merges_checked = True
                _check_merges(self._root)
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


def _check_merges(root: Node) -> None:
    """Refuse merge keys (``<<``) that PyYAML would flatten into too much, before it does.

    Counts the pairs each mapping below ``root`` holds once its merges are flattened the
    way PyYAML before 6.0.4 does it (every merged pair copied in, merged mappings first
    flattened themselves), each shared node once and without copying anything.
    """
    pairs_of: dict[int, int] = {}
    open_ids: set[int] = set()
    merges = total = 0

    def visit(node: Node, depth: int) -> int:
        nonlocal merges, total
        if type(node) is ScalarNode:
            return 0
        key = id(node)
        done = pairs_of.get(key)
        if done is not None:
            return done
        if key in open_ids:
            raise FrontmatterError("YAML alias refers to its own parent (a recursive alias)")
        if depth >= MAX_YAML_DEPTH:
            raise FrontmatterError(f"YAML nested too deeply (over {MAX_YAML_DEPTH} levels)")
        open_ids.add(key)
        pairs = 0
        if isinstance(node, SequenceNode):
            for item in node.value:
                visit(item, depth + 1)
        elif isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                if key_node.tag != _MERGE_TAG:
                    visit(key_node, depth + 1)
                    visit(value_node, depth + 1)
                    pairs += 1
                    continue
                merges += 1
                if merges > MAX_YAML_MERGES:
                    raise FrontmatterError(
                        f"too many YAML merge keys (<<): over {MAX_YAML_MERGES} "
                        "(a merge-key bomb?)"
                    )
                merged = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                for sub in merged:
                    count = visit(sub, depth + 1)
                    if isinstance(sub, MappingNode):
                        pairs += count
            total += pairs
            if total > MAX_YAML_NODES:
                raise FrontmatterError(
                    f"YAML merge keys (<<) expand too far (over {MAX_YAML_NODES} entries "
                    "once merged; a merge-key bomb?)"
                )
        open_ids.discard(key)
        pairs_of[key] = pairs
        return pairs

    visit(root, 0)


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


def load_frontmatter(text: str) -> tuple[dict[str, Any], str]:
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
            f"frontmatter must be a mapping of fields, not {type_name(metadata)}"
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
