"""A subscription's keyword lists and muted sources (``reader_keywords``, ``reader_muted``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlite_utils import Database

from digest.keywords import MAX_TERMS, KeywordFilter, Term, make_term
from storage.db import in_chunks, to_db_time, write_transaction


class KeywordKind(StrEnum):
    INCLUDE = "include"
    EXCLUDE = "exclude"


@dataclass(frozen=True, slots=True)
class StoredKeyword:
    id: int
    kind: KeywordKind
    term: Term


@dataclass(frozen=True, slots=True)
class AddResult:
    """What adding keywords did: added, already there, refused (over the limit)."""

    added: tuple[str, ...]
    present: tuple[str, ...]
    over_limit: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MutedSource:
    id: int
    provider: str


def keywords_of(db: Database, chat_id: int) -> list[StoredKeyword]:
    """A subscription's keywords, include list first, each in the order added."""
    return [
        StoredKeyword(kid, KeywordKind(kind), make_term(term))
        for kid, kind, term in db.execute(
            "SELECT id, kind, term FROM reader_keywords WHERE chat_id = ? ORDER BY kind DESC, id",
            (chat_id,),
        )
    ]


def keyword_filters(db: Database, chat_ids: Sequence[int]) -> dict[int, KeywordFilter]:
    """The filters of those subscriptions that have keywords (others are absent)."""
    lists: dict[int, tuple[list[Term], list[Term]]] = {}
    for chunk in in_chunks(list(chat_ids)):
        for chat_id, kind, term in db.execute(
            "SELECT chat_id, kind, term FROM reader_keywords "
            f"WHERE chat_id IN ({','.join('?' * len(chunk))}) ORDER BY id",
            tuple(chunk),
        ):
            include, exclude = lists.setdefault(chat_id, ([], []))
            (include if kind == KeywordKind.INCLUDE else exclude).append(make_term(term))
    return {
        chat_id: KeywordFilter(tuple(include), tuple(exclude))
        for chat_id, (include, exclude) in lists.items()
    }


def add_keywords(
    db: Database, chat_id: int, kind: KeywordKind, terms: Sequence[Term], now: datetime
) -> AddResult:
    """Add terms to one list, up to :data:`MAX_TERMS` across both lists."""
    added: list[str] = []
    present: list[str] = []
    over: list[str] = []
    with write_transaction(db):
        count = int(
            db.execute(
                "SELECT count(*) FROM reader_keywords WHERE chat_id = ?", (chat_id,)
            ).fetchone()[0]
        )
        for term in terms:
            exists = db.execute(
                "SELECT 1 FROM reader_keywords WHERE chat_id = ? AND kind = ? AND term_key = ?",
                (chat_id, kind, term.key),
            ).fetchone()
            if exists or term.text in added:
                present.append(term.text)
                continue
            if count >= MAX_TERMS:
                over.append(term.text)
                continue
            db.execute(
                "INSERT INTO reader_keywords (chat_id, kind, term, term_key, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (chat_id, kind, term.text, term.key, to_db_time(now)),
            )
            count += 1
            added.append(term.text)
    return AddResult(tuple(added), tuple(present), tuple(over))


def remove_keyword(db: Database, chat_id: int, keyword_id: int) -> str | None:
    """Remove one keyword of this subscription; its text, or None if it was not there."""
    with write_transaction(db):
        row = db.execute(
            "SELECT term FROM reader_keywords WHERE id = ? AND chat_id = ?", (keyword_id, chat_id)
        ).fetchone()
        if row is None:
            return None
        db.execute("DELETE FROM reader_keywords WHERE id = ?", (keyword_id,))
    return str(row[0])


def clear_keywords(db: Database, chat_id: int) -> int:
    with write_transaction(db):
        return int(db.execute("DELETE FROM reader_keywords WHERE chat_id = ?", (chat_id,)).rowcount)


def muted_sources(db: Database, chat_id: int) -> list[MutedSource]:
    return [
        MutedSource(mid, provider)
        for mid, provider in db.execute(
            "SELECT id, provider FROM reader_muted WHERE chat_id = ? ORDER BY provider_key",
            (chat_id,),
        )
    ]


def muted_keys(db: Database, chat_ids: Sequence[int]) -> dict[int, frozenset[str]]:
    """The muted provider keys of those subscriptions that muted any."""
    found: dict[int, set[str]] = {}
    for chunk in in_chunks(list(chat_ids)):
        for chat_id, key in db.execute(
            "SELECT chat_id, provider_key FROM reader_muted "
            f"WHERE chat_id IN ({','.join('?' * len(chunk))})",
            tuple(chunk),
        ):
            found.setdefault(chat_id, set()).add(key)
    return {chat_id: frozenset(keys) for chat_id, keys in found.items()}


def mute_source(db: Database, chat_id: int, provider: str, key: str, now: datetime) -> bool:
    """Mute a provider (``key``: :func:`digest.assemble.provider_key`); False if muted already."""
    with write_transaction(db):
        cursor = db.execute(
            "INSERT OR IGNORE INTO reader_muted (chat_id, provider, provider_key, created_at) "
            "VALUES (?, ?, ?, ?)",
            (chat_id, provider, key, to_db_time(now)),
        )
    return bool(cursor.rowcount)


def unmute_source(db: Database, chat_id: int, muted_id: int) -> str | None:
    """Unmute one source of this subscription; its name, or None if it was not muted."""
    with write_transaction(db):
        row = db.execute(
            "SELECT provider FROM reader_muted WHERE id = ? AND chat_id = ?", (muted_id, chat_id)
        ).fetchone()
        if row is None:
            return None
        db.execute("DELETE FROM reader_muted WHERE id = ?", (muted_id,))
    return str(row[0])


def move_controls(db: Database, old_chat_id: int, new_chat_id: int, *, keep_new: bool) -> None:
    """A group became a supergroup (inside the caller's transaction): its keywords and muted
    sources move along, or are dropped when the new chat has its own (``keep_new``)."""
    for table in ("reader_keywords", "reader_muted"):
        if keep_new:
            db.execute(f"DELETE FROM {table} WHERE chat_id = ?", (old_chat_id,))
        else:
            db.execute(
                f"UPDATE {table} SET chat_id = ? WHERE chat_id = ?", (new_chat_id, old_chat_id)
            )


@dataclass(frozen=True, slots=True)
class SentDigest:
    """A digest message as sent: its buttons and the sources of the articles it shows."""

    keyboard_json: str | None
    sources: tuple[tuple[int, str], ...]  # (an article id, its provider), one per provider


def sent_digest(db: Database, chat_id: int, message_id: int) -> SentDigest | None:
    """The digest message ``message_id`` in ``chat_id`` (None: not one we sent)."""
    row = db.execute(
        "SELECT id, reply_markup FROM outbox WHERE chat_id = ? AND message_id = ? "
        "AND kind = 'digest' ORDER BY id DESC LIMIT 1",
        (chat_id, message_id),
    ).fetchone()
    if row is None:
        return None
    seen: set[str] = set()
    sources: list[tuple[int, str]] = []
    for article_id, provider in db.execute(
        "SELECT a.id, a.provider_name FROM deliveries d JOIN articles a ON a.id = d.article_id "
        "WHERE d.outbox_id = ? AND a.provider_name IS NOT NULL ORDER BY d.rowid",
        (row[0],),
    ):
        key = " ".join(str(provider).split()).casefold()
        if key and key not in seen:
            seen.add(key)
            sources.append((int(article_id), str(provider)))
    return SentDigest(row[1], tuple(sources))


def article_provider(db: Database, article_id: int) -> str | None:
    row = db.execute("SELECT provider_name FROM articles WHERE id = ?", (article_id,)).fetchone()
    return str(row[0]) if row is not None and row[0] else None
