"""Topics: the names articles carry, and the topics each reader picked."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlite_utils import Database

from storage.db import write_transaction


@dataclass(frozen=True, slots=True)
class Topic:
    id: int
    name: str
    articles: int = 0


def toggle_topic(db: Database, chat_id: int, topic_id: int) -> bool | None:
    """Flip one topic for a reader: True now selected, False now not, None unknown topic."""
    with write_transaction(db):
        if db.execute("SELECT 1 FROM topics WHERE id = ?", (topic_id,)).fetchone() is None:
            return None
        deleted = db.execute(
            "DELETE FROM reader_topics WHERE chat_id = ? AND topic_id = ?", (chat_id, topic_id)
        ).rowcount
        if deleted:
            return False
        db.execute(
            "INSERT INTO reader_topics (chat_id, topic_id) VALUES (?, ?)", (chat_id, topic_id)
        )
        return True


def clear_topics(db: Database, chat_id: int) -> None:
    with write_transaction(db):
        db.execute("DELETE FROM reader_topics WHERE chat_id = ?", (chat_id,))


def all_topics(db: Database) -> list[Topic]:
    """Every known topic, by name, with how many articles carry it."""
    return [
        Topic(tid, name, count)
        for tid, name, count in db.execute(
            "SELECT t.id, t.name, count(at.article_id) FROM topics t "
            "LEFT JOIN article_topics at ON at.topic_id = t.id "
            "GROUP BY t.id ORDER BY t.name COLLATE NOCASE"
        )
    ]


def topics_by_ids(db: Database, ids: Iterable[int]) -> list[Topic]:
    wanted = sorted(set(ids))
    if not wanted:
        return []
    marks = ",".join("?" * len(wanted))
    return [
        Topic(tid, name)
        for tid, name in db.execute(
            f"SELECT id, name FROM topics WHERE id IN ({marks}) ORDER BY name COLLATE NOCASE",
            wanted,
        )
    ]


def topic_ids_by_names(db: Database, names: Iterable[str]) -> tuple[list[int], list[str]]:
    """Resolve topic names case-insensitively: (ids found, names unknown)."""
    found: list[int] = []
    unknown: list[str] = []
    for name in names:
        row = db.execute("SELECT id FROM topics WHERE name = ? COLLATE NOCASE", (name,)).fetchone()
        if row is None:
            unknown.append(name)
        else:
            found.append(int(row[0]))
    return found, unknown
