"""Group candidates that cover the same story.

Two candidates are on the same story when

* one's ``url`` is among the other's ``related_urls``, or they share a related URL
  (or, degenerate but possible, have the same ``url``), or
* their titles match (:func:`titles_match`): identical after normalisation, or a token-set
  Jaccard similarity of at least 0.8 with at least three tokens on each side.

The relation is closed transitively with union-find, so A~B and B~C puts A, B and C in
one cluster. Titles are normalised and compared by :mod:`digest.titles`, and the matching
pairs among thousands of titles found by :mod:`digest.title_index` without comparing
every pair.
"""

from __future__ import annotations

from collections.abc import Sequence

from digest.model import Candidate
from digest.title_index import CANDIDATE_CAP, _union_by_titles
from digest.titles import STOP_WORDS, prefix_len, title_tokens, titles_match
from digest.union_find import UnionFind

# Names tests and callers reach through this module, as before it was split.
_UnionFind = UnionFind
__all__ = [
    "CANDIDATE_CAP",
    "STOP_WORDS",
    "_UnionFind",
    "_union_by_titles",
    "cluster_stories",
    "prefix_len",
    "title_tokens",
    "titles_match",
]


def _union_by_urls(cands: Sequence[Candidate], uf: UnionFind) -> None:
    # Every URL a candidate is or points to is a key; the first candidate to claim a
    # key stands for it, and later claimants join it. That covers "A.url in B.related",
    # its reverse, and shared related URLs in one pass.
    owner: dict[str, int] = {}
    for i, c in enumerate(cands):
        for key in (c.url, *c.related_urls):
            j = owner.setdefault(key, i)
            if j != i:
                uf.union(i, j)


def cluster_stories(
    cands: Sequence[Candidate], *, candidate_cap: int | None = CANDIDATE_CAP
) -> list[int]:
    """A story cluster id per candidate, index-aligned with ``cands``.

    Ids are dense (0, 1, 2, ...) and numbered in order of each cluster's first member,
    so the result is deterministic for a given input order. ``candidate_cap``: earlier
    titles examined per prefix token (see the module doc); ``None`` for the exact search.
    """
    uf = UnionFind(len(cands))
    _union_by_urls(cands, uf)
    _union_by_titles(cands, uf, candidate_cap)
    dense: dict[int, int] = {}
    return [dense.setdefault(uf.find(i), len(dense)) for i in range(len(cands))]
