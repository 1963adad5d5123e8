"""Quiet hours: whether a moment falls in a reader's nightly window, and when it ends."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


def quiet_end(start: time, end: time, zone: ZoneInfo, now: datetime) -> datetime | None:
    """The instant the window ``start``–``end`` (local, may span midnight) ends, if ``now``
    is inside it; else None. A window end in a DST gap comes after the jump, as digests do."""
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= clock < end
        end_day = local.date()
    else:  # over midnight: 22:00-07:00
        inside = clock >= start or clock < end
        end_day = local.date() + timedelta(days=1) if clock >= start else local.date()
    if not inside:
        return None
    return datetime.combine(end_day, end, tzinfo=zone).astimezone(UTC)
