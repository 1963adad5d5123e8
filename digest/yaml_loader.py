"""The bounded YAML loader: frontmatter text → plain Python values, or a named refusal.

YAML goes through the safe loader only (libyaml's when present; :mod:`digest.yaml_safe`):
it builds YAML's own types - strings, numbers, dates, lists, mappings - and refuses any
other tag, so no Python object is ever constructed from a file.

Loading is the cost of ingestion, so the frontmatter is turned into Python values by
:class:`digest.yaml_bounds.Builder` rather than PyYAML's generic constructor: libyaml
still scans, parses and composes the node graph, and the plain nodes are converted
directly, everything else by PyYAML's own safe constructor. The builder measures the
structure as if every alias were expanded and counts merge keys before PyYAML flattens
them, so alias and merge-key bombs are refused at once, whatever the PyYAML version.
This module splits the frontmatter off and names what went wrong.
"""

from __future__ import annotations

from typing import Any

import yaml
from frontmatter.default_handlers import YAMLHandler

from digest.errors import ArticleError, FrontmatterError, type_name
from digest.yaml_bounds import (
    MAX_YAML_CHARS,
    MAX_YAML_DEPTH,
    MAX_YAML_MERGES,
    MAX_YAML_NODES,
    Builder,
)
from digest.yaml_safe import Loader

__all__ = [
    "MAX_YAML_CHARS",
    "MAX_YAML_DEPTH",
    "MAX_YAML_MERGES",
    "MAX_YAML_NODES",
    "load_frontmatter",
]


class _Handler(YAMLHandler):
    def load(self, fm: str, **kwargs: object) -> Any:
        loader = Loader(fm)
        try:
            node = loader.get_single_node()
            return None if node is None else Builder(loader, node).value()
        finally:
            loader.dispose()


_HANDLER = _Handler()


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
