"""Reading one frontmatter field each: type checks, limits, normalisation.

The readers raise :class:`~digest.errors.FieldError` with a message naming the field;
:mod:`digest.parse` calls them all and reports every problem of a file at once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from digest.errors import FieldError, type_name
from digest.model import Image, Provider, RelatedLink
from digest.urls import is_http_url, normalize_url

T = TypeVar("T")

MAX_TITLE_CHARS = 1_000
MAX_TOPICS = 50
MAX_TOPIC_CHARS = 100
MAX_RELATED = 100
MAX_IMAGES = 50
MAX_NUMBER = 1_000_000_000  # quality and heat: far beyond any real score, within SQLite's


def required_str(meta: Mapping[str, Any], name: str) -> str:
    value = optional_str(meta, name)
    if value is None:
        raise FieldError(f"missing required field '{name}'")
    if not value:
        raise FieldError(f"'{name}' is empty")
    return value


def required_url(meta: Mapping[str, Any], name: str) -> str:
    value = required_str(meta, name)
    if not is_http_url(value):
        raise FieldError(f"'{name}' must be an absolute http(s) URL, got {value[:80]!r}")
    return value


def required_datetime(meta: Mapping[str, Any], name: str) -> datetime:
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


def _optional_of(meta: Mapping[str, Any], name: str, kind: type[T], what: str) -> T | None:
    value = meta.get(name)
    if value is None:
        return None
    if not isinstance(value, kind):
        raise FieldError(f"'{name}' must be {what}, not {type_name(value)}")
    return value


def optional_str(meta: Mapping[str, Any], name: str) -> str | None:
    value = _optional_of(meta, name, str, "a string")
    return None if value is None else value.strip()


def optional_int(meta: Mapping[str, Any], name: str) -> int | None:
    value = meta.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldError(f"'{name}' must be a number, not {type_name(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise FieldError(f"'{name}' must be a finite number")
    if abs(value) > MAX_NUMBER:
        raise FieldError(f"'{name}' is out of range: {value}")
    return round(value)


def heat_value(meta: Mapping[str, Any]) -> int | None:
    heat = optional_int(meta, "heat")
    return None if heat is None or heat < 0 else heat


def optional_bool(meta: Mapping[str, Any], name: str) -> bool | None:
    return _optional_of(meta, name, bool, "true or false")


def provider(value: object, where: str) -> Provider | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise FieldError(f"'{where}' must be a mapping with name and domain")
    name = value.get("name")
    domain = value.get("domain")
    if name is not None and not isinstance(name, str):
        raise FieldError(f"'{where}.name' must be a string, not {type_name(name)}")
    if domain is not None and not isinstance(domain, str):
        raise FieldError(f"'{where}.domain' must be a string, not {type_name(domain)}")
    name = (name or "").strip()[:200]
    domain = (domain or "").strip()[:200]
    if not name and not domain:
        return None
    return Provider(name=name or domain, domain=domain)


def topics(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise FieldError(f"'topics' must be a list of strings, not {type_name(value)}")
    seen: dict[str, str] = {}
    for item in value:
        if not isinstance(item, str):
            raise FieldError(f"'topics' must be a list of strings; found {type_name(item)}")
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
        raise FieldError(f"'{name}' must be a list, not {type_name(value)}")
    for item in value:
        if not isinstance(item, dict):
            raise FieldError(f"'{name}' entries must be mappings; found {type_name(item)}")
    return value


def images(value: object) -> tuple[Image, ...]:
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


def related(value: object) -> tuple[RelatedLink, ...]:
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
        return provider(value, "related provider") if isinstance(value, dict) else None
    except FieldError:
        return None


def json_safe(value: object) -> object:
    """Unknown fields are kept for reference only, converted to JSON-safe plain values."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [json_safe(v) for v in value]
    return str(value)
