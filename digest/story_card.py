"""A story card: one story with all its stored coverage, newest first, in place of the
digest message it was opened from, and the card's buttons (votes, Why this?, Follow,
Back)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from digest.assemble import provider_key
from digest.callbacks import StoryBack, StoryVote, StoryWhy, VoteValue
from digest.html import MAX_MESSAGE, clean, escape, link, truncate_html, utf16_len
from digest.keyboard import Button, Keyboard
from digest.labels import MAX_TITLE, coverage_line, host_of, more_line, reading_text
from digest.model import Candidate, RelatedLink
from digest.texts import SOURCE_TEXTS, Texts

MAX_EXCERPT = 280
MAX_CARD_ITEMS = 30  # coverage lines on a story card


@dataclass(frozen=True, slots=True)
class StoryCard:
    """What a story card shows: the lead and every stored article on its story."""

    lead: Candidate
    coverage: tuple[RelatedLink, ...]  # other coverage (any order; shown newest first)


def _newest_first(items: Sequence[RelatedLink]) -> list[RelatedLink]:
    dated = sorted((i for i in items if i.published_at), key=_published, reverse=True)
    return dated + [i for i in items if not i.published_at]


def _published(item: RelatedLink) -> datetime:
    assert item.published_at is not None
    return item.published_at


def card_items(card: StoryCard) -> list[RelatedLink]:
    """The card's lines: the lead and its coverage, one per article (normalised URL),
    newest first (undated last)."""
    lead = card.lead
    seen = {lead.url}
    items = [lead.as_related_link()]
    for item in card.coverage:
        if item.url not in seen:
            seen.add(item.url)
            items.append(item)
    return _newest_first(items)


def card_sources(items: Sequence[RelatedLink]) -> int:
    """How many distinct sources (providers, else hosts) the lines come from."""
    return len({provider_key(i.provider.name) if i.provider else host_of(i.web_url) for i in items})


def render_story_card(card: StoryCard, *, tz: tzinfo, texts: Texts = SOURCE_TEXTS) -> str:
    """The story in one message: its title and sources, then all its coverage (the lead
    among it), newest first, one line each; lines that do not fit become "+N more"."""
    lead = card.lead
    items = card_items(card)
    sources = card_sources(items)
    title = clean(lead.title, MAX_TITLE) or texts.gettext("Untitled")
    facts = " · ".join(
        part
        for part in (
            texts.ngettext("{n} source", "{n} sources", sources).format(n=sources),
            texts.ngettext("{n} article", "{n} articles", len(items)).format(n=len(items)),
            reading_text(lead.body_words, texts),
        )
        if part
    )
    head = f"🗞 <b>{link(lead.web_url, title)}</b>\n<i>{escape(facts)}</i>\n"
    excerpt = clean(lead.excerpt, MAX_EXCERPT)
    if excerpt:
        head += f"{escape(excerpt)}\n"
    text = truncate_html(head, MAX_MESSAGE - 100)
    shown = 0
    for item in items[:MAX_CARD_ITEMS]:
        line = coverage_line(item, tz, texts)
        rest = len(items) - shown - 1
        tail = "\n" + more_line(rest, texts) if rest else ""
        if utf16_len(text) + 1 + utf16_len(line) + utf16_len(tail) > MAX_MESSAGE:
            break
        text += "\n" + line
        shown += 1
    if shown < len(items):
        text += "\n" + more_line(len(items) - shown, texts)
    return text


def story_card_buttons(
    article_id: int,
    outbox_id: int,
    *,
    vote: int = 0,
    follow: Button | None = None,
    texts: Texts = SOURCE_TEXTS,
) -> Keyboard:
    """[👍] [👎] [Why this?], then [🔔 Follow] (``follow``, see digest.follow) [◀ Back].

    ``vote``: the subscription's vote on the story (+1, -1, 0), marked on its button.
    """
    up = StoryVote(VoteValue.UP, article_id).button("👍 ✓" if vote > 0 else "👍")
    down = StoryVote(VoteValue.DOWN, article_id).button("👎 ✓" if vote < 0 else "👎")
    why = StoryWhy(article_id).button(texts.gettext("Why this?"))
    back = StoryBack(outbox_id).button(texts.gettext("◀ Back"))
    # The follow button (issue 12 item 2) goes before Back on the second row.
    return ((up, down, why), (back,) if follow is None else (follow, back))
