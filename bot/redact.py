"""Credentials out of anything logged or printed: ``https://user:pass@host`` → ``https://<redacted>@host``."""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "<redacted>"
# scheme://userinfo@ — the userinfo part (user, or user:password) is what is hidden.
_URL_CREDENTIALS = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^\s/@]+@")


def redact_url_credentials(text: str) -> str:
    """Every URL in ``text`` with its user and password replaced by :data:`REDACTED`."""
    if "@" not in text:
        return text
    return _URL_CREDENTIALS.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", text)


def redact_url(url: str | None) -> str | None:
    return None if url is None else redact_url_credentials(url)


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with each secret (longest first) and URL credentials replaced."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return redact_url_credentials(text)
