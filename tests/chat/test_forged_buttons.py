"""Forged, malformed and stale callback data: one "out of date" answer, no error, no report.

Any client can put anything in a callback query. Before digest.callbacks, data such as
``rel:99999999999999999999`` or ``push:send:²`` raised in the handlers: a traceback in the
log and an error report to the admins, so any reader could fill the admins' one report a
minute and hide real errors.
"""

from __future__ import annotations

import logging

import pytest
from sqlite_utils import Database

from bot.chat.replies import NOT_ALLOWED, STALE_BUTTON
from storage.db import utcnow
from tests.chat.harness import (
    ADMIN_ID,
    READER,
    Offline,
    count,
    reader,
)
from tests.factories import article, store_articles

FORGED = [
    "rel:99999999999999999999",  # beyond SQLite's int64: OverflowError before
    "rel:²",
    "rel:-1",
    "rel:007",
    "rel:7:8",
    "tt:²:0",
    "tt:1:²",
    "tt:99999999999999999999:0",
    "tt:1",
    "tp:-1",
    "tp:99999999999999999999",
    "tx:abc",
    "td:extra",
    "digest:more:2",
    "push:send:²",
    "push:cancel:99999999999999999999",
    "push:launch:1",
    "push:send:",
    "garbage",
    "🔥" * 20,  # 80 bytes
    "rel:" + "1" * 70,  # over 64 bytes
    "tt:" + "9" * 100 + ":0",
    "",
]


@pytest.fixture
async def started(offline: Offline, db: Database) -> tuple[Offline, int]:
    """A subscribed reader and an admin, each with a bot message to press buttons under."""
    store_articles(db, article("Ban endorsed", "https://example.com/ban", ["AI"]), at=utcnow())
    start = await offline.start(READER)
    await offline.start(ADMIN_ID)
    return offline, start.result["message_id"]


def assert_quiet(offline: Offline, caplog: pytest.LogCaptureFixture) -> None:
    """Nothing logged at ERROR, no report sent to an admin, no message to anyone."""
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
    assert offline.errors == []


@pytest.mark.parametrize("data", FORGED)
async def test_forged_data_from_a_reader_gets_one_stale_answer_and_nothing_else(
    started: tuple[Offline, int], db: Database, caplog: pytest.LogCaptureFixture, data: str
) -> None:
    offline, message_id = started
    caplog.set_level(logging.INFO)
    topics_before = reader(db).topic_ids
    answer, calls = await offline.press(READER, message_id, data, on_keyboard=False)
    assert answer.params["text"] == STALE_BUTTON and answer.params["show_alert"] is True
    assert [c.method for c in calls] == ["answerCallbackQuery"]  # no reply, no admin report
    assert_quiet(offline, caplog)
    assert reader(db).topic_ids == topics_before
    assert count(db, "SELECT count(*) FROM outbox") == 0


@pytest.mark.parametrize(
    "data",
    [d for d in FORGED if d.startswith("push:")]
    + ["push:send:999", "push:cancel:999", "push:send:9223372036854775807"],
)
async def test_forged_or_unknown_push_buttons_from_an_admin_change_nothing(
    started: tuple[Offline, int], db: Database, caplog: pytest.LogCaptureFixture, data: str
) -> None:
    offline, _ = started
    admin_message = offline.request.sent(ADMIN_ID)[-1].result["message_id"]
    caplog.set_level(logging.INFO)
    answer, calls = await offline.press(ADMIN_ID, admin_message, data, on_keyboard=False)
    assert answer.params["text"] == STALE_BUTTON and answer.params["show_alert"] is True
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    assert_quiet(offline, caplog)
    assert count(db, "SELECT count(*) FROM outbox") == 0


async def test_a_well_formed_push_button_from_a_reader_is_refused(
    started: tuple[Offline, int], db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    offline, message_id = started
    caplog.set_level(logging.INFO)
    answer, calls = await offline.press(READER, message_id, "push:send:1", on_keyboard=False)
    assert answer.params["text"] == NOT_ALLOWED
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    assert_quiet(offline, caplog)


async def test_well_formed_ids_that_name_nothing_are_checked_against_the_database(
    started: tuple[Offline, int], db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    offline, message_id = started
    caplog.set_level(logging.INFO)
    biggest = 2**63 - 1  # the largest id SQLite can hold: a lookup, not an overflow
    answer, calls = await offline.press(READER, message_id, f"rel:{biggest}", on_keyboard=False)
    assert answer.params["text"] == "That story is no longer stored."
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    answer, _ = await offline.press(
        READER, message_id, f"tt:{READER}:{biggest}:0", on_keyboard=False
    )
    assert answer.params["text"] == "That topic no longer exists"
    assert reader(db).topic_ids == frozenset()
    assert count(db, "SELECT count(*) FROM reader_topics") == 0
    assert_quiet(offline, caplog)
