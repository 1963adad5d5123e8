"""Why a digest came out empty, and why a story is in it, in words readers understand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from digest.assemble import NothingNew
from digest.html import utf16_len
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


POPUP_LIMIT = 200  # Telegram's limit on a callback query's answer text


@dataclass(frozen=True, slots=True)
class StoryFactors:
    """What placed a story in a reader's digest (digest.rank's inputs, digest.votes' output)."""

    topics: tuple[str, ...]
    quality: int | None
    heat: int | None
    sources: int  # distinct providers covering it
    age: timedelta  # since publication
    topic_factor: float = 1.0  # the reader's votes on its topics (digest.votes)
    provider: str = ""
    provider_factor: float = 1.0
    own_vote: int = 0  # the reader's vote on this story: +1, -1, 0


def _age(age: timedelta, texts: Texts) -> str:
    minutes = max(int(age.total_seconds() // 60), 0)
    if minutes < 60:
        # TRANSLATORS: a story's age in the "Why this?" pop-up.
        return texts.ngettext("{n} min old", "{n} min old", minutes).format(n=minutes)
    if minutes < 48 * 60:
        hours = minutes // 60
        return texts.ngettext("{n} h old", "{n} h old", hours).format(n=hours)
    days = minutes // (24 * 60)
    return texts.ngettext("{n} day old", "{n} days old", days).format(n=days)


def _factor(value: float) -> str:
    return f"×{value:.2f}".rstrip("0").rstrip(".")


def explain_story(f: StoryFactors, limit: int = POPUP_LIMIT, texts: Texts = SOURCE_TEXTS) -> str:
    """ "Why this?" as one pop-up (≤ ``limit`` characters, plain text), e.g.
    "Topic: AI · quality 80 · heat 120 · 4 sources · 3 h old · your votes: topic ×1.26,
    Reuters ×0.79"; ``texts``: the reader's language (topic and provider names as stored)."""
    quality = (
        texts.gettext("quality unknown (counted 30)")
        if f.quality is None
        else texts.gettext("quality {n}").format(n=f.quality)
    )
    heat = (
        texts.gettext("heat {n}").format(n=f.heat)
        if f.heat is not None and f.heat > 0
        else texts.gettext("no heat")
    )
    sources = texts.ngettext("{n} source", "{n} sources", f.sources).format(n=f.sources)
    votes: list[str] = []
    if round(f.topic_factor, 2) != 1:
        # TRANSLATORS: the reader's votes' weight on the story's topics: "topic ×1.26".
        votes.append(texts.gettext("topic {factor}").format(factor=_factor(f.topic_factor)))
    if round(f.provider_factor, 2) != 1:
        votes.append(f"{f.provider[:30]} {_factor(f.provider_factor)}")
    if f.own_vote:
        mine = texts.gettext("you voted 👍") if f.own_vote > 0 else texts.gettext("you voted 👎")
        votes.append(mine)
    your_votes = (
        texts.gettext("your votes: {votes}").format(votes=", ".join(votes))
        if votes
        else texts.gettext("your votes: none")
    )
    tail = " · ".join([quality, heat, sources, _age(f.age, texts), your_votes])
    room = limit - utf16_len(tail) - len(" · ")
    if f.topics:
        names = ", ".join(f.topics)
        label = (
            texts.gettext("Topics: {names}")
            if len(f.topics) > 1
            else texts.gettext("Topic: {names}")
        )
    else:
        names, label = texts.gettext("any (no topic)"), texts.gettext("Topic: {names}")
    head = label.format(names=names)
    if utf16_len(head) > room:
        head = head[: max(room - 1, 0)].rstrip(", ") + "…"
    text = f"{head} · {tail}"
    while utf16_len(text) > limit:  # astral characters count two (Telegram counts UTF-16)
        text = text[:-2] + "…"
    return text
