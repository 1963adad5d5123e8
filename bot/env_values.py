"""Configuration values as the environment spells them, parsed strictly.

Every parser raises :class:`SettingsError` (or ``ValueError`` for the two that also parse
typed input elsewhere) with a message that names the variable and shows a valid example.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.redact import redact_url
from digest.when import WhenError, parse_duration

_TIME_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
_DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd]?)$", re.IGNORECASE)
_DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
PROXY_SCHEMES = ("http", "https", "socks4", "socks5")


class SettingsError(ValueError):
    """A configuration value is missing or malformed; the message names the variable."""


def parse_hhmm(value: str) -> time:
    """``"8:05"`` / ``"08:05"`` → ``time(8, 5)``; raises ``ValueError`` with a readable message."""
    match = _TIME_RE.match(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a time of day as HH:MM (e.g. 08:00)")
    return time(int(match.group(1)), int(match.group(2)))


def parse_timezone(value: str) -> ZoneInfo:
    """An IANA zone name such as ``Europe/Berlin``; raises ``ValueError`` when unknown."""
    name = value.strip()
    # zoneinfo treats path-like names as files: refuse anything that is not a zone key.
    if not name or name.startswith(("/", ".")) or ".." in name or "\\" in name:
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Berlin)")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Berlin)") from exc


def parse_address(name: str, raw: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:8443`` for IPv6) → ``(host, port)``; the message names ``name``."""
    host, sep, port_text = raw.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise SettingsError(
            f"{name}: {raw!r} is not host:port with a port from 1 to 65535 "
            "(e.g. 127.0.0.1:8443 or 0.0.0.0:8443)"
        )
    if any(c.isspace() or c in "/@" for c in host):
        raise SettingsError(f"{name}: {host!r} is not a host name or address")
    return host, int(port_text)


def join_address(address: tuple[str, int]) -> str:
    host, port = address
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def boolean(name: str, raw: str) -> bool:
    value = raw.lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{name}: {raw!r} is not true or false")


def choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise SettingsError(f"{name}: {value!r} is not one of {', '.join(allowed)}")
    return value


def admin_ids(raw: str) -> frozenset[int]:
    ids: set[int] = set()
    for part in raw.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            ids.add(int(part))
        except ValueError:
            raise SettingsError(
                f"NEWSDIGEST_ADMINS: {part!r} is not a Telegram user id "
                "(comma-separated numbers, e.g. 12345,67890)"
            ) from None
    return frozenset(ids)


def positive_number(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}: {raw!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise SettingsError(f"{name}: must be a positive number, got {raw!r}")
    return value


def duration(name: str, raw: str) -> timedelta:
    """``"6h"``, ``"90m"``, ``"45s"``, ``"2d"`` or plain seconds."""
    match = _DURATION_RE.match(raw.strip())
    if match is None or float(match.group(1)) <= 0:
        raise SettingsError(
            f"{name}: {raw!r} is not a positive duration (e.g. 6h, 90m, 3600 for seconds)"
        )
    return timedelta(seconds=float(match.group(1)) * _DURATION_UNITS[match.group(2).lower()])


def proxy_url(raw: str) -> str:
    scheme, sep, rest = raw.strip().partition("://")
    host = rest.rsplit("@", 1)[-1]
    if not sep or scheme.lower() not in PROXY_SCHEMES or not re.match(r"^[^\s/:]+(:\d+)?/?$", host):
        raise SettingsError(
            f"NEWSDIGEST_PROXY: {redact_url(raw)!r} is not a proxy URL: use "
            "http://host:port, https://host:port or socks5://[user:password@]host:port"
        )
    return f"{scheme.lower()}://{rest.rstrip('/')}"


def max_age_duration(raw: str) -> timedelta:
    try:
        value = parse_duration(raw)
    except WhenError as exc:
        raise SettingsError(f"NEWSDIGEST_MAX_AGE: {raw!r}: {exc}") from None
    if value < timedelta(hours=1):
        raise SettingsError(f"NEWSDIGEST_MAX_AGE: {raw!r} is under an hour (e.g. 48h or 7d)")
    return value


def hours_text(value: timedelta) -> str:
    hours = value.total_seconds() / 3600
    return f"{hours:g}h"
