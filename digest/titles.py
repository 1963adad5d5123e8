"""Headline normalisation and the near-identical rule, shared by clustering and /related.

Two titles match (:func:`titles_match`) when they are identical after normalisation, or
when their token sets have a Jaccard similarity of at least 0.8 with at least three
tokens on each side.
"""

from __future__ import annotations

import re
import unicodedata

# Jaccard threshold as an exact fraction, so the check is integer arithmetic with no
# float rounding at the boundary.
JACCARD_NUM = 4
JACCARD_DEN = 5
MIN_TOKENS = 3
STOP_WORDS = frozenset(
    {"a", "an", "the", "and", "or", "of", "to", "in", "on", "at", "for", "by", "with"}
    | {"from", "as", "is", "are", "was", "were", "be", "it", "its"}
)
# A leading wire-style tag. A bare "breaking"/"live"/... only counts when punctuation
# follows it, so that "Breaking Bad renewed" keeps its first word.
_LEADING_TAG = re.compile(
    r"""^\W*
        (?: breaking\s+news\b\W*
          | (?:breaking|just\s+in|developing|update[ds]?|live|exclusive)\s*[\]):|\-–—]+\s*
        )""",
    re.VERBOSE,
)
# Possessive 's is dropped and other in-word apostrophes joined, so "Biden's" ~ "Biden"
# and "don't" stays one token.
_POSSESSIVE = re.compile(r"(?<=\w)['’]s\b")
_INNER_APOSTROPHE = re.compile(r"(?<=\w)['’](?=\w)")
_WORD = re.compile(r"\w+")
_ASCII_NON_WORD = bytes(c if chr(c).isalnum() or c == ord("_") else 32 for c in range(256))


def title_tokens(title: str) -> tuple[str, ...]:
    """Normalised word tokens of a title, in order (duplicates kept).

    NFKC + case-folded, unicode word characters, a leading "Breaking news:"-style tag and
    a few English stop words removed.
    """
    # ASCII titles (most) take a faster path to the same tokens: NFKC leaves ASCII as it
    # is, casefold() is lower() there, and \w+ is "split at anything but [0-9A-Za-z_]".
    ascii = title.isascii()
    text = title.lower() if ascii else unicodedata.normalize("NFKC", title).casefold()
    while (tag := _LEADING_TAG.match(text)) is not None:  # never empty: ends
        text = text[tag.end() :]
    if not ascii or "'" in text:
        text = _INNER_APOSTROPHE.sub("", _POSSESSIVE.sub("", text))
    if ascii:
        words = text.encode().translate(_ASCII_NON_WORD).decode().split()
    else:
        words = _WORD.findall(text)
    return tuple([w for w in words if w not in STOP_WORDS])


def sets_match(a: frozenset[str], b: frozenset[str]) -> bool:
    if len(a) < MIN_TOKENS or len(b) < MIN_TOKENS:
        return False
    inter = len(a & b)
    union = len(a) + len(b) - inter
    return JACCARD_DEN * inter >= JACCARD_NUM * union


def titles_match(a: str, b: str) -> bool:
    """True when two titles are near-identical (same story by headline alone)."""
    ta, tb = title_tokens(a), title_tokens(b)
    if ta and ta == tb:
        return True
    return sets_match(frozenset(ta), frozenset(tb))


def prefix_len(size: int) -> int:
    """How many of a title's n rarest tokens a near-identical title must share at least one of.

    Prefix filtering: size - ceil(t * size) + 1 with t = 4/5, in integers.
    """
    return size - (JACCARD_NUM * size + JACCARD_DEN - 1) // JACCARD_DEN + 1


def max_deletions(size: int) -> int:
    """How many of its tokens a set can lack of a near-identical one: size - ceil(0.8·size)."""
    return size - (JACCARD_NUM * size + JACCARD_DEN - 1) // JACCARD_DEN
