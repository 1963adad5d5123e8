"""Joining near-identical titles without comparing every pair.

Comparing every pair of titles is O(n²). Prefix filtering (an index over each title's
rarest tokens) is not enough on syndicated wire copy: hundreds of outlets print a few
hundred headlines with a figure or a name changed, so even the rarest words of a title
are shared by hundreds of near misses, each to be verified (minutes for 50,000 titles).
Near-identical titles differ by only a token or two, though, so they are found through
what they have in common (:func:`_union_by_deletions`): each title's distinct tokens are
indexed under their hash sum and that sum less each token's hash, and each title looks
up its sum less every combination of up to ``max_deletions`` of its tokens. A match is
a dictionary hit, whatever number of near misses there are; a title of 10-14 tokens
makes ~60 lookups, one of 15-19 up to ~1,200. That covers every matching pair unless
both titles lack two or more of each other's tokens, which needs 18 tokens or more on
each side; titles of 16 tokens and more are therefore also matched by prefix filtering,
which examines at most ``candidate_cap`` (default :data:`CANDIDATE_CAP`) earlier long
titles per prefix token, nearest first. Everything else is exact: the cap is the only
approximation, it can only leave a long title out of a story it belongs to (never join
titles that do not match), and tests check that realistic inputs get the exact
partition. ``candidate_cap=None`` lifts it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from itertools import combinations

from digest.model import Candidate
from digest.titles import (
    JACCARD_DEN,
    JACCARD_NUM,
    MIN_TOKENS,
    max_deletions,
    prefix_len,
    sets_match,
    title_tokens,
)
from digest.union_find import UnionFind

# Titles of up to this many distinct tokens are matched by deletion keys, titles of at
# least the second by prefix filtering (see the module doc); the ranges overlap so that
# every near-identical pair is covered by one of them.
_DELETION_MAX_SIZE = 19
_PREFIX_MIN_SIZE = 16
# Smallest sets that can match one with a token more, and one with a token swapped.
_PLUS_ONE_MIN_SIZE = 4
_SWAP_MIN_SIZE = 9
_HASH_MASK = (1 << 25) - 1  # 19 such hashes sum to less than 2**30
# Earlier long titles examined per prefix token of a long title (see the module doc).
CANDIDATE_CAP = 64


class _TitleSets:
    """The distinct token sets of a batch's titles, each with its first candidate."""

    __slots__ = ("firsts", "sets")

    def __init__(self, cands: Sequence[Candidate], uf: UnionFind) -> None:
        # Identical normalised titles join directly (this also covers titles too short for
        # the Jaccard rule), as do identical token sets: each set is matched only once.
        tokens_of: dict[str, tuple[str, ...]] = {}  # wire copy repeats titles verbatim
        by_title: dict[tuple[str, ...], int] = {}
        by_set: dict[frozenset[str], int] = {}
        for i, c in enumerate(cands):
            tokens = tokens_of.get(c.title)
            if tokens is None:
                tokens = tokens_of[c.title] = title_tokens(c.title)
            if not tokens:
                continue
            j = by_title.setdefault(tokens, i)
            if j != i:
                uf.union(i, j)
                continue
            token_set = frozenset(tokens)
            if len(token_set) >= MIN_TOKENS:
                j = by_set.setdefault(token_set, i)
                if j != i:
                    uf.union(i, j)
        self.sets = list(by_set)
        self.firsts = list(by_set.values())


def _union_by_titles(
    cands: Sequence[Candidate], uf: UnionFind, candidate_cap: int | None = None
) -> int:
    """Join near-identical titles (see the module doc); returns how many pairs were verified."""
    titles = _TitleSets(cands, uf)
    sets = titles.sets
    short = [k for k, s in enumerate(sets) if len(s) <= _DELETION_MAX_SIZE]
    long = [k for k, s in enumerate(sets) if len(s) >= _PREFIX_MIN_SIZE]
    verified = _union_by_deletions(titles, short, uf)
    if len(long) > 1:
        verified += _union_by_prefixes(titles, long, uf, candidate_cap)
    return verified


def _union_by_deletions(titles: _TitleSets, ids: list[int], uf: UnionFind) -> int:
    """Join the near-identical among sets ``ids`` through what they have in common.

    Two matching sets x, y (Jaccard >= 0.8) differ little: x lacks at most
    ``max_deletions(|x|)`` tokens of y and y at most ``max_deletions(|y|)`` of x, and
    unless both are 18 tokens or more, one of them lacks at most one. Each set is indexed
    under its token-hash sum (``whole``) and under that sum minus each token's hash
    (``minus_one``), and the pairs are found by kind:

    1. one is the other plus a token: a ``whole`` key that is also a ``minus_one`` key;
    2. each lacks one token of the other: a ``minus_one`` key shared by several sets;
    3. x lacks two or more tokens of y (and y at most one of x): x's sum less each
       combination of up to ``_max_deletions`` of its tokens is a key of y. Up to a
       thousand sums per set, generated and looked up in C.

    Kinds 1 and 2 take an intersection of key sets and a pass over the shared keys, so a
    match is found in a handful of dictionary lookups, never by scanning other titles,
    however many near misses of a headline there are. Every join is verified on the real
    sets, and a true match is always under the key looked up, so a hash collision only
    adds a candidate to verify: it never hides a match.
    """
    sets, firsts = titles.sets, titles.firsts
    find = uf.find
    # Small hashes keep the sums in one-digit integers, the fast ones; more collisions only
    # add candidates to verify.
    hashes = [[hash(t) & _HASH_MASK for t in sets[k]] for k in ids]
    sums = list(map(sum, hashes))
    whole = _KeyIndex.of(sums, ids)  # token-hash sum -> the sets with it
    minus_one = _KeyIndex.of(  # sum less one token's hash -> the sets
        [total - h for total, hs in zip(sums, hashes, strict=True) for h in hs],
        [k for k, hs in zip(ids, hashes, strict=True) for _ in hs],
    )
    joined: set[int] = set()  # minus_one keys whose sets are all in one cluster
    verified = 0

    def join(k: int, candidates: Sequence[int]) -> None:
        nonlocal verified
        for y in candidates:
            if y != k and find(firsts[y]) != find(firsts[k]):
                verified += 1
                if sets_match(sets[k], sets[y]):
                    uf.union(firsts[k], firsts[y])

    # 1. y = x plus a token: J = n / (n + 1), at least 0.8 from n = 4.
    for key in whole.first.keys() & minus_one.first.keys():
        for x in whole.get(key):
            if len(sets[x]) >= _PLUS_ONE_MIN_SIZE:
                join(x, minus_one.get(key))
    # 2. x and y each lack one token of the other: J = (n - 1) / (n + 1), from n = 9.
    for members in minus_one.more.values():
        big = [y for y in members if len(sets[y]) >= _SWAP_MIN_SIZE]
        for i, x in enumerate(big[:-1]):
            join(x, big[i + 1 :])
            root = find(firsts[x])
            if all(find(firsts[y]) == root for y in big):
                break
    # 3. y lacks ``lacking`` >= 2 tokens of x: J = (n - lacking) / n; or, when y also
    #    has one token x lacks, (n - lacking) / (n + 1), at least 0.8 from n = 14 (two
    #    left out) or 19 (three). The sums looked up are those of sets of the one size
    #    that can match: a small set each, so the lookups stay in the CPU's caches.
    whole_of_size: dict[int, set[int]] = {}
    for total, hs in zip(sums, hashes, strict=True):
        whole_of_size.setdefault(len(hs), set()).add(total)
    near_of_size: dict[int, set[int]] = {}  # whole sums, and minus-one keys a size up

    def near(size: int) -> set[int]:
        found = near_of_size.get(size)
        if found is None:
            found = near_of_size[size] = set(whole_of_size.get(size, ()))
            for total, hs in zip(sums, hashes, strict=True):
                if len(hs) == size + 1:
                    found.update([total - h for h in hs])
        return found

    for k, total, hs in zip(ids, sums, hashes, strict=True):
        size = len(hs)
        for lacking in range(2, max_deletions(size) + 1):
            supersets = JACCARD_DEN * (size - lacking) >= JACCARD_NUM * (size + 1)
            known = near(size - lacking) if supersets else whole_of_size.get(size - lacking)
            if not known:
                continue
            # List comprehensions: faster here than map() over sum() (sizes stop at 19,
            # so at most three tokens are left out).
            if lacking == 2:
                hits = known.intersection([total - a - b for a, b in combinations(hs, 2)])
            else:
                hits = known.intersection([total - a - b - c for a, b, c in combinations(hs, 3)])
            for key in hits:
                join(k, whole.get(key))
                if supersets:
                    _join_near(k, key, minus_one, joined, join, uf, firsts)
    return verified


def _join_near(
    k: int,
    key: int,
    minus_one: _KeyIndex,
    joined: set[int],
    join: Callable[[int, Sequence[int]], None],
    uf: UnionFind,
    firsts: list[int],
) -> None:
    """Join set ``k`` to the sets under ``key`` that have one token it lacks."""
    near = minus_one.get(key)
    if len(near) <= 2:
        join(k, near)
        return
    if key in joined:
        join(k, near[:2])  # one cluster already: one of them (not x) will do
        return
    join(k, near)
    root = uf.find(firsts[k])
    if all(uf.find(firsts[y]) == root for y in near):
        joined.add(key)


class _KeyIndex:
    """int key -> set ids; one id per key nearly always, so no list for those."""

    __slots__ = ("first", "more")

    def __init__(self) -> None:
        self.first: dict[int, int] = {}
        self.more: dict[int, list[int]] = {}

    @classmethod
    def of(cls, keys: Sequence[int], values: Sequence[int]) -> _KeyIndex:
        """The index of ``keys[i] -> values[i]``, the values of a key in the order given.

        Built with C loops (a dict from the reversed pairs keeps each key's first value),
        and a Python pass only over the few keys that have several.
        """
        index = cls()
        index.first = dict(zip(reversed(keys), reversed(values), strict=True))
        if len(index.first) < len(keys):
            shared = {key for key, count in Counter(keys).items() if count > 1}
            more = index.more
            for key, value in [
                pair for pair in zip(keys, values, strict=True) if pair[0] in shared
            ]:
                more.setdefault(key, []).append(value)
        return index

    def get(self, key: int) -> Sequence[int]:
        found = self.more.get(key)
        if found is not None:
            return found
        one = self.first.get(key)
        return () if one is None else (one,)


def _union_by_prefixes(
    titles: _TitleSets, ids: list[int], uf: UnionFind, candidate_cap: int | None
) -> int:
    """Join the near-identical among sets ``ids`` (long titles) by prefix filtering."""
    sets, firsts = titles.sets, titles.firsts
    find = uf.find
    cap = len(ids) if candidate_cap is None else candidate_cap
    freq: Counter[str] = Counter(t for k in ids for t in sets[k])
    rank = {t: r for r, t in enumerate(sorted(freq, key=lambda t: (freq[t], t)))}
    index: dict[str, list[int]] = {}
    verified = 0
    for k in ids:
        x = sets[k]
        size = len(x)
        low = (JACCARD_NUM * size + JACCARD_DEN - 1) // JACCARD_DEN
        high = JACCARD_DEN * size // JACCARD_NUM
        prefix = sorted(x, key=rank.__getitem__)[: prefix_len(size)]
        seen: set[int] = set()
        for token in prefix:
            posting = index.setdefault(token, [])
            budget = cap
            for y in reversed(posting):  # nearest first
                if budget <= 0:
                    break
                budget -= 1
                if y in seen or not low <= len(sets[y]) <= high:
                    continue
                seen.add(y)
                if find(firsts[y]) == find(firsts[k]):
                    continue
                verified += 1
                if sets_match(x, sets[y]):
                    uf.union(firsts[k], firsts[y])
            posting.append(k)
    return verified
