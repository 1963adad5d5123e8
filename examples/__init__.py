"""Sample articles, installed as ``newsdigest_examples``: ``newsdigest demo`` and
``newsdigest preview --examples`` read them, so they never reach real readers by default."""

from __future__ import annotations

from pathlib import Path

ARTICLES = Path(__file__).resolve().parent / "articles"
