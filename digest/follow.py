"""Following a story: what new coverage joins it, when its follower hears, how that reads.

A followed story is a cluster of coverage named by one article id: the lead of the digest
entry (or the /related answer) it was followed from. Its known members are stored; new
coverage joins it when it is on the same story as one of them by the digest's own rule
(:mod:`digest.cluster`): related links either way, a shared related link, near-identical
titles (:mod:`digest.titles`), closed transitively, so an article that only links to
another new one on the story joins too.

Finding the members worth comparing is storage's (an index lookup per new article, never
a pass over every followed story): :func:`shared_words_needed` says how many of a new
title's words a member with a near-identical title has. Pure: values in, values out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from enum import StrEnum
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel.dates import format_date

from digest.assemble import provider_key
from digest.callbacks import FollowingUnfollow, FollowStory, FollowVerb
from digest.cluster import cluster_stories
from digest.html import MAX_MESSAGE, clean, escape, link, utf16_len
from digest.keyboard import Button, Keyboard
from digest.model import Candidate
from digest.quiet import quiet_end
from digest.texts import N_, SOURCE_TEXTS, Texts
from digest.titles import max_deletions, title_tokens, titles_match

UPDATE_GAP = timedelta(hours=3)  # at most one update per story per follower in this time
EXPIRY = timedelta(days=14)  # a story without news this long is unfollowed by itself
MAX_FOLLOWS = 20  # stories one chat may follow at once
STORIES_PER_MESSAGE = 8  # updates batched into one message, at most
MAX_HEADLINE = 200
MAX_SOURCE = 64
MAX_LISTED_TITLE = 120  # 20 such lines fit a message
FOLLOW_LABEL = N_("🔔 Follow")
UNFOLLOW_LABEL = N_("🔕 Unfollow")


def follow_button(article_id: int, *, following: bool, texts: Texts = SOURCE_TEXTS) -> Button:
    """🔔 Follow, or 🔕 Unfollow when the chat follows the story already."""
    if following:
        return FollowStory(FollowVerb.OFF, article_id).button(texts.gettext(UNFOLLOW_LABEL))
    return FollowStory(FollowVerb.ON, article_id).button(texts.gettext(FOLLOW_LABEL))


def toggled(keyboard: Keyboard, pressed: FollowStory, texts: Texts = SOURCE_TEXTS) -> Keyboard:
    """``keyboard`` with the pressed follow button turned into the other one (the rest kept),
    labelled in ``texts``' language."""
    data = pressed.encode()
    now_following = pressed.verb == FollowVerb.ON
    return tuple(
        tuple(
            follow_button(pressed.article_id, following=now_following, texts=texts)
            if b.callback_data == data
            else b
            for b in row
        )
        for row in keyboard
    )


# -- matching ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoryMember:
    """A stored article known to be on followed story ``story_id`` (its lead's id)."""

    story_id: int
    article: Candidate


def title_words(title: str) -> frozenset[str]:
    """The normalised words of a title, as :func:`digest.titles.titles_match` compares them."""
    return frozenset(title_tokens(title))


def shared_words_needed(words: frozenset[str]) -> int:
    """How many of a title's distinct ``words`` a near-identical title has at least.

    Jaccard >= 4/5 means sharing at least 4/5 of the union, so at least
    ``ceil(4/5 · n)`` of these ``n`` (all of them for a title of one or two words, which
    only an equal title matches). Storage counts shared words per member in its word
    index and compares only those with enough.
    """
    return len(words) - max_deletions(len(words))


def new_coverage(
    members: Sequence[StoryMember], new: Sequence[Candidate]
) -> dict[int, tuple[int, ...]]:
    """Per followed story, the ids of the ``new`` articles on it (ascending).

    A new article is on a story when it, or a new article in its cluster (the digest's
    rule among the new articles), is on the same story as one of the story's members by
    that rule: a link either way, a shared related link, a near-identical title. Members
    are only compared with new articles, never with each other: two followed stories that
    happen to share an old link stay two stories. ``members``: those that may match (a
    superset is fine). A new article already a member of a story is not new to it.
    """
    if not members or not new:
        return {}
    clusters = cluster_stories(new)
    by_key: dict[str, list[int]] = {}  # a URL a new article is or links -> those articles
    by_word: dict[str, list[int]] = {}
    for i, c in enumerate(new):
        for key in (c.url, *c.related_urls):
            by_key.setdefault(key, []).append(i)
        for word in title_words(c.title):
            by_word.setdefault(word, []).append(i)
    stories_of: dict[int, set[int]] = {}  # new cluster -> stories it joins
    for member in members:
        m = member.article
        hits = {i for key in (m.url, *m.related_urls) for i in by_key.get(key, ())}
        near = {i for word in title_words(m.title) for i in by_word.get(word, ())} - hits
        hits.update(i for i in near if titles_match(m.title, new[i].title))
        for i in hits:
            stories_of.setdefault(clusters[i], set()).add(member.story_id)
    known = {(m.story_id, m.article.id) for m in members}
    found: dict[int, set[int]] = {}
    for article, cluster in zip(new, clusters, strict=True):
        for story_id in stories_of.get(cluster, ()):
            if (story_id, article.id) not in known:
                found.setdefault(story_id, set()).add(article.id)
    return {story_id: tuple(sorted(ids)) for story_id, ids in sorted(found.items())}


# -- when a follower hears -----------------------------------------------------------------


def update_due(last_update_at: datetime | None, now: datetime) -> bool:
    """True when the follower may hear of the story again (none in the last 3 hours)."""
    return last_update_at is None or now - last_update_at >= UPDATE_GAP


def is_expired(last_news_at: datetime, followed_at: datetime, now: datetime) -> bool:
    """A follow ends after 14 days without news (counted from the follow when it is later)."""
    return now - max(last_news_at, followed_at) >= EXPIRY


class QuietAction(StrEnum):
    SEND = "send"
    SILENT = "silent"  # quiet hours, silent mode: sent without sound
    HOLD = "hold"  # quiet hours, hold mode: not yet (news gathers for one later update)


def quiet_action(
    start: time | None, end: time | None, *, hold: bool, zone: ZoneInfo, now: datetime
) -> QuietAction:
    """What the reader's quiet hours (local ``start``-``end``) make of an update ``now``.

    As for breaking pushes: silent mode sends without sound; hold mode waits until the
    window ends, and the update then carries everything that came meanwhile."""
    if start is None or end is None or start == end:
        return QuietAction.SEND
    if quiet_end(start, end, zone, now) is None:
        return QuietAction.SEND
    return QuietAction.HOLD if hold else QuietAction.SILENT


# -- how an update reads -------------------------------------------------------------------


def source_of(article: Candidate) -> str:
    """Who published it: the provider's name, else the link's host."""
    if article.provider.strip():
        return article.provider
    return urlsplit(article.web_url).hostname or ""


def count_sources(articles: Iterable[Candidate]) -> int:
    """Distinct sources among ``articles`` (one provider's several articles count once)."""
    return len({provider_key(source_of(a)) or f"#{a.id}" for a in articles})


@dataclass(frozen=True, slots=True)
class StoryNews:
    """One followed story's update: its newest new article and how many sources are new."""

    story_id: int
    headline: str
    web_url: str
    source: str
    new_sources: int


def story_news(story_id: int, new: Sequence[Candidate]) -> StoryNews:
    """The update for ``new`` (non-empty) coverage of a story: the latest article leads."""
    latest = max(new, key=lambda a: (a.ingested_at, a.published_at, a.id))
    return StoryNews(story_id, latest.title, latest.web_url, source_of(latest), count_sources(new))


def _sources_line(count: int, texts: Texts) -> str:
    line = texts.ngettext(
        "{n} new source since you looked", "{n} new sources since you looked", count
    )
    return escape(line.format(n=count))


def _news_block(news: StoryNews, number: int | None, texts: Texts) -> str:
    untitled = texts.gettext("(untitled)")
    headline = link(news.web_url, clean(news.headline, MAX_HEADLINE) or untitled)
    source = clean(news.source, MAX_SOURCE)
    line = f"{headline} — {escape(source)}" if source else headline
    mark = f"{number}. " if number is not None else ""
    return f"{mark}{line}\n<i>{_sources_line(news.new_sources, texts)}</i>"


def render_updates(
    news: Sequence[StoryNews], texts: Texts = SOURCE_TEXTS
) -> list[tuple[str, Keyboard]]:
    """The messages carrying ``news``: several stories batched (up to 8 a message, fewer
    when their links are very long), each message with a 🔕 button per story; ``texts``:
    the follower's language."""
    messages: list[tuple[str, Keyboard]] = []
    for start in range(0, len(news), STORIES_PER_MESSAGE):
        chunk = news[start : start + STORIES_PER_MESSAGE]
        text = _updates_text(chunk, texts)
        if utf16_len(text) > MAX_MESSAGE and len(chunk) > 1:  # one story always fits
            half = len(chunk) // 2
            messages += render_updates(chunk[:half], texts) + render_updates(chunk[half:], texts)
            continue
        single = len(chunk) == 1
        unfollow = texts.gettext(UNFOLLOW_LABEL)
        buttons = [
            FollowStory(FollowVerb.OFF, n.story_id).button(unfollow if single else f"🔕 {i}")
            for i, n in enumerate(chunk, 1)
        ]
        messages.append((text, tuple(tuple(buttons[k : k + 4]) for k in range(0, len(buttons), 4))))
    return messages


def _updates_text(chunk: Sequence[StoryNews], texts: Texts) -> str:
    if len(chunk) == 1:
        heading = texts.gettext("News on a story you follow")
        return f"🔔 <b>{escape(heading)}</b>\n\n{_news_block(chunk[0], None, texts)}"
    blocks = "\n\n".join(_news_block(n, i, texts) for i, n in enumerate(chunk, 1))
    heading = texts.ngettext(
        "News on {n} story you follow", "News on {n} stories you follow", len(chunk)
    ).format(n=len(chunk))
    return f"🔔 <b>{escape(heading)}</b>\n\n{blocks}"


# -- /following ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FollowedStory:
    """A story a chat follows, as /following lists it."""

    story_id: int  # the lead article's id
    title: str  # "" when the lead is no longer stored
    web_url: str
    sources: int  # known coverage: the stored articles on it
    followed_at: datetime
    last_news_at: datetime


NOTHING_FOLLOWED = N_(
    "You follow no stories yet. Tap 🗞 under a digest entry, then 🔔 Follow: I tell you "
    "when other sources cover that story."
)


def render_following(
    stories: Sequence[FollowedStory], *, tz: tzinfo, texts: Texts = SOURCE_TEXTS
) -> tuple[str, Keyboard]:
    """The /following screen: one line and one 🔕 button per followed story."""
    if not stories:
        return texts.gettext(NOTHING_FOLLOWED), ()
    text = _following_text(stories, tz, texts, linked=True)
    if len(text) > MAX_MESSAGE:  # very long links: the titles alone always fit
        text = _following_text(stories, tz, texts, linked=False)
    buttons = [
        FollowingUnfollow(story.story_id).button(f"🔕 {number}")
        for number, story in enumerate(stories, 1)
    ]
    rows = tuple(tuple(buttons[k : k + 5]) for k in range(0, len(buttons), 5))
    return text, rows


def _following_text(
    stories: Sequence[FollowedStory], tz: tzinfo, texts: Texts, *, linked: bool
) -> str:
    heading = texts.gettext("Stories you follow ({n})").format(n=len(stories))
    lines = [f"🔔 <b>{escape(heading)}</b>", ""]
    gone = escape(texts.gettext("no longer stored"))
    for number, story in enumerate(stories, 1):
        label = clean(story.title, MAX_LISTED_TITLE)
        if not story.title:
            title = f"<i>{gone}</i>"
        else:
            title = link(story.web_url, label) if linked else escape(label)
        # "31 May" / "31 мая": the month in the reader's language (Babel's CLDR data).
        when = format_date(
            story.last_news_at.astimezone(tz).date(), "dd MMM", locale=texts.language
        )
        # TRANSLATORS: a /following line after the story's title: "3 sources, last news 31 May".
        tail = texts.ngettext(
            "{n} source, last news {when}", "{n} sources, last news {when}", story.sources
        ).format(n=story.sources, when=when)
        lines.append(f"{number}. {title} — {escape(tail)}")
    expiry = texts.gettext("A story without news for 14 days is unfollowed by itself.")
    lines += ["", f"<i>{escape(expiry)}</i>"]
    return "\n".join(lines)
