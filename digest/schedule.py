"""When a reader's next digest is due: local wall-clock time → UTC instant, DST-correct."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


def next_occurrence(at: time, zone: ZoneInfo, after: datetime) -> datetime:
    """The first instant strictly after ``after`` whose local time in ``zone`` is ``at``.

    On the day clocks spring forward past ``at`` (a local time that does not exist),
    the digest comes at the same offset from midnight after the jump (e.g. 02:30 →
    03:30); on the day they fall back, the first of the two 01:30s is used.
    """
    local_after = after.astimezone(zone)
    day = local_after.date()
    for offset in range(0, 3):
        local = datetime.combine(day + timedelta(days=offset), at, tzinfo=zone)  # fold=0
        # Round-trip through UTC normalises a time inside a spring-forward gap.
        candidate = local.astimezone(UTC)
        if candidate > after:
            return candidate
    raise AssertionError("unreachable: a local time recurs within three days")  # pragma: no cover
