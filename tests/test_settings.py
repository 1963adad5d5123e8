"""Configuration from the environment and ``.env``."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.env_values import SettingsError
from bot.settings import DEFAULT_API_URL, Settings

TOKEN = "123456789:AAH-secret_token-value"


def test_defaults_without_any_configuration(tmp_path: Path) -> None:
    settings = Settings.from_env({}, dotenv_path=tmp_path / "missing.env")
    assert settings.bot_token == ""
    assert settings.api_url == DEFAULT_API_URL
    assert settings.db_path == Path("./newsdigest.db")
    assert settings.articles_dir == Path("./articles")
    assert settings.admins == frozenset()
    assert settings.timezone == ZoneInfo("UTC")
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
    assert settings.timezone == ZoneInfo("Europe/Berlin")
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
    assert settings.timezone == ZoneInfo("Asia/Tokyo")  # from .env
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


def test_operations_variables_are_read(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("NEWSDIGEST_LOG_LEVEL=debug\nNEWSDIGEST_LOG_FORMAT=JSON\n")
    settings = Settings.from_env(
        {
            "NEWSDIGEST_START_TIMEOUT": "12.5",
            "NEWSDIGEST_WEBHOOK_URL": "https://bot.example.com/tg",
            "NEWSDIGEST_WEBHOOK_LISTEN": "[::1]:8443",
            "NEWSDIGEST_WEBHOOK_SECRET": "abc_DEF-123",
            "NEWSDIGEST_METRICS_LISTEN": "0.0.0.0:9108",
            "NEWSDIGEST_PAID_BROADCAST": "yes",
        },
        dotenv_path=dotenv,
    )
    assert settings.log_level == "DEBUG"  # from .env, like every other variable
    assert settings.log_format == "json"
    assert settings.start_timeout == 12.5
    assert settings.webhook_url == "https://bot.example.com/tg"
    assert settings.webhook_listen == ("::1", 8443)
    assert settings.webhook_secret == "abc_DEF-123"
    assert settings.metrics_listen == ("0.0.0.0", 9108)
    assert settings.paid_broadcast is True
    assert "abc_DEF-123" not in repr(settings)


def test_operations_defaults(tmp_path: Path) -> None:
    settings = Settings.from_env({}, dotenv_path=None)
    assert (settings.log_level, settings.log_format) == ("INFO", "text")
    assert settings.start_timeout == 300.0
    assert settings.webhook_url is None  # long polling
    assert settings.metrics_listen is None
    assert settings.paid_broadcast is False


@pytest.mark.parametrize(
    ("name", "value", "extra"),
    [
        ("NEWSDIGEST_LOG_LEVEL", "LOUD", {}),
        ("NEWSDIGEST_LOG_FORMAT", "xml", {}),
        ("NEWSDIGEST_START_TIMEOUT", "-1", {}),
        ("NEWSDIGEST_PAID_BROADCAST", "maybe", {}),
        ("NEWSDIGEST_WEBHOOK_URL", "http://bot.example.com/tg", {}),
        ("NEWSDIGEST_WEBHOOK_URL", "https://user:pw@bot.example.com/tg", {}),
        ("NEWSDIGEST_WEBHOOK_LISTEN", "8443", {"NEWSDIGEST_WEBHOOK_URL": "https://b.example/"}),
        (
            "NEWSDIGEST_WEBHOOK_LISTEN",
            "host:99999",
            {"NEWSDIGEST_WEBHOOK_URL": "https://b.example/"},
        ),
        ("NEWSDIGEST_WEBHOOK_LISTEN", "0.0.0.0:8443", {}),  # without a URL
        (
            "NEWSDIGEST_WEBHOOK_SECRET",
            "has space",
            {"NEWSDIGEST_WEBHOOK_URL": "https://b.example/"},
        ),
        ("NEWSDIGEST_WEBHOOK_SECRET", "x" * 257, {"NEWSDIGEST_WEBHOOK_URL": "https://b.example/"}),
        ("NEWSDIGEST_METRICS_LISTEN", ":9108", {}),
    ],
)
def test_bad_operations_value_names_the_variable(
    name: str, value: str, extra: dict[str, str]
) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({name: value, **extra}, dotenv_path=None)
    assert str(caught.value).startswith(f"{name}")
    assert "pw" not in str(caught.value)


def test_rate_above_the_free_limit_warns_unless_paid(tmp_path: Path) -> None:
    assert Settings.from_env({"NEWSDIGEST_RATE": "30"}, dotenv_path=None).warnings() == []
    fast = Settings.from_env({"NEWSDIGEST_RATE": "1000"}, dotenv_path=None)
    [warning] = fast.warnings()
    assert warning.startswith("NEWSDIGEST_RATE=1000 exceeds")
    assert "NEWSDIGEST_PAID_BROADCAST" in warning
    paid = Settings.from_env(
        {"NEWSDIGEST_RATE": "1000", "NEWSDIGEST_PAID_BROADCAST": "true"}, dotenv_path=None
    )
    assert paid.warnings() == []


def test_the_readme_placeholder_token_is_refused() -> None:
    settings = Settings.from_env({"TELEGRAM_BOT_TOKEN": "123456:ABC-your-token"}, dotenv_path=None)
    with pytest.raises(SettingsError, match="placeholder"):
        settings.require_token()


def test_repr_hides_url_credentials() -> None:
    settings = Settings.from_env(
        {"TELEGRAM_API_URL": "https://operator:s3cret@botapi.internal:8081"}, dotenv_path=None
    )
    assert settings.api_url == "https://operator:s3cret@botapi.internal:8081"  # used as given
    assert "s3cret" not in repr(settings) and "operator" not in repr(settings)
    assert "https://<redacted>@botapi.internal:8081" in repr(settings)


def test_env_example_lists_every_variable() -> None:
    root = Path(__file__).resolve().parent.parent
    source = (root / "bot" / "settings.py").read_text()
    names = set(re.findall(r'"((?:NEWSDIGEST|TELEGRAM)_[A-Z_]+)"', source))
    example = (root / ".env.example").read_text()
    readme = (root / "README.md").read_text()
    assert names >= {"NEWSDIGEST_LOG_LEVEL", "NEWSDIGEST_WEBHOOK_URL", "NEWSDIGEST_METRICS_LISTEN"}
    for name in sorted(names):
        assert f"{name}=" in example, f"{name} missing from .env.example"
        assert f"`{name}`" in readme, f"{name} missing from README's table"


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
    assert "s3cret" not in repr(settings) and "<redacted>@proxy.example" in repr(settings)
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
