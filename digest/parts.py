"""What one digest message shows, as a value that renders it again.

A story card edits a digest message in place; its Back button renders the message as it
was from this value (kept with the outbox row): each entry's article ids, the number of
its first entry, the heading, the "+N more" count and the mute button. Article texts are
read again from the store, so nothing untrusted is kept here but the heading (escaped
when rendered, as always).
"""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DigestPart:
    """One message of a digest (see module doc)."""

    entries: tuple[tuple[int, ...], ...]  # per entry: its lead's id, then its other coverage
    first_number: int = 1  # the number of its first entry ("3." in a second message)
    heading: str = ""  # "" when the message has none (not the first of a digest)
    more: int = 0  # "+N more" and the More button (the last message only)
    mute_chat: int | None = None  # the "Mute a source" button's subscription

    @property
    def leads(self) -> tuple[int, ...]:
        return tuple(entry[0] for entry in self.entries if entry)

    @property
    def article_ids(self) -> tuple[int, ...]:
        return tuple(a for entry in self.entries for a in entry)

    def to_text(self) -> str:
        """Compact JSON, as the outbox keeps it."""
        data: dict[str, object] = {"e": [list(e) for e in self.entries], "n": self.first_number}
        if self.heading:
            data["h"] = self.heading
        if self.more:
            data["m"] = self.more
        if self.mute_chat is not None:
            data["x"] = self.mute_chat
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_text(cls, text: str | None) -> DigestPart | None:
        """The part ``to_text`` wrote, or None for anything else (no row, a damaged one)."""
        if not text:
            return None
        try:
            data = json.loads(text)
            entries = tuple(tuple(_ints(e)) for e in data["e"])
            number, heading = data["n"], data.get("h", "")
            more, mute = data.get("m", 0), data.get("x")
        except (ValueError, KeyError, TypeError):
            return None
        if (
            not all(entries)
            or type(number) is not int
            or number < 1
            or not isinstance(heading, str)
            or type(more) is not int
            or more < 0
            or not (mute is None or type(mute) is int)
        ):
            return None
        return cls(entries, number, heading, more, mute)


def _ints(values: object) -> list[int]:
    if not isinstance(values, list) or not all(type(v) is int for v in values):
        raise TypeError("not a list of ids")
    return values
