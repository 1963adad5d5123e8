"""Bit masks over a pool's articles, built without quadratic work.

A pool numbers its articles by rank (bit 0 = best) and again in a cluster layout (each
story's articles adjacent, see :mod:`digest.assemble`); most masks come as a pair, one
per layout, built from bit numbers here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TypeVar

K = TypeVar("K")
MaskPair = tuple[int, int]  # (rank layout, cluster layout)


def mask(bits: Iterable[int], size: int) -> int:
    """The int with exactly ``bits`` set (all below ``size``).

    Built in a byte buffer: OR-ing ``1 << bit`` one at a time makes a new ``size``-bit int
    per bit, which is quadratic in the pool size (seconds and hundreds of MB at 50,000).
    """
    buffer = bytearray((size + 7) >> 3)
    for bit in bits:
        buffer[bit >> 3] |= 1 << (bit & 7)
    return int.from_bytes(buffer, "little")


def mask_pair(bits: Sequence[int], positions: Sequence[int], size: int) -> MaskPair:
    """``bits`` (rank numbers) as a mask in both layouts (``positions[bit]``: its place in
    the cluster layout)."""
    return mask(bits, size), mask([positions[b] for b in bits], size)


def masks_by_key(
    keys_of: Iterable[Iterable[K]], positions: Sequence[int], size: int
) -> dict[K, MaskPair]:
    """One mask pair per key: the bits whose keys (``keys_of``, one iterable per bit, in
    rank order) hold it. A topic's articles, a provider's."""
    bits_of: dict[K, list[int]] = {}
    for bit, keys in enumerate(keys_of):
        for key in keys:
            bits_of.setdefault(key, []).append(bit)
    return {key: mask_pair(bits, positions, size) for key, bits in bits_of.items()}


def suffix_masks(
    values: Sequence[int], positions: Sequence[int]
) -> tuple[list[int], list[int], list[int]]:
    """ "Value above v" masks, one per distinct value: ``(distinct sorted values, by rank,
    by cluster layout)`` where mask ``k`` holds the bits whose value is strictly above
    ``distinct[k - 1]`` (mask 0: every bit). Ingested-after masks, for a handful of
    ingestion instants per pool."""
    size = len(values)
    order = sorted(range(size), key=values.__getitem__)
    distinct = sorted(set(values))
    by_rank = [0] * (len(distinct) + 1)
    by_pos = [0] * (len(distinct) + 1)
    acc = bytearray((size + 7) >> 3)
    acc_pos = bytearray((size + 7) >> 3)
    i = size - 1
    for k in range(len(distinct) - 1, -1, -1):
        by_rank[k + 1] = int.from_bytes(acc, "little")
        by_pos[k + 1] = int.from_bytes(acc_pos, "little")
        while i >= 0 and values[order[i]] == distinct[k]:
            bit, at = order[i], positions[order[i]]
            acc[bit >> 3] |= 1 << (bit & 7)
            acc_pos[at >> 3] |= 1 << (at & 7)
            i -= 1
    by_rank[0] = int.from_bytes(acc, "little")
    by_pos[0] = int.from_bytes(acc_pos, "little")
    return distinct, by_rank, by_pos


def union(masks: Mapping[K, MaskPair], keys: Iterable[K]) -> MaskPair:
    """The OR of the mask pairs of ``keys``; unknown keys add 0."""
    by_rank = by_pos = 0
    for key in keys:
        pair = masks.get(key)
        if pair is not None:
            by_rank |= pair[0]
            by_pos |= pair[1]
    return by_rank, by_pos
