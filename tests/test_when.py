"""Parsing what readers type: times, cadences, durations, pauses, quiet hours, zones."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from digest.schedule import Days
from digest.when import (
    WhenError,
    parse_cadence,
    parse_clock,
    parse_duration,
    parse_offset,
    parse_pause,
    parse_window,
)
from digest.zones import canonical_zones, fixed_zone_for, language_zone, resolve_zone

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7:30", time(7, 30)), ("07:30", time(7, 30)), ("7.30", time(7, 30)),
        ("0730", time(7, 30)), ("7am", time(7)), ("7 AM", time(7)), ("7:30pm", time(19, 30)),
        ("12am", time(0)), ("12pm", time(12)), ("23:59", time(23, 59)), ("19h30", time(19, 30)),
    ],
)  # fmt: skip
def test_clock(text: str, expected: time) -> None:
    assert parse_clock(text) == expected


@pytest.mark.parametrize("text", ["7", "25:00", "12:60", "730", "13pm", "ab:cd", "-1:00", ""])
def test_clock_refuses(text: str) -> None:
    with pytest.raises(WhenError):
        parse_clock(text)


def test_cadence_arguments() -> None:
    assert parse_cadence(["07:30", "19:00"]) == (None, [time(7, 30), time(19)])
    assert parse_cadence(["weekdays", "7.30"]) == (Days.WEEKDAYS, [time(7, 30)])
    assert parse_cadence(["Monday", "8am"]) == (Days.MON, [time(8)])
    assert parse_cadence(["mon", "8:00"]) == (Days.MON, [time(8)])
    assert parse_cadence(["7", "am"]) == (None, [time(7)])
    with pytest.raises(WhenError, match="at most 4"):
        parse_cadence(["1:00", "2:00", "3:00", "4:00", "5:00"])
    assert parse_cadence(["sun", "8:00", "18:00"]) == (Days.SUN, [time(8), time(18)])
    with pytest.raises(WhenError):
        parse_cadence(["weekdays"])


def test_durations() -> None:
    assert parse_duration("48h") == timedelta(hours=48)
    assert parse_duration("2d") == parse_duration("2 days") == timedelta(days=2)
    assert parse_duration("90m") == timedelta(minutes=90)
    assert parse_duration("1w") == timedelta(days=7)
    assert parse_duration("12") == timedelta(hours=12)
    for bad in ("", "0h", "soon", "-3d", "3x"):
        with pytest.raises(WhenError):
            parse_duration(bad)


def test_pause_until() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    assert parse_pause("7d", NOW, berlin) == NOW + timedelta(days=7)
    assert parse_pause("7", NOW, berlin) == NOW + timedelta(days=7)  # a bare number: days
    assert parse_pause("2027-01-10", NOW, berlin) == datetime(2027, 1, 9, 23, tzinfo=UTC)
    for bad in ("2020-01-01", "3y", "400d", "2027-13-01"):
        with pytest.raises(WhenError):
            parse_pause(bad, NOW, berlin)


def test_quiet_window() -> None:
    assert parse_window("22:00-07:00") == (time(22), time(7))
    assert parse_window("22-7") == (time(22), time(7))
    assert parse_window("10pm to 7am") == (time(22), time(7))
    assert parse_window("22:00 07:00") == (time(22), time(7))
    for bad in ("22:00", "22:00-22:00", "late-early"):
        with pytest.raises(WhenError):
            parse_window(bad)


def test_offsets() -> None:
    assert parse_offset("UTC+2") == 120
    assert parse_offset("gmt-05:00") == -300
    assert parse_offset("+5:30") == 330
    assert parse_offset("UTC") == 0
    assert parse_offset("berlin") is None
    with pytest.raises(WhenError):
        parse_offset("UTC+15")
    assert fixed_zone_for(120) == "Etc/GMT-2"  # POSIX signs: east is minus
    assert fixed_zone_for(-300) == "Etc/GMT+5"
    assert fixed_zone_for(330) is None


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("berlin", "Europe/Berlin"), ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"), ("New York", "America/New_York"),
        ("new_york", "America/New_York"), ("São Paulo", "America/Sao_Paulo"),
        ("JST", "Asia/Tokyo"), ("utc", "UTC"), ("UTC+0", "UTC"), ("kyiv", "Europe/Kyiv"),
    ],
)  # fmt: skip
def test_zone_names(text: str, zone: str) -> None:
    assert resolve_zone(text).zone == zone


@pytest.mark.parametrize(
    "text",
    ["right/UTC", "posix/Europe/Berlin", "localtime", "Mars/Base", "../../etc/passwd", "IST"],
)
def test_zones_outside_tzdata_or_ambiguous_are_not_chosen(text: str) -> None:
    assert resolve_zone(text).zone is None


def test_fixed_offsets_are_explained_not_used() -> None:
    choice = resolve_zone("UTC+2")
    assert (choice.zone, choice.offset_minutes, choice.fixed_zone) == (None, 120, "Etc/GMT-2")
    assert resolve_zone("UTC+5:30").fixed_zone is None


def test_languages_and_the_canonical_list() -> None:
    assert language_zone("de") == "Europe/Berlin"
    assert language_zone("pt-BR") == "America/Sao_Paulo"
    assert language_zone("en") is None and language_zone(None) is None
    zones = canonical_zones()
    assert "Europe/Berlin" in zones and "right/UTC" not in zones and "localtime" not in zones
