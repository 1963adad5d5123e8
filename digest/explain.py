"""Why a digest came out empty, in a sentence readers (and the CLI) understand."""

from __future__ import annotations

from datetime import timedelta

from digest.assemble import NothingNew
from digest.texts import SOURCE_TEXTS, Texts


def format_age(age: timedelta, texts: Texts = SOURCE_TEXTS) -> str:
    """``48 h``, ``7 days``, ``90 min``."""
    minutes = int(age.total_seconds() // 60)
    if minutes % (24 * 60) == 0 and minutes >= 2 * 24 * 60 and minutes % (48 * 60):
        days = minutes // (24 * 60)
        return texts.ngettext("{n} day", "{n} days", days).format(n=days)
    if minutes % 60 == 0:
        # TRANSLATORS: hours, short: "48 h".
        return texts.gettext("{n} h").format(n=minutes // 60)
    return texts.gettext("{n} min").format(n=minutes)


def explain_nothing(
    nothing: NothingNew | None, max_age: timedelta | None, texts: Texts = SOURCE_TEXTS
) -> str:
    """E.g. "3 stories arrived but were published more than 48 h ago". Empty when nothing
    arrived at all (the plain "nothing new" says it)."""
    if nothing is None or not nothing.arrived:
        return ""
    parts = []
    if nothing.too_old:
        n = nothing.too_old
        if max_age:
            parts.append(
                texts.ngettext(
                    "{n} story arrived but was published more than {age} ago",
                    "{n} stories arrived but were published more than {age} ago",
                    n,
                ).format(n=n, age=format_age(max_age, texts))
            )
        else:
            parts.append(
                texts.ngettext(
                    "{n} story arrived but was published too long ago",
                    "{n} stories arrived but were published too long ago",
                    n,
                ).format(n=n)
            )
    if nothing.filtered:
        parts.append(
            texts.ngettext(
                "{n} story left out by your keywords or muted sources",
                "{n} stories left out by your keywords or muted sources",
                nothing.filtered,
            ).format(n=nothing.filtered)
        )
    if nothing.seen:
        parts.append(
            texts.ngettext(
                "{n} story you already got", "{n} stories you already got", nothing.seen
            ).format(n=nothing.seen)
        )
    return "; ".join(parts)
