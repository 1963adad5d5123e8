"""One article file → a validated :class:`Article`: bytes checks, then every field.

Files come from an upstream pipeline and are never trusted. Every failure is an
:class:`~digest.errors.ArticleError` whose message says what is wrong, so the caller
can report the file and go on. The YAML itself is loaded by :mod:`digest.yaml_loader`,
each field read by :mod:`digest.fields`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from digest.errors import FieldError, FileRejected
from digest.fields import (
    MAX_IMAGES,
    MAX_NUMBER,
    MAX_RELATED,
    MAX_TITLE_CHARS,
    MAX_TOPIC_CHARS,
    MAX_TOPICS,
    heat_value,
    images,
    json_safe,
    optional_bool,
    optional_int,
    optional_str,
    parse_datetime,
    provider,
    related,
    required_datetime,
    required_str,
    required_url,
    topics,
)
from digest.model import Article
from digest.urls import is_http_url, normalize_url
from digest.yaml_loader import load_frontmatter

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_IMAGES",
    "MAX_NUMBER",
    "MAX_RELATED",
    "MAX_TITLE_CHARS",
    "MAX_TOPICS",
    "MAX_TOPIC_CHARS",
    "decode_article_bytes",
    "parse_article_bytes",
    "parse_article_text",
    "parse_datetime",
]

MAX_FILE_BYTES = 1024 * 1024

_NO_TIME = datetime(1970, 1, 1, tzinfo=UTC)  # placeholder while other fields are checked

_KNOWN_FIELDS = frozenset(
    {
        "title", "excerpt", "publishedDateTime", "webUrl", "originalUrl", "quality", "heat",
        "published", "provider", "topics", "images", "related", "secured", "category", "type",
    }
)  # fmt: skip


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
    metadata, body = load_frontmatter(text)
    return _build_article(metadata, body)


def _build_article(meta: dict[str, Any], body: str) -> Article:
    # Every field is checked even after one fails: a rejected file's report lists all its
    # problems at once, so the pipeline's author fixes them in one go.
    problems: list[str] = []

    def check(read: Callable[..., Any], *args: Any, default: Any) -> Any:
        try:
            return read(*args)
        except FieldError as exc:
            problems.append(str(exc))
            return default

    title: str = check(required_str, meta, "title", default="")
    if len(title) > MAX_TITLE_CHARS:
        problems.append(f"title too long ({len(title)} characters, limit {MAX_TITLE_CHARS})")
    web_url: str = check(required_url, meta, "webUrl", default="")
    published_at: datetime = check(required_datetime, meta, "publishedDateTime", default=_NO_TIME)
    original_url: str | None = check(optional_str, meta, "originalUrl", default=None)
    fields = {
        "excerpt": check(optional_str, meta, "excerpt", default=None) or "",
        "quality": check(optional_int, meta, "quality", default=None),
        "heat": check(heat_value, meta, default=None),
        "published": check(optional_bool, meta, "published", default=None),
        "provider": check(provider, meta.get("provider"), "provider", default=None),
        "topics": check(topics, meta.get("topics"), default=()),
        "images": check(images, meta.get("images"), default=()),
        "related": check(related, meta.get("related"), default=()),
        "category": check(optional_str, meta, "category", default=None),
        "kind": check(optional_str, meta, "type", default=None),
        "secured": check(optional_str, meta, "secured", default=None),
    }
    if problems:
        raise FieldError("; ".join(problems))
    return Article(
        url=normalize_url(web_url),
        web_url=web_url,
        title=title,
        published_at=published_at,
        original_url=original_url if is_http_url(original_url) else None,
        body=body,
        extra={str(k): json_safe(v) for k, v in meta.items() if k not in _KNOWN_FIELDS},
        **fields,
    )
