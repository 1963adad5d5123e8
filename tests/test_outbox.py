"""The outbox (queueing, batches, send results) and breaking pushes, on a real SQLite file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest
from sqlite_utils import Database

from digest.model import Article
from digest.urls import normalize_url
from storage.articles import save_articles
from storage.db import from_db_time, to_db_time
from storage.outbox import (
    PRIORITY_ANSWER,
    PRIORITY_BREAKING,
    PRIORITY_DIGEST,
    OutgoingMessage,
    SendResult,
    commit_digests,
    delivered_to,
    drop_chat,
    enqueue,
    outbox_counts,
    pending_batch,
    push_counts,
    record_results,
)
from storage.pushes import (
    CANCELLED,
    PREVIEW,
    SENDING,
    cancel_push,
    create_push,
    get_push,
    start_push,
)
from storage.readers import ACTIVE, BLOCKED, STOPPED, get_reader, set_status, subscribe
from storage.schedules import DigestDone
from storage.topics import toggle_topic, topic_ids_by_names

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)


def add_articles(db: Database, topics_per_article: Iterable[Iterable[str]]) -> list[int]:
    articles = []
    for n, topics in enumerate(topics_per_article):
        web_url = f"https://news.example/outbox-{n}"
        articles.append(
            (
                Article(
                    url=normalize_url(web_url),
                    web_url=web_url,
                    title=f"Outbox story {n} zq{n}",
                    published_at=NOW - timedelta(hours=1),
                    topics=tuple(topics),
                ),
                f"outbox-{n}.md",
            )
        )
    save_articles(db, articles, NOW - timedelta(minutes=30))
    return [a for (a,) in db.execute("SELECT id FROM articles ORDER BY id")]


def add_reader(db: Database, chat_id: int, topics: Iterable[str] = ()) -> None:
    subscribe(
        db, chat_id, user_id=chat_id, first_name="R", username=None, default_time="08:00",
        default_timezone="UTC", now=NOW - timedelta(days=1),
    )  # fmt: skip
    for name in topics:
        found, _ = topic_ids_by_names(db, [name])
        assert toggle_topic(db, chat_id, found[0]) is True


def msg(
    chat_id: int,
    text: str = "hello",
    *,
    priority: int = PRIORITY_DIGEST,
    articles: tuple[int, ...] = (),
    push_id: int | None = None,
) -> OutgoingMessage:
    kind = {PRIORITY_ANSWER: "answer", PRIORITY_BREAKING: "breaking"}.get(priority, "digest")
    return OutgoingMessage(chat_id, text, kind, priority, article_ids=articles, push_id=push_id)


def row(db: Database, outbox_id: int) -> dict[str, object]:
    return next(db.query("SELECT * FROM outbox WHERE id = ?", [outbox_id]))


def deliveries(db: Database) -> list[dict[str, object]]:
    return list(db.query("SELECT * FROM deliveries ORDER BY chat_id, article_id"))


# -- queueing ------------------------------------------------------------------------------------
def test_enqueue_reserves_deliveries(db: Database) -> None:
    a1, a2, a3 = add_articles(db, [["AI"], ["AI"], ["AI"]])
    ids = enqueue(
        db,
        [
            msg(1, "part 1", articles=(a1, a2)),
            msg(1, "part 2", articles=(a3,)),
            msg(2, "<b>x</b>", priority=PRIORITY_BREAKING, articles=(a1,)),
        ],
        NOW,
    )
    assert len(ids) == 3 and ids == sorted(ids)
    first = row(db, ids[0])
    assert first["status"] == "pending" and first["attempts"] == 0
    assert first["text"] == "part 1" and first["chat_id"] == 1
    assert row(db, ids[2])["priority"] == PRIORITY_BREAKING
    assert [(d["chat_id"], d["article_id"], d["outbox_id"], d["via"]) for d in deliveries(db)] == [
        (1, a1, ids[0], "digest"),
        (1, a2, ids[0], "digest"),
        (1, a3, ids[1], "digest"),
        (2, a1, ids[2], "breaking"),
    ]
    assert all(d["sent_at"] is None and d["queued_at"] == to_db_time(NOW) for d in deliveries(db))
    assert delivered_to(db, 1) == {a1, a2, a3}
    assert delivered_to(db, 2) == {a1}


def test_enqueue_keeps_the_first_reservation(db: Database) -> None:
    (a1,) = add_articles(db, [["AI"]])
    first, second = enqueue(db, [msg(1, articles=(a1,)), msg(1, articles=(a1,))], NOW)
    assert [d["outbox_id"] for d in deliveries(db)] == [first]
    assert second > first


def test_reply_markup_round_trips(db: Database) -> None:
    markup = {"inline_keyboard": [[{"text": "🔗 1", "callback_data": "rel:1"}]]}
    enqueue(db, [OutgoingMessage(1, "t", "digest", PRIORITY_DIGEST, reply_markup=markup)], NOW)
    (queued,) = pending_batch(db, NOW, limit=10)
    assert queued.reply_markup == markup


# -- pending batches -----------------------------------------------------------------------------
def test_pending_batch_orders_by_priority_then_id(db: Database) -> None:
    ids = enqueue(
        db,
        [
            msg(1, "d1"),
            msg(2, "b1", priority=PRIORITY_BREAKING),
            msg(3, "a1", priority=PRIORITY_ANSWER),
            msg(4, "d2"),
            msg(5, "b2", priority=PRIORITY_BREAKING),
            msg(6, "a2", priority=PRIORITY_ANSWER),
        ],
        NOW,
    )
    batch = pending_batch(db, NOW, limit=10)
    assert [m.text for m in batch] == ["a1", "a2", "b1", "b2", "d1", "d2"]
    assert {m.id for m in batch} == set(ids)
    assert [m.text for m in pending_batch(db, NOW, limit=3)] == ["a1", "a2", "b1"]


def test_pending_batch_skips_given_ids_and_still_fills_the_limit(db: Database) -> None:
    ids = enqueue(db, [msg(chat) for chat in range(1, 7)], NOW)
    batch = pending_batch(db, NOW, limit=3, skip_ids=ids[:2])
    assert [m.id for m in batch] == ids[2:5]
    assert pending_batch(db, NOW, limit=10, skip_ids=ids) == []


def test_pending_batch_leaves_out_finished_rows(db: Database) -> None:
    ids = enqueue(db, [msg(1), msg(2), msg(3), msg(4)], NOW)
    record_results(
        db,
        [
            SendResult(ids[0], 1, "sent", message_id=10),
            SendResult(ids[1], 2, "failed", error="Bad Request: nope"),
            SendResult(ids[2], 3, "blocked", error="Forbidden"),
        ],
        NOW,
    )
    assert [m.id for m in pending_batch(db, NOW, limit=10)] == [ids[3]]


def test_a_chat_waiting_to_retry_holds_back_its_later_messages(db: Database) -> None:
    ids = enqueue(db, [msg(1, "1a"), msg(1, "1b"), msg(2, "2a"), msg(1, "1c", priority=0)], NOW)
    retry_at = NOW + timedelta(seconds=30)
    record_results(db, [SendResult(ids[0], 1, "retry", error="Timed out", retry_at=retry_at)], NOW)
    # Chat 1 waits with everything it has, even its more urgent later message.
    assert [m.text for m in pending_batch(db, NOW, limit=10)] == ["2a"]
    assert [m.text for m in pending_batch(db, retry_at - timedelta(seconds=1), limit=10)] == ["2a"]
    # Once the time has come, the chat's messages come back in order.
    later = pending_batch(db, retry_at, limit=10)
    assert [m.text for m in later] == ["1c", "1a", "1b", "2a"]
    assert later[1].attempts == 1


# -- recording results ---------------------------------------------------------------------------
def test_record_sent(db: Database) -> None:
    a1, a2 = add_articles(db, [["AI"], ["AI"]])
    ids = enqueue(db, [msg(1, articles=(a1,)), msg(1, articles=(a2,))], NOW)
    sent_at = NOW + timedelta(seconds=3)
    summary = record_results(db, [SendResult(ids[0], 1, "sent", message_id=777)], sent_at)
    sent = row(db, ids[0])
    assert (sent["status"], sent["message_id"], sent["attempts"]) == ("sent", 777, 1)
    assert sent["sent_at"] == to_db_time(sent_at)
    by_outbox = {d["outbox_id"]: d for d in deliveries(db)}
    assert by_outbox[ids[0]]["sent_at"] == to_db_time(sent_at)
    assert by_outbox[ids[1]]["sent_at"] is None
    assert row(db, ids[1])["status"] == "pending"
    assert summary.blocked_chats == ()
    assert summary.pushes_touched == frozenset()


def test_record_retry(db: Database) -> None:
    (a1,) = add_articles(db, [["AI"]])
    (oid,) = enqueue(db, [msg(1, articles=(a1,))], NOW)
    for attempt, wait in enumerate([2, 4], 1):
        retry_at = NOW + timedelta(seconds=wait)
        record_results(
            db, [SendResult(oid, 1, "retry", error=f"e{attempt}", retry_at=retry_at)], NOW
        )
        queued = row(db, oid)
        assert queued["status"] == "pending"
        assert queued["attempts"] == attempt
        assert queued["last_error"] == f"e{attempt}"
        assert from_db_time(str(queued["not_before"])) == retry_at
    assert delivered_to(db, 1) == {a1}  # still reserved while it waits


def test_record_failed_releases_the_articles(db: Database) -> None:
    a1, a2 = add_articles(db, [["AI"], ["AI"]])
    add_reader(db, 1)
    ids = enqueue(db, [msg(1, articles=(a1,)), msg(1, articles=(a2,))], NOW)
    record_results(db, [SendResult(ids[0], 1, "failed", error="Can't parse entities")], NOW)
    failed = row(db, ids[0])
    assert (failed["status"], failed["last_error"], failed["attempts"]) == (
        "failed",
        "Can't parse entities",
        1,
    )
    assert delivered_to(db, 1) == {a2}
    # The article can reach the reader again, e.g. by a push.
    push = create_push(db, created_by=9, article_id=a1, text="t", topic_ids=None, now=NOW)
    assert push.audience == 1


def test_record_blocked_drops_the_chat(db: Database) -> None:
    a1, a2, a3 = add_articles(db, [["AI"], ["AI"], ["AI"]])
    add_reader(db, 1)
    add_reader(db, 2)
    ids = enqueue(
        db,
        [
            msg(1, "sent earlier", articles=(a1,)),
            msg(1, "refused", articles=(a2,)),
            msg(1, "later", articles=(a3,)),
            msg(2, "other reader", articles=(a2,)),
        ],
        NOW,
    )
    record_results(db, [SendResult(ids[0], 1, "sent", message_id=5)], NOW)
    summary = record_results(
        db, [SendResult(ids[1], 1, "blocked", error="Forbidden: bot was blocked by the user")], NOW
    )
    assert summary.blocked_chats == (1,)
    reader = get_reader(db, 1)
    assert reader is not None and reader.status == BLOCKED
    assert [row(db, i)["status"] for i in ids] == ["sent", "dropped", "dropped", "pending"]
    assert row(db, ids[2])["last_error"] == "Forbidden: bot was blocked by the user"
    # What was sent stays delivered; what was only queued is released.
    assert delivered_to(db, 1) == {a1}
    assert delivered_to(db, 2) == {a2}
    other = get_reader(db, 2)
    assert other is not None and other.status == ACTIVE


def test_drop_chat(db: Database) -> None:
    add_reader(db, 1)
    ids = enqueue(db, [msg(1), msg(1)], NOW)
    drop_chat(db, 1, "chat not found", NOW)
    assert [row(db, i)["status"] for i in ids] == ["dropped", "dropped"]
    assert get_reader(db, 1).status == BLOCKED  # type: ignore[union-attr]


def test_record_migrated_moves_rows_to_the_new_chat(db: Database) -> None:
    (a1,) = add_articles(db, [["AI"]])
    old, new = -4001, -100_000_000_4001
    subscribe(db, old, user_id=None, first_name="", username=None, default_time="08:00",
              default_timezone="UTC", now=NOW)  # fmt: skip
    ids = enqueue(db, [msg(old, "one", articles=(a1,)), msg(old, "two")], NOW)
    record_results(db, [SendResult(ids[0], old, "migrated", new_chat_id=new)], NOW)
    assert [row(db, i)["chat_id"] for i in ids] == [new, new]
    assert [row(db, i)["status"] for i in ids] == ["pending", "pending"]
    assert [m.chat_id for m in pending_batch(db, NOW, limit=10)] == [new, new]
    assert get_reader(db, old) is None
    assert get_reader(db, new) is not None
    assert delivered_to(db, new) == {a1}
    assert delivered_to(db, old) == set()


def test_record_results_reports_pushes_touched(db: Database) -> None:
    add_reader(db, 1)
    add_reader(db, 2)
    push = create_push(db, created_by=9, article_id=None, text="Breaking", topic_ids=None, now=NOW)
    assert start_push(db, push.id, None, NOW) == 2
    (plain,) = enqueue(db, [msg(3)], NOW)
    queued = {m.chat_id: m.id for m in pending_batch(db, NOW, limit=10)}
    summary = record_results(
        db,
        [
            SendResult(queued[1], 1, "sent", message_id=1),
            SendResult(plain, 3, "sent", message_id=1),
        ],
        NOW,
    )
    assert summary.pushes_touched == {push.id}
    assert record_results(db, [], NOW).pushes_touched == frozenset()


def test_outbox_and_push_counts(db: Database) -> None:
    assert outbox_counts(db) == {"pending": 0, "sent": 0, "failed": 0, "dropped": 0, "expired": 0}
    for chat in (1, 2, 3, 4):
        add_reader(db, chat)
    push = create_push(db, created_by=9, article_id=None, text="Breaking", topic_ids=None, now=NOW)
    start_push(db, push.id, None, NOW)
    extra = enqueue(db, [msg(5), msg(5)], NOW)
    by_chat = {m.chat_id: m.id for m in pending_batch(db, NOW, limit=10) if m.push_id}
    record_results(
        db,
        [
            SendResult(by_chat[1], 1, "sent", message_id=1),
            SendResult(by_chat[2], 2, "failed", error="x"),
            SendResult(by_chat[3], 3, "blocked", error="Forbidden"),
            SendResult(extra[0], 5, "sent", message_id=1),
        ],
        NOW,
    )
    assert push_counts(db, push.id) == {
        "pending": 1,
        "sent": 1,
        "failed": 1,
        "dropped": 1,
        "expired": 0,
    }
    assert outbox_counts(db) == {"pending": 2, "sent": 2, "failed": 1, "dropped": 1, "expired": 0}
    assert push_counts(db, push.id + 1) == {
        "pending": 0,
        "sent": 0,
        "failed": 0,
        "dropped": 0,
        "expired": 0,
    }


# -- commit_digests ------------------------------------------------------------------------------
def test_commit_digests_queues_and_advances_together(db: Database) -> None:
    (a1,) = add_articles(db, [["AI"]])
    add_reader(db, 1)
    next_at = NOW + timedelta(hours=20)
    commit_digests(
        db, [msg(1, "digest", articles=(a1,))], [DigestDone(1, next_at, True, True)], NOW
    )
    reader = get_reader(db, 1)
    assert reader is not None
    assert (reader.next_digest_at, reader.last_digest_at, reader.digest_since) == (
        next_at,
        NOW,
        NOW,
    )
    assert [m.text for m in pending_batch(db, NOW, limit=10)] == ["digest"]
    assert delivered_to(db, 1) == {a1}


def test_commit_digests_is_atomic(db: Database) -> None:
    a1, a2 = add_articles(db, [["AI"], ["AI"]])
    add_reader(db, 1)
    add_reader(db, 2)
    before = [get_reader(db, 1), get_reader(db, 2)]
    broken = OutgoingMessage(2, None, "digest", PRIORITY_DIGEST, article_ids=(a2,))  # type: ignore[arg-type]
    next_at = NOW + timedelta(hours=20)
    with pytest.raises(sqlite3.IntegrityError):
        commit_digests(
            db,
            [msg(1, "fine", articles=(a1,)), broken],
            [DigestDone(1, next_at, True, True), DigestDone(2, next_at, True, True)],
            NOW,
        )
    assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
    assert deliveries(db) == []
    assert [get_reader(db, 1), get_reader(db, 2)] == before
    assert not db.conn.in_transaction
    # The connection is still usable afterwards.
    commit_digests(db, [msg(1, "fine", articles=(a1,))], [DigestDone(1, next_at, True, True)], NOW)
    assert outbox_counts(db)["pending"] == 1


# -- pushes --------------------------------------------------------------------------------------
@pytest.fixture
def push_db(db: Database) -> Database:
    """Articles: 1 (AI), 2 (Energy). Readers 1 (all), 2 (AI), 3 (Energy), 4 (AI, stopped)."""
    add_articles(db, [["AI"], ["Energy"]])
    add_reader(db, 1)
    add_reader(db, 2, ["AI"])
    add_reader(db, 3, ["Energy"])
    add_reader(db, 4, ["AI"])
    set_status(db, 4, STOPPED, NOW)
    return db


def _topics(db: Database, *names: str) -> frozenset[int]:
    found, unknown = topic_ids_by_names(db, names)
    assert not unknown
    return frozenset(found)


@pytest.mark.parametrize(
    ("topics", "expected"),
    [(("AI",), {1, 2}), (("Energy",), {1, 3}), (("AI", "Energy"), {1, 2, 3}), (None, {1, 2, 3})],
)
def test_push_audience(
    push_db: Database, topics: tuple[str, ...] | None, expected: set[int]
) -> None:
    db = push_db
    topic_ids = None if topics is None else _topics(db, *topics)
    push = create_push(db, created_by=9, article_id=None, text="t", topic_ids=topic_ids, now=NOW)
    assert (push.status, push.audience, push.created_by) == (PREVIEW, len(expected), 9)
    assert start_push(db, push.id, topic_ids, NOW) == len(expected)
    assert {m.chat_id for m in pending_batch(db, NOW, limit=10)} == expected


def test_start_push_queues_once(push_db: Database) -> None:
    db = push_db
    push = create_push(db, created_by=9, article_id=1, text="<b>AI</b>", topic_ids=None, now=NOW)
    assert start_push(db, push.id, None, NOW) == 3
    assert start_push(db, push.id, None, NOW) is None  # a double tap on "Send"
    queued = pending_batch(db, NOW, limit=10)
    assert sorted(m.chat_id for m in queued) == [1, 2, 3]
    assert {(m.priority, m.kind, m.push_id, m.text) for m in queued} == {
        (PRIORITY_BREAKING, "breaking", push.id, "<b>AI</b>")
    }
    stored = get_push(db, push.id)
    assert stored is not None and (stored.status, stored.audience) == (SENDING, 3)
    # The article is now reserved for each of them.
    assert {c for (c,) in db.execute("SELECT chat_id FROM deliveries WHERE article_id = 1")} == {
        1,
        2,
        3,
    }


def test_push_skips_readers_who_already_have_the_article(push_db: Database) -> None:
    db = push_db
    enqueue(db, [msg(2, "digest", articles=(1,))], NOW)  # reader 2 got article 1 in a digest
    ai = _topics(db, "AI")
    push = create_push(db, created_by=9, article_id=1, text="t", topic_ids=ai, now=NOW)
    assert push.audience == 1
    # Between preview and send, reader 1 gets it too: the send uses the audience as of now.
    enqueue(db, [msg(1, "digest", articles=(1,))], NOW)
    assert start_push(db, push.id, ai, NOW) == 0
    assert get_push(db, push.id).audience == 0  # type: ignore[union-attr]
    assert [m.push_id for m in pending_batch(db, NOW, limit=10)] == [None, None]


def test_start_unknown_push(push_db: Database) -> None:
    assert start_push(push_db, 12345, None, NOW) is None


def test_cancel_push_only_from_preview(push_db: Database) -> None:
    db = push_db
    first = create_push(db, created_by=9, article_id=None, text="a", topic_ids=None, now=NOW)
    assert cancel_push(db, first.id) is True
    assert get_push(db, first.id).status == CANCELLED  # type: ignore[union-attr]
    assert cancel_push(db, first.id) is False
    assert start_push(db, first.id, None, NOW) is None  # a cancelled push never goes out
    assert pending_batch(db, NOW, limit=10) == []

    second = create_push(db, created_by=9, article_id=None, text="b", topic_ids=None, now=NOW)
    assert start_push(db, second.id, None, NOW) == 3
    assert cancel_push(db, second.id) is False  # already sending
    assert get_push(db, second.id).status == SENDING  # type: ignore[union-attr]
    assert cancel_push(db, 12345) is False
