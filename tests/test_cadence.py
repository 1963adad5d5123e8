"""Cadence: several times a day, weekdays, one day a week, across DST gaps and folds."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from digest.schedule import Cadence, CadenceError, Days, next_digest

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def walk(cadence: Cadence, zone: ZoneInfo, start: datetime, count: int) -> list[datetime]:
    found, moment = [], start
    for _ in range(count):
        moment = next_digest(cadence, zone, moment)
        found.append(moment)
    return found


def test_several_times_a_day_in_order() -> None:
    cadence = Cadence.of([time(19), time(7, 30)])
    assert cadence.times == (time(7, 30), time(19))
    got = walk(cadence, BERLIN, utc(2025, 6, 2, 4), 4)  # Monday 06:00 CEST
    assert [f"{m.astimezone(BERLIN):%a %H:%M}" for m in got] == [
        "Mon 07:30", "Mon 19:00", "Tue 07:30", "Tue 19:00",
    ]  # fmt: skip


def test_weekdays_skip_the_weekend() -> None:
    cadence = Cadence((time(7, 30),), Days.WEEKDAYS)
    got = walk(cadence, BERLIN, utc(2025, 6, 5, 12), 4)  # Thursday noon
    assert [f"{m.astimezone(BERLIN):%a %d %H:%M}" for m in got] == [
        "Fri 06 07:30", "Mon 09 07:30", "Tue 10 07:30", "Wed 11 07:30",
    ]  # fmt: skip


def test_one_day_a_week() -> None:
    cadence = Cadence((time(8),), Days.MON)
    got = walk(cadence, BERLIN, utc(2025, 6, 2, 6, 0, 1), 3)  # just after Monday 08:00
    assert [f"{m.astimezone(BERLIN):%a %d %b %H:%M}" for m in got] == [
        "Mon 09 Jun 08:00", "Mon 16 Jun 08:00", "Mon 23 Jun 08:00",
    ]  # fmt: skip


def test_weekly_across_the_spring_gap_keeps_the_local_time() -> None:
    cadence = Cadence((time(8),), Days.SUN)
    got = walk(cadence, BERLIN, utc(2025, 3, 23, 12), 2)  # DST starts Sun 30 Mar
    assert got == [utc(2025, 3, 30, 6), utc(2025, 4, 6, 6)]  # 08:00 CEST = 06:00 UTC
    assert got[0].astimezone(BERLIN).hour == 8


def test_two_times_inside_a_gap_day_both_come_in_order() -> None:
    # 2025-03-30 Berlin: 02:00 → 03:00. 02:30 comes at 03:30; 03:15 exists.
    cadence = Cadence.of([time(2, 30), time(3, 15)])
    got = walk(cadence, BERLIN, utc(2025, 3, 29, 12), 3)
    assert got == [utc(2025, 3, 30, 1, 15), utc(2025, 3, 30, 1, 30), utc(2025, 3, 31, 0, 30)]


def test_fold_day_sends_each_time_once() -> None:
    # 2025-11-02 New York: 01:30 happens twice; the digest comes at the first only.
    cadence = Cadence.of([time(1, 30), time(9)])
    got = walk(cadence, NEW_YORK, utc(2025, 11, 1, 14), 4)  # Sat 10:00 EDT
    assert got == [
        utc(2025, 11, 2, 5, 30),  # 01:30 EDT
        utc(2025, 11, 2, 14),  # 09:00 EST
        utc(2025, 11, 3, 6, 30),
        utc(2025, 11, 3, 14),
    ]


def test_weekday_is_the_local_date() -> None:
    # Friday 23:30 in New York is Saturday in UTC: a weekday digest still comes.
    cadence = Cadence((time(23, 30),), Days.WEEKDAYS)
    got = next_digest(cadence, NEW_YORK, utc(2025, 6, 6, 12))
    assert got.astimezone(NEW_YORK).strftime("%a %H:%M") == "Fri 23:30"
    assert got.weekday() == 5


@pytest.mark.parametrize(
    "times",
    [(), (time(1), time(2), time(3), time(4), time(5)), (time(2), time(1)), (time(1), time(1))],
)
def test_bad_cadences_are_refused(times: tuple[time, ...]) -> None:
    with pytest.raises(CadenceError):
        Cadence(times)


def test_every_step_is_ahead_and_within_a_week_and_a_day() -> None:
    for days in Days:
        cadence = (
            Cadence.of([time(0, 30), time(12)], days)
            if days in (Days.DAILY, Days.WEEKDAYS)
            else Cadence((time(2, 30),), days)
        )
        moment = utc(2025, 3, 20)
        for _ in range(30):
            nxt = next_digest(cadence, BERLIN, moment)
            assert moment < nxt <= moment + timedelta(days=8)
            assert nxt.astimezone(BERLIN).weekday() in days.weekdays
            moment = nxt
