"""One story as a digest entry (or a breaking alert): title link, provider, time and
reading time, excerpt, and its sources line ("🗞 5 sources · Euronews, BBC, Le Monde +2":
distinct providers, the lead's first, each other name a link to its article)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from digest.assemble import provider_key
from digest.html import MAX_MESSAGE, clean, escape, link, utf16_len
from digest.labels import MAX_PROVIDER, MAX_TITLE, host_of, reading_text, when_label
from digest.model import Candidate
from digest.texts import SOURCE_TEXTS, Texts

MAX_EXCERPT = 280
MAX_NAMED_SOURCES = 3  # providers named on an entry's sources line; the rest are "+N"


def _source_key(c: Candidate) -> str:
    """Articles of one provider share a source (by name, else by host)."""
    return provider_key(c.provider) if c.provider else host_of(c.web_url)


def distinct_sources(lead: Candidate, also: Sequence[Candidate]) -> list[Candidate]:
    """The first article of each distinct source, the lead's first, then in rank order."""
    seen: set[str] = set()
    found: list[Candidate] = []
    for c in (lead, *also):
        key = _source_key(c)
        if key not in seen:
            seen.add(key)
            found.append(c)
    return found


def _source_label(c: Candidate, texts: Texts) -> str:
    return clean(c.provider, MAX_PROVIDER) or host_of(c.web_url) or texts.gettext("link")


def sources_line(
    lead: Candidate,
    also: Sequence[Candidate],
    room: int = MAX_MESSAGE,
    texts: Texts = SOURCE_TEXTS,
) -> str:
    """``🗞 5 sources · Euronews, BBC, Le Monde +2`` (other sources' names link to their
    coverage), or "" for a story of one source. Names are added while the line fits
    ``room`` UTF-16 units, at most :data:`MAX_NAMED_SOURCES`."""
    sources = distinct_sources(lead, also)
    if len(sources) < 2:
        return ""
    # TRANSLATORS: the start of a digest entry's sources line: "🗞 5 sources · BBC, AP +3".
    count = texts.ngettext("{n} source", "{n} sources", len(sources)).format(n=len(sources))
    head = f"🗞 {escape(count)} · "
    names: list[str] = []
    for i, c in enumerate(sources[:MAX_NAMED_SOURCES]):
        label = _source_label(c, texts)
        name = escape(label) if i == 0 else link(c.web_url, label)
        trial = [*names, name]
        hidden = len(sources) - len(trial)
        line = head + ", ".join(trial) + (f" +{hidden}" if hidden else "")
        if utf16_len(line) > room:
            break
        names = trial
    hidden = len(sources) - len(names)
    return head + ", ".join(names) + (f" +{hidden}" if hidden else "")


def entry_block(
    lead: Candidate,
    also: Sequence[Candidate],
    *,
    number: int | None,
    tz: tzinfo,
    now: datetime | None,
    texts: Texts = SOURCE_TEXTS,
) -> str:
    """One story: title link, provider, time and reading time, excerpt, its sources.

    Size bound: the title line is at most ~12 + 15 + MAX_HREF + 5·MAX_TITLE units and the
    meta line ~5·MAX_PROVIDER + 45, under 4,000 together, so if the block is too long the
    cut falls in the excerpt. Source names are added only while the block still fits.
    """
    title = (
        clean(lead.title, MAX_TITLE)
        or clean(lead.provider, MAX_PROVIDER)
        or texts.gettext("Untitled")
    )
    head = link(lead.web_url, title)
    if number is not None:
        head = f"<b>{number}.</b> {head}"
    meta = " · ".join(
        part
        for part in (
            clean(lead.provider, MAX_PROVIDER),
            when_label(lead.published_at, tz, now, texts.language),
            reading_text(lead.body_words, texts),
        )
        if part
    )
    lines = [head, f"<i>{escape(meta)}</i>"]
    excerpt = clean(lead.excerpt, MAX_EXCERPT)
    if excerpt:
        lines.append(escape(excerpt))
    block = "\n".join(lines)
    room = MAX_MESSAGE - utf16_len(block) - 1  # 1 for the newline before the line
    sources = sources_line(lead, also, room, texts) if also else ""
    return f"{block}\n{sources}" if sources else block
