"""Group candidates that cover the same story.

Two candidates are on the same story when

* one's ``url`` is among the other's ``related_urls``, or they share a related URL
  (or, degenerate but possible, have the same ``url``), or
* their titles match (:func:`titles_match`): identical after normalisation, or a token-set
  Jaccard similarity of at least 0.8 with at least three tokens on each side.

The relation is closed transitively with union-find, so A~B and B~C puts A, B and C in
one cluster.

Comparing every pair of titles is O(n²), far too slow for 10,000 candidates, so title
pairs are found with *prefix filtering*: sort each title's distinct tokens rarest first
(by frequency over the whole batch); two sets with Jaccard >= t must share a token among
the first ``|x| - ceil(t·|x|) + 1`` of each. An inverted index over those prefix tokens
(which are the rare ones, so their posting lists are short) yields the only pairs worth
verifying.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

from digest.model import Candidate

# Jaccard threshold as an exact fraction, so the check is integer arithmetic with no
# float rounding at the boundary.
_JACCARD_NUM = 4
_JACCARD_DEN = 5
_MIN_TOKENS = 3

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


def title_tokens(title: str) -> tuple[str, ...]:
    """Normalised word tokens of a title, in order (duplicates kept).

    NFKC + case-folded, unicode word characters, a leading "Breaking news:"-style tag and
    a few English stop words removed.
    """
    text = unicodedata.normalize("NFKC", title).casefold()
    while True:
        stripped = _LEADING_TAG.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    text = _INNER_APOSTROPHE.sub("", _POSSESSIVE.sub("", text))
    return tuple(w for w in _WORD.findall(text) if w not in STOP_WORDS)


def _sets_match(a: frozenset[str], b: frozenset[str]) -> bool:
    if len(a) < _MIN_TOKENS or len(b) < _MIN_TOKENS:
        return False
    inter = len(a & b)
    union = len(a) + len(b) - inter
    return _JACCARD_DEN * inter >= _JACCARD_NUM * union


def titles_match(a: str, b: str) -> bool:
    """True when two titles are near-identical (same story by headline alone)."""
    ta, tb = title_tokens(a), title_tokens(b)
    if ta and ta == tb:
        return True
    return _sets_match(frozenset(ta), frozenset(tb))


def prefix_len(size: int) -> int:
    """How many of a title's n rarest tokens a near-identical title must share at least one of.

    Prefix filtering: size - ceil(t * size) + 1 with t = 4/5, in integers.
    """
    return size - (_JACCARD_NUM * size + _JACCARD_DEN - 1) // _JACCARD_DEN + 1


class _UnionFind:
    __slots__ = ("parent",)

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]  # path halving keeps trees flat
            i = parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # The smaller index becomes the root: deterministic and cheap.
            if rb < ra:
                ra, rb = rb, ra
            self.parent[rb] = ra


def _union_by_urls(cands: Sequence[Candidate], uf: _UnionFind) -> None:
    # Every URL a candidate is or points to is a key; the first candidate to claim a
    # key stands for it, and later claimants join it. That covers "A.url in B.related",
    # its reverse, and shared related URLs in one pass.
    owner: dict[str, int] = {}
    for i, c in enumerate(cands):
        for key in (c.url, *c.related_urls):
            j = owner.setdefault(key, i)
            if j != i:
                uf.union(i, j)


def _union_by_titles(cands: Sequence[Candidate], uf: _UnionFind) -> None:
    # Identical normalised titles join directly (this also covers titles too short for
    # the Jaccard rule) and identical token sets are verified only once.
    by_title: dict[tuple[str, ...], int] = {}
    by_set: dict[frozenset[str], int] = {}
    for i, c in enumerate(cands):
        tokens = title_tokens(c.title)
        if not tokens:
            continue
        j = by_title.setdefault(tokens, i)
        if j != i:
            uf.union(i, j)
        token_set = frozenset(tokens)
        if len(token_set) >= _MIN_TOKENS:
            j = by_set.setdefault(token_set, i)
            if j != i:
                uf.union(i, j)

    sets = list(by_set)
    freq: Counter[str] = Counter(t for s in sets for t in s)
    index: dict[str, list[int]] = {}
    for k, token_set in enumerate(sets):
        ordered = sorted(token_set, key=lambda t: (freq[t], t))
        seen: set[int] = set()
        prefix = ordered[: prefix_len(len(ordered))]
        for token in prefix:
            for other in index.get(token, ()):
                if other in seen:
                    continue
                seen.add(other)
                if _sets_match(token_set, sets[other]):
                    uf.union(by_set[token_set], by_set[sets[other]])
        for token in prefix:
            index.setdefault(token, []).append(k)


def cluster_stories(cands: Sequence[Candidate]) -> list[int]:
    """A story cluster id per candidate, index-aligned with ``cands``.

    Ids are dense (0, 1, 2, ...) and numbered in order of each cluster's first member,
    so the result is deterministic for a given input order.
    """
    uf = _UnionFind(len(cands))
    _union_by_urls(cands, uf)
    _union_by_titles(cands, uf)
    dense: dict[int, int] = {}
    return [dense.setdefault(uf.find(i), len(dense)) for i in range(len(cands))]
