"""Expiry: a row no longer worth sending ends `expired`, and gives its articles back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlite_utils import Database

from bot.delivery.digest_queue import run_digest_tick
from storage.db import from_db_time, to_db_time
from storage.expiry import expire_rows, expire_stale_digests
from storage.outbox import OutgoingMessage, delivered_to, enqueue, outbox_counts
from storage.outbox_results import SendResult, record_results
from storage.readers import get_reader
from tests.factories import subscribe_reader

NOW = datetime(2025, 6, 2, 8, 0, 30, tzinfo=UTC)


def article(db: Database, n: int, ingested: datetime) -> int:
    return int(
        db.execute(
            "INSERT INTO articles (url, web_url, title, published_at, ingested_at) "
            "VALUES (?, ?, ?, ?, ?) RETURNING id",
            (f"https://e.example/{n}", f"https://e.example/{n}", f"Robots story {n}",
             to_db_time(ingested), to_db_time(ingested)),
        ).fetchone()[0]
    )  # fmt: skip


def reader(db: Database, chat: int) -> None:
    subscribe_reader(db, chat, first_name="R", at=NOW - timedelta(days=2))


def test_an_expired_digest_releases_its_articles_and_moves_the_window_back(db: Database) -> None:
    reader(db, 1)
    older = article(db, 1, NOW - timedelta(hours=20))
    newer = article(db, 2, NOW - timedelta(hours=3))
    db.conn.commit()
    db.execute("UPDATE readers SET next_digest_at = ? WHERE chat_id = 1", (to_db_time(NOW),))
    db.conn.commit()
    assert run_digest_tick(db, NOW) == 1
    assert delivered_to(db, 1) == {older, newer}
    window = get_reader(db, 1).digest_since  # type: ignore[union-attr]
    assert window == NOW  # everything was shown: the window moved to the tick

    (row_id,) = [r["id"] for r in db.query("SELECT id FROM outbox")]
    record_results(db, [SendResult(row_id, 1, "expired", error="expired: outage")], NOW)
    (row,) = db.query("SELECT status, last_error, attempts FROM outbox")
    assert row == {"status": "expired", "last_error": "expired: outage", "attempts": 1}
    assert delivered_to(db, 1) == set()
    since = get_reader(db, 1).digest_since  # type: ignore[union-attr]
    assert since is not None and since < NOW - timedelta(hours=20)  # before the older article

    # The next digest carries both again.
    db.execute(
        "UPDATE readers SET next_digest_at = ? WHERE chat_id = 1",
        (to_db_time(NOW + timedelta(days=1)),),
    )
    db.conn.commit()
    assert run_digest_tick(db, NOW + timedelta(days=1)) == 1
    assert delivered_to(db, 1) == {older, newer}


def test_the_tick_expires_a_due_readers_pending_digest_first(db: Database) -> None:
    reader(db, 1)
    reader(db, 2)
    first = article(db, 1, NOW - timedelta(hours=2))
    db.execute("UPDATE readers SET next_digest_at = ?", (to_db_time(NOW),))
    db.conn.commit()
    assert run_digest_tick(db, NOW) == 2
    # Reader 1's digest went out; reader 2's is still pending a day later (an outage).
    ids = {r["chat_id"]: r["id"] for r in db.query("SELECT id, chat_id FROM outbox")}
    record_results(db, [SendResult(ids[1], 1, "sent", message_id=7)], NOW)
    later = NOW + timedelta(days=1)
    assert run_digest_tick(db, later) == 1  # only reader 2 has something (again)
    assert outbox_counts(db) == {"pending": 1, "sent": 1, "failed": 0, "dropped": 0, "expired": 1}
    (fresh,) = db.query("SELECT chat_id, status FROM outbox WHERE status = 'pending'")
    assert fresh["chat_id"] == 2
    assert delivered_to(db, 2) == {first}
    expired = next(db.query("SELECT last_error FROM outbox WHERE status = 'expired'"))
    assert "next digest" in str(expired["last_error"])


def test_expiring_a_breaking_row_releases_it_but_leaves_the_window(db: Database) -> None:
    reader(db, 1)
    art = article(db, 1, NOW - timedelta(hours=2))
    db.conn.commit()
    before = get_reader(db, 1).digest_since  # type: ignore[union-attr]
    (row_id,) = enqueue(db, [OutgoingMessage(1, "alert", "breaking", 1, article_ids=(art,))], NOW)
    with db.conn:
        expire_rows(db, [row_id], "too old")
    assert delivered_to(db, 1) == set()
    assert get_reader(db, 1).digest_since == before  # type: ignore[union-attr]
    (row,) = db.query("SELECT status, attempts FROM outbox")
    assert row == {"status": "expired", "attempts": 0}  # never tried


def test_expire_stale_digests_ignores_readers_not_due(db: Database) -> None:
    reader(db, 1)
    enqueue(db, [OutgoingMessage(1, "digest", "digest", 2)], NOW)
    db.execute("UPDATE readers SET next_digest_at = ?", (to_db_time(NOW + timedelta(hours=1)),))
    db.conn.commit()
    assert expire_stale_digests(db, NOW) == 0
    assert expire_stale_digests(db, NOW + timedelta(hours=2)) == 1
    assert from_db_time(str(next(db.query("SELECT created_at FROM outbox"))["created_at"])) == NOW


def test_a_tick_honours_a_stop_between_batches(db: Database) -> None:
    for chat in range(1, 8):
        reader(db, chat)
    article(db, 1, NOW - timedelta(hours=2))
    db.execute("UPDATE readers SET next_digest_at = ?", (to_db_time(NOW),))
    db.conn.commit()
    batches: list[int] = []

    def stop_after_two() -> bool:
        batches.append(1)
        return len(batches) > 2

    assert run_digest_tick(db, NOW, batch=3, should_stop=stop_after_two) == 6
    due = db.execute(
        "SELECT count(*) FROM readers WHERE next_digest_at <= ?", (to_db_time(NOW),)
    ).fetchone()[0]
    assert due == 1  # the last reader stays due: the next tick (or start) serves them
    assert run_digest_tick(db, NOW, batch=3) == 1
