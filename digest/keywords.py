"""Keyword filters: literal words and quoted phrases matched on an article's title and excerpt.

No regular expressions from readers, ever: a term is a sequence of words, and matching is
whole words after the same normalisation on both sides:

* NFKD, combining marks dropped, case-folded: "Café", "CAFE" and "cafe" are one word;
  "Straße" and "strasse" too (case folding turns ß into ss);
* words are runs of letters and digits (``\\w``); everything else separates them, so
  "e-mail" is the phrase "e mail" and "AI's" the words "ai" and "s";
* simple plural folding: a word also stands for its singular guesses (``-s``, ``-es``,
  ``-ies`` → ``-y``), and two words match when their forms meet, so "election" matches
  "elections", "tax" "taxes", "story" "stories". It is English-only and crude by design
  (a reader of "new" also gets "news").

A phrase matches where its words stand next to each other, in order, in the title or in
the excerpt (never across the two). A reader's include list keeps articles matching any
include term; the exclude list drops articles matching any exclude term, and wins.

For a digest tick, :class:`TermIndex` holds one inverted index per pool (form → articles
as a bit mask) and a cache of each distinct term's mask, so 30,000 readers with 10
keywords each cost a dictionary lookup per term; a phrase is verified once per pool.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from digest.bits import mask_pair
from digest.texts import N_, TranslatableError

MAX_TERMS = 50  # per subscription, include and exclude together
MAX_TERM_CHARS = 64
_WORD = re.compile(r"\w+")
# Straight and typographic quotes (phones type “ ” and « »).
_QUOTES = {'"': '"', "“": "”", "”": "”", "„": "“", "«": "»", "»": "«"}


class TermError(TranslatableError):
    """A term that cannot be a keyword (too long, no word in it); the message says why."""


def fold(text: str) -> str:
    """Accents off, case folded: the text every comparison is made on."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFKC", stripped).casefold()


def words(text: str) -> tuple[str, ...]:
    """The normalised words of ``text``, in order."""
    return tuple(_WORD.findall(fold(text)))


@functools.lru_cache(maxsize=1 << 16)
def forms(word: str) -> frozenset[str]:
    """A word and its singular guesses; two words match when their forms meet."""
    found = {word}
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        found.add(word[:-1])
        if word.endswith("es"):
            found.add(word[:-2])
        if len(word) > 4 and word.endswith("ies"):
            found.add(word[:-3] + "y")
    return frozenset(found)


@dataclass(frozen=True, slots=True)
class Term:
    """One keyword as the reader wrote it, and its normalised words (the identity)."""

    text: str
    words: tuple[str, ...]
    # Two terms with the same key are the same keyword ("Café" = "cafe").
    key: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", " ".join(self.words))

    @property
    def is_phrase(self) -> bool:
        return len(self.words) > 1


def make_term(text: str) -> Term:
    """A keyword from what the reader typed; raises :class:`TermError` with the reason."""
    shown = " ".join(text.split())
    if len(shown) > MAX_TERM_CHARS:
        raise TermError(
            N_("“{term}…” is longer than {count} characters"), term=shown[:30], count=MAX_TERM_CHARS
        )
    found = words(shown)
    if not found:
        raise TermError(N_("“{term}” has no letters or digits to match"), term=shown)
    return Term(shown, found)


def split_terms(text: str) -> list[str]:
    """``word "a phrase" other`` → ``["word", "a phrase", "other"]``.

    Double quotes (straight or typographic) group a phrase; an unclosed quote runs to the
    end. Commas separate terms like spaces do outside quotes.
    """
    terms: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace() or ch == ",":
            i += 1
            continue
        if ch in _QUOTES:
            closer = _QUOTES[ch]
            end = next((j for j in range(i + 1, n) if text[j] in (closer, '"')), n)
            phrase = text[i + 1 : end].strip()
            if phrase:
                terms.append(phrase)
            i = end + 1
            continue
        end = i
        while end < n and not text[end].isspace() and text[end] != "," and text[end] not in _QUOTES:
            end += 1
        terms.append(text[i:end])
        i = end
    return terms


def _matches_words(text_words: Sequence[str], term_words: Sequence[str]) -> bool:
    """``term_words`` stand next to each other in ``text_words`` (forms compared)."""
    size = len(term_words)
    wanted = [forms(w) for w in term_words]
    for start in range(len(text_words) - size + 1):
        if all(wanted[k] & forms(text_words[start + k]) for k in range(size)):
            return True
    return False


@dataclass(frozen=True, slots=True)
class Searchable:
    """An article's title and excerpt as normalised words, for matching."""

    title: tuple[str, ...]
    excerpt: tuple[str, ...]

    @classmethod
    def of(cls, title: str, excerpt: str) -> Searchable:
        return cls(words(title), words(excerpt))

    def matches(self, term: Term) -> bool:
        return _matches_words(self.title, term.words) or _matches_words(self.excerpt, term.words)


@dataclass(frozen=True, slots=True)
class KeywordFilter:
    """A subscription's include and exclude lists (either may be empty)."""

    include: tuple[Term, ...] = ()
    exclude: tuple[Term, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.include or self.exclude)

    def admits(self, text: Searchable) -> bool:
        """Exclusions win; with an include list, one include term must match."""
        if any(text.matches(t) for t in self.exclude):
            return False
        return not self.include or any(text.matches(t) for t in self.include)


class TermIndex:
    """One pool's articles indexed by word form; each distinct term's bits computed once.

    ``texts[bit]`` is the article at rank bit ``bit`` and ``positions[bit]`` its bit in the
    pool's cluster layout; :meth:`bits` returns a term's mask in both layouts.
    """

    __slots__ = ("_cache", "_form_masks", "_index", "_positions", "_texts")

    def __init__(self, texts: Sequence[Searchable], positions: Sequence[int]) -> None:
        self._texts = texts
        self._positions = positions
        # Bit numbers per word form; a form's masks are built when a term first asks
        # (``digest.bits.mask``: OR-ing one bit at a time would be quadratic).
        index: dict[str, list[int]] = {}
        for bit, text in enumerate(texts):
            seen: set[str] = set()
            for word in (*text.title, *text.excerpt):
                if word in seen:
                    continue
                seen.add(word)
                for form in forms(word):
                    bits = index.setdefault(form, [])
                    if not bits or bits[-1] != bit:
                        bits.append(bit)
        self._index = index
        self._form_masks: dict[str, tuple[int, int]] = {}
        self._cache: dict[str, tuple[int, int]] = {}

    def _masks(self, bits: Sequence[int]) -> tuple[int, int]:
        return mask_pair(bits, self._positions, len(self._texts))

    def _form_bits(self, form: str) -> tuple[int, int]:
        found = self._form_masks.get(form)
        if found is None:
            found = self._masks(self._index.get(form, ()))
            self._form_masks[form] = found
        return found

    def _word_bits(self, word: str) -> tuple[int, int]:
        found = found_pos = 0
        for form in forms(word):
            by_rank, by_pos = self._form_bits(form)
            found |= by_rank
            found_pos |= by_pos
        return found, found_pos

    def bits(self, term: Term) -> tuple[int, int]:
        """The (rank layout, cluster layout) masks of the articles ``term`` matches."""
        key = term.key
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if not term.is_phrase:
            found = self._word_bits(term.words[0])
        else:
            candidates = -1
            for word in term.words:
                candidates &= self._word_bits(word)[0]
                if not candidates:
                    break
            matched: list[int] = []
            texts = self._texts
            while candidates > 0:
                low = candidates & -candidates
                candidates ^= low
                bit = low.bit_length() - 1
                # Every word occurs; a phrase also needs them side by side, in order.
                if texts[bit].matches(term):
                    matched.append(bit)
            found = self._masks(matched)
        self._cache[key] = found
        return found

    def union(self, terms: Iterable[Term]) -> tuple[int, int]:
        by_rank = by_pos = 0
        for term in terms:
            r, p = self.bits(term)
            by_rank |= r
            by_pos |= p
        return by_rank, by_pos
