"""From the store to outgoing digests: the glue run on the store's thread.

Pure work (ranking, clustering, rendering) happens in ``digest``; this module only
reads what it needs, calls it, and writes the result back in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from digest.assemble import Digest, DigestPool
from digest.render import EntryCache, render_digest
from storage.articles import candidates_since
from storage.candidates import article_revision
from storage.db import write_transaction
from storage.outbox import (
    PRIORITY_ANSWER,
    PRIORITY_DIGEST,
    MessageKind,
    OutgoingMessage,
    commit_digests,
    delivered_among,
    delivered_to,
    enqueue,
)
from storage.readers import Reader
from storage.schedules import DigestDone, due_readers, earliest_window, mark_digest_sent

DIGEST_CAP = 10
DIGEST_BATCH = 2_000  # readers per transaction


def digest_messages(
    digest: Digest, reader: Reader, now: datetime, *, priority: int, cache: EntryCache | None = None
) -> list[OutgoingMessage]:
    """Render a digest for a reader; each part carries the articles it shows."""
    heading = f"Your digest · {now.astimezone(reader.zone):%a %d %b}"
    return [
        OutgoingMessage(
            chat_id=reader.chat_id,
            text=part.text,
            kind=MessageKind.DIGEST,
            priority=priority,
            keyboard=part.buttons,
            article_ids=part.article_ids,
        )
        for part in render_digest(digest, tz=reader.zone, heading=heading, now=now, cache=cache)
    ]


def run_digest_tick(
    db: Database, now: datetime, *, cap: int = DIGEST_CAP, batch: int = DIGEST_BATCH
) -> int:
    """Assemble and queue the digests of every reader now due; return how many were queued.

    Readers go in batches, each one transaction, so a morning with 100,000 readers due
    never holds SQLite's write lock long enough to stall the bot's answers.
    """
    since = earliest_window(db, now)
    if since is None:
        return 0
    # One pool for the whole tick: ranking and clustering are done once.
    pool = DigestPool(candidates_since(db, since), now)
    cache: EntryCache = {}
    queued = 0
    while True:
        due = due_readers(db, now, limit=batch)
        if not due:
            return queued
        queued += _digest_batch(db, pool, cache, due, now, cap)


def _digest_batch(
    db: Database,
    pool: DigestPool,
    cache: EntryCache,
    due: Sequence[Reader],
    now: datetime,
    cap: int,
) -> int:
    since = min(reader.window_start(now) for reader in due)
    delivered = delivered_among(db, since, [reader.chat_id for reader in due])
    outgoing: list[OutgoingMessage] = []
    done: list[DigestDone] = []
    for reader in due:
        window = reader.window_start(now)
        digest = pool.assemble(
            reader.topic_ids, window, exclude_ids=delivered.get(reader.chat_id, ()), cap=cap
        )
        if digest.entries:
            outgoing.extend(
                digest_messages(digest, reader, now, priority=PRIORITY_DIGEST, cache=cache)
            )
        done.append(
            DigestDone(
                chat_id=reader.chat_id,
                # One catch-up digest after downtime: the next time is after *now*.
                next_digest_at=reader.next_digest_after(now),
                sent=bool(digest.entries),
                exhausted=digest.more == 0,
                window_start=window,
            )
        )
    commit_digests(db, outgoing, done, now)
    return sum(1 for d in done if d.sent)


@dataclass(frozen=True, slots=True)
class OnDemand:
    queued: int  # messages queued (0: nothing new)
    since: datetime  # the window start, for "nothing new since …"


def queue_digest_now(
    db: Database,
    reader: Reader,
    now: datetime,
    *,
    cap: int = DIGEST_CAP,
    pool: DigestPool | None = None,
    revision: int | None = None,
) -> OnDemand:
    """``/digest``: the same assembly for one reader, queued ahead of scheduled digests.

    ``pool``: a kept pool (:mod:`bot.delivery.pool_cache`) holding the store's articles
    at article ``revision``, instead of one built here. Should the store have changed
    since, the digest still goes out, but the reader's window stays where it was: what
    the pool did not hold is still new next time.
    """
    since = reader.window_start(now)
    if pool is None:
        pool = DigestPool(candidates_since(db, since), now)
    digest = pool.assemble(
        reader.topic_ids, since, exclude_ids=delivered_to(db, reader.chat_id), cap=cap
    )
    if not digest.entries:
        return OnDemand(0, reader.last_digest_at or since)
    messages = digest_messages(digest, reader, now, priority=PRIORITY_ANSWER)
    with write_transaction(db):
        # Under the write lock: no article can be stored between this check and the commit.
        whole = revision is None or article_revision(db) == revision
        enqueue(db, messages, now)
        mark_digest_sent(
            db, reader.chat_id, now, exhausted=digest.more == 0 and whole, window_start=since
        )
    return OnDemand(len(messages), since)
