"""Why an article file was refused: a small hierarchy, every message a readable reason.

ArticleError
├── FileRejected      -- empty, too large, binary, not UTF-8
├── FrontmatterError  -- missing or unparseable YAML, not a mapping, too complex
└── FieldError        -- a required field is missing or a field has the wrong type
"""

from __future__ import annotations


class ArticleError(ValueError):
    """The file cannot become an article; ``str(error)`` is the reason."""


class FileRejected(ArticleError):
    pass


class FrontmatterError(ArticleError):
    pass


class FieldError(ArticleError):
    pass


def type_name(value: object) -> str:
    """How a YAML value's type is named in a reason ("a mapping", "a list", ...)."""
    names = {dict: "a mapping", list: "a list", str: "a string", int: "a number",
             float: "a number", bool: "a boolean", type(None): "null"}  # fmt: skip
    return names.get(type(value), type(value).__name__)
