"""Why a digest came out empty, in a sentence readers (and the CLI) understand."""

from __future__ import annotations

from datetime import timedelta

from digest.assemble import NothingNew


def format_age(age: timedelta) -> str:
    """``48 h``, ``7 days``, ``90 min``."""
    minutes = int(age.total_seconds() // 60)
    if minutes % (24 * 60) == 0 and minutes >= 2 * 24 * 60 and minutes % (48 * 60):
        return f"{minutes // (24 * 60)} days"
    if minutes % 60 == 0:
        return f"{minutes // 60} h"
    return f"{minutes} min"


def _stories(n: int) -> str:
    return f"{n} {'story' if n == 1 else 'stories'}"


def explain_nothing(nothing: NothingNew | None, max_age: timedelta | None) -> str:
    """E.g. "3 stories arrived but were published more than 48 h ago". Empty when nothing
    arrived at all (the plain "nothing new" says it)."""
    if nothing is None or not nothing.arrived:
        return ""
    parts = []
    if nothing.too_old:
        older = f"more than {format_age(max_age)} ago" if max_age else "too long ago"
        parts.append(
            f"{_stories(nothing.too_old)} arrived but {'was' if nothing.too_old == 1 else 'were'}"
            f" published {older}"
        )
    if nothing.filtered:
        parts.append(f"{_stories(nothing.filtered)} left out by your keywords or muted sources")
    if nothing.seen:
        parts.append(f"{_stories(nothing.seen)} you already got")
    return "; ".join(parts)
