"""The safe YAML loader, tuned: plain data only, and the resolving and scalar conversion
that libyaml asks Python for at every node done with as few Python calls as possible.

It builds YAML's own types - strings, numbers, dates, lists, mappings - and refuses any
other tag, so no Python object is ever constructed from a file. :mod:`digest.yaml_bounds`
turns its nodes into values within limits; :mod:`digest.yaml_loader` is the entry point.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import Node, ScalarNode, SequenceNode

_UTC_SECONDS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", re.ASCII)
STR_TAG = "tag:yaml.org,2002:str"
SEQ_TAG = "tag:yaml.org,2002:seq"
MAP_TAG = "tag:yaml.org,2002:map"
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
MERGE_TAG = "tag:yaml.org,2002:merge"


class Loader(yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader):  # type: ignore[misc]
    """The safe loader: plain data only, no Python object tags."""

    def resolve(self, kind: type[Node], value: str | None, implicit: tuple[bool, bool]) -> str:
        # Same answer as yaml.resolver.Resolver.resolve (the safe loader has no path
        # resolvers), faster: libyaml calls this for every node of every file, and the
        # plain scalars of articles - field names, numbers, dates - repeat endlessly.
        if kind is ScalarNode:
            if implicit[0]:
                assert value is not None
                return _short_plain_tag(value) if len(value) <= 32 else _implicit_tag(value)
            return STR_TAG
        return SEQ_TAG if kind is SequenceNode else MAP_TAG

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


Loader.add_constructor(TIMESTAMP_TAG, Loader.construct_lenient_timestamp)
_WILDCARD: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    Loader.yaml_implicit_resolvers.get(None, [])
)
_IMPLICIT: dict[str, tuple[tuple[str, re.Pattern[str]], ...]] = {
    first: (*resolvers, *_WILDCARD)
    for first, resolvers in Loader.yaml_implicit_resolvers.items()
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
    return STR_TAG


_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)", re.ASCII)


def _construct_int(loader: Loader, node: ScalarNode) -> int:
    # Plain decimals - nearly every number in an article - skip PyYAML's checks for
    # underscores, octal, hex and base 60, which cannot change their value.
    value = node.value
    if _DECIMAL.fullmatch(value):
        return int(value)
    return int(SafeConstructor.construct_yaml_int(loader, node))


# Scalar tags converted by calling the safe constructor's function for them directly.
SCALAR_CONSTRUCTORS = {
    tag: Loader.yaml_constructors[tag]
    for tag in ("tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:float")
}
SCALAR_CONSTRUCTORS["tag:yaml.org,2002:int"] = _construct_int
SCALAR_CONSTRUCTORS[TIMESTAMP_TAG] = Loader.construct_lenient_timestamp
