"""Digest ticks on a real database: who gets what, once, and in messages Telegram accepts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pytest
from sqlite_utils import Database

from bot.delivery.digest_queue import queue_digest_now, run_digest_tick
from digest.schedule import next_occurrence
from storage.outbox import PRIORITY_ANSWER, PRIORITY_DIGEST, commit_digests
from storage.outbox_results import SendResult, record_results
from storage.readers import ReaderStatus, get_reader
from storage.schedules import DigestDone, due_readers
from storage.subscriptions import set_status
from tests.botapi import parse_html_entities
from tests.botapi.html import utf16_len
from tests.factories import article, store_articles, store_by_title, subscribe_reader

DAY1 = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)  # readers take their digest at 08:00 UTC
TICK1 = DAY1 + timedelta(seconds=30)
TICK2 = TICK1 + timedelta(days=1)
HEADING = "Your digest ·"
MAX_TEXT = 4096


# This module's stories are published three hours before the first tick; its readers
# subscribed the evening before.
story = partial(article, published=DAY1 - timedelta(hours=3))
add_reader = partial(subscribe_reader, at=DAY1 - timedelta(hours=12))


def deliver_all(db: Database, at: datetime) -> None:
    """What the sender does between ticks: every pending row sent, as Telegram answered."""
    pending = db.execute("SELECT id, chat_id FROM outbox WHERE status = 'pending'").fetchall()
    record_results(
        db, [SendResult(i, chat, "sent", message_id=1000 + i) for i, chat in pending], at
    )


def outbox(db: Database, chat_id: int) -> list[dict[str, object]]:
    return list(db.query("SELECT * FROM outbox WHERE chat_id = ? ORDER BY id", [chat_id]))


def delivered(db: Database, chat_id: int) -> set[int]:
    return {
        a for (a,) in db.execute("SELECT article_id FROM deliveries WHERE chat_id = ?", (chat_id,))
    }


def digests_in(rows: list[dict[str, object]]) -> int:
    return sum(1 for r in rows if HEADING in str(r["text"]))


def assert_valid_for_telegram(text: str, reply_markup: object) -> str:
    """Telegram would accept the message: valid HTML, ≤ 4096 units, a valid keyboard."""
    parsed = parse_html_entities(text)  # raises on bad HTML, like Telegram's 400
    assert utf16_len(parsed.text) <= MAX_TEXT
    assert utf16_len(text) <= MAX_TEXT
    assert parsed.text.strip()
    if reply_markup is not None:
        markup = json.loads(str(reply_markup))
        buttons = [b for row in markup["inline_keyboard"] for b in row]
        assert 0 < len(buttons) <= 100
        assert all(1 <= len(b["callback_data"].encode()) <= 64 for b in buttons)
    return parsed.text


# -- scheduled ticks -----------------------------------------------------------------------------
@pytest.fixture
def newsroom(db: Database) -> tuple[Database, dict[str, int]]:
    """New AI, Energy and mixed stories since last night; a Sports one from last month."""
    month_ago = DAY1 - timedelta(days=30)
    store_articles(db, story("Cup final replay ordered", topics=["Sports"], published=month_ago),
                   at=month_ago)  # fmt: skip
    ids = store_by_title(
        db,
        story("Open weights model tops benchmark", topics=["AI"]),
        story("Chip export rules tightened", topics=["AI"]),
        story("Grid battery storage doubles", topics=["Energy"]),
        story("Offshore wind auction results", topics=["Energy"]),
        story("Data centres strain power grids", topics=["AI", "Energy"]),
        at=DAY1 - timedelta(hours=2),
    )
    return db, ids


def test_due_readers_get_their_topics_only(newsroom: tuple[Database, dict[str, int]]) -> None:
    db, ids = newsroom
    ai, energy, everything, sports = 1, 2, 3, 4
    add_reader(db, ai, ["AI"])
    add_reader(db, energy, ["Energy"])
    add_reader(db, everything)
    add_reader(db, sports, ["Sports"])
    add_reader(db, 5, ["AI"])
    set_status(db, 5, ReaderStatus.STOPPED, DAY1 - timedelta(hours=1))
    later = add_reader(db, 6, ["AI"], digest_time="20:00")

    assert run_digest_tick(db, TICK1) == 3

    ai_titles = {"Open weights model tops benchmark", "Chip export rules tightened",
                 "Data centres strain power grids"}  # fmt: skip
    energy_titles = {"Grid battery storage doubles", "Offshore wind auction results",
                     "Data centres strain power grids"}  # fmt: skip
    for chat, titles in ((ai, ai_titles), (energy, energy_titles), (everything, set(ids))):
        rows = outbox(db, chat)
        assert digests_in(rows) == 1
        assert {(r["priority"], r["kind"], r["status"]) for r in rows} == {
            (PRIORITY_DIGEST, "digest", "pending")
        }
        text = "\n".join(assert_valid_for_telegram(str(r["text"]), r["reply_markup"]) for r in rows)
        assert {t for t in ids if t in text} == titles
        assert delivered(db, chat) == {ids[t] for t in titles}
        reader = get_reader(db, chat)
        assert reader is not None
        assert (reader.last_digest_at, reader.digest_since) == (TICK1, TICK1)
        assert reader.next_digest_at == DAY1 + timedelta(days=1)
    assert "Cup final replay ordered" not in str(outbox(db, everything)[0]["text"])

    # Nothing new on Sports: no message, but the next digest time moves on.
    assert outbox(db, sports) == []
    reader = get_reader(db, sports)
    assert reader is not None
    assert reader.next_digest_at == DAY1 + timedelta(days=1)
    assert (reader.last_digest_at, reader.digest_since) == (None, None)

    # The stopped reader and the one due tonight got nothing and kept their schedule.
    assert outbox(db, 5) == [] and outbox(db, 6) == []
    assert get_reader(db, 6) == later


def test_nothing_is_sent_twice(db: Database) -> None:
    chat = 1
    store_articles(db, story("Seed story about robots", topics=["AI"]), at=DAY1 - timedelta(days=3))
    add_reader(db, chat, ["AI"], at=DAY1 - timedelta(days=3))
    # A first digest (everything shown) sets the reader's window to its time.
    first_tick = DAY1 - timedelta(days=1) + timedelta(seconds=30)
    commit_digests(db, [], [DigestDone(chat, DAY1, True, True)], first_tick)

    batch = store_by_title(
        db,
        story("Alpha lab unveils humanoid", topics=["AI"], quality=90),
        story("Beta startup raises funding", topics=["AI"], quality=80),
        story("Gamma chip delayed again", topics=["AI"], quality=70),
        at=DAY1 - timedelta(hours=1),
    )
    assert run_digest_tick(db, TICK1, cap=2) == 1
    shown_first = delivered(db, chat)
    assert shown_first == {
        batch["Alpha lab unveils humanoid"],
        batch["Beta startup raises funding"],
    }
    reader = get_reader(db, chat)
    assert reader is not None
    # A story was left over: the window does not move, so it can come next time.
    assert reader.digest_since == first_tick and reader.last_digest_at == TICK1

    # The same moment again: nobody is due any more.
    assert run_digest_tick(db, TICK1, cap=2) == 0
    assert digests_in(outbox(db, chat)) == 1
    deliver_all(db, TICK1 + timedelta(seconds=5))

    # Next day: one new story; the leftover comes, the two already sent do not.
    new = store_by_title(
        db, story("Delta drone law passes", topics=["AI"]), at=TICK2 - timedelta(hours=1)
    )
    assert run_digest_tick(db, TICK2, cap=2) == 1
    rows = outbox(db, chat)
    second = [r for r in rows if r["created_at"] != rows[0]["created_at"]]
    text = "\n".join(str(r["text"]) for r in second)
    assert "Gamma chip delayed again" in text
    assert "Delta drone law passes" in text
    assert "Alpha lab unveils humanoid" not in text and "Beta startup raises funding" not in text
    assert delivered(db, chat) == shown_first | {batch["Gamma chip delayed again"],
                                                 new["Delta drone law passes"]}  # fmt: skip
    reader = get_reader(db, chat)
    assert reader is not None and reader.digest_since == TICK2  # all shown now

    # A day later with nothing new, nothing at all is queued.
    deliver_all(db, TICK2 + timedelta(seconds=5))
    assert run_digest_tick(db, TICK2 + timedelta(days=1), cap=2) == 0
    assert len(outbox(db, chat)) == len(rows)


def test_leftovers_of_a_first_digest_come_next_time(db: Database) -> None:
    chat = 1
    store_articles(
        db,
        story("Alpha lab unveils humanoid", topics=["AI"], quality=90),
        story("Beta startup raises funding", topics=["AI"], quality=80),
        at=DAY1 - timedelta(hours=1),
    )
    add_reader(db, chat, ["AI"])
    assert run_digest_tick(db, TICK1, cap=1) == 1
    deliver_all(db, TICK1 + timedelta(seconds=5))
    assert run_digest_tick(db, TICK2, cap=1) == 1
    assert "Beta startup raises funding" in str(outbox(db, chat)[-1]["text"])


def test_one_catch_up_digest_after_downtime(db: Database) -> None:
    chat = 1
    now = DAY1 + timedelta(hours=3)
    for days_ago, title in [(8, "Eight days old"), (5, "Five days old"), (3, "Three days old"),
                            (1, "One day old"), (0, "Fresh this hour")]:  # fmt: skip
        at = now - timedelta(days=days_ago, minutes=30)
        store_articles(db, story(f"{title} robotics story", topics=["AI"], published=at), at=at)
    add_reader(db, chat, ["AI"], at=now - timedelta(days=12))
    # The last digest went out ten days ago; the bot has been down for the last three days.
    commit_digests(
        db, [], [DigestDone(chat, now - timedelta(days=3), True, True)], now - timedelta(days=10)
    )
    assert [r.chat_id for r in due_readers(db, now - timedelta(days=2))] == [chat]

    # A month's NEWSDIGEST_MAX_AGE, so the week-long catch-up window is what limits.
    assert run_digest_tick(db, now, max_age=timedelta(days=30)) == 1
    rows = outbox(db, chat)
    assert digests_in(rows) == 1
    text = "\n".join(str(r["text"]) for r in rows)
    # Catch-up reaches back a week at most.
    assert "Eight days old" not in text
    for title in ("Five days old", "Three days old", "One day old", "Fresh this hour"):
        assert title in text
    reader = get_reader(db, chat)
    assert reader is not None
    assert reader.next_digest_at == next_occurrence(time(8, 0), ZoneInfo("UTC"), now)
    assert now < reader.next_digest_at <= now + timedelta(hours=25)
    # Not one digest per missed day: the next ticks find nobody due.
    assert run_digest_tick(db, now + timedelta(minutes=1)) == 0
    assert run_digest_tick(db, now + timedelta(hours=4)) == 0
    assert len(outbox(db, chat)) == len(rows)


# -- message parts -------------------------------------------------------------------------------
HOSTILE_BITS = [
    "R&D",
    "<script>alert(1)</script>",
    "“quoted”",
    "🧪🚀",
    "a < b > c",
    "&amp;",
    "\u202e",
]


@pytest.fixture
def long_digest(db: Database) -> tuple[Database, dict[str, int], dict[str, str]]:
    """Ten long stories (two parts at least); story 0 has a second article on the same story."""
    articles = []
    for n in range(10):
        words = " ".join(f"w{n}k{k}" for k in range(14))
        bits = " ".join(HOSTILE_BITS[(n + i) % len(HOSTILE_BITS)] for i in range(3))
        title = f"Story {n} {bits} {words}"
        excerpt = (f"Excerpt {n} with {bits} " + "lorem ipsum dolor 🙂 " * 30)[:270]
        articles.append(
            story(title, topics=["AI"], excerpt=excerpt, quality=95 - n,
                  related=["https://news.example/long-0-wire"] if n == 0 else ())
        )  # fmt: skip
    wire = story("Wire copy: " + articles[0].title, "https://news.example/long-0-wire", ["AI"],
                 quality=10, related=[articles[0].web_url])  # fmt: skip
    ids = store_by_title(db, *articles, wire, at=DAY1 - timedelta(hours=1))
    add_reader(db, 1, ["AI"])
    return db, ids, {"lead": articles[0].title, "wire": wire.title}


def test_parts_record_the_articles_they_show(
    long_digest: tuple[Database, dict[str, int], dict[str, str]],
) -> None:
    db, ids, pair = long_digest
    assert run_digest_tick(db, TICK1) == 1
    rows = outbox(db, 1)
    assert len(rows) >= 2
    assert digests_in(rows) == 1
    by_part: dict[int, set[int]] = {}
    for outbox_id, article_id in db.execute(
        "SELECT outbox_id, article_id FROM deliveries WHERE chat_id = 1"
    ):
        by_part.setdefault(outbox_id, set()).add(article_id)
    # Each long title ends in a word of its own ("w3k13"); the wire copy's is its lead's.
    leads = {
        title.split()[-1]: article_id for title, article_id in ids.items() if title != pair["wire"]
    }
    for row in rows:
        plain = assert_valid_for_telegram(str(row["text"]), row["reply_markup"])
        shown = {article_id for marker, article_id in leads.items() if marker in plain.split()}
        if ids[pair["lead"]] in shown:
            shown.add(ids[pair["wire"]])  # the same story's other article goes with it
        assert by_part.get(int(row["id"]), set()) == shown  # type: ignore[call-overload]
    # Every story is in exactly one part, and all of them were shown.
    assert sum(len(s) for s in by_part.values()) == len(ids)
    assert set().union(*by_part.values()) == set(ids.values())


def test_digest_for_a_reader_in_another_zone(db: Database) -> None:
    store_articles(
        db, story("Monsoon forecast revised", topics=["Climate"]), at=DAY1 - timedelta(hours=1)
    )
    reader = add_reader(db, 1, ["Climate"], digest_time="13:30", timezone="Asia/Kolkata")
    assert reader.next_digest_at == DAY1  # 13:30 IST = 08:00 UTC
    assert run_digest_tick(db, TICK1) == 1
    (row,) = outbox(db, 1)
    plain = assert_valid_for_telegram(str(row["text"]), row["reply_markup"])
    assert plain.startswith(f"{HEADING} Mon 02 Jun")
    reader = get_reader(db, 1)
    assert reader is not None and reader.next_digest_at == DAY1 + timedelta(days=1)


# -- on demand -----------------------------------------------------------------------------------
def test_queue_digest_now(newsroom: tuple[Database, dict[str, int]]) -> None:
    db, ids = newsroom
    reader = add_reader(db, 1, ["Energy"])
    now = DAY1 - timedelta(minutes=30)
    result = queue_digest_now(db, reader, now)
    rows = outbox(db, 1)
    assert result.queued == len(rows) >= 1
    assert result.since == now - timedelta(days=1)
    assert {(r["priority"], r["kind"]) for r in rows} == {(PRIORITY_ANSWER, "digest")}
    energy = {ids["Grid battery storage doubles"], ids["Offshore wind auction results"],
              ids["Data centres strain power grids"]}  # fmt: skip
    assert delivered(db, 1) == energy
    after = get_reader(db, 1)
    assert after is not None
    assert (after.last_digest_at, after.digest_since) == (now, now)
    assert after.next_digest_at == reader.next_digest_at  # the schedule stays

    # Asked again: nothing new since the last one.
    again = queue_digest_now(db, after, now + timedelta(minutes=5))
    assert again.queued == 0
    assert again.since == now
    deliver_all(db, now + timedelta(seconds=5))
    # The scheduled digest half an hour later has nothing left to send either.
    assert run_digest_tick(db, TICK1) == 0
    assert len(outbox(db, 1)) == len(rows)


def test_a_tick_works_through_every_batch(newsroom: tuple[Database, dict[str, int]]) -> None:
    """Readers go in small transactions, and the tick does not stop after the first."""
    db, _ = newsroom
    for chat_id in range(10, 17):
        add_reader(db, chat_id, ["AI"])
    assert run_digest_tick(db, TICK1, batch=2) == 7
    assert all(digests_in(outbox(db, chat_id)) == 1 for chat_id in range(10, 17))
    assert due_readers(db, TICK1) == []
