"""Times, days, durations and offsets as readers type them, parsed strictly.

Every parser raises ``ValueError`` (a :class:`WhenError`) whose message can be shown to the
reader as is (it quotes no raw input: callers escape and quote it themselves).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from digest.schedule import MAX_TIMES, Days
from digest.texts import N_, TranslatableError

MAX_PAUSE = timedelta(days=366)
_CLOCK = re.compile(r"([01]?\d|2[0-3])[:.h]([0-5]\d)")
_COMPACT = re.compile(r"([01]\d|2[0-3])([0-5]\d)")
_MERIDIEM = re.compile(r"(1[0-2]|0?[1-9])(?:[:.]([0-5]\d))?\s*([ap])\.?m\.?")
_DURATION = re.compile(r"(\d{1,6}(?:\.\d+)?)\s*(m|min|mins|minutes?|h|hours?|d|days?|w|weeks?)?")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}
_OFFSET = re.compile(r"(?:utc|gmt)?\s*([+-−])\s*(\d{1,2})(?::?([0-5]\d))?|(?:utc|gmt)")
_DAY_WORDS = {
    "daily": Days.DAILY,
    "everyday": Days.DAILY,
    "weekdays": Days.WEEKDAYS,
    "weekday": Days.WEEKDAYS,
    "workdays": Days.WEEKDAYS,
    **{day.value: day for day in (Days.MON, Days.TUE, Days.WED, Days.THU, Days.FRI)},
    Days.SAT.value: Days.SAT,
    Days.SUN.value: Days.SUN,
    "monday": Days.MON,
    "tuesday": Days.TUE,
    "tues": Days.TUE,
    "wednesday": Days.WED,
    "thursday": Days.THU,
    "thur": Days.THU,
    "thurs": Days.THU,
    "friday": Days.FRI,
    "saturday": Days.SAT,
    "sunday": Days.SUN,
}


class WhenError(TranslatableError):
    """Input that is not the time, day, duration or offset asked for."""


def parse_clock(text: str) -> time:
    """A time of day: ``7:30``, ``07:30``, ``7.30``, ``0730``, ``7am``, ``7:30 pm``, ``19h30``."""
    value = text.strip().lower()
    match = _CLOCK.fullmatch(value) or _COMPACT.fullmatch(value)
    if match:
        return time(int(match.group(1)), int(match.group(2)))
    match = _MERIDIEM.fullmatch(value)
    if match:
        hour = int(match.group(1)) % 12 + (12 if match.group(3) == "p" else 0)
        return time(hour, int(match.group(2) or 0))
    raise WhenError(N_("not a time of day (try 07:30, 7.30, 0730 or 7am)"))


def parse_days(word: str) -> Days | None:
    """``weekdays``, ``daily``, ``mon`` … ``sunday`` (``mondays`` too); None: not a day word."""
    value = word.strip().lower()
    return _DAY_WORDS.get(value) or _DAY_WORDS.get(value.removesuffix("s"))


def parse_cadence(args: Sequence[str]) -> tuple[Days | None, list[time]]:
    """``/time`` arguments: ``[days] time [time …]``. ``days`` is None when not given."""
    words = [a for a in args if a.strip()]
    days = None
    if words:
        days = parse_days(words[0])
        if days is not None:
            words = words[1:]
    # "7 am" arrives as two words.
    joined: list[str] = []
    for word in words:
        if joined and word.lower().strip(".") in ("am", "pm", "a.m", "p.m"):
            joined[-1] += word
        else:
            joined.append(word)
    if not joined:
        raise WhenError(N_("which time? e.g. 07:30"))
    times = [parse_clock(w) for w in joined]
    if len(set(times)) > MAX_TIMES:
        raise WhenError(N_("at most {count} times a day"), count=MAX_TIMES)
    return days, times


def parse_duration(text: str) -> timedelta:
    """``90m``, ``48h``, ``7d``, ``2w``, ``3 days`` (a bare number is hours)."""
    match = _DURATION.fullmatch(text.strip().lower())
    if not match:
        raise WhenError(N_("not a duration (try 90m, 48h, 7d or 2w)"))
    unit = (match.group(2) or "h")[0]
    seconds = float(match.group(1)) * _UNIT_SECONDS[unit]
    if seconds <= 0:
        raise WhenError(N_("a duration must be more than zero"))
    return timedelta(seconds=seconds)


def parse_pause(text: str, now: datetime, zone: ZoneInfo) -> datetime:
    """When a pause ends: after a duration (``7d``, ``2w``, ``12h``) or at the start of a
    local date (``2027-01-10``). At most :data:`MAX_PAUSE` ahead, never in the past."""
    value = text.strip()
    try:
        day = date.fromisoformat(value)
    except ValueError:
        day = None
    if day is not None:
        until = datetime.combine(day, time(0), tzinfo=zone).astimezone(now.tzinfo)
        if until <= now:
            raise WhenError(N_("that date has passed"))
    else:
        try:
            until = now + parse_duration(value if value[-1:].isalpha() else value + "d")
        except WhenError:
            raise WhenError(N_("not a duration or a date (try 7d, 2w or 2027-01-10)")) from None
    if until - now > MAX_PAUSE:
        raise WhenError(N_("a pause lasts at most a year"))
    return until


def parse_window(text: str) -> tuple[time, time]:
    """Quiet hours: ``22:00-07:00`` (``22-7``, ``10pm-7am``, ``22:00 07:00``)."""
    parts = [p for p in re.split(r"\s*(?:-|–|—|to|\s)\s*", text.strip().lower()) if p]
    if len(parts) != 2:
        raise WhenError(N_("quiet hours are two times, e.g. 22:00-07:00"))
    start, end = (_hour_or_clock(p) for p in parts)
    if start == end:
        raise WhenError(N_("the quiet hours start and end at the same time"))
    return start, end


def _hour_or_clock(text: str) -> time:
    if text.isdigit() and len(text) <= 2 and int(text) < 24:
        return time(int(text))
    return parse_clock(text)


def parse_offset(text: str) -> int | None:
    """``UTC+2``, ``GMT-05:00``, ``+5:30``, ``UTC`` → minutes east of UTC; None when the text
    is not an offset at all (a zone or city name)."""
    match = _OFFSET.fullmatch(text.strip().lower())
    if match is None:
        return None
    if match.group(1) is None:
        return 0
    minutes = int(match.group(2)) * 60 + int(match.group(3) or 0)
    if minutes > 14 * 60:
        raise WhenError(N_("offsets run from UTC-12 to UTC+14"))
    return -minutes if match.group(1) in "-−" else minutes


def format_offset(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"
