"""The follow job on a real database: follow, new coverage stored, the update queued (or
held, or rate limited), 14 days without news unfollowing, the tables kept clean."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from sqlite_utils import Database

from bot.delivery.follow_updates import run_follow_updates
from storage.follow_matching import matched_up_to
from storage.follows import (
    FollowOutcome,
    follow_story,
    followed_stories,
    is_following,
    unfollow_story,
)
from storage.outbox import PRIORITY_DIGEST, MessageKind
from storage.reader_settings import set_quiet
from storage.readers import QuietHours, QuietMode, ReaderStatus
from storage.subscriptions import migrate_chat, set_status
from tests.factories import NOW, article, store_articles, subscribe_reader

READER = 501
HOUR = timedelta(hours=1)
LEAD_URL = "https://a.example/ban"


def _lead(db: Database) -> int:
    (lead,) = store_articles(
        db,
        article(
            "EU parliament endorses blanket ban on facial recognition",
            LEAD_URL,
            related=[("Explainer", "https://explainer.example/fr")],
        ),
        at=NOW - HOUR,
    )
    return lead


def _cover(db: Database, at: Any, *titles_and_providers: tuple[str, str]) -> list[int]:
    """New coverage linking the lead, one article per (title, provider)."""
    return store_articles(
        db,
        *[
            article(
                title,
                provider=(provider, f"{provider.lower()}.example"),
                related=[("Lead", LEAD_URL)],
            )
            for title, provider in titles_and_providers
        ],
        at=at,
    )


def _outbox(db: Database) -> list[tuple[Any, ...]]:
    return db.execute(
        "SELECT chat_id, kind, priority, text, disable_notification, reply_markup FROM outbox "
        "ORDER BY id"
    ).fetchall()


def _followed(db: Database) -> int:
    subscribe_reader(db, READER, at=NOW - HOUR)
    lead = _lead(db)
    assert follow_story(db, READER, lead, NOW) == FollowOutcome.FOLLOWED
    return lead


def test_new_coverage_sends_one_batched_update_then_waits_three_hours(db: Database) -> None:
    lead = _followed(db)
    assert run_follow_updates(db, NOW) == 0  # nothing new yet
    _cover(db, NOW + HOUR, ("Lawmakers back ban", "BBC"), ("Ban passes", "Le Monde"),
           ("MEPs vote for the ban", "Reuters"))  # fmt: skip
    assert run_follow_updates(db, NOW + HOUR) == 1
    ((chat, kind, priority, text, silent, markup),) = _outbox(db)
    assert (chat, kind, priority, silent) == (READER, MessageKind.FOLLOW, PRIORITY_DIGEST, None)
    assert "MEPs vote for the ban</a> — Reuters" in text  # the latest new article
    assert "3 new sources since you looked" in text
    assert f'"fo:off:{lead}"' in markup

    # More news within three hours waits; it comes in the next update, counted alone.
    _cover(db, NOW + 2 * HOUR, ("Ban criticised by police", "AP"))
    assert run_follow_updates(db, NOW + 2 * HOUR) == 0
    assert run_follow_updates(db, NOW + 4 * HOUR - timedelta(minutes=1)) == 0
    assert run_follow_updates(db, NOW + 4 * HOUR) == 1
    text = _outbox(db)[-1][3]
    assert "Ban criticised by police" in text and "1 new source since you looked" in text
    assert run_follow_updates(db, NOW + 9 * HOUR) == 0  # told: nothing twice
    (story,) = followed_stories(db, READER)
    assert story.sources == 5 and story.story_id == lead


def test_one_message_carries_several_stories(db: Database) -> None:
    lead = _followed(db)
    (mars,) = store_articles(
        db, article("Rover finds ancient lake bed on Mars", "https://m.example/mars"), at=NOW
    )
    assert follow_story(db, READER, mars, NOW) == FollowOutcome.FOLLOWED
    _cover(db, NOW + HOUR, ("Lawmakers back ban", "BBC"))
    store_articles(db, article("Rover finds an ancient lake bed on Mars", "https://n.example/mars"), at=NOW + HOUR)  # fmt: skip
    assert run_follow_updates(db, NOW + HOUR) == 1
    text = _outbox(db)[0][3]
    assert "News on 2 stories you follow" in text
    assert "Lawmakers back ban" in text and "Rover finds an ancient lake bed on Mars" in text
    assert lead != mars


def test_unrelated_articles_send_nothing(db: Database) -> None:
    _followed(db)
    store_articles(db, article("Chip makers race to build accelerators"), at=NOW + HOUR)
    assert run_follow_updates(db, NOW + HOUR) == 0
    assert _outbox(db) == []


def test_quiet_hours_hold_the_update_until_they_end(db: Database) -> None:
    _followed(db)  # the reader is in UTC; NOW is noon
    set_quiet(db, READER, QuietHours(time(11, 0), time(13, 0), QuietMode.HOLD), NOW)
    _cover(db, NOW, ("Lawmakers back ban", "BBC"))
    assert run_follow_updates(db, NOW) == 0
    _cover(db, NOW + HOUR / 2, ("Ban passes", "Le Monde"))
    assert run_follow_updates(db, NOW + HOUR / 2) == 0
    assert run_follow_updates(db, NOW + HOUR) == 1  # 13:00: all of it in one update
    assert "2 new sources since you looked" in _outbox(db)[0][3]


def test_silent_quiet_hours_send_without_sound(db: Database) -> None:
    _followed(db)
    set_quiet(db, READER, QuietHours(time(11, 0), time(13, 0), QuietMode.SILENT), NOW)
    _cover(db, NOW, ("Lawmakers back ban", "BBC"))
    assert run_follow_updates(db, NOW) == 1
    assert _outbox(db)[0][4] == 1


def test_a_stopped_reader_hears_nothing(db: Database) -> None:
    _followed(db)
    set_status(db, READER, ReaderStatus.STOPPED, NOW)
    _cover(db, NOW, ("Lawmakers back ban", "BBC"))
    assert run_follow_updates(db, NOW) == 0


def test_fourteen_days_without_news_unfollow_and_clean_up(db: Database) -> None:
    lead = _followed(db)
    _cover(db, NOW + 24 * HOUR, ("Lawmakers back ban", "BBC"))
    run_follow_updates(db, NOW + 24 * HOUR)  # news on day 1: the 14 days count from there
    run_follow_updates(db, NOW + timedelta(days=14, hours=23))
    assert is_following(db, READER, lead)
    run_follow_updates(db, NOW + timedelta(days=15))
    assert not is_following(db, READER, lead)
    for table in ("follows", "follow_stories", "follow_members", "follow_words"):
        assert db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table


def test_a_story_stays_while_someone_follows_it(db: Database) -> None:
    lead = _followed(db)
    subscribe_reader(db, 502, at=NOW)
    assert follow_story(db, 502, lead, NOW) == FollowOutcome.FOLLOWED
    assert follow_story(db, 502, lead, NOW) == FollowOutcome.ALREADY
    assert unfollow_story(db, READER, lead) and not unfollow_story(db, READER, lead)
    assert db.execute("SELECT count(*) FROM follow_members").fetchone()[0] >= 1
    assert unfollow_story(db, 502, lead)
    assert db.execute("SELECT count(*) FROM follow_words").fetchone()[0] == 0
    assert follow_story(db, 502, 999_999, NOW) == FollowOutcome.GONE


def test_a_chat_follows_at_most_the_limit(db: Database) -> None:
    subscribe_reader(db, READER, at=NOW)
    ids = store_articles(db, *[article(f"Story {n} zq{n}") for n in range(3)], at=NOW)
    assert follow_story(db, READER, ids[0], NOW, limit=2) == FollowOutcome.FOLLOWED
    assert follow_story(db, READER, ids[1], NOW, limit=2) == FollowOutcome.FOLLOWED
    assert follow_story(db, READER, ids[2], NOW, limit=2) == FollowOutcome.FULL


def test_without_followers_the_job_only_moves_its_mark(db: Database) -> None:
    _lead(db)
    store_articles(db, article("Lawmakers back ban", related=[("Lead", LEAD_URL)]), at=NOW)
    assert run_follow_updates(db, NOW) == 0
    newest = db.execute("SELECT max(id) FROM articles").fetchone()[0]
    assert matched_up_to(db) == newest  # older articles are nobody's news later


def test_a_group_moving_to_a_supergroup_keeps_its_follows(db: Database) -> None:
    subscribe_reader(db, -500, at=NOW)
    lead = _lead(db)
    follow_story(db, -500, lead, NOW)
    migrate_chat(db, -500, -1005)
    assert is_following(db, -1005, lead) and not is_following(db, -500, lead)
