"""The rate budget end to end, against a strict sliding-window stand-in: zero 429s at 0.9 of
the limit with every kind of send mixed, per-chat 429s holding one chat only, a global 429
pausing all for exactly its retry_after, /related paced, paid broadcasts on their own budget."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.delivery.ratelimit import PriorityRateLimiter
from storage.db import open_db, to_db_time, utcnow
from storage.outbox import PRIORITY_DIGEST, MessageKind, OutgoingMessage, enqueue, outbox_counts
from tests.botapi import FakeBotApi
from tests.botapi.records import max_in_window
from tests.e2e.harness import ADMIN_ID, make_settings, running_bot, write_article
from tests.e2e.processes import counts, pushes, until
from tests.factories import subscribe_reader
from tests.test_sender import drained, running_sender

FIRST_READER = 50_000


def subscribe_readers(settings_db: Path, n: int, due: int) -> None:
    """``n`` readers (no topics: everything), the first ``due`` of them due for a digest now."""
    db = open_db(settings_db)
    try:
        now = utcnow()
        for i in range(n):
            subscribe_reader(db, FIRST_READER + i, first_name="R", at=now)
        db.execute(
            "UPDATE readers SET next_digest_at = ? WHERE chat_id < ?",
            (to_db_time(now), FIRST_READER + due),
        )
        db.conn.commit()
    finally:
        db.close()


async def test_zero_429s_at_nine_tenths_of_a_strict_window(tmp_path: Path) -> None:
    """Answers, a breaking push with its progress edits, and digests, all at once: the bot
    never puts more than NEWSDIGEST_RATE sends in any second, so a stand-in that refuses
    the (L+1)th send in any sliding second never refuses one."""
    limit, rate, readers = 100, 90, 240
    async with FakeBotApi(
        window_limit=limit, chat_window=(3, 1.0), group_window=(20, 60.0), latency=0.04,
        open_chats=True,
    ) as api:  # fmt: skip
        settings = make_settings(api, tmp_path, rate=float(rate))
        subscribe_readers(settings.db_path, readers, due=readers // 2)
        async with running_bot(settings):
            await api.send_text(ADMIN_ID, "/breaking Free text for every reader")
            await api.wait_for_message(ADMIN_ID, timeout=10)  # the preview
            confirm = await api.wait_for_message(ADMIN_ID, timeout=10)
            (send,) = [d for d in confirm.callback_data() if d.startswith("push:send:")]
            await api.press_button(ADMIN_ID, confirm.message_id, send)
            for user in (7, 8, 9):  # new readers arrive mid-push and are answered
                await api.send_text(user, "/start")
            for user in (7, 8, 9):
                assert "Hello" in (await api.wait_for_message(user, timeout=10)).plain_text
            await api.wait_for_edit(
                ADMIN_ID, confirm.message_id, lambda m: m.plain_text.startswith("Done:"),
                timeout=30,
            )  # fmt: skip
            await until(lambda: counts(settings)["pending"] == 0, timeout=30)
        stats = api.stats()
        assert api.count_429 == 0, [c.description for c in api.errors]
        # The bot sends at most R in any second (tests/test_ratelimit.py checks that exactly);
        # seen from the stand-in, on this same loop, arrival jitter may add one or two.
        assert rate * 0.9 <= stats["max_per_second"] <= limit
        assert stats["duplicates"] == 0
        texts = [m.plain_text for m in api.all_messages()]
        pushed = [t for t in texts if t.endswith("Free text for every reader")]
        assert len(pushed) == readers + 1  # + the admin's preview
        digests = [t for t in texts if t.startswith("Your digest ·")]
        assert len(digests) >= readers // 2


async def test_a_chats_own_429_holds_that_chat_alone(db_path: Path) -> None:
    """The stand-in allows one send per private chat in any 2 s (stricter than the bot's
    pace): the reader with three parts is refused, and only that reader waits."""
    busy, others = 7001, list(range(8000, 8120))
    db = open_db(db_path)
    enqueue(
        db,
        # A several-part answer (/related) goes first and quickly: it meets the chat's limit.
        [OutgoingMessage(busy, f"part {i}", MessageKind.ANSWER, 0) for i in range(3)]
        + [OutgoingMessage(chat, "to another chat", "breaking", 1) for chat in others],
        utcnow(),
    )
    async with FakeBotApi(chat_window=(1, 2.0), latency=0.02, open_chats=True) as api:
        async with running_sender(api, db_path, rate=40.0):
            await until(drained(db), timeout=20)
        refused = [c for c in api.errors if c.status == 429]
        assert refused and all(c.limit == "chat" and c.params["chat_id"] == busy for c in refused)
        first = refused[0]
        # That chat waited its retry_after; the others went on at the bot's pace meanwhile.
        next_part = min(m.sent_at for m in api.messages(busy) if m.sent_at > first.time)
        assert next_part - first.time >= 0.95
        meanwhile = [m for o in others for m in api.messages(o)
                     if first.time < m.sent_at < next_part]  # fmt: skip
        assert len(meanwhile) >= 5
        assert [m.plain_text for m in api.messages(busy)] == ["part 0", "part 1", "part 2"]
        assert outbox_counts(db)["sent"] == 123 and api.stats()["duplicates"] == 0
    db.close()


async def test_a_global_429_pauses_everything_for_exactly_retry_after(db_path: Path) -> None:
    db = open_db(db_path)
    enqueue(db, pushes(9000, 30), utcnow())
    async with FakeBotApi(latency=0.02, open_chats=True) as api:
        api.fail_next("sendMessage", status=429, description="Too Many Requests: retry after 2",
                      parameters={"retry_after": 2})  # fmt: skip
        async with running_sender(api, db_path, rate=50.0):
            await until(drained(db), timeout=15)
        (refused,) = [c for c in api.errors if c.status == 429]
        accepted = sorted(m.sent_at for m in api.all_messages())
        # Sends already on their way when the 429 came back may still arrive; then none.
        during = [t for t in accepted if refused.time + 0.1 < t < refused.time + 2.0]
        assert during == []  # no chat sent during the pause, not even the other ones
        after = [t for t in accepted if t > refused.time + 0.1]
        assert refused.time + 2.0 <= after[0] < refused.time + 3.0  # and not much longer
        assert len(accepted) == 30 and api.stats()["duplicates"] == 0
    db.close()


async def test_related_with_many_long_links_is_paced(tmp_path: Path) -> None:
    reader, other = 303, 304
    async with FakeBotApi(chat_window=(3, 1.0)) as api:
        settings = make_settings(api, tmp_path)
        long = "x" * 1500  # each link near 1,600 characters of HTML: two per message
        related = [(f"Coverage {i} of the story, {long}", f"https://r{i}.example/{long}/{i}",
                    f"Outlet {i}") for i in range(15)]  # fmt: skip
        write_article(settings.articles_dir, "story.md", title="A much covered story",
                      url="https://s.example/story", related=related)  # fmt: skip
        async with running_bot(settings):
            for user in (reader, other):
                await api.send_text(user, "/start")
                await api.wait_for_message(user, timeout=10)
            await asyncio.sleep(1.1)  # the welcome's burst is behind us
            await api.send_text(reader, "/related https://s.example/story")
            await api.send_text(other, "/help")
            first = await api.wait_for_message(reader, timeout=10)
            parts = [first]
            while True:
                try:
                    parts.append(await api.wait_for_message(reader, timeout=3))
                except TimeoutError:
                    break
            helped = await api.wait_for_message(other, timeout=10)
        assert len(parts) >= 4, "the answer should need several messages"
        assert parts[0].plain_text.startswith("Related coverage")
        shown = "\n".join(p.plain_text for p in parts)
        assert all(f"Coverage {i} of the story" in shown for i in range(15))
        assert api.count_429 == 0
        assert max_in_window(sorted(p.sent_at for p in parts), 1.0) <= 3
        # Meanwhile the bot answered someone else: it was not busy pacing one chat.
        assert helped.sent_at < parts[-1].sent_at


async def test_paid_broadcasts_go_at_their_own_rate(db_path: Path) -> None:
    db = open_db(db_path)
    enqueue(
        db,
        pushes(20_000, 100, "paid")
        + [OutgoingMessage(30_000 + i, f"digest {i}", "digest", PRIORITY_DIGEST) for i in range(8)],
        utcnow(),
    )
    async with FakeBotApi(window_limit=8, latency=0.02, open_chats=True) as api:
        limiter = PriorityRateLimiter(4.0, paid_rate=500.0)
        async with running_sender(api, db_path, limiter=limiter, paid_broadcast=True):
            await until(drained(db), timeout=20)
        sends = [c for c in api.calls if c.method == "sendMessage" and c.status == 200]
        paid = [c for c in sends if c.params.get("allow_paid_broadcast") is True]
        free = [c for c in sends if c not in paid]
        assert len(paid) == 100 and all(str(c.params["text"]).startswith("paid") for c in paid)
        assert len(free) == 8
        assert max_in_window([c.time for c in paid]) > 8  # beyond the free limit...
        # ...which the rest still keeps: 8 at 4/s take 1.75 s (less arrival jitter here).
        assert free[-1].time - free[0].time >= 1.2
        assert api.count_429 == 0
    db.close()
