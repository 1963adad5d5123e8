"""Configuration, read once at start into a frozen :class:`Settings`.

Sources, strongest first: the process environment, then an optional ``.env`` file.
Every name below is a contract documented in ``.env.example``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from dotenv import dotenv_values

from bot.env_values import (
    SettingsError,
    admin_ids,
    boolean,
    choice,
    duration,
    hours_text,
    join_address,
    max_age_duration,
    parse_address,
    parse_hhmm,
    parse_timezone,
    positive_number,
    proxy_url,
)
from bot.redact import redact_url

DEFAULT_API_URL = "https://api.telegram.org"
DEFAULT_START_TIMEOUT = 300.0
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_FORMATS = ("text", "json")
# Telegram's broadcast limit without paid broadcasts: about 30 messages a second.
FREE_BROADCAST_RATE = 30.0
# The placeholder the README and .env.example show; a real token never looks like it.
PLACEHOLDER_TOKENS = frozenset({"123456:ABC-your-token"})
_SECRET_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what setWebhook accepts
MAX_BROADCAST_RATE = 1000.0  # Telegram's ceiling for paid broadcasts


@dataclass(frozen=True, kw_only=True)
class Settings:
    bot_token: str = field(default="", repr=False)
    api_url: str = DEFAULT_API_URL
    db_path: Path = Path("./newsdigest.db")
    articles_dir: Path = Path("./articles")
    admins: frozenset[int] = frozenset()
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))  # new readers' zone
    digest_time: time = time(8, 0)
    scan_interval: float = 60.0
    rate: float = 25.0
    breaking_max_age: timedelta = timedelta(hours=6)
    proxy: str | None = field(default=None, repr=False)  # may carry a password
    paid_broadcast: bool = False
    broadcast_rate: float = MAX_BROADCAST_RATE
    log_level: str = "INFO"
    log_format: str = "text"
    start_timeout: float = DEFAULT_START_TIMEOUT
    webhook_url: str | None = None  # set: webhook mode; None: long polling
    webhook_listen: tuple[str, int] = ("127.0.0.1", 8443)
    webhook_secret: str | None = field(default=None, repr=False)
    metrics_listen: tuple[str, int] | None = None
    # Older articles are not news: a digest shows what arrived since the last one and was
    # published at most this long ago (a future date counts from the arrival).
    max_age: timedelta = timedelta(hours=48)

    def __repr__(self) -> str:
        token = "set" if self.bot_token else "unset"
        secret = "set" if self.webhook_secret else "unset"
        mode = (
            f"webhook_url={redact_url(self.webhook_url)!r}, "
            f"webhook_listen={join_address(self.webhook_listen)!r}, webhook_secret=<{secret}>, "
            if self.webhook_url
            else "mode='polling', "
        )
        metrics = join_address(self.metrics_listen) if self.metrics_listen else None
        return (
            f"Settings(bot_token=<{token}>, api_url={redact_url(self.api_url)!r}, "
            f"db_path={str(self.db_path)!r}, "
            f"articles_dir={str(self.articles_dir)!r}, admins={sorted(self.admins)!r}, "
            f"timezone={self.timezone.key!r}, digest_time={self.digest_time:%H:%M}, "
            f"scan_interval={self.scan_interval}, rate={self.rate}, "
            f"breaking_max_age={self.breaking_max_age}, proxy={redact_url(self.proxy)!r}, "
            f"paid_broadcast={self.paid_broadcast}, broadcast_rate={self.broadcast_rate}, "
            f"{mode}metrics_listen={metrics!r}, "
            f"start_timeout={self.start_timeout}, max_age={hours_text(self.max_age)}, "
            f"log_level={self.log_level!r}, "
            f"log_format={self.log_format!r})"
        )

    def warnings(self) -> list[str]:
        """Values that are accepted but probably wrong; logged at start-up."""
        found = []
        if self.rate > FREE_BROADCAST_RATE and not self.paid_broadcast:
            found.append(
                f"NEWSDIGEST_RATE={self.rate:g} exceeds Telegram's limit of about "
                f"{FREE_BROADCAST_RATE:g} messages/s without paid broadcasts: expect 429s; "
                "lower it or set NEWSDIGEST_PAID_BROADCAST=true if the bot has them"
            )
        return found

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
            kwargs["admins"] = admin_ids(admins)
        if (tz := get("NEWSDIGEST_TIMEZONE")) is not None:
            try:
                kwargs["timezone"] = parse_timezone(tz)
            except ValueError as exc:
                raise SettingsError(f"NEWSDIGEST_TIMEZONE: {exc}") from None
        if (digest_time := get("NEWSDIGEST_DIGEST_TIME")) is not None:
            try:
                kwargs["digest_time"] = parse_hhmm(digest_time)
            except ValueError as exc:
                raise SettingsError(f"NEWSDIGEST_DIGEST_TIME: {exc}") from None
        if (interval := get("NEWSDIGEST_SCAN_INTERVAL")) is not None:
            kwargs["scan_interval"] = positive_number("NEWSDIGEST_SCAN_INTERVAL", interval)
        if (rate := get("NEWSDIGEST_RATE")) is not None:
            kwargs["rate"] = positive_number("NEWSDIGEST_RATE", rate)
        if (max_age := get("NEWSDIGEST_BREAKING_MAX_AGE")) is not None:
            kwargs["breaking_max_age"] = duration("NEWSDIGEST_BREAKING_MAX_AGE", max_age)
        if (proxy := get("NEWSDIGEST_PROXY")) is not None:
            kwargs["proxy"] = proxy_url(proxy)
        if (paid := get("NEWSDIGEST_PAID_BROADCAST")) is not None:
            kwargs["paid_broadcast"] = boolean("NEWSDIGEST_PAID_BROADCAST", paid)
        if (broadcast_rate := get("NEWSDIGEST_BROADCAST_RATE")) is not None:
            value = positive_number("NEWSDIGEST_BROADCAST_RATE", broadcast_rate)
            if value > MAX_BROADCAST_RATE:
                raise SettingsError(
                    f"NEWSDIGEST_BROADCAST_RATE: at most {MAX_BROADCAST_RATE:.0f} messages/s "
                    f"(Telegram's limit for paid broadcasts), got {broadcast_rate!r}"
                )
            kwargs["broadcast_rate"] = value
        if (level := get("NEWSDIGEST_LOG_LEVEL")) is not None:
            kwargs["log_level"] = choice("NEWSDIGEST_LOG_LEVEL", level.upper(), LOG_LEVELS)
        if (log_format := get("NEWSDIGEST_LOG_FORMAT")) is not None:
            kwargs["log_format"] = choice("NEWSDIGEST_LOG_FORMAT", log_format.lower(), LOG_FORMATS)
        if (timeout := get("NEWSDIGEST_START_TIMEOUT")) is not None:
            kwargs["start_timeout"] = positive_number("NEWSDIGEST_START_TIMEOUT", timeout)
        if (max_age := get("NEWSDIGEST_MAX_AGE")) is not None:
            kwargs["max_age"] = max_age_duration(max_age)
        kwargs.update(_webhook(get))
        if (metrics := get("NEWSDIGEST_METRICS_LISTEN")) is not None:
            kwargs["metrics_listen"] = parse_address("NEWSDIGEST_METRICS_LISTEN", metrics)
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
        if self.bot_token in PLACEHOLDER_TOKENS:
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN is the README's placeholder: put the token @BotFather "
                "gave you in its place (no token at hand? try `newsdigest demo`)"
            )
        return self.bot_token


def _webhook(get: Callable[[str], str | None]) -> dict[str, object]:
    url, listen, secret = (
        get("NEWSDIGEST_WEBHOOK_URL"),
        get("NEWSDIGEST_WEBHOOK_LISTEN"),
        get("NEWSDIGEST_WEBHOOK_SECRET"),
    )
    if url is None:
        for name, value in (("NEWSDIGEST_WEBHOOK_LISTEN", listen),
                            ("NEWSDIGEST_WEBHOOK_SECRET", secret)):  # fmt: skip
            if value is not None:
                raise SettingsError(
                    f"{name} is set but NEWSDIGEST_WEBHOOK_URL is not: set the public HTTPS URL "
                    "for webhook mode, or unset it for long polling"
                )
        return {}
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
        raise SettingsError(
            f"NEWSDIGEST_WEBHOOK_URL: {redact_url(url)!r} is not a public HTTPS URL "
            "(Telegram calls only https://, e.g. https://bot.example.com/telegram)"
        )
    values: dict[str, object] = {"webhook_url": url}
    if listen is not None:
        values["webhook_listen"] = parse_address("NEWSDIGEST_WEBHOOK_LISTEN", listen)
    if secret is not None:
        if not _SECRET_TOKEN_RE.match(secret):
            raise SettingsError(
                "NEWSDIGEST_WEBHOOK_SECRET: 1 to 256 characters of A-Z, a-z, 0-9, _ and - "
                "(Telegram's rule for secret_token); leave it empty to have one generated"
            )
        values["webhook_secret"] = secret
    return values
