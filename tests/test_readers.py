"""Readers: subscription, topics, schedules and audiences, on a migrated SQLite file."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlite_utils import Database

from bot.env_values import parse_hhmm
from digest.schedule import next_occurrence
from storage.db import to_db_time
from storage.outbox import PRIORITY_DIGEST, OutgoingMessage, commit_digests, enqueue
from storage.reader_lists import audience, reader_counts
from storage.reader_settings import set_schedule
from storage.readers import ReaderNotFound, ReaderStatus, get_reader
from storage.schedules import DigestDone, due_readers
from storage.subscriptions import migrate_chat, set_status, subscribe
from storage.topics import all_topics, clear_topics, toggle_topic, topic_ids_by_names
from tests.factories import NOW, articles_on, store_articles, subscribe_reader, topic_id

ACTIVE, STOPPED, BLOCKED = ReaderStatus.ACTIVE, ReaderStatus.STOPPED, ReaderStatus.BLOCKED


def compute_next_digest(at: str, zone: str, after: datetime) -> datetime:
    return next_occurrence(parse_hhmm(at), ZoneInfo(zone), after)


def advance_schedules(db: Database, done: Sequence[DigestDone], now: datetime) -> None:
    """A tick's schedule writes without its messages."""
    commit_digests(db, [], done, now)


@pytest.fixture
def topical(db: Database) -> Database:
    """Topics AI (3 articles), Energy (2) and Climate (1)."""
    store_articles(db, *articles_on(["AI"], ["AI", "Energy"], ["AI"], ["Energy", "Climate"]))
    return db


# -- subscribing ---------------------------------------------------------------------------------
def test_subscribe_new(db: Database) -> None:
    reader, is_new = subscribe(
        db, 42, user_id=42, first_name="Ada", username="ada", default_time=time(7, 30),
        default_zone=ZoneInfo("Europe/Berlin"), now=NOW,
    )  # fmt: skip
    assert is_new
    assert reader.chat_id == 42
    assert reader.status == ACTIVE
    assert (reader.digest_time, reader.zone) == (time(7, 30), ZoneInfo("Europe/Berlin"))
    assert reader.first_name == "Ada"
    assert reader.user_id == 42
    assert reader.topic_ids == frozenset()
    assert reader.last_digest_at is None and reader.digest_since is None
    assert reader.next_digest_at is not None
    # The next 07:30 in Berlin after NOW (12:00 UTC = 14:00 CEST) is tomorrow morning.
    local_next = reader.next_digest_at.astimezone(ZoneInfo("Europe/Berlin"))
    assert local_next.strftime("%Y-%m-%d %H:%M") == "2025-06-03 07:30"
    assert get_reader(db, 42) == reader


def test_subscribe_again_keeps_settings_and_reactivates(topical: Database) -> None:
    db = topical
    subscribe_reader(db, 42, topics=["AI"], digest_time="06:15", timezone="Asia/Kolkata")
    assert set_status(db, 42, STOPPED, NOW)
    later = NOW + timedelta(days=3)
    reader, is_new = subscribe(
        db, 42, user_id=42, first_name="Ada L.", username="ada2", default_time=time(9, 0),
        default_zone=ZoneInfo("UTC"), now=later,
    )  # fmt: skip
    assert not is_new
    assert reader.status == ACTIVE
    assert (reader.digest_time, reader.zone) == (time(6, 15), ZoneInfo("Asia/Kolkata"))
    assert reader.topic_ids == {topic_id(db, "AI")}
    assert reader.first_name == "Ada L."
    # The schedule is recomputed from the moment of re-subscribing, in the kept settings.
    assert reader.next_digest_at == compute_next_digest("06:15", "Asia/Kolkata", later)
    assert db.execute("SELECT count(*) FROM readers").fetchone()[0] == 1


@pytest.mark.parametrize("status", [STOPPED, BLOCKED, ACTIVE])
def test_set_status(db: Database, status: str) -> None:
    subscribe_reader(db, 42)
    assert set_status(db, 42, status, NOW + timedelta(minutes=5))
    reader = get_reader(db, 42)
    assert reader is not None and reader.status == status


def test_set_status_unknown_chat(db: Database) -> None:
    assert set_status(db, 999, STOPPED, NOW) is False
    assert get_reader(db, 999) is None


# -- schedule ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("digest_time", "timezone", "expected_time", "expected_zone"),
    [
        ("21:45", None, "21:45", "UTC"),
        (None, "America/New_York", "08:00", "America/New_York"),
        ("05:30", "Asia/Kolkata", "05:30", "Asia/Kolkata"),
    ],
)
def test_set_schedule_recomputes_next_digest(
    db: Database,
    digest_time: str | None,
    timezone: str | None,
    expected_time: str,
    expected_zone: str,
) -> None:
    before = subscribe_reader(db, 42, digest_time="08:00", timezone="UTC")
    later = NOW + timedelta(hours=1)
    reader = set_schedule(
        db,
        42,
        later,
        digest_time=parse_hhmm(digest_time) if digest_time else None,
        zone=ZoneInfo(timezone) if timezone else None,
    )
    assert (reader.digest_time, reader.zone) == (parse_hhmm(expected_time), ZoneInfo(expected_zone))
    assert reader.next_digest_at == compute_next_digest(expected_time, expected_zone, later)
    assert reader.next_digest_at != before.next_digest_at
    assert get_reader(db, 42) == reader


def test_set_schedule_unknown_reader(db: Database) -> None:
    with pytest.raises(ReaderNotFound):
        set_schedule(db, 999, NOW, digest_time=time(9, 0))


# -- topics --------------------------------------------------------------------------------------
def test_toggle_topic_on_off_and_unknown(topical: Database) -> None:
    db = topical
    subscribe_reader(db, 42)
    ai = topic_id(db, "AI")
    assert toggle_topic(db, 42, ai) is True
    assert get_reader(db, 42).topic_ids == {ai}  # type: ignore[union-attr]
    assert toggle_topic(db, 42, ai) is False
    assert get_reader(db, 42).topic_ids == frozenset()  # type: ignore[union-attr]
    unknown = 1 + max(t.id for t in all_topics(db))
    assert toggle_topic(db, 42, unknown) is None
    assert get_reader(db, 42).topic_ids == frozenset()  # type: ignore[union-attr]


def test_clear_topics(topical: Database) -> None:
    db = topical
    subscribe_reader(db, 42, topics=["AI", "Energy"])
    subscribe_reader(db, 43, topics=["AI"])
    clear_topics(db, 42)
    assert get_reader(db, 42).topic_ids == frozenset()  # type: ignore[union-attr]
    assert get_reader(db, 43).topic_ids == {topic_id(db, "AI")}  # type: ignore[union-attr]


def test_all_topics_counts_articles_by_name(topical: Database) -> None:
    db = topical
    db.execute("INSERT INTO topics (name) VALUES ('bioTech')")  # a topic with no articles
    topics = all_topics(db)
    assert [(t.name, t.articles) for t in topics] == [
        ("AI", 3),
        ("bioTech", 0),
        ("Climate", 1),
        ("Energy", 2),
    ]
    assert len({t.id for t in topics}) == 4


def test_topic_ids_by_names_is_case_insensitive(topical: Database) -> None:
    db = topical
    ids = {t.name: t.id for t in all_topics(db)}
    found, unknown = topic_ids_by_names(db, ["ai", "ENERGY", "Sports", "climate", "A I"])
    assert found == [ids["AI"], ids["Energy"], ids["Climate"]]
    assert unknown == ["Sports", "A I"]


# -- due readers and schedule advances ---------------------------------------------------------
def test_due_readers_only_active_and_due_with_topics(topical: Database) -> None:
    db = topical
    yesterday = NOW - timedelta(days=1)
    # Subscribed yesterday at noon with 08:00 UTC: due today at 08:00, before NOW.
    due_a = subscribe_reader(db, 1, topics=["AI", "Energy"], at=yesterday)
    due_b = subscribe_reader(db, 2, at=yesterday)
    subscribe_reader(db, 3, topics=["AI"], at=yesterday)
    set_status(db, 3, STOPPED, NOW)
    subscribe_reader(db, 4, at=yesterday)
    set_status(db, 4, BLOCKED, NOW)
    subscribe_reader(db, 5, topics=["Climate"], at=NOW)  # next is tomorrow: not due
    # Due exactly now counts.
    exact = subscribe_reader(db, 6, topics=["Climate"], at=yesterday, digest_time="12:00")
    assert exact.next_digest_at == NOW

    due = {r.chat_id: r for r in due_readers(db, NOW)}
    assert set(due) == {1, 2, 6}
    assert due[1] == due_a
    assert due[2] == due_b
    assert due[6].topic_ids == {topic_id(db, "Climate")}
    assert due_readers(db, NOW, limit=2)[0].chat_id in {1, 2}
    assert len(due_readers(db, NOW, limit=2)) == 2


@pytest.mark.parametrize(
    ("sent", "exhausted", "moves_last", "moves_since"),
    [
        (True, True, True, True),
        (True, False, True, False),  # a digest with leftovers keeps its window start
        (False, True, False, False),  # nothing sent: the window stays where it was
        (False, False, False, False),
    ],
)
def test_advance_schedules(
    db: Database, sent: bool, exhausted: bool, moves_last: bool, moves_since: bool
) -> None:
    subscribe_reader(db, 1, at=NOW - timedelta(days=3))
    subscribe_reader(db, 2, at=NOW - timedelta(days=3))
    earlier = NOW - timedelta(days=2)
    advance_schedules(db, [DigestDone(1, NOW - timedelta(days=1), True, True)], earlier)
    before = get_reader(db, 1)
    other_before = get_reader(db, 2)
    assert before is not None and before.last_digest_at == earlier

    next_at = compute_next_digest("08:00", "UTC", NOW)
    advance_schedules(db, [DigestDone(1, next_at, sent, exhausted)], NOW)
    after = get_reader(db, 1)
    assert after is not None
    assert after.next_digest_at == next_at
    assert after.last_digest_at == (NOW if moves_last else earlier)
    assert after.digest_since == (NOW if moves_since else earlier)
    assert get_reader(db, 2) == other_before  # only the readers listed change


def test_advance_schedules_is_one_transaction(db: Database) -> None:
    subscribe_reader(db, 1, at=NOW - timedelta(days=1))
    subscribe_reader(db, 2, at=NOW - timedelta(days=1))
    next_at = NOW + timedelta(hours=20)
    advance_schedules(
        db, [DigestDone(1, next_at, True, True), DigestDone(2, next_at, False, True)], NOW
    )
    assert [r.chat_id for r in due_readers(db, NOW)] == []
    assert [r.chat_id for r in due_readers(db, next_at)] == [1, 2]


@pytest.mark.parametrize(
    ("since_ago", "expected_ago"),
    [
        (None, timedelta(days=1)),  # first digest: the last day
        (timedelta(hours=5), timedelta(hours=5)),
        (timedelta(days=3), timedelta(days=3)),
        (timedelta(days=7), timedelta(days=7)),
        (timedelta(days=7, seconds=1), timedelta(days=7)),
        (timedelta(days=30), timedelta(days=7)),  # catch-up after downtime is capped
    ],
)
def test_window_start(db: Database, since_ago: timedelta | None, expected_ago: timedelta) -> None:
    subscribe_reader(db, 1, at=NOW - timedelta(days=40))
    if since_ago is not None:
        advance_schedules(db, [DigestDone(1, NOW, True, True)], NOW - since_ago)
    reader = get_reader(db, 1)
    assert reader is not None
    assert reader.window_start(NOW) == NOW - expected_ago


# -- audiences and counts ------------------------------------------------------------------------
@pytest.fixture
def audience_db(topical: Database) -> Database:
    db = topical
    subscribe_reader(db, 1)  # no topics: everything
    subscribe_reader(db, 2, topics=["AI"])
    subscribe_reader(db, 3, topics=["Energy"])
    subscribe_reader(db, 4, topics=["AI", "Climate"])
    subscribe_reader(db, 5, topics=["AI"])
    set_status(db, 5, STOPPED, NOW)
    subscribe_reader(db, 6)
    set_status(db, 6, BLOCKED, NOW)
    return db


@pytest.mark.parametrize(
    ("topics", "expected"),
    [
        (["AI"], {1, 2, 4}),
        (["Energy"], {1, 3}),
        (["Climate", "Energy"], {1, 3, 4}),
        ([], {1}),  # an item on no topic reaches only readers who take everything
        (None, {1, 2, 3, 4}),  # None: everyone active
    ],
)
def test_audience(audience_db: Database, topics: list[str] | None, expected: set[int]) -> None:
    ids = None if topics is None else [topic_id(audience_db, name) for name in topics]
    got = audience(audience_db, ids)
    assert set(got) == expected
    assert len(got) == len(set(got))


def test_reader_counts(audience_db: Database) -> None:
    counts = reader_counts(audience_db)
    assert (counts.active, counts.stopped, counts.blocked) == (4, 1, 1)
    set_status(audience_db, 1, BLOCKED, NOW)
    counts = reader_counts(audience_db)
    assert (counts.active, counts.stopped, counts.blocked) == (3, 1, 2)


def test_reader_counts_empty(db: Database) -> None:
    counts = reader_counts(db)
    assert (counts.active, counts.stopped, counts.blocked) == (0, 0, 0)


# -- migration -----------------------------------------------------------------------------------
def _outbox_chats(db: Database) -> list[int]:
    return [c for (c,) in db.execute("SELECT chat_id FROM outbox ORDER BY id")]


def _delivery_chats(db: Database) -> set[int]:
    return {c for (c,) in db.execute("SELECT chat_id FROM deliveries")}


def test_migrate_chat_without_topics_moves_reader_and_queue(db: Database) -> None:
    store_articles(db, *articles_on(["AI"]))
    old, new = -4001, -100_000_000_4001
    before = subscribe_reader(db, old, digest_time="10:00", timezone="Europe/Berlin")
    enqueue(
        db,
        [OutgoingMessage(old, "hello", "digest", PRIORITY_DIGEST, article_ids=(1,))],
        NOW,
    )
    migrate_chat(db, old, new)
    assert get_reader(db, old) is None
    moved = get_reader(db, new)
    assert moved is not None
    assert (moved.digest_time, moved.zone, moved.next_digest_at) == (
        before.digest_time,
        before.zone,
        before.next_digest_at,
    )
    assert _outbox_chats(db) == [new]
    assert _delivery_chats(db) == {new}


def test_migrate_chat_moves_topics(topical: Database) -> None:
    db = topical
    old, new = -4001, -100_000_000_4001
    subscribe_reader(db, old, topics=["AI", "Energy"])
    migrate_chat(db, old, new)
    assert get_reader(db, old) is None
    moved = get_reader(db, new)
    assert moved is not None
    assert moved.topic_ids == {topic_id(db, "AI"), topic_id(db, "Energy")}


def test_migrate_chat_when_new_chat_already_subscribed(db: Database) -> None:
    store_articles(db, *articles_on(["AI"], ["AI"]))
    old, new = -4001, -100_000_000_4001
    subscribe_reader(db, old)
    subscribe_reader(db, new, digest_time="19:00")
    enqueue(
        db,
        [
            OutgoingMessage(old, "old", "digest", PRIORITY_DIGEST, article_ids=(1, 2)),
            OutgoingMessage(new, "new", "digest", PRIORITY_DIGEST, article_ids=(2,)),
        ],
        NOW,
    )
    migrate_chat(db, old, new)
    # The existing reader keeps its settings; the queue moves to the new id.
    reader = get_reader(db, new)
    assert reader is not None and reader.digest_time == time(19, 0)
    assert _outbox_chats(db) == [new, new]
    assert {
        a for (a,) in db.execute("SELECT article_id FROM deliveries WHERE chat_id = ?", (new,))
    } == {1, 2}


def test_to_db_time_order_is_time_order() -> None:
    # The schedule queries compare times as text; that is only right if text order is
    # time order, also for instants given in other zones.
    berlin = ZoneInfo("Europe/Berlin")
    moments = [
        datetime(2025, 10, 26, 2, 30, tzinfo=berlin, fold=0),
        datetime(2025, 10, 26, 2, 30, tzinfo=berlin, fold=1),
        datetime(2025, 10, 26, 1, 45, tzinfo=UTC),
        datetime(2025, 10, 26, 0, 15, 0, 1, tzinfo=UTC),
    ]
    texts = [to_db_time(m) for m in moments]
    assert sorted(texts) == [
        to_db_time(m) for m in sorted(moments, key=lambda m: m.astimezone(UTC))
    ]


def test_migrate_chat_into_a_subscribed_chat_retires_the_old_reader(db: Database) -> None:
    old, new = -4001, -100_000_000_4001
    subscribe_reader(db, old, at=NOW - timedelta(days=1))
    subscribe_reader(db, new, at=NOW - timedelta(days=1))
    migrate_chat(db, old, new)
    assert [r.chat_id for r in due_readers(db, NOW)] == [new]
