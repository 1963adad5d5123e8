"""Log output: secrets and URL credentials redacted, JSON lines on request."""

from __future__ import annotations

import io
import json
import logging

from bot.logs import JsonFormatter, RedactSecrets
from bot.redact import redact_url_credentials

TOKEN = "123456:AAH-secret_token-value"


def _emit(formatter: logging.Formatter, message: str, *args: object) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(RedactSecrets([TOKEN, "hook-secret"]))
    logger = logging.getLogger("test.logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning(message, *args)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    return stream.getvalue()


def test_secrets_and_url_credentials_never_reach_the_output() -> None:
    text = _emit(
        logging.Formatter("%(message)s"),
        "calling %s via %s with %s",
        f"https://api.telegram.org/bot{TOKEN}/getMe",
        "socks5://proxyuser:proxypass@10.0.0.1:1080",
        "hook-secret",
    )
    assert TOKEN not in text and "proxypass" not in text and "proxyuser" not in text
    assert "hook-secret" not in text
    assert "socks5://<redacted>@10.0.0.1:1080" in text


def test_json_lines() -> None:
    line = _emit(JsonFormatter(), "reader %s subscribed", 42)
    entry = json.loads(line)
    assert entry["level"] == "WARNING" and entry["logger"] == "test.logs"
    assert entry["message"] == "reader 42 subscribed"
    assert "time" in entry


def test_url_credentials_only_are_touched() -> None:
    assert redact_url_credentials("mail me at a@b.example") == "mail me at a@b.example"
    assert (
        redact_url_credentials("https://u:p@h/x and http://h2/y")
        == "https://<redacted>@h/x and http://h2/y"
    )
