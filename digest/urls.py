"""URL checks and the normalised form that keys one story."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MAX_URL_LENGTH = 2048
_TRACKING_PREFIXES = ("utm_",)
_TRACKING_KEYS = frozenset({"fbclid", "gclid", "mc_cid", "mc_eid", "ocid", "cmpid"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_http_url(value: object) -> bool:
    """True for an absolute http(s) URL with a host and no whitespace or control characters."""
    if not isinstance(value, str) or not value or len(value) > MAX_URL_LENGTH:
        return False
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
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
