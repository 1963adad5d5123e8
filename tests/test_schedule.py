"""When the next digest is due: local wall-clock time → UTC instant, across DST changes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from digest.schedule import next_occurrence
from storage.readers import Reader, ReaderStatus

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
LORD_HOWE = "Australia/Lord_Howe"  # +10:30 standard, +11:00 summer: a 30-minute DST shift
KOLKATA = "Asia/Kolkata"  # +05:30, no DST
MAX_AHEAD = timedelta(hours=25)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def local(zone: str, *args: int, fold: int = 0) -> datetime:
    """A wall time in ``zone`` as a UTC instant (an ambiguous aware datetime never compares
    equal to one in another zone, PEP 495)."""
    wall = datetime(*args, tzinfo=ZoneInfo(zone), fold=fold)  # type: ignore[misc]
    return wall.astimezone(UTC)


# (zone, digest time, after, expected instant). Expectations are written as local wall
# times with an explicit UTC offset, derived from the tz database by hand.
CASES = [
    # Spring forward, 2025-03-30 02:00 → 03:00 in Berlin: 02:30 does not exist; the
    # digest comes 30 min after the jump, at 03:30 CEST (= 01:30 UTC).
    pytest.param(BERLIN, "02:30", utc(2025, 3, 29, 12), utc(2025, 3, 30, 1, 30), id="berlin-gap"),
    # The day before, 02:30 CET exists normally.
    pytest.param(BERLIN, "02:30", utc(2025, 3, 28, 12), utc(2025, 3, 29, 1, 30), id="berlin-pre"),
    # The day after, 02:30 CEST (= 00:30 UTC).
    pytest.param(BERLIN, "02:30", utc(2025, 3, 30, 2), utc(2025, 3, 31, 0, 30), id="berlin-post"),
    # New York, 2025-03-09 02:00 EST → 03:00 EDT: 02:30 → 03:30 EDT (= 07:30 UTC).
    pytest.param(NEW_YORK, "02:30", utc(2025, 3, 8, 12), utc(2025, 3, 9, 7, 30), id="ny-gap"),
    # Fall back, 2025-11-02 02:00 EDT → 01:00 EST: 01:30 happens twice; the first is EDT.
    pytest.param(NEW_YORK, "01:30", utc(2025, 11, 1, 12), utc(2025, 11, 2, 5, 30), id="ny-fold"),
    # Between the two 01:30s: the second is not used, the next is tomorrow's (EST).
    pytest.param(
        NEW_YORK, "01:30", utc(2025, 11, 2, 5, 45), utc(2025, 11, 3, 6, 30), id="ny-in-fold"
    ),
    # Berlin, 2025-10-26 03:00 CEST → 02:00 CET: the first 02:30 is CEST (= 00:30 UTC).
    pytest.param(
        BERLIN, "02:30", utc(2025, 10, 25, 12), utc(2025, 10, 26, 0, 30), id="berlin-fold"
    ),
    # Lord Howe, 2025-10-05 02:00 → 02:30: 02:15 does not exist, comes at 02:45 (+11:00).
    pytest.param(
        LORD_HOWE, "02:15", utc(2025, 10, 4, 0), utc(2025, 10, 4, 15, 45), id="lord-howe-gap"
    ),
    # Lord Howe, 2025-04-06 02:00 → 01:30: the first 01:45 is at +11:00.
    pytest.param(
        LORD_HOWE, "01:45", utc(2025, 4, 5, 0), utc(2025, 4, 5, 14, 45), id="lord-howe-fold"
    ),
    # Kolkata: a half-hour offset all year.
    pytest.param(KOLKATA, "08:00", utc(2025, 6, 1, 0), utc(2025, 6, 1, 2, 30), id="kolkata"),
    pytest.param(KOLKATA, "04:00", utc(2025, 6, 1, 0), utc(2025, 6, 1, 22, 30), id="kolkata-late"),
    pytest.param("UTC", "08:00", utc(2025, 6, 1, 7, 59), utc(2025, 6, 1, 8, 0), id="utc"),
    pytest.param("UTC", "00:00", utc(2025, 12, 31, 23, 0), utc(2026, 1, 1), id="utc-new-year"),
]


def _hhmm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


@pytest.mark.parametrize(("zone", "at", "after", "expected"), CASES)
def test_next_occurrence(zone: str, at: str, after: datetime, expected: datetime) -> None:
    got = next_occurrence(_hhmm(at), ZoneInfo(zone), after)
    assert got == expected
    assert got.utcoffset() == timedelta(0)


def compute_next_digest(at: str, zone: str, after: datetime) -> datetime:
    """A reader's next digest, as the tick and the handlers compute it."""
    reader = Reader(
        chat_id=1,
        status=ReaderStatus.ACTIVE,
        digest_time=_hhmm(at),
        zone=ZoneInfo(zone),
        topic_ids=frozenset(),
        next_digest_at=None,
        last_digest_at=None,
        digest_since=None,
    )
    return reader.next_digest_after(after)


@pytest.mark.parametrize(("zone", "at", "after", "expected"), CASES)
def test_compute_next_digest(zone: str, at: str, after: datetime, expected: datetime) -> None:
    assert compute_next_digest(at, zone, after) == expected


@pytest.mark.parametrize(
    ("zone", "at", "first", "gap"),
    [
        # Fall back: the first 01:30 is used, so the next day's comes 24 h + the shift later.
        (NEW_YORK, "01:30", local(NEW_YORK, 2025, 11, 2, 1, 30, fold=0), timedelta(hours=25)),
        (BERLIN, "02:30", local(BERLIN, 2025, 10, 26, 2, 30, fold=0), timedelta(hours=25)),
        (LORD_HOWE, "01:45", local(LORD_HOWE, 2025, 4, 6, 1, 45, fold=0), timedelta(hours=24.5)),
        # Spring forward: the day's digest is an hour (Lord Howe: 30 min) early in UTC terms.
        (BERLIN, "09:00", local(BERLIN, 2025, 3, 29, 9), timedelta(hours=23)),
        (NEW_YORK, "09:00", local(NEW_YORK, 2025, 3, 8, 9), timedelta(hours=23)),
        (LORD_HOWE, "09:00", local(LORD_HOWE, 2025, 10, 4, 9), timedelta(hours=23.5)),
        (KOLKATA, "09:00", local(KOLKATA, 2025, 3, 29, 9), timedelta(hours=24)),
    ],
)
def test_consecutive_digests_across_a_change(
    zone: str, at: str, first: datetime, gap: timedelta
) -> None:
    just_before = first - timedelta(minutes=1)
    got_first = compute_next_digest(at, zone, just_before)
    assert got_first == first
    # The digest was just sent at that instant: the next is the following day's.
    got_second = compute_next_digest(at, zone, got_first)
    assert got_second - got_first == gap
    assert got_second.astimezone(ZoneInfo(zone)).time() == _hhmm(at)


@pytest.mark.parametrize("zone", ["UTC", BERLIN, NEW_YORK, LORD_HOWE, KOLKATA])
@pytest.mark.parametrize("at", ["00:00", "02:30", "08:00", "23:59"])
def test_time_equal_to_now_means_tomorrow(zone: str, at: str) -> None:
    now = datetime.combine(date(2025, 6, 10), _hhmm(at), tzinfo=ZoneInfo(zone)).astimezone(UTC)
    got = compute_next_digest(at, zone, now)
    assert got > now
    assert got.astimezone(ZoneInfo(zone)).date() == date(2025, 6, 11)
    assert got.astimezone(ZoneInfo(zone)).time() == _hhmm(at)
    # A microsecond earlier, it is still today's.
    assert compute_next_digest(at, zone, now - timedelta(microseconds=1)) == now


def _transitions(zone: ZoneInfo, year: int) -> list[datetime]:
    """UTC instants at which the zone's offset changes during ``year`` (15-min resolution)."""
    found = []
    moment = datetime(year, 1, 1, tzinfo=UTC)
    previous = moment.astimezone(zone).utcoffset()
    while moment.year == year:
        moment += timedelta(minutes=15)
        offset = moment.astimezone(zone).utcoffset()
        if offset != previous:
            found.append(moment)
            previous = offset
    return found


def _afters(zone: ZoneInfo) -> Iterator[datetime]:
    """Instants every 13 minutes over the four days around each DST change (or a June week)."""
    centres = _transitions(zone, 2025) or [datetime(2025, 6, 15, tzinfo=UTC)]
    for centre in centres:
        moment = centre - timedelta(days=2)
        while moment < centre + timedelta(days=2):
            yield moment
            moment += timedelta(minutes=13)


@pytest.mark.parametrize("zone_name", ["UTC", BERLIN, NEW_YORK, LORD_HOWE, KOLKATA])
@pytest.mark.parametrize("at", ["00:00", "01:30", "01:45", "02:15", "02:30", "23:59"])
def test_properties_around_changes(zone_name: str, at: str) -> None:
    """Strictly after, at most ~25 h ahead, the wall time asked for (or just past a gap),
    and never skipping an earlier day's occurrence."""
    zone = ZoneInfo(zone_name)
    wall = _hhmm(at)
    checked = 0
    for after in _afters(zone):
        got = next_occurrence(wall, zone, after)
        assert after < got <= after + MAX_AHEAD, (after, got)
        shown = got.astimezone(zone)
        requested = datetime.combine(shown.date(), wall, tzinfo=zone)
        if shown.time() != wall:
            # Only allowed when the wall time does not exist that day (a spring-forward gap).
            round_trip = requested.astimezone(UTC).astimezone(zone)
            assert round_trip.time() != wall, (after, got)
            assert round_trip == shown
        # The previous day's occurrence (first of two, if doubled) was not after `after`.
        day_before = datetime.combine(shown.date() - timedelta(days=1), wall, tzinfo=zone)
        assert day_before.astimezone(UTC) <= after, (after, got)
        checked += 1
    assert checked > 400
