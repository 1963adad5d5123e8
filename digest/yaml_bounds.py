"""Composed YAML nodes → plain values, within limits counted as if aliases were expanded.

:class:`Builder` converts the plain nodes (strings, lists, mappings - nearly all of an
article) directly and measures the structure as if every alias were expanded, without
expanding anything, so an alias bomb is refused after a handful of nodes. Merge keys
(``<<``) are counted the same way before PyYAML flattens them (:func:`check_merges`):
before 6.0.4 it copies merged pairs into each mapping, so nested merges of anchors grow
exponentially (662 bytes took 20 s and 700 MB); here such a file is refused at once,
whatever the PyYAML version.
"""

from __future__ import annotations

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from digest.errors import FrontmatterError
from digest.yaml_safe import MAP_TAG, MERGE_TAG, SCALAR_CONSTRUCTORS, SEQ_TAG, STR_TAG, Loader

MAX_YAML_NODES = 20_000  # a real article has ~100; billion-laughs expands to 10**9
# Without aliases the text in the YAML cannot exceed the file (1 MiB at most); with them
# it can, hugely.
MAX_YAML_CHARS = 1024 * 1024
MAX_YAML_DEPTH = 50  # a real article nests 4 deep
MAX_YAML_MERGES = 100  # merge keys (<<) in one file; articles have none


class Builder:
    """Composed YAML nodes → plain values, measuring the size with aliases expanded.

    Each container is built once (an alias shares the object, as with PyYAML) and its
    expanded size - nodes and characters - is remembered, so a parent's size is the sum
    of its children's: exact for any alias graph, found without expanding anything.
    """

    __slots__ = ("_done", "_loader", "_merges_checked", "_open", "_root")

    def __init__(self, loader: Loader, root: Node) -> None:
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
            if node.tag == STR_TAG:
                return node.value, 1, len(node.value)
            construct = SCALAR_CONSTRUCTORS.get(node.tag)
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
        if kind is SequenceNode and node.tag == SEQ_TAG:
            result = self._sequence(node.value, depth + 1)
        elif kind is MappingNode and node.tag == MAP_TAG:
            result = self._mapping(node.value, depth + 1)
        if result is None:
            # Anything else - merge keys, !!set, !!binary, non-string keys, unknown
            # tags - is rare: PyYAML's safe constructor builds it, or refuses the tag.
            if not self._merges_checked:
                # Once, over the whole document, before PyYAML flattens any merge in place.
                self._merges_checked = True
                check_merges(self._root)
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
            if type(item) is ScalarNode and item.tag == STR_TAG:
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
            if type(key) is not ScalarNode or key.tag != STR_TAG:
                return None
            name = key.value
            if type(item) is ScalarNode and item.tag == STR_TAG:
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


def check_merges(root: Node) -> None:
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
                if key_node.tag != MERGE_TAG:
                    visit(key_node, depth + 1)
                    visit(value_node, depth + 1)
                    pairs += 1
                    continue
                merges += 1
                if merges > MAX_YAML_MERGES:
                    raise FrontmatterError(
                        f"too many YAML merge keys (<<): over {MAX_YAML_MERGES} (a merge-key bomb?)"
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
