"""How long an article takes to read, from the word count of its body."""

from __future__ import annotations

import math

WORDS_PER_MINUTE = 230  # an adult's silent reading speed for news prose


def count_words(body: str) -> int:
    """Words in an article body: runs of text between whitespace (Markdown marks count
    as part of a word, which is close enough for an estimate)."""
    return len(body.split())


def reading_minutes(words: int) -> int:
    """Whole minutes to read ``words`` (at least 1 for any body; 0 for none)."""
    if words <= 0:
        return 0
    return max(1, math.ceil(words / WORDS_PER_MINUTE))


def reading_label(words: int) -> str:
    """``4 min read``; empty without a body."""
    minutes = reading_minutes(words)
    return f"{minutes} min read" if minutes else ""
