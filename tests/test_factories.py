"""The test data builders keep their word: a file and a value built alike are the same article."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from digest.errors import FieldError, FrontmatterError
from digest.model import Image
from digest.parse import parse_article_bytes, parse_article_text
from tests.factories import NOW, Related, Yaml, article, article_bytes, article_file

KNOBS: list[dict[str, Any]] = [
    {},
    {"provider": None, "quality": None, "published": datetime(2023, 6, 14, 11, 29, tzinfo=UTC)},
    {
        "title": 'Tom & "Jerry" <b>bold</b> 🚀',
        "url": "https://www.example.com/x/?utm_source=a",
        "topics": ["AI", "AT&T", "<script>"],
        "excerpt": "Two\nlines: and a colon",
        "body": "The body, *in Markdown*.",
        "quality": 7,
        "heat": 3,
        "provider": ("Le Monde", "lemonde.fr"),
        "related": [
            "https://r.example/1",
            ("Two", "https://r.example/2"),
            ("Three", "https://r.example/3", "Wire"),
            Related("Four", "https://r.example/4", ("N", "n.example"), 5, NOW, "An excerpt."),
        ],
        "original_url": "https://example.com/original",
        "is_published": False,
        "category": "news",
        "kind": "article",
        "secured": "abc;def==",
        "images": [Image("https://i.example/a.jpg", 10, 20)],
    },
]


@pytest.mark.parametrize("knobs", KNOBS)
def test_the_parser_reads_a_file_as_the_value_built_alike(knobs: dict[str, Any]) -> None:
    assert parse_article_text(article_file(**knobs)) == article(**knobs)


def test_hostile_knobs_make_the_files_they_say() -> None:
    with pytest.raises(FieldError, match="missing required field 'webUrl'"):
        parse_article_bytes(article_bytes(omit=("webUrl",)))
    with pytest.raises(FieldError, match="a list"):
        parse_article_bytes(article_bytes(title=Yaml("[a]")))
    with pytest.raises(FrontmatterError, match="invalid YAML"):
        parse_article_bytes(article_bytes(extra="topics: [AI, Privacy\n"))
