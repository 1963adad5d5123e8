"""The follow job: after each folder scan, new articles are matched to followed stories and
the updates that are due are queued (rules: :mod:`digest.follow`). Runs on the background
database thread; one query when nobody follows anything.

Each batch of new articles is matched and recorded, with the last id matched, in one
transaction, so a crash repeats at most a batch's matching, never an update: an update's
messages and its followers' "told up to" marks are written in one transaction too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlite_utils import Database

from bot.i18n import translator
from digest.follow import UPDATE_GAP, QuietAction, StoryNews, new_coverage, quiet_action, story_news
from digest.follow_messages import render_updates
from storage.articles import articles_by_ids
from storage.db import write_transaction
from storage.follow_matching import (
    add_coverage,
    articles_after,
    candidate_members,
    matched_up_to,
    newest_article_id,
    set_matched_up_to,
)
from storage.follow_news import (
    DueFollow,
    due_follows,
    expire_follows,
    followers,
    mark_told,
    members_after,
)
from storage.follows import anyone_follows
from storage.outbox import PRIORITY_DIGEST, MessageKind, OutgoingMessage, enqueue
from storage.readers import QuietMode, Reader, ReaderStatus

MATCH_BATCH = 2_000  # new articles matched per transaction


def run_follow_updates(db: Database, now: datetime, *, batch: int = MATCH_BATCH) -> int:
    """Match what was stored since the last run, queue due updates; messages queued."""
    expire_follows(db, now)
    newest = newest_article_id(db)
    if not anyone_follows(db):
        if matched_up_to(db) != newest:  # nobody's news: skipped, not kept for later
            set_matched_up_to(db, newest)
        return 0
    match_new_articles(db, now, batch=batch)
    return queue_due_updates(db, now)


def match_new_articles(db: Database, now: datetime, *, batch: int = MATCH_BATCH) -> int:
    """Record new coverage of followed stories; how many (story, article) pairs were new."""
    start = matched_up_to(db)
    if start is None:
        start = newest_article_id(db)
        set_matched_up_to(db, start)
    added = 0
    while True:
        new = articles_after(db, start, batch)
        if not new:
            return added
        found = new_coverage(candidate_members(db, new), new)
        start = max(c.id for c in new)
        added += add_coverage(db, found, start, now)
        if len(new) < batch:
            return added


def _may_hear(reader: Reader | None, now: datetime) -> QuietAction | None:
    """How the follower hears now (None: not now; its news waits)."""
    if reader is None or reader.status != ReaderStatus.ACTIVE or reader.is_channel:
        return None
    if reader.is_paused(now):
        return None
    quiet = reader.quiet
    action = quiet_action(
        quiet.start if quiet else None,
        quiet.end if quiet else None,
        hold=quiet is not None and quiet.mode == QuietMode.HOLD,
        zone=reader.zone,
        now=now,
    )
    return None if action == QuietAction.HOLD else action


def queue_due_updates(db: Database, now: datetime) -> int:
    """Queue every due update, one message per chat (up to 8 stories each); messages queued."""
    due = due_follows(db, now - UPDATE_GAP)
    if not due:
        return 0
    readers = followers(db, [d.chat_id for d in due])
    hearing: list[tuple[DueFollow, QuietAction]] = []
    for follow in due:
        action = _may_hear(readers.get(follow.chat_id), now)
        if action is not None:
            hearing.append((follow, action))
    after: dict[int, int] = {}
    for follow, _ in hearing:
        after[follow.story_id] = min(after.get(follow.story_id, follow.seen_seq), follow.seen_seq)
    members = members_after(db, after)
    articles = {
        c.id: c
        for c in articles_by_ids(db, sorted({a for found in members.values() for _, a in found}))
    }
    by_chat: dict[int, list[StoryNews]] = {}
    silent: dict[int, bool] = {}
    told: list[tuple[int, int, int]] = []
    for follow, action in hearing:
        pending = [(s, a) for s, a in members.get(follow.story_id, []) if s > follow.seen_seq]
        if not pending:
            continue
        told.append((follow.chat_id, follow.story_id, pending[-1][0]))
        new = [articles[a] for _, a in pending if a in articles]
        if new:  # all of it gone from the store: marked told, nothing to say
            by_chat.setdefault(follow.chat_id, []).append(story_news(follow.story_id, new))
            silent[follow.chat_id] = action == QuietAction.SILENT
    messages = _messages(by_chat, silent, readers)
    with write_transaction(db):
        enqueue(db, messages, now)
        mark_told(db, told, now)
    return len(messages)


def _messages(
    by_chat: dict[int, list[StoryNews]], silent: dict[int, bool], readers: dict[int, Reader]
) -> Sequence[OutgoingMessage]:
    """Each chat's update messages, in its own language (one run speaks to every follower)."""
    return [
        OutgoingMessage(
            chat_id,
            text,
            MessageKind.FOLLOW,
            PRIORITY_DIGEST,
            keyboard=keyboard,
            thread_id=readers[chat_id].thread_id,
            disable_notification=silent[chat_id],
        )
        for chat_id, news in by_chat.items()
        for text, keyboard in render_updates(news, translator(readers[chat_id].language))
    ]
