"""From the store to outgoing digests: the glue run on the store's thread.

Pure work (ranking, clustering, rendering) happens in ``digest``; this module only
reads what it needs, calls it, and writes the result back in one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlite_utils import Database

from bot.i18n import translator
from digest.assemble import Digest, DigestPool, NothingNew
from digest.render import EntryCache, render_digest
from digest.texts import day_label
from digest.votes import VoteWeights
from storage.articles import candidates_since
from storage.candidates import article_revision
from storage.db import write_transaction
from storage.expiry import expire_stale_digests
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
from storage.readers import ChatKind, DigestOrder, Reader
from storage.schedules import (
    BROKEN_RETRY,
    DigestDone,
    due_readers,
    earliest_window,
    mark_digest_sent,
    postpone,
)
from storage.votes import weights_among, weights_of

_LOGGER = logging.getLogger(__name__)
DIGEST_BATCH = 2_000  # readers per transaction
DEFAULT_MAX_AGE = timedelta(hours=48)


def assemble_for(
    pool: DigestPool,
    reader: Reader,
    since: datetime,
    delivered: Sequence[int] | set[int],
    cap: int | None = None,
    weights: VoteWeights | None = None,
) -> Digest:
    """The reader's digest from a pool: topics, keywords, muted sources, size and order
    (``cap``: at most that many entries instead of the reader's size), reranked by the
    reader's votes (``weights``, see :mod:`digest.votes`)."""
    return pool.assemble(
        reader.topic_ids,
        since,
        exclude_ids=delivered,
        cap=reader.shape.size if cap is None else cap,
        keywords=reader.keywords,
        muted=reader.muted,
        newest_first=reader.shape.order is DigestOrder.NEWEST,
        weights=weights,
    )


def digest_messages(
    digest: Digest, reader: Reader, now: datetime, *, priority: int, cache: EntryCache | None = None
) -> list[OutgoingMessage]:
    """Render a digest for a reader; each part carries the articles it shows.

    A group's digest goes to its forum topic; a channel's has no buttons: a subscriber's
    tap would post into the channel for everyone.
    """
    texts = translator(reader.language)  # one tick speaks to readers of every language
    mine = reader.kind == ChatKind.PRIVATE
    # TRANSLATORS: a digest's heading, before its day: "Your digest · Mon 05 Jan" (a
    # private chat), "Digest · Mon 05 Jan" (a group or channel).
    title = texts.gettext("Your digest") if mine else texts.gettext("Digest")
    heading = f"{title} · {day_label(now.astimezone(reader.zone).date(), texts.language)}"
    return [
        OutgoingMessage(
            chat_id=reader.chat_id,
            text=part.text,
            kind=MessageKind.DIGEST,
            priority=priority,
            keyboard=() if reader.is_channel else part.buttons,
            article_ids=part.article_ids,
            thread_id=reader.thread_id,
            link_preview_url=part.preview_url,
            part=part.part,
        )
        for part in render_digest(
            digest,
            tz=reader.zone,
            heading=heading,
            now=now,
            cache=cache,
            previews=reader.shape.previews,
            mute_chat=None if reader.is_channel else reader.chat_id,
            texts=texts,
        )
    ]


def run_digest_tick(
    db: Database,
    now: datetime,
    *,
    batch: int = DIGEST_BATCH,
    max_age: timedelta | None = DEFAULT_MAX_AGE,
    cap: int | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> int:
    """Assemble and queue the digests of every reader now due; return how many were queued.

    Readers go in batches, each one transaction, so a morning with 100,000 readers due
    never holds SQLite's write lock long enough to stall the bot's answers, and a stop
    is honoured between batches (``should_stop``): readers not reached yet stay due and
    are served by the next tick, after a restart too. A reader whose stored data cannot
    be read or assembled is logged and tried again a day later; the others get theirs.

    A digest of a due reader still pending (an outage outlasted it) expires first, so
    its articles go into the new one. ``max_age``: what "new" means (None: any age);
    ``cap``: entries per digest instead of each reader's size.
    """
    expire_stale_digests(db, now)
    since = earliest_window(db, now)
    if since is None:
        return 0
    # One pool for the whole tick: ranking and clustering are done once.
    pool = DigestPool(candidates_since(db, since), now, max_age=max_age)
    cache: EntryCache = {}
    queued = 0
    while not should_stop():
        broken: list[int] = []
        due = due_readers(db, now, limit=batch, broken=broken)
        if broken:
            postpone(db, broken, now)
        if not due:
            if broken:
                continue
            return queued
        queued += _digest_batch(db, pool, cache, due, now, cap)
    return queued


def _digest_batch(
    db: Database,
    pool: DigestPool,
    cache: EntryCache,
    due: Sequence[Reader],
    now: datetime,
    cap: int | None,
) -> int:
    since = min(reader.window_start(now) for reader in due)
    chat_ids = [reader.chat_id for reader in due]
    delivered = delivered_among(db, since, chat_ids)
    # One query for the batch's votes; most readers have none (and no reranking).
    weights = weights_among(db, chat_ids, now)
    outgoing: list[OutgoingMessage] = []
    done: list[DigestDone] = []
    for reader in due:
        window = reader.window_start(now)
        try:
            digest = assemble_for(
                pool,
                reader,
                window,
                delivered.get(reader.chat_id, set()),
                cap,
                weights.get(reader.chat_id),
            )
            if digest.entries:
                outgoing.extend(
                    digest_messages(digest, reader, now, priority=PRIORITY_DIGEST, cache=cache)
                )
        except Exception:
            _LOGGER.exception("reader %s: digest failed; tried again later", reader.chat_id)
            done.append(DigestDone(reader.chat_id, now + BROKEN_RETRY, False, False))
            continue
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
    nothing: NothingNew | None = None  # why nothing was new


def queue_digest_now(
    db: Database,
    reader: Reader,
    now: datetime,
    *,
    max_age: timedelta | None = DEFAULT_MAX_AGE,
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
        pool = DigestPool(candidates_since(db, since), now, max_age=max_age)
    weights = weights_of(db, reader.chat_id, now)
    digest = assemble_for(pool, reader, since, delivered_to(db, reader.chat_id), weights=weights)
    if not digest.entries:
        return OnDemand(0, reader.last_digest_at or since, digest.nothing)
    messages = digest_messages(digest, reader, now, priority=PRIORITY_ANSWER)
    with write_transaction(db):
        # Under the write lock: no article can be stored between this check and the commit.
        whole = revision is None or article_revision(db) == revision
        enqueue(db, messages, now)
        mark_digest_sent(
            db, reader.chat_id, now, exhausted=digest.more == 0 and whole, window_start=since
        )
    return OnDemand(len(messages), since)
