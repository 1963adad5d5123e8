"""Following a story, as readers see it: the 🔔 / 🔕 buttons, the updates with a story's
news ("3 new sources since you looked"), and the /following list."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from babel.dates import format_date

from digest.callbacks import FollowingUnfollow, FollowStory, FollowVerb
from digest.follow import FollowedStory, StoryNews
from digest.html import MAX_MESSAGE, clean, escape, link, utf16_len
from digest.keyboard import Button, Keyboard
from digest.texts import N_, SOURCE_TEXTS, Texts

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
