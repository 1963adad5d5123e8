"""Quiet hours in "hold until morning" mode, through the real sender against the stand-in:
a breaking push queued inside the window waits until it ends (longer than a push's
maximum age: the hold does not expire it), while the reader's answers and digests pass."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from sqlite_utils import Database

from storage.db import from_db_time
from storage.outbox import PRIORITY_ANSWER, PRIORITY_DIGEST, MessageKind, OutgoingMessage, enqueue
from storage.pushes import create_push, start_push
from storage.reader_settings import set_quiet
from storage.readers import QuietHours, QuietMode
from tests.botapi import FakeBotApi
from tests.clock import ManualClock
from tests.factories import article, store_articles, subscribe_reader
from tests.test_sender import running_sender
from tests.waiting import until

CHAT = 7_100
NIGHT = datetime(2031, 3, 4, 23, 0, tzinfo=UTC)  # inside 22:00-07:00 in the reader's UTC
MORNING = datetime(2031, 3, 5, 7, 0, tzinfo=UTC)  # when the window ends: 8 h later


def _status(db: Database, outbox_id: int) -> str:
    return str(db.execute("SELECT status FROM outbox WHERE id = ?", (outbox_id,)).fetchone()[0])


def _push_row(db: Database) -> dict[str, object]:
    [row] = db.query("SELECT * FROM outbox WHERE kind = 'breaking'")
    return row


async def test_a_push_in_held_quiet_hours_waits_for_their_end_and_answers_do_not(
    db: Database, db_path: Path
) -> None:
    (article_id,) = store_articles(
        db, article("Polls close early", "https://n.example/polls", ["Politics"]), at=NIGHT
    )
    subscribe_reader(db, CHAT, at=NIGHT - timedelta(hours=1))  # next digest: 08:00 tomorrow
    set_quiet(db, CHAT, QuietHours(time(22), time(7), QuietMode.HOLD), NIGHT)
    push = create_push(
        db, created_by=1, article_id=article_id, text="🔴 Breaking: polls", topic_ids=None,
        now=NIGHT,
    )  # fmt: skip
    assert start_push(db, push.id, None, NIGHT) == 1
    held = _push_row(db)
    assert from_db_time(str(held["hold_until"])) == MORNING
    assert held["disable_notification"] == 1  # and silent when it comes
    # The same reader's answer and digest, queued after the push inside the window.
    answer_id, digest_id = enqueue(
        db,
        [
            OutgoingMessage(CHAT, "An answer", MessageKind.ANSWER, PRIORITY_ANSWER),
            OutgoingMessage(CHAT, "Your digest", MessageKind.DIGEST, PRIORITY_DIGEST),
        ],
        NIGHT,
    )

    clock = ManualClock(NIGHT + timedelta(minutes=1))
    async with (
        FakeBotApi(open_chats=True) as api,
        running_sender(api, db_path, clock=clock) as sender,
    ):
        await until(lambda: _status(db, digest_id) == "sent", "the digest to pass the push")
        assert _status(db, answer_id) == "sent"
        assert [m.plain_text for m in api.messages(CHAT)] == ["An answer", "Your digest"]
        assert _push_row(db)["status"] == "pending"

        # A second before the end: another answer goes out, the push still waits.
        clock.set(MORNING - timedelta(seconds=1))
        (later_id,) = enqueue(
            db,
            [OutgoingMessage(CHAT, "Another answer", MessageKind.ANSWER, PRIORITY_ANSWER)],
            clock(),
        )
        sender.wake()
        await until(lambda: _status(db, later_id) == "sent", "the later answer")
        assert _push_row(db)["status"] == "pending"

        clock.set(MORNING)  # 8 h after it was queued: past NEWSDIGEST_BREAKING_MAX_AGE
        sender.wake()
        await until(lambda: _push_row(db)["status"] == "sent", "the held push at 07:00")

    sent = [c for c in api.calls if c.method == "sendMessage" and c.status == 200]
    texts = ["An answer", "Your digest", "Another answer", "🔴 Breaking: polls"]
    assert [c.params["text"] for c in sent] == texts
    assert [bool(c.params.get("disable_notification")) for c in sent] == [False] * 3 + [True]
    assert api.stats()["duplicates"] == 0
