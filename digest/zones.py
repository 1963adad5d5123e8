"""Time zones a reader may choose: canonical names, city names, abbreviations, languages.

Only the zones listed by the installed ``tzdata`` package (a dependency, so present on
every machine the bot runs on) are accepted, whatever the system's own zone files hold:
``right/UTC`` or ``posix/Europe/Berlin`` exist in some ``/usr/share/zoneinfo`` but not in
``tzdata``, and a reader stored with one would be unloadable where only ``tzdata`` is.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

from digest.keywords import fold
from digest.when import WhenError, format_offset, parse_offset

# Older areas kept as aliases in tzdata: a city is looked up among the real areas first.
_LEGACY_AREAS = ("US/", "Canada/", "Brazil/", "Mexico/", "Chile/", "Etc/", "SystemV/")
COMMON_ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Moscow",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
)
# Abbreviations that name one set of rules; IST, CST, BST-as-Bangladesh and the like do not.
ABBREVIATIONS: Mapping[str, str] = {
    "utc": "UTC", "gmt": "UTC", "z": "UTC",
    "cet": "Europe/Berlin", "cest": "Europe/Berlin", "eet": "Europe/Athens",
    "eest": "Europe/Athens", "wet": "Europe/Lisbon", "west": "Europe/Lisbon",
    "msk": "Europe/Moscow", "bst": "Europe/London",
    "est": "America/New_York", "edt": "America/New_York", "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles", "mdt": "America/Denver", "akst": "America/Anchorage",
    "hst": "Pacific/Honolulu", "jst": "Asia/Tokyo", "kst": "Asia/Seoul",
    "hkt": "Asia/Hong_Kong", "sgt": "Asia/Singapore", "pkt": "Asia/Karachi",
    "wib": "Asia/Jakarta", "aest": "Australia/Sydney", "aedt": "Australia/Sydney",
    "awst": "Australia/Perth", "nzst": "Pacific/Auckland", "nzdt": "Pacific/Auckland",
}  # fmt: skip
# Telegram's language_code → the zone most of its speakers live in (None: too spread out).
LANGUAGE_ZONES: Mapping[str, str] = {
    "de": "Europe/Berlin", "fr": "Europe/Paris", "es": "Europe/Madrid", "it": "Europe/Rome",
    "pt": "Europe/Lisbon", "pt-br": "America/Sao_Paulo", "nl": "Europe/Amsterdam",
    "pl": "Europe/Warsaw", "cs": "Europe/Prague", "sk": "Europe/Bratislava",
    "hu": "Europe/Budapest", "ro": "Europe/Bucharest", "bg": "Europe/Sofia",
    "el": "Europe/Athens", "sv": "Europe/Stockholm", "da": "Europe/Copenhagen",
    "nb": "Europe/Oslo", "no": "Europe/Oslo", "fi": "Europe/Helsinki", "et": "Europe/Tallinn",
    "lv": "Europe/Riga", "lt": "Europe/Vilnius", "uk": "Europe/Kyiv", "ru": "Europe/Moscow",
    "be": "Europe/Minsk", "tr": "Europe/Istanbul", "he": "Asia/Jerusalem",
    "ar": "Asia/Riyadh", "fa": "Asia/Tehran", "hi": "Asia/Kolkata", "bn": "Asia/Dhaka",
    "ur": "Asia/Karachi", "id": "Asia/Jakarta", "ms": "Asia/Kuala_Lumpur",
    "th": "Asia/Bangkok", "vi": "Asia/Ho_Chi_Minh", "zh": "Asia/Shanghai",
    "zh-hans": "Asia/Shanghai", "zh-hant": "Asia/Taipei", "zh-tw": "Asia/Taipei",
    "zh-hk": "Asia/Hong_Kong", "ja": "Asia/Tokyo", "ko": "Asia/Seoul", "kk": "Asia/Almaty",
    "uz": "Asia/Tashkent", "en-gb": "Europe/London", "en-au": "Australia/Sydney",
    "en-in": "Asia/Kolkata", "ga": "Europe/Dublin", "hr": "Europe/Zagreb",
    "sr": "Europe/Belgrade", "sl": "Europe/Ljubljana", "ca": "Europe/Madrid",
}  # fmt: skip


@functools.cache
def canonical_zones() -> frozenset[str]:
    """Every zone name the installed ``tzdata`` package holds."""
    listing = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8")
    return frozenset(listing.split())


@functools.cache
def _by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in canonical_zones()}


@functools.cache
def _by_city() -> dict[str, tuple[str, ...]]:
    cities: dict[str, list[str]] = {}
    for name in sorted(canonical_zones()):
        if "/" not in name:
            continue
        city = fold(name.rsplit("/", 1)[1].replace("_", " "))
        cities.setdefault(city, []).append(name)
    return {
        city: tuple(n for n in names if not n.startswith(_LEGACY_AREAS)) or tuple(names)
        for city, names in cities.items()
    }


@dataclass(frozen=True, slots=True)
class ZoneChoice:
    """What a reader's zone text resolves to: one zone, a fixed offset to confirm, or
    several zones to choose from (none: unknown)."""

    zone: str | None = None
    offset_minutes: int | None = None  # "UTC+2": ask before using a fixed zone
    fixed_zone: str | None = None  # the tzdata zone for that offset (whole hours only)
    options: tuple[str, ...] = ()


def fixed_zone_for(minutes: int) -> str | None:
    """The ``Etc/GMT±N`` zone of a whole-hour offset (POSIX signs: east is minus)."""
    if minutes % 60:
        return None
    hours = minutes // 60
    name = "UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"
    return name if name in canonical_zones() else None


def resolve_zone(text: str) -> ZoneChoice:
    """``Europe/Berlin``, ``europe/berlin``, ``berlin``, ``New York``, ``JST``, ``UTC+2``."""
    value = " ".join(text.split())
    if not value or len(value) > 64:
        return ZoneChoice()
    exact = _by_lower_name().get(value.lower().replace(" ", "_"))
    if exact is not None:
        return ZoneChoice(zone=exact)
    abbreviation = ABBREVIATIONS.get(value.lower())
    if abbreviation is not None:
        return ZoneChoice(zone=abbreviation)
    try:
        minutes = parse_offset(value)
    except WhenError:
        return ZoneChoice()
    if minutes is not None:
        if minutes == 0:
            return ZoneChoice(zone="UTC")
        return ZoneChoice(offset_minutes=minutes, fixed_zone=fixed_zone_for(minutes))
    found = _by_city().get(fold(value.replace("_", " ")), ())
    if len(found) == 1:
        return ZoneChoice(zone=found[0])
    return ZoneChoice(options=found[:6])


def language_zone(language_code: str | None) -> str | None:
    """The zone of most speakers of a Telegram ``language_code`` (``de``, ``pt-br``)."""
    if not language_code:
        return None
    code = language_code.lower()
    zone = LANGUAGE_ZONES.get(code) or LANGUAGE_ZONES.get(code.split("-")[0])
    return zone if zone in canonical_zones() else None


def describe_offset(minutes: int) -> str:
    return format_offset(minutes)
