"""Configuration from the environment and ``.env``."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from bot.settings import DEFAULT_API_URL, Settings, SettingsError

TOKEN = "123456789:AAH-secret_token-value"


def test_defaults_without_any_configuration(tmp_path: Path) -> None:
    settings = Settings.from_env({}, dotenv_path=tmp_path / "missing.env")
    assert settings.bot_token == ""
    assert settings.api_url == DEFAULT_API_URL
    assert settings.db_path == Path("./newsdigest.db")
    assert settings.articles_dir == Path("./articles")
    assert settings.admins == frozenset()
    assert settings.timezone == "UTC"
    assert settings.digest_time == time(8, 0)
    assert settings.scan_interval == 60.0
    assert settings.rate == 25.0


def test_every_variable_is_read(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": "http://localhost:8081/",
            "NEWSDIGEST_DB": str(tmp_path / "x.db"),
            "NEWSDIGEST_ARTICLES": str(tmp_path / "in"),
            "NEWSDIGEST_ADMINS": "12345; 678 ,",
            "NEWSDIGEST_TIMEZONE": "Europe/Berlin",
            "NEWSDIGEST_DIGEST_TIME": "7:05",
            "NEWSDIGEST_SCAN_INTERVAL": "2.5",
            "NEWSDIGEST_RATE": "10",
        },
        dotenv_path=None,
    )
    assert settings.require_token() == TOKEN
    assert settings.api_url == "http://localhost:8081"
    assert settings.db_path == tmp_path / "x.db"
    assert settings.articles_dir == tmp_path / "in"
    assert settings.admins == frozenset({12345, 678})
    assert settings.timezone == "Europe/Berlin"
    assert settings.digest_time == time(7, 5)
    assert settings.scan_interval == 2.5
    assert settings.rate == 10.0


def test_environment_wins_over_dotenv(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "NEWSDIGEST_RATE=5\nNEWSDIGEST_TIMEZONE=Asia/Tokyo\nNEWSDIGEST_DIGEST_TIME=06:30\n"
    )
    settings = Settings.from_env({"NEWSDIGEST_RATE": "7"}, dotenv_path=dotenv)
    assert settings.rate == 7.0  # from the environment
    assert settings.timezone == "Asia/Tokyo"  # from .env
    assert settings.digest_time == time(6, 30)


def test_blank_environment_value_means_default(tmp_path: Path) -> None:
    settings = Settings.from_env({"NEWSDIGEST_RATE": "  "}, dotenv_path=None)
    assert settings.rate == 25.0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NEWSDIGEST_RATE", "abc"),
        ("NEWSDIGEST_RATE", "0"),
        ("NEWSDIGEST_RATE", "-3"),
        ("NEWSDIGEST_RATE", "inf"),
        ("NEWSDIGEST_RATE", "nan"),
        ("NEWSDIGEST_SCAN_INTERVAL", "soon"),
        ("NEWSDIGEST_SCAN_INTERVAL", "0"),
        ("NEWSDIGEST_DIGEST_TIME", "25:00"),
        ("NEWSDIGEST_DIGEST_TIME", "12:60"),
        ("NEWSDIGEST_DIGEST_TIME", "noon"),
        ("NEWSDIGEST_TIMEZONE", "Mars/Base"),
        ("NEWSDIGEST_TIMEZONE", "../../etc/passwd"),
        ("NEWSDIGEST_TIMEZONE", "/etc/localtime"),
        ("NEWSDIGEST_ADMINS", "1,x"),
        ("NEWSDIGEST_ADMINS", "12.5"),
        ("TELEGRAM_API_URL", "api.telegram.org"),
        ("TELEGRAM_API_URL", "ftp://api.telegram.org"),
        ("TELEGRAM_API_URL", "https:// spaced"),
    ],
)
def test_bad_value_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({name: value}, dotenv_path=None)
    assert str(caught.value).startswith(f"{name}:")


def test_bad_value_in_dotenv_is_refused_too(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("NEWSDIGEST_DIGEST_TIME=25:00\n")
    with pytest.raises(SettingsError, match="NEWSDIGEST_DIGEST_TIME"):
        Settings.from_env({}, dotenv_path=dotenv)


@pytest.mark.parametrize("token", ["", "not-a-token", "123:has space", "abc:def"])
def test_require_token_refuses_a_missing_or_malformed_token(token: str) -> None:
    settings = Settings.from_env({"TELEGRAM_BOT_TOKEN": token}, dotenv_path=None)
    with pytest.raises(SettingsError, match="TELEGRAM_BOT_TOKEN"):
        settings.require_token()


def test_repr_never_shows_the_token(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(f"TELEGRAM_BOT_TOKEN={TOKEN}\n")
    settings = Settings.from_env({}, dotenv_path=dotenv)
    assert settings.bot_token == TOKEN
    for text in (repr(settings), str(settings), f"{settings!r}"):
        assert TOKEN not in text
        assert "AAH-secret" not in text
        assert "bot_token=<set>" in text
    assert "bot_token=<unset>" in repr(Settings())


def test_delivery_settings_are_read_and_validated(tmp_path: Path) -> None:
    defaults = Settings.from_env({}, dotenv_path=None)
    assert defaults.breaking_max_age.total_seconds() == 6 * 3600
    assert (defaults.proxy, defaults.paid_broadcast, defaults.broadcast_rate) == (None, False, 1000)
    settings = Settings.from_env(
        {
            "NEWSDIGEST_BREAKING_MAX_AGE": "90m",
            "NEWSDIGEST_PROXY": "SOCKS5://reader:s3cret@proxy.example:1080/",
            "NEWSDIGEST_PAID_BROADCAST": "true",
            "NEWSDIGEST_BROADCAST_RATE": "500",
        },
        dotenv_path=None,
    )
    assert settings.breaking_max_age.total_seconds() == 5400
    assert settings.proxy == "socks5://reader:s3cret@proxy.example:1080"
    assert settings.paid_broadcast is True and settings.broadcast_rate == 500
    # The proxy's password never shows where settings are logged.
    assert "s3cret" not in repr(settings) and "reader:***@proxy.example" in repr(settings)
    for raw, seconds in [("45s", 45), ("2h", 7200), ("1.5d", 129600), ("3600", 3600)]:
        parsed = Settings.from_env({"NEWSDIGEST_BREAKING_MAX_AGE": raw}, dotenv_path=None)
        assert parsed.breaking_max_age.total_seconds() == seconds


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("NEWSDIGEST_BREAKING_MAX_AGE", "soon", "not a positive duration"),
        ("NEWSDIGEST_BREAKING_MAX_AGE", "0h", "not a positive duration"),
        ("NEWSDIGEST_PROXY", "ftp://proxy.example:21", "not a proxy URL"),
        ("NEWSDIGEST_PROXY", "proxy.example:3128", "not a proxy URL"),
        ("NEWSDIGEST_PROXY", "http://user:pw@", "not a proxy URL"),
        ("NEWSDIGEST_PAID_BROADCAST", "maybe", "not true or false"),
        ("NEWSDIGEST_BROADCAST_RATE", "5000", "at most 1000"),
        ("NEWSDIGEST_BROADCAST_RATE", "-1", "positive number"),
    ],
)
def test_bad_delivery_settings_name_the_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message) as caught:
        Settings.from_env({name: value}, dotenv_path=None)
    assert str(caught.value).startswith(f"{name}:")
    assert "pw" not in str(caught.value)
