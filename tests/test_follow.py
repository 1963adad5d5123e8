"""digest.follow: which new coverage joins a followed story, the rules of when a follower
hears, and how updates and /following read."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from digest.callbacks import FollowingUnfollow, FollowStory, FollowVerb, decode_any
from digest.follow import (
    EXPIRY,
    UPDATE_GAP,
    FollowedStory,
    QuietAction,
    StoryMember,
    StoryNews,
    count_sources,
    is_expired,
    new_coverage,
    quiet_action,
    shared_words_needed,
    story_news,
    title_words,
    update_due,
)
from digest.follow_messages import (
    follow_button,
    render_following,
    render_updates,
    toggled,
)
from digest.titles import titles_match
from tests.factories import NOW, candidate

LEAD = candidate(
    1,
    "EU parliament endorses blanket ban on facial recognition",
    url="https://a.example/ban",
    related=["https://explainer.example/what-is-fr"],
)
STORY = 1


def members(*articles: object) -> list[StoryMember]:
    return [StoryMember(STORY, a) for a in articles]  # type: ignore[arg-type]


def test_new_article_the_lead_links_to_joins() -> None:
    lead = candidate(
        1, "Lead story zq1", url="https://a.example/1", related=["https://b.example/2"]
    )
    new = candidate(2, "Quite another headline zq2", url="https://b.example/2")
    assert new_coverage(members(lead), [new]) == {STORY: (2,)}


def test_new_article_linking_to_a_member_joins() -> None:
    new = candidate(2, "Quite another headline zq2", related=["https://a.example/ban"])
    assert new_coverage(members(LEAD), [new]) == {STORY: (2,)}


def test_new_article_sharing_a_related_link_joins() -> None:
    new = candidate(
        2, "Quite another headline zq2", related=["https://explainer.example/what-is-fr"]
    )
    assert new_coverage(members(LEAD), [new]) == {STORY: (2,)}


def test_near_identical_title_joins() -> None:
    title = "EU parliament endorses a blanket ban on facial recognition tech"
    assert titles_match(title, LEAD.title)
    new = candidate(2, title)
    assert new_coverage(members(LEAD), [new]) == {STORY: (2,)}


def test_unrelated_articles_do_not_join() -> None:
    unrelated = [
        candidate(2, "Chip makers race to build accelerators"),
        candidate(3, "EU parliament votes on farm subsidies"),  # shares words, not the story
        candidate(4, "Facial recognition", related=["https://elsewhere.example/x"]),
    ]
    assert new_coverage(members(LEAD), unrelated) == {}


def test_coverage_of_new_coverage_joins_too_like_the_digest_cluster() -> None:
    first = candidate(2, "Lawmakers back the ban zq2", related=["https://a.example/ban"])
    second = candidate(3, "Quite another headline zq3", related=[first.url])
    assert new_coverage(members(LEAD), [first, second]) == {STORY: (2, 3)}


def test_a_known_member_is_not_news_and_each_story_gets_its_own() -> None:
    other = candidate(9, "Mars rover finds ancient lake bed zq9", url="https://m.example/mars")
    known = [StoryMember(STORY, LEAD), StoryMember(9, other)]
    again = candidate(1, LEAD.title, url=LEAD.url)  # the lead itself, matched again
    news = candidate(5, "Mars rover finds an ancient lake bed zq9")
    assert new_coverage(known, [again, news]) == {9: (5,)}
    assert new_coverage([], [news]) == {} and new_coverage(known, []) == {}


def test_a_near_identical_title_shares_enough_words_to_be_looked_up() -> None:
    lead = title_words(LEAD.title)  # 7 distinct words
    assert shared_words_needed(lead) == 6
    near = title_words("EU parliament endorses a blanket ban on facial recognition tech")
    assert len(lead & near) >= shared_words_needed(near) == 7  # 8 words: 7 needed
    assert shared_words_needed(frozenset({"brexit"})) == 1
    assert shared_words_needed(frozenset({"brexit", "vote"})) == 2  # only equal titles match


# -- when a follower hears --------------------------------------------------------------------


def test_at_most_one_update_per_three_hours() -> None:
    assert timedelta(hours=3) == UPDATE_GAP
    assert update_due(None, NOW)
    assert not update_due(NOW - timedelta(hours=2, minutes=59), NOW)
    assert update_due(NOW - timedelta(hours=3), NOW)


def test_fourteen_days_without_news_ends_a_follow() -> None:
    assert timedelta(days=14) == EXPIRY
    followed = NOW - timedelta(days=20)
    assert not is_expired(NOW - timedelta(days=13, hours=23), followed, NOW)
    assert is_expired(NOW - timedelta(days=14), followed, NOW)
    # A story followed recently counts from the follow, however old its last news.
    assert not is_expired(NOW - timedelta(days=30), NOW - timedelta(days=1), NOW)


BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("local", "hold", "expected"),
    [
        (time(23, 30), False, QuietAction.SILENT),
        (time(23, 30), True, QuietAction.HOLD),
        (time(6, 59), True, QuietAction.HOLD),  # over midnight
        (time(7, 0), True, QuietAction.SEND),
        (time(12, 0), False, QuietAction.SEND),
    ],
)
def test_quiet_hours_hold_or_silence_an_update(local: time, hold: bool, expected: str) -> None:
    now = datetime.combine(NOW.date(), local, tzinfo=BERLIN).astimezone(UTC)
    found = quiet_action(time(22, 0), time(7, 0), hold=hold, zone=BERLIN, now=now)
    assert found == expected


def test_no_quiet_hours_sends() -> None:
    assert quiet_action(None, None, hold=True, zone=BERLIN, now=NOW) == QuietAction.SEND


# -- how it reads ----------------------------------------------------------------------------


def test_story_news_leads_with_the_latest_and_counts_distinct_sources() -> None:
    new = [
        candidate(2, "First take", ingested_at=NOW - timedelta(hours=2), provider="BBC"),
        candidate(3, "Second take", ingested_at=NOW - timedelta(hours=1), provider="bbc "),
        candidate(4, "Latest take", ingested_at=NOW, provider="Le Monde"),
        candidate(
            5,
            "Anonymous",
            ingested_at=NOW - timedelta(hours=3),
            provider="",
            web_url="https://blog.example/p",
        ),
    ]
    news = story_news(STORY, new)
    assert (news.headline, news.source, news.new_sources) == ("Latest take", "Le Monde", 3)
    assert count_sources(new[:2]) == 1


def test_an_update_escapes_links_only_http_and_says_how_many_sources() -> None:
    hostile = StoryNews(STORY, "<b>Ban</b> & more", "javascript:alert(1)", "A<i>", 3)
    ((text, keyboard),) = render_updates([hostile])
    assert "&lt;b&gt;Ban&lt;/b&gt; &amp; more — A&lt;i&gt;" in text
    assert "href" not in text
    assert "<i>3 new sources since you looked</i>" in text
    assert keyboard == ((FollowStory(FollowVerb.OFF, STORY).button("🔕 Unfollow"),),)
    ((text, _),) = render_updates([StoryNews(STORY, "Ban", "https://a.example/b", "BBC", 1)])
    assert '<a href="https://a.example/b">Ban</a> — BBC' in text
    assert "1 new source since you looked" in text


def test_updates_are_batched_eight_stories_a_message() -> None:
    news = [StoryNews(i, f"Story {i}", f"https://a.example/{i}", "BBC", 2) for i in range(1, 10)]
    messages = render_updates(news)
    assert [len([b for row in kb for b in row]) for _, kb in messages] == [8, 1]
    assert messages[0][0].startswith("🔔 <b>News on 8 stories you follow</b>")
    assert "8. " in messages[0][0]
    long = [StoryNews(i, "T" * 300, "https://a.example/" + "x" * 1900, "S", 1) for i in range(4)]
    assert all(len(text) <= 4096 for text, _ in render_updates(long))
    assert sum(len(kb[0]) for _, kb in render_updates(long)) == 4


def test_follow_button_and_its_toggle() -> None:
    on, off = follow_button(7, following=False), follow_button(7, following=True)
    assert (on.label, on.callback_data) == ("🔔 Follow", "fo:on:7")
    assert (off.label, off.callback_data) == ("🔕 Unfollow", "fo:off:7")
    other = follow_button(8, following=False)
    assert toggled(((on, other),), FollowStory(FollowVerb.ON, 7)) == ((off, other),)
    assert toggled(((off,),), FollowStory(FollowVerb.OFF, 7)) == ((on,),)
    biggest = follow_button(2**63 - 1, following=True)
    assert len(biggest.callback_data.encode()) <= 64
    assert decode_any(biggest.callback_data) == FollowStory(FollowVerb.OFF, 2**63 - 1)


@pytest.mark.parametrize("data", ["fo:on", "fo:maybe:7", "fo:on:-7", "fo:on:07", "fl:", "fl:x"])
def test_forged_follow_data_decodes_to_nothing(data: str) -> None:
    assert FollowStory.decode(data) is None and FollowingUnfollow.decode(data) is None


def test_following_lists_stories_with_buttons() -> None:
    text, keyboard = render_following([], tz=UTC)
    assert "You follow no stories yet" in text and keyboard == ()
    stories = [
        FollowedStory(7, "Ban <endorsed>", "https://a.example/b", 3, NOW, NOW),
        FollowedStory(9, "", "", 1, NOW, NOW - timedelta(days=2)),
    ]
    text, keyboard = render_following(stories, tz=UTC)
    assert '1. <a href="https://a.example/b">Ban &lt;endorsed&gt;</a> — 3 sources' in text
    assert "2. <i>no longer stored</i> — 1 source, last news 31 May" in text
    assert [b.callback_data for b in keyboard[0]] == ["fl:7", "fl:9"]


def test_two_followed_stories_sharing_an_old_link_stay_two() -> None:
    mars = candidate(
        9, "Rover finds ancient lake bed zq9", related=["https://explainer.example/fr"]
    )
    known = [StoryMember(STORY, LEAD), StoryMember(9, mars)]  # both link one explainer
    news = candidate(5, "Lawmakers back the ban zq5", related=[LEAD.url])
    assert new_coverage(known, [news]) == {STORY: (5,)}
