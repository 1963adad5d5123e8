"""Configuration, read once at start into a frozen :class:`Settings`.

Sources, strongest first: the process environment, then an optional ``.env`` file.
Every name below is a contract documented in ``.env.example``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

DEFAULT_API_URL = "https://api.telegram.org"
_TIME_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd]?)$", re.IGNORECASE)
_DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
PROXY_SCHEMES = ("http", "https", "socks4", "socks5")
MAX_BROADCAST_RATE = 1000.0  # Telegram's ceiling for paid broadcasts


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


@dataclass(frozen=True, kw_only=True)
class Settings:
    bot_token: str = field(default="", repr=False)
    api_url: str = DEFAULT_API_URL
    db_path: Path = Path("./newsdigest.db")
    articles_dir: Path = Path("./articles")
    admins: frozenset[int] = frozenset()
    timezone: str = "UTC"
    digest_time: time = time(8, 0)
    scan_interval: float = 60.0
    rate: float = 25.0
    breaking_max_age: timedelta = timedelta(hours=6)
    proxy: str | None = field(default=None, repr=False)  # may carry a password
    paid_broadcast: bool = False
    broadcast_rate: float = MAX_BROADCAST_RATE

    def __repr__(self) -> str:
        token = "set" if self.bot_token else "unset"
        return (
            f"Settings(bot_token=<{token}>, api_url={self.api_url!r}, "
            f"db_path={str(self.db_path)!r}, "
            f"articles_dir={str(self.articles_dir)!r}, admins={sorted(self.admins)!r}, "
            f"timezone={self.timezone!r}, digest_time={self.digest_time:%H:%M}, "
            f"scan_interval={self.scan_interval}, rate={self.rate}, "
            f"breaking_max_age={self.breaking_max_age}, proxy={_redact_proxy(self.proxy)!r}, "
            f"paid_broadcast={self.paid_broadcast}, broadcast_rate={self.broadcast_rate})"
        )

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str], *, dotenv_path: Path | None = Path(".env")
    ) -> Settings:
        """Build settings from ``environ`` over the ``.env`` file; raise :class:`SettingsError`."""
        values: dict[str, str] = {}
        if dotenv_path is not None and dotenv_path.is_file():
            values.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
        values.update(environ)

        def get(name: str) -> str | None:
            raw = values.get(name)
            return raw.strip() if raw is not None and raw.strip() != "" else None

        kwargs: dict[str, object] = {}
        if (token := get("TELEGRAM_BOT_TOKEN")) is not None:
            kwargs["bot_token"] = token
        if (api_url := get("TELEGRAM_API_URL")) is not None:
            if not re.match(r"^https?://[^\s/]+", api_url):
                raise SettingsError(
                    f"TELEGRAM_API_URL: {api_url!r} is not an http(s) URL "
                    "(e.g. https://api.telegram.org)"
                )
            kwargs["api_url"] = api_url.rstrip("/")
        if (db := get("NEWSDIGEST_DB")) is not None:
            kwargs["db_path"] = Path(db)
        if (articles := get("NEWSDIGEST_ARTICLES")) is not None:
            kwargs["articles_dir"] = Path(articles)
        if (admins := get("NEWSDIGEST_ADMINS")) is not None:
            kwargs["admins"] = _parse_admins(admins)
        if (tz := get("NEWSDIGEST_TIMEZONE")) is not None:
            try:
                parse_timezone(tz)
            except ValueError as exc:
                raise SettingsError(f"NEWSDIGEST_TIMEZONE: {exc}") from None
            kwargs["timezone"] = tz
        if (digest_time := get("NEWSDIGEST_DIGEST_TIME")) is not None:
            try:
                kwargs["digest_time"] = parse_hhmm(digest_time)
            except ValueError as exc:
                raise SettingsError(f"NEWSDIGEST_DIGEST_TIME: {exc}") from None
        if (interval := get("NEWSDIGEST_SCAN_INTERVAL")) is not None:
            kwargs["scan_interval"] = _positive_number("NEWSDIGEST_SCAN_INTERVAL", interval)
        if (rate := get("NEWSDIGEST_RATE")) is not None:
            kwargs["rate"] = _positive_number("NEWSDIGEST_RATE", rate)
        if (max_age := get("NEWSDIGEST_BREAKING_MAX_AGE")) is not None:
            kwargs["breaking_max_age"] = _duration("NEWSDIGEST_BREAKING_MAX_AGE", max_age)
        if (proxy := get("NEWSDIGEST_PROXY")) is not None:
            kwargs["proxy"] = _proxy_url(proxy)
        if (paid := get("NEWSDIGEST_PAID_BROADCAST")) is not None:
            kwargs["paid_broadcast"] = _boolean("NEWSDIGEST_PAID_BROADCAST", paid)
        if (broadcast_rate := get("NEWSDIGEST_BROADCAST_RATE")) is not None:
            value = _positive_number("NEWSDIGEST_BROADCAST_RATE", broadcast_rate)
            if value > MAX_BROADCAST_RATE:
                raise SettingsError(
                    f"NEWSDIGEST_BROADCAST_RATE: at most {MAX_BROADCAST_RATE:.0f} messages/s "
                    f"(Telegram's limit for paid broadcasts), got {broadcast_rate!r}"
                )
            kwargs["broadcast_rate"] = value
        return cls(**kwargs)  # type: ignore[arg-type]

    def require_token(self) -> str:
        if not self.bot_token:
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN is not set: put the token from @BotFather in the "
                "environment or in .env"
            )
        if not re.match(r"^\d+:[A-Za-z0-9_-]+$", self.bot_token):
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN does not look like a bot token (digits:letters)"
            )
        return self.bot_token


def _parse_admins(raw: str) -> frozenset[int]:
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


def _positive_number(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}: {raw!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise SettingsError(f"{name}: must be a positive number, got {raw!r}")
    return value


def _duration(name: str, raw: str) -> timedelta:
    """``"6h"``, ``"90m"``, ``"45s"``, ``"2d"`` or plain seconds."""
    match = _DURATION_RE.match(raw.strip())
    if match is None or float(match.group(1)) <= 0:
        raise SettingsError(
            f"{name}: {raw!r} is not a positive duration (e.g. 6h, 90m, 3600 for seconds)"
        )
    return timedelta(seconds=float(match.group(1)) * _DURATION_UNITS[match.group(2).lower()])


def _boolean(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}: {raw!r} is not true or false")


def _proxy_url(raw: str) -> str:
    scheme, sep, rest = raw.strip().partition("://")
    host = rest.rsplit("@", 1)[-1]
    if not sep or scheme.lower() not in PROXY_SCHEMES or not re.match(r"^[^\s/:]+(:\d+)?/?$", host):
        raise SettingsError(
            f"NEWSDIGEST_PROXY: {_redact_proxy(raw)!r} is not a proxy URL: use "
            "http://host:port, https://host:port or socks5://[user:password@]host:port"
        )
    return f"{scheme.lower()}://{rest.rstrip('/')}"


def _redact_proxy(url: str | None) -> str | None:
    """The proxy URL without its password (settings are logged at start)."""
    if url is None or "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"
