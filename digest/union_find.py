"""Union-find over indexes 0..n-1, as clustering joins candidates."""

from __future__ import annotations


class UnionFind:
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
