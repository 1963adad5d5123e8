"""URL checks and the normalised form that keys one story."""

from __future__ import annotations

import re
from typing import TypeGuard
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MAX_URL_LENGTH = 2048
_TRACKING_PREFIXES = ("utm_",)
_TRACKING_KEYS = frozenset({"fbclid", "gclid", "mc_cid", "mc_eid", "ocid", "cmpid"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


_URL_BAD_CHAR = re.compile(r"[\s\x00-\x1f\x7f]")  # \s is str.isspace() for str patterns
# Lower-case scheme, a host of letters, digits, dots and dashes (no port, user or IPv6),
# then printable ASCII: urlsplit takes it apart without error and finds the host.
_PLAIN_HTTP_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?:[/?#][!-~]*)?", re.ASCII)
# Scheme, host and path, no port, user, query or fragment: nearly every article URL.
_PLAIN_PAGE_URL = re.compile(
    r"https?://([A-Za-z0-9.-]+)((?:/[\x21\x22\x24-\x3e\x40-\x7e]*)?)", re.ASCII
)


def is_http_url(value: object) -> TypeGuard[str]:
    """True for an absolute http(s) URL with a host and no whitespace or control characters.

    One regex answers for ordinary URLs: this runs for every URL of every article file
    and every link rendered, and taking URLs apart was a third of validation's cost.
    """
    if not isinstance(value, str) or not value or len(value) > MAX_URL_LENGTH:
        return False
    if _PLAIN_HTTP_URL.fullmatch(value):
        return True  # the common shape, which passes every check below
    if _URL_BAD_CHAR.search(value):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return False
    return parts.scheme.lower() in _DEFAULT_PORTS and bool(parts.hostname)


def normalize_url(url: str) -> str:
    """The story key for a URL: same page, same key.

    Lower-cases scheme and host, drops default ports, ``www.``, fragments, tracking
    parameters and a trailing slash, and sorts the query. Callers check
    :func:`is_http_url` first.
    """
    plain = _PLAIN_PAGE_URL.fullmatch(url)
    if plain is not None:  # the common case, built directly: same key as the long way
        return f"https://{plain[1].lower().removeprefix('www.')}{plain[2].rstrip('/')}"
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    port = parts.port
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    path = parts.path.rstrip("/") or ""
    query_items = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith(_TRACKING_PREFIXES) and k.lower() not in _TRACKING_KEYS
    ]
    query = urlencode(sorted(query_items))
    # http and https of one page are one story.
    return urlunsplit(("https" if scheme == "http" else scheme, netloc, path, query, ""))
