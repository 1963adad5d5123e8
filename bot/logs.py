"""Logging set-up: one line per event, and no secret in the output.

The token is part of every Bot API URL, and libraries log URLs (httpx at INFO, PTB's
``ExtBot`` at DEBUG), so besides quieting those loggers every record is redacted: the
token, the webhook secret, and credentials inside URLs (``https://user:pass@host``).
``NEWSDIGEST_LOG_FORMAT=json`` writes one JSON object per line for log collectors.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable

from bot.redact import REDACTED, redact

__all__ = ["REDACTED", "JsonFormatter", "RedactSecrets", "configure_logging"]

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactSecrets(logging.Filter):
    """Replaces secrets in a record's message and traceback before any handler sees it."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = tuple(secrets)

    def _redact(self, text: str) -> str:
        return redact(text, self._secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self._redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self._redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message (and the traceback, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["traceback"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str, secrets: Iterable[str] = (), *, log_format: str = "text") -> None:
    """Root logging to stderr at ``level`` (a name from ``LOG_LEVELS``), secrets redacted."""
    logging.basicConfig(format=TEXT_FORMAT, level=getattr(logging, level.upper(), logging.INFO))
    # httpx logs every request URL at INFO, and Bot API URLs carry the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # Tornado (the webhook server) logs each refused request; the bot logs what matters.
    logging.getLogger("tornado.access").setLevel(logging.WARNING)
    redact = RedactSecrets(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)
        if log_format == "json":
            handler.setFormatter(JsonFormatter())
