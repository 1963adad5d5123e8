"""Groups and channels in storage: kinds, titles, forum topics, pausing, channel managers,
the outbox's thread id and what a refused send means, on a real SQLite file."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from bot.delivery.digest_queue import digest_messages
from digest.assemble import DigestPool
from storage import schema
from storage.articles import candidates_since
from storage.db import open_db, to_db_time
from storage.outbox import (
    PRIORITY_DIGEST,
    MessageKind,
    OutgoingMessage,
    enqueue,
    outbox_counts,
    pending_batch,
)
from storage.outbox_results import SendResult, record_results
from storage.pushes import create_push, start_push
from storage.reader_lists import ReaderCounts, reader_counts
from storage.reader_settings import set_pause
from storage.readers import ChatKind, Reader, ReaderStatus, get_reader
from storage.stats import gather_stats
from storage.subscriptions import (
    add_manager,
    managed_channels,
    migrate_chat,
    pause,
    paused_subscriptions,
    resume,
    set_status,
    subscribe,
    thread_ids,
)
from tests.factories import NOW, articles_on, outgoing, store_articles, subscribe_reader

GROUP = -1_001_000_000_001
CHANNEL = -1_002_000_000_002
FORUM = -1_003_000_000_003


def shared(
    db: Database,
    chat_id: int,
    kind: ChatKind,
    title: str = "Tech",
    *,
    thread_id: int | None = None,
    at: time = time(8, 0),
) -> Reader:
    reader, _ = subscribe(
        db,
        chat_id,
        user_id=None,
        first_name="",
        username=None,
        default_time=at,
        default_zone=ZoneInfo("UTC"),
        now=NOW,
        kind=kind,
        title=title,
        thread_id=thread_id,
    )
    return reader


def test_an_existing_database_upgrades_with_every_subscription_a_private_chat(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    old = Database(path)
    before = Migrations("newsdigest")  # the schema as it was before groups and channels
    for step in (
        schema.m001_articles,
        schema.m002_files,
        schema.m003_readers,
        schema.m004_delivery,
    ):
        before()(step)
    before.apply(old)
    old["readers"].insert(
        {
            "chat_id": 77,
            "status": "active",
            "digest_time": "08:00",
            "timezone": "UTC",
            "first_name": "Ann",
            "next_digest_at": to_db_time(NOW),
        }
    )
    old["outbox"].insert(
        {
            "chat_id": 77,
            "priority": 2,
            "kind": "digest",
            "text": "x",
            "status": "pending",
            "attempts": 0,
        }
    )
    old.close()

    db = open_db(path)
    reader = get_reader(db, 77)
    assert reader is not None
    assert (reader.kind, reader.title, reader.thread_id, reader.paused_reason) == (
        ChatKind.PRIVATE,
        "",
        None,
        None,
    )
    [queued] = pending_batch(db, NOW, limit=5)
    assert queued.thread_id is None
    assert db["channel_managers"].count == 0
    db.close()


def test_subscribe_keeps_kind_title_and_topic_and_a_new_start_moves_the_topic(
    db: Database,
) -> None:
    first = shared(db, FORUM, ChatKind.SUPERGROUP, "Forum", thread_id=12)
    assert (first.kind, first.title, first.thread_id, first.user_id) == (
        ChatKind.SUPERGROUP,
        "Forum",
        12,
        None,
    )
    assert first.is_group and not first.is_channel
    moved = shared(db, FORUM, ChatKind.SUPERGROUP, "Forum renamed", thread_id=40)
    assert (moved.title, moved.thread_id) == ("Forum renamed", 40)


def test_pause_drops_the_queue_and_resume_restores_the_settings(db: Database) -> None:
    shared(db, CHANNEL, ChatKind.CHANNEL, at=time(9, 30))
    [a1] = store_articles(db, *articles_on(["AI"]))
    enqueue(db, [outgoing(CHANNEL, "digest", articles=(a1,))], NOW)
    assert pause(db, CHANNEL, "the bot was removed from the channel", NOW) is True
    paused = get_reader(db, CHANNEL)
    assert paused is not None
    assert (paused.status, paused.paused_reason) == (
        "blocked",
        "the bot was removed from the channel",
    )
    assert (outbox_counts(db)["pending"], outbox_counts(db)["dropped"]) == (0, 1)
    assert db["deliveries"].count == 0  # the article can reach the channel once it is back

    later = NOW + timedelta(days=5)
    back = resume(db, CHANNEL, later, title="Tech renamed")
    assert back is not None
    assert (back.status, back.paused_reason, back.title) == ("active", None, "Tech renamed")
    assert back.digest_time == time(9, 30)
    assert back.next_digest_at is not None and later < back.next_digest_at <= later + timedelta(
        days=1
    )
    assert pause(db, -1, "x", NOW) is False and resume(db, -1, NOW) is None


def test_resume_leaves_a_stopped_subscription_stopped(db: Database) -> None:
    shared(db, GROUP, ChatKind.SUPERGROUP)
    set_status(db, GROUP, ReaderStatus.STOPPED, NOW)
    back = resume(db, GROUP, NOW)
    assert back is not None and back.status == "stopped"


def test_a_refused_send_to_a_stopped_subscription_leaves_it_stopped(db: Database) -> None:
    """A 403 (or a lost right) for a row queued before /stop drops the queue but does not
    turn the stop into a pause, so re-adding the bot does not bring the digests back."""
    shared(db, CHANNEL, ChatKind.CHANNEL)
    [outbox_id] = enqueue(db, [outgoing(CHANNEL, "digest")], NOW)
    set_status(db, CHANNEL, ReaderStatus.STOPPED, NOW)
    record_results(db, [SendResult(outbox_id, CHANNEL, "blocked", error="Forbidden")], NOW)
    found = get_reader(db, CHANNEL)
    assert found is not None and (found.status, found.paused_reason) == ("stopped", None)
    assert outbox_counts(db)["dropped"] == 1
    back = resume(db, CHANNEL, NOW + timedelta(hours=1))
    assert back is not None and back.status == "stopped"


def test_a_pause_and_a_paused_group_do_not_undo_each_other(db: Database) -> None:
    """/pause is a setting (paused_until), a removed bot a state (blocked): the bot's
    return resumes the state and keeps the reader's pause; /resume ends the pause only."""
    shared(db, GROUP, ChatKind.SUPERGROUP, at=time(9, 0))
    until = NOW + timedelta(days=10)
    set_pause(db, GROUP, until, NOW)
    assert pause(db, GROUP, "the bot was removed from the group", NOW) is True
    # /resume while the bot is away: the pause ends, the group stays paused by the removal.
    after_resume = set_pause(db, GROUP, None, NOW + timedelta(hours=1))
    assert (after_resume.status, after_resume.paused_until) == ("blocked", None)
    set_pause(db, GROUP, until, NOW + timedelta(hours=2))
    back = resume(db, GROUP, NOW + timedelta(days=1))
    assert back is not None and (back.status, back.paused_until) == ("active", until)
    assert back.next_digest_at is not None and back.next_digest_at > until  # after the pause
    # /stop keeps the pause for a later /start; /start keeps it too (it ends on its date).
    set_status(db, GROUP, ReaderStatus.STOPPED, NOW + timedelta(days=2))
    again, _ = subscribe(
        db, GROUP, user_id=None, first_name="", username=None, default_time=time(9, 0),
        default_zone=ZoneInfo("UTC"), now=NOW + timedelta(days=3), kind=ChatKind.SUPERGROUP,
    )  # fmt: skip
    assert (again.status, again.paused_until) == ("active", until)
    assert again.next_digest_at is not None and again.next_digest_at > until


def test_a_users_channels_are_theirs_only_by_title(db: Database) -> None:
    shared(db, CHANNEL, ChatKind.CHANNEL, "zeta")
    shared(db, CHANNEL - 1, ChatKind.CHANNEL, "Alpha")
    shared(db, GROUP, ChatKind.SUPERGROUP, "A group")
    for chat_id in (CHANNEL, CHANNEL - 1, GROUP):
        add_manager(db, chat_id, 5, NOW)
    add_manager(db, CHANNEL, 5, NOW)  # twice: once
    add_manager(db, CHANNEL, 6, NOW)
    assert [c.title for c in managed_channels(db, 5)] == ["Alpha", "zeta"]
    assert [c.chat_id for c in managed_channels(db, 6)] == [CHANNEL]
    assert managed_channels(db, 7) == []


def test_counts_and_paused_lists_keep_kinds_apart(db: Database) -> None:
    subscribe_reader(db, 1)
    subscribe_reader(db, 2)
    set_status(db, 2, ReaderStatus.BLOCKED, NOW)
    shared(db, GROUP, ChatKind.SUPERGROUP, "Team")
    shared(db, -4001, ChatKind.GROUP, "Club")
    shared(db, CHANNEL, ChatKind.CHANNEL, "News")
    pause(db, CHANNEL, "the bot was banned from the channel", NOW)
    assert reader_counts(db, (ChatKind.PRIVATE,)) == ReaderCounts(1, 0, 1)
    assert reader_counts(db, (ChatKind.GROUP, ChatKind.SUPERGROUP)) == ReaderCounts(2, 0, 0)
    assert reader_counts(db) == ReaderCounts(3, 0, 2)  # every kind
    [paused] = paused_subscriptions(db)
    assert (paused.chat_id, paused.kind, paused.title) == (CHANNEL, ChatKind.CHANNEL, "News")
    stats = gather_stats(db)
    assert (stats.readers, stats.groups, stats.channels) == (
        ReaderCounts(1, 0, 1),
        ReaderCounts(2, 0, 0),
        ReaderCounts(0, 0, 1),
    )
    assert stats.paused == [paused]


def test_the_outbox_carries_the_topic_of_each_message(db: Database) -> None:
    enqueue(db, [outgoing(FORUM, "in a topic"), outgoing(1, "private")], NOW)
    db.execute("UPDATE outbox SET thread_id = 12 WHERE chat_id = ?", (FORUM,))
    direct = OutgoingMessage(FORUM, "direct", MessageKind.DIGEST, PRIORITY_DIGEST, thread_id=40)
    enqueue(db, [direct], NOW)
    assert [(m.chat_id, m.thread_id) for m in pending_batch(db, NOW, limit=5)] == [
        (FORUM, 12),
        (1, None),
        (FORUM, 40),
    ]


def _refused(db: Database, chat_id: int, error: str) -> int:
    [outbox_id] = enqueue(db, [outgoing(chat_id, "digest")], NOW)
    enqueue(db, [outgoing(chat_id, "part 2")], NOW)
    record_results(db, [SendResult(outbox_id, chat_id, "failed", error=error)], NOW)
    return outbox_id


def test_a_channel_that_demoted_the_bot_is_paused_on_the_first_refusal(db: Database) -> None:
    shared(db, CHANNEL, ChatKind.CHANNEL)
    _refused(db, CHANNEL, "Need administrator rights in the channel chat")
    found = get_reader(db, CHANNEL)
    assert found is not None and found.status == "blocked"
    assert found.paused_reason == "Need administrator rights in the channel chat"
    assert (outbox_counts(db)["failed"], outbox_counts(db)["dropped"]) == (1, 1)


def test_a_deleted_forum_topic_sends_the_message_to_the_group_itself(db: Database) -> None:
    shared(db, FORUM, ChatKind.SUPERGROUP, thread_id=12)
    db.execute("UPDATE outbox SET thread_id = 12")
    outbox_id = _refused(db, FORUM, "Message thread not found")
    found = get_reader(db, FORUM)
    assert found is not None and (found.status, found.thread_id) == ("active", None)
    pending = pending_batch(db, NOW, limit=5)
    first = pending[0]  # sent again at once, to the group itself
    assert (first.id, first.thread_id, first.attempts) == (outbox_id, None, 1)
    assert outbox_counts(db)["pending"] == 2


def test_another_refusal_fails_the_message_only(db: Database) -> None:
    shared(db, GROUP, ChatKind.SUPERGROUP)
    _refused(db, GROUP, "Message is too long")
    found = get_reader(db, GROUP)
    assert found is not None and found.status == "active"
    assert (outbox_counts(db)["failed"], outbox_counts(db)["pending"]) == (1, 1)


def test_a_push_reaches_a_forum_in_its_topic(db: Database) -> None:
    subscribe_reader(db, 1)
    shared(db, FORUM, ChatKind.SUPERGROUP, thread_id=12)
    shared(db, CHANNEL, ChatKind.CHANNEL)
    push = create_push(db, created_by=9, article_id=None, text="alert", topic_ids=None, now=NOW)
    assert start_push(db, push.id, None, NOW) == 3
    assert {(m.chat_id, m.thread_id) for m in pending_batch(db, NOW, limit=5)} == {
        (1, None),
        (FORUM, 12),
        (CHANNEL, None),
    }
    assert thread_ids(db, [1, FORUM, CHANNEL]) == {FORUM: 12}


def test_digests_of_groups_go_to_their_topic_and_a_channels_have_no_buttons(
    db: Database,
) -> None:
    store_articles(db, *articles_on(["AI"], ["AI"]), at=NOW - timedelta(hours=1))
    pool = DigestPool(candidates_since(db, NOW - timedelta(days=1)), NOW)
    digest = pool.assemble(frozenset(), NOW - timedelta(days=1), exclude_ids=(), cap=1)
    assert digest.more == 1
    forum = shared(db, FORUM, ChatKind.SUPERGROUP, thread_id=12)
    channel = shared(db, CHANNEL, ChatKind.CHANNEL)
    private = subscribe_reader(db, 1)
    [in_forum] = digest_messages(digest, forum, NOW, priority=2)
    [in_channel] = digest_messages(digest, channel, NOW, priority=2)
    [in_private] = digest_messages(digest, private, NOW, priority=2)
    assert (in_forum.thread_id, in_channel.thread_id, in_private.thread_id) == (12, None, None)
    assert in_forum.keyboard and in_private.keyboard and in_channel.keyboard == ()
    assert in_forum.text.startswith("<b>Digest ·") and in_private.text.startswith("<b>Your digest")
    assert in_channel.article_ids == in_forum.article_ids


def test_a_group_upgraded_to_a_supergroup_is_one(db: Database) -> None:
    shared(db, -4001, ChatKind.GROUP, "Club")
    migrate_chat(db, -4001, GROUP)
    moved = get_reader(db, GROUP)
    assert moved is not None and (moved.kind, moved.title) == (ChatKind.SUPERGROUP, "Club")
    assert get_reader(db, -4001) is None
