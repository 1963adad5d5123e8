"""When a reader's next digest is due: local wall-clock times → UTC instant, DST-correct.

A :class:`Cadence` is up to :data:`MAX_TIMES` times of day on a set of weekdays: every day,
Monday to Friday, or one day a week. Each time is a local wall-clock time in the reader's
zone; the rules for a day when clocks change are those of :func:`next_occurrence`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from digest.texts import N_, SOURCE_TEXTS, Texts, TranslatableError

MAX_TIMES = 4


class Days(StrEnum):
    """Which days a digest comes: stored as these words."""

    DAILY = "daily"
    WEEKDAYS = "weekdays"
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @property
    def weekdays(self) -> frozenset[int]:
        """The days as ``date.weekday()`` numbers (0 = Monday)."""
        if self is Days.DAILY:
            return frozenset(range(7))
        if self is Days.WEEKDAYS:
            return frozenset(range(5))
        return frozenset({WEEKLY.index(self)})

    def label(self, texts: Texts = SOURCE_TEXTS) -> str:
        """ "every day", "Monday to Friday", "every Tuesday", in ``texts``' language."""
        return texts.gettext(DAY_LABELS[self])


WEEKLY = (Days.MON, Days.TUE, Days.WED, Days.THU, Days.FRI, Days.SAT, Days.SUN)
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Whole phrases, not "every " + a name: a language may inflect the day after "every".
DAY_LABELS = {
    Days.DAILY: N_("every day"),
    Days.WEEKDAYS: N_("Monday to Friday"),
    Days.MON: N_("every Monday"),
    Days.TUE: N_("every Tuesday"),
    Days.WED: N_("every Wednesday"),
    Days.THU: N_("every Thursday"),
    Days.FRI: N_("every Friday"),
    Days.SAT: N_("every Saturday"),
    Days.SUN: N_("every Sunday"),
}


class CadenceError(TranslatableError):
    """Not a cadence: no time, too many, or a repeated one; the message says which."""


@dataclass(frozen=True, slots=True)
class Cadence:
    """Times of day (sorted, distinct, at most :data:`MAX_TIMES`) on ``days``."""

    times: tuple[time, ...]
    days: Days = Days.DAILY

    def __post_init__(self) -> None:
        if not self.times:
            raise CadenceError(N_("a cadence needs at least one time of day"))
        if len(self.times) > MAX_TIMES:
            raise CadenceError(N_("at most {count} times a day"), count=MAX_TIMES)
        if len(set(self.times)) != len(self.times) or list(self.times) != sorted(self.times):
            raise CadenceError(N_("times must be distinct and in order"))

    @classmethod
    def of(cls, times: tuple[time, ...] | list[time], days: Days = Days.DAILY) -> Cadence:
        """Sorted and de-duplicated (the error names a fifth time, not a repeat)."""
        return cls(tuple(sorted(set(times))), days)

    def describe(self, texts: Texts = SOURCE_TEXTS) -> str:
        """ "07:30 and 19:00, every day" (in ``texts``' language)."""
        clocks = [f"{t:%H:%M}" for t in self.times]
        if len(clocks) == 1:
            joined = clocks[0]
        else:
            # TRANSLATORS: digest times: "07:30, 12:00 and 19:00".
            joined = texts.gettext("{first} and {last}").format(
                first=", ".join(clocks[:-1]), last=clocks[-1]
            )
        # TRANSLATORS: "07:30 and 19:00, every day"; {days} is one of the "every ..." texts.
        return texts.gettext("{times}, {days}").format(times=joined, days=self.days.label(texts))

    def encode_times(self) -> str:
        """The ``digest_times`` column: ``07:30,19:00``."""
        return ",".join(f"{t:%H:%M}" for t in self.times)


def next_occurrence(at: time, zone: ZoneInfo, after: datetime) -> datetime:
    """The first instant strictly after ``after`` whose local time in ``zone`` is ``at``.

    On the day clocks spring forward past ``at`` (a local time that does not exist),
    the digest comes at the same offset from midnight after the jump (e.g. 02:30 →
    03:30); on the day they fall back, the first of the two 01:30s is used.
    """
    return next_digest(Cadence((at,)), zone, after)


def next_digest(cadence: Cadence, zone: ZoneInfo, after: datetime) -> datetime:
    """The first instant strictly after ``after`` at one of the cadence's local times, on
    one of its days (the day as the local date of that time). DST as in
    :func:`next_occurrence`: a time in a gap comes after the jump, a time in a fold once,
    at its first occurrence."""
    local_after = after.astimezone(zone)
    day = local_after.date()
    allowed = cadence.days.weekdays
    # A week and a day always hold the next one, whatever the zone's offset does.
    for offset in range(0, 9):
        date = day + timedelta(days=offset)
        if date.weekday() not in allowed:
            continue
        # Round-trip through UTC normalises a time inside a spring-forward gap (fold=0:
        # the first of two in a fold). The earliest is taken, as a time in a gap can
        # land after a later time of the same day.
        upcoming = [
            moment
            for at in cadence.times
            if (moment := datetime.combine(date, at, tzinfo=zone).astimezone(UTC)) > after
        ]
        if upcoming:
            return min(upcoming)
    raise AssertionError("unreachable: a weekly time recurs within nine days")  # pragma: no cover
