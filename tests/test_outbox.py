"""The outbox (queueing, batches, send results) and breaking pushes, on a real SQLite file."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

import pytest
from sqlite_utils import Database

from digest.keyboard import Button
from storage.db import from_db_time, to_db_time
from storage.outbox import (
    PRIORITY_ANSWER,
    PRIORITY_BREAKING,
    PRIORITY_DIGEST,
    MessageKind,
    OutgoingMessage,
    commit_digests,
    delivered_to,
    enqueue,
    outbox_counts,
    pending_batch,
    push_counts,
)
from storage.outbox_results import SendResult, record_results
from storage.pushes import (
    PushStatus,
    cancel_push,
    create_push,
    get_push,
    start_push,
)
from storage.readers import ReaderStatus, get_reader
from storage.schedules import DigestDone
from storage.subscriptions import drop_chat, set_status
from storage.topics import topic_ids_by_names
from tests.factories import NOW, articles_on, outgoing, store_articles, subscribe_reader


def row(db: Database, outbox_id: int) -> dict[str, object]:
    return next(db.query("SELECT * FROM outbox WHERE id = ?", [outbox_id]))


def deliveries(db: Database) -> list[dict[str, object]]:
    return list(db.query("SELECT * FROM deliveries ORDER BY chat_id, article_id"))


# -- queueing ------------------------------------------------------------------------------------
def test_enqueue_reserves_deliveries(db: Database) -> None:
    a1, a2, a3 = store_articles(db, *articles_on(["AI"], ["AI"], ["AI"]))
    ids = enqueue(
        db,
        [
            outgoing(1, "part 1", articles=(a1, a2)),
            outgoing(1, "part 2", articles=(a3,)),
            outgoing(2, "<b>x</b>", priority=PRIORITY_BREAKING, articles=(a1,)),
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
    (a1,) = store_articles(db, *articles_on(["AI"]))
    first, second = enqueue(db, [outgoing(1, articles=(a1,)), outgoing(1, articles=(a1,))], NOW)
    assert [d["outbox_id"] for d in deliveries(db)] == [first]
    assert second > first


def test_keyboard_round_trips_as_bot_api_json(db: Database) -> None:
    keyboard = (
        (Button("🔗 1", "rel:1"), Button("🔗 2", "rel:2")),
        (Button("More (3)", "digest:more"),),
    )
    enqueue(db, [OutgoingMessage(1, "t", MessageKind.DIGEST, PRIORITY_DIGEST, keyboard)], NOW)
    (queued,) = pending_batch(db, NOW, limit=10)
    assert queued.keyboard == keyboard
    # The column keeps the Bot API's reply_markup JSON, as rows have always held it.
    (stored,) = db.execute("SELECT reply_markup FROM outbox").fetchone()
    assert json.loads(stored) == {
        "inline_keyboard": [
            [
                {"text": "🔗 1", "callback_data": "rel:1"},
                {"text": "🔗 2", "callback_data": "rel:2"},
            ],
            [{"text": "More (3)", "callback_data": "digest:more"}],
        ]
    }


def test_a_row_queued_before_the_keyboard_type_still_reads(db: Database) -> None:
    """Rows written by earlier versions (plain Bot API JSON, ASCII-escaped) still send."""
    legacy = '{"inline_keyboard": [[{"text": "\\ud83d\\udd17 1", "callback_data": "rel:7"}]]}'
    db.execute(
        "INSERT INTO outbox (chat_id, priority, kind, text, reply_markup, status, attempts, "
        "created_at) VALUES (1, 2, 'digest', 't', ?, 'pending', 0, ?)",
        (legacy, to_db_time(NOW)),
    )
    (queued,) = pending_batch(db, NOW, limit=10)
    assert queued.keyboard == ((Button("🔗 1", "rel:7"),),)


# -- pending batches -----------------------------------------------------------------------------
def test_pending_batch_orders_by_priority_then_id(db: Database) -> None:
    ids = enqueue(
        db,
        [
            outgoing(1, "d1"),
            outgoing(2, "b1", priority=PRIORITY_BREAKING),
            outgoing(3, "a1", priority=PRIORITY_ANSWER),
            outgoing(4, "d2"),
            outgoing(5, "b2", priority=PRIORITY_BREAKING),
            outgoing(6, "a2", priority=PRIORITY_ANSWER),
        ],
        NOW,
    )
    batch = pending_batch(db, NOW, limit=10)
    assert [m.text for m in batch] == ["a1", "a2", "b1", "b2", "d1", "d2"]
    assert {m.id for m in batch} == set(ids)
    assert [m.text for m in pending_batch(db, NOW, limit=3)] == ["a1", "a2", "b1"]


def test_pending_batch_skips_given_ids_and_still_fills_the_limit(db: Database) -> None:
    ids = enqueue(db, [outgoing(chat) for chat in range(1, 7)], NOW)
    batch = pending_batch(db, NOW, limit=3, skip_ids=ids[:2])
    assert [m.id for m in batch] == ids[2:5]
    assert pending_batch(db, NOW, limit=10, skip_ids=ids) == []


def test_pending_batch_leaves_out_finished_rows(db: Database) -> None:
    ids = enqueue(db, [outgoing(1), outgoing(2), outgoing(3), outgoing(4)], NOW)
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
    ids = enqueue(
        db,
        [outgoing(1, "1a"), outgoing(1, "1b"), outgoing(2, "2a"), outgoing(1, "1c", priority=0)],
        NOW,
    )
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
    a1, a2 = store_articles(db, *articles_on(["AI"], ["AI"]))
    ids = enqueue(db, [outgoing(1, articles=(a1,)), outgoing(1, articles=(a2,))], NOW)
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
    (a1,) = store_articles(db, *articles_on(["AI"]))
    (oid,) = enqueue(db, [outgoing(1, articles=(a1,))], NOW)
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
    a1, a2 = store_articles(db, *articles_on(["AI"], ["AI"]))
    subscribe_reader(db, 1)
    ids = enqueue(db, [outgoing(1, articles=(a1,)), outgoing(1, articles=(a2,))], NOW)
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
    a1, a2, a3 = store_articles(db, *articles_on(["AI"], ["AI"], ["AI"]))
    subscribe_reader(db, 1)
    subscribe_reader(db, 2)
    ids = enqueue(
        db,
        [
            outgoing(1, "sent earlier", articles=(a1,)),
            outgoing(1, "refused", articles=(a2,)),
            outgoing(1, "later", articles=(a3,)),
            outgoing(2, "other reader", articles=(a2,)),
        ],
        NOW,
    )
    record_results(db, [SendResult(ids[0], 1, "sent", message_id=5)], NOW)
    summary = record_results(
        db, [SendResult(ids[1], 1, "blocked", error="Forbidden: bot was blocked by the user")], NOW
    )
    assert summary.blocked_chats == (1,)
    reader = get_reader(db, 1)
    assert reader is not None and reader.status == ReaderStatus.BLOCKED
    assert [row(db, i)["status"] for i in ids] == ["sent", "dropped", "dropped", "pending"]
    assert row(db, ids[2])["last_error"] == "Forbidden: bot was blocked by the user"
    # What was sent stays delivered; what was only queued is released.
    assert delivered_to(db, 1) == {a1}
    assert delivered_to(db, 2) == {a2}
    other = get_reader(db, 2)
    assert other is not None and other.status == ReaderStatus.ACTIVE


def test_drop_chat(db: Database) -> None:
    subscribe_reader(db, 1)
    ids = enqueue(db, [outgoing(1), outgoing(1)], NOW)
    drop_chat(db, 1, "chat not found", NOW)
    assert [row(db, i)["status"] for i in ids] == ["dropped", "dropped"]
    assert get_reader(db, 1).status == ReaderStatus.BLOCKED  # type: ignore[union-attr]


def test_record_migrated_moves_rows_to_the_new_chat(db: Database) -> None:
    (a1,) = store_articles(db, *articles_on(["AI"]))
    old, new = -4001, -100_000_000_4001
    subscribe_reader(db, old)
    ids = enqueue(db, [outgoing(old, "one", articles=(a1,)), outgoing(old, "two")], NOW)
    record_results(db, [SendResult(ids[0], old, "migrated", new_chat_id=new)], NOW)
    assert [row(db, i)["chat_id"] for i in ids] == [new, new]
    assert [row(db, i)["status"] for i in ids] == ["pending", "pending"]
    assert [m.chat_id for m in pending_batch(db, NOW, limit=10)] == [new, new]
    assert get_reader(db, old) is None
    assert get_reader(db, new) is not None
    assert delivered_to(db, new) == {a1}
    assert delivered_to(db, old) == set()


def test_record_results_reports_pushes_touched(db: Database) -> None:
    subscribe_reader(db, 1)
    subscribe_reader(db, 2)
    push = create_push(db, created_by=9, article_id=None, text="Breaking", topic_ids=None, now=NOW)
    assert start_push(db, push.id, None, NOW) == 2
    (plain,) = enqueue(db, [outgoing(3)], NOW)
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
        subscribe_reader(db, chat)
    push = create_push(db, created_by=9, article_id=None, text="Breaking", topic_ids=None, now=NOW)
    start_push(db, push.id, None, NOW)
    extra = enqueue(db, [outgoing(5), outgoing(5)], NOW)
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
    (a1,) = store_articles(db, *articles_on(["AI"]))
    subscribe_reader(db, 1)
    next_at = NOW + timedelta(hours=20)
    commit_digests(
        db, [outgoing(1, "digest", articles=(a1,))], [DigestDone(1, next_at, True, True)], NOW
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
    a1, a2 = store_articles(db, *articles_on(["AI"], ["AI"]))
    subscribe_reader(db, 1)
    subscribe_reader(db, 2)
    before = [get_reader(db, 1), get_reader(db, 2)]
    broken = OutgoingMessage(2, None, "digest", PRIORITY_DIGEST, article_ids=(a2,))  # type: ignore[arg-type]
    next_at = NOW + timedelta(hours=20)
    with pytest.raises(sqlite3.IntegrityError):
        commit_digests(
            db,
            [outgoing(1, "fine", articles=(a1,)), broken],
            [DigestDone(1, next_at, True, True), DigestDone(2, next_at, True, True)],
            NOW,
        )
    assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
    assert deliveries(db) == []
    assert [get_reader(db, 1), get_reader(db, 2)] == before
    assert not db.conn.in_transaction
    # The connection is still usable afterwards.
    commit_digests(
        db, [outgoing(1, "fine", articles=(a1,))], [DigestDone(1, next_at, True, True)], NOW
    )
    assert outbox_counts(db)["pending"] == 1


# -- pushes --------------------------------------------------------------------------------------
@pytest.fixture
def push_db(db: Database) -> Database:
    """Articles: 1 (AI), 2 (Energy). Readers 1 (all), 2 (AI), 3 (Energy), 4 (AI, stopped)."""
    store_articles(db, *articles_on(["AI"], ["Energy"]))
    subscribe_reader(db, 1)
    subscribe_reader(db, 2, ["AI"])
    subscribe_reader(db, 3, ["Energy"])
    subscribe_reader(db, 4, ["AI"])
    set_status(db, 4, ReaderStatus.STOPPED, NOW)
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
    assert (push.status, push.audience, push.created_by) == (PushStatus.PREVIEW, len(expected), 9)
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
    assert stored is not None and (stored.status, stored.audience) == (PushStatus.SENDING, 3)
    # The article is now reserved for each of them.
    assert {c for (c,) in db.execute("SELECT chat_id FROM deliveries WHERE article_id = 1")} == {
        1,
        2,
        3,
    }


def test_push_skips_readers_who_already_have_the_article(push_db: Database) -> None:
    db = push_db
    enqueue(db, [outgoing(2, "digest", articles=(1,))], NOW)  # reader 2 got article 1 in a digest
    ai = _topics(db, "AI")
    push = create_push(db, created_by=9, article_id=1, text="t", topic_ids=ai, now=NOW)
    assert push.audience == 1
    # Between preview and send, reader 1 gets it too: the send uses the audience as of now.
    enqueue(db, [outgoing(1, "digest", articles=(1,))], NOW)
    assert start_push(db, push.id, ai, NOW) == 0
    assert get_push(db, push.id).audience == 0  # type: ignore[union-attr]
    assert [m.push_id for m in pending_batch(db, NOW, limit=10)] == [None, None]


def test_start_unknown_push(push_db: Database) -> None:
    assert start_push(push_db, 12345, None, NOW) is None


def test_cancel_push_only_from_preview(push_db: Database) -> None:
    db = push_db
    first = create_push(db, created_by=9, article_id=None, text="a", topic_ids=None, now=NOW)
    assert cancel_push(db, first.id) is True
    assert get_push(db, first.id).status == PushStatus.CANCELLED  # type: ignore[union-attr]
    assert cancel_push(db, first.id) is False
    assert start_push(db, first.id, None, NOW) is None  # a cancelled push never goes out
    assert pending_batch(db, NOW, limit=10) == []

    second = create_push(db, created_by=9, article_id=None, text="b", topic_ids=None, now=NOW)
    assert start_push(db, second.id, None, NOW) == 3
    assert cancel_push(db, second.id) is False  # already sending
    assert get_push(db, second.id).status == PushStatus.SENDING  # type: ignore[union-attr]
    assert cancel_push(db, 12345) is False
