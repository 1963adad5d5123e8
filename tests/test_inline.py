"""Inline mode's pure parts (cards, offsets, pages), its search, and its cache."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlite_utils import Database

from bot.ttl_cache import TtlCache
from digest.html import utf16_len
from digest.inline import (
    MAX_STORIES,
    PAGE_SIZE,
    InlineStory,
    encode_offset,
    inline_result,
    page_of,
    parse_offset,
    render_card,
)
from storage.inline_search import inline_key, inline_stories
from tests.botapi.html import parse_html_entities
from tests.clock import ManualClock
from tests.factories import NOW, article, candidate, store_articles

UTC_ZONE = ZoneInfo("UTC")
PUBLISHED = datetime(2023, 6, 14, 11, 29, tzinfo=UTC)


def story(other: int = 0, **fields: object) -> InlineStory:
    fields.setdefault("published_at", PUBLISHED)
    return InlineStory(candidate(7, **fields), other)  # type: ignore[arg-type]


# -- offsets and pages ---------------------------------------------------------------------------


@pytest.mark.parametrize("offset", ["20", "1", "99"])
def test_an_offset_we_wrote_names_its_position(offset: str) -> None:
    assert parse_offset(offset) == int(offset)
    assert encode_offset(int(offset)) == offset


@pytest.mark.parametrize(
    "garbage",
    ["", "0", "020", "-20", "+20", " 20", "20 ", "2e1", "20.0", "0x14", "٢٠", "²⁰", "20\n",
     str(MAX_STORIES), "9" * 64, "9" * 10_000, "p20", "20:1", "\x00"],
)  # fmt: skip
def test_any_other_offset_is_the_first_page(garbage: str) -> None:
    assert parse_offset(garbage) == 0


@pytest.mark.parametrize("position", [0, -1, MAX_STORIES, True])
def test_no_offset_is_written_for_a_page_that_cannot_be(position: int) -> None:
    with pytest.raises(ValueError):
        encode_offset(position)


def test_pages_cover_the_stories_once_and_end_with_no_offset() -> None:
    stories = tuple(InlineStory(candidate(n)) for n in range(1, 46))
    seen: list[int] = []
    position, offsets = 0, []
    while True:
        page, next_offset = page_of(stories, position)
        assert len(page) <= PAGE_SIZE
        seen += [s.lead.id for s in page]
        offsets.append(next_offset)
        if not next_offset:
            break
        position = parse_offset(next_offset)
    assert seen == list(range(1, 46))
    assert offsets == ["20", "40", ""]
    assert page_of(stories, 80) == ((), "")  # past the end (the store shrank): nothing more


# -- the card and the result ---------------------------------------------------------------------


def test_a_card_has_the_headline_link_source_date_excerpt_and_coverage() -> None:
    card = render_card(
        story(4, title="MEPs back a ban", web_url="https://news.example/ban", provider="Euronews",
              excerpt="The vote was close."),
        tz=UTC_ZONE,
    )  # fmt: skip
    assert card == (
        '<b><a href="https://news.example/ban">MEPs back a ban</a></b>\n'
        "<i>Euronews · 14 Jun 2023, 11:29</i>\n\nThe vote was close.\n\n"
        "🗞 4 other sources on this story"
    )
    assert "1 other source on" in render_card(story(1), tz=UTC_ZONE)
    assert "🗞" not in render_card(story(0), tz=UTC_ZONE)


def test_dates_are_in_the_zone_given() -> None:
    card = render_card(story(), tz=ZoneInfo("Asia/Tokyo"))
    assert "14 Jun 2023, 20:29" in card


def test_hostile_article_text_is_escaped_and_only_http_links_are_made() -> None:
    hostile = story(
        title='<script>alert("x")</script> & \u202eevil\u202c\x00',
        web_url="javascript:alert(1)",
        provider="<b>Bad & Co</b>",
        excerpt="</i><a href='https://evil.example'>click</a> &amp;",
    )
    card = render_card(hostile, tz=UTC_ZONE)
    parsed = parse_html_entities(card)  # as strictly as Telegram: no 400 for this card
    assert "<script>" in parsed.text and "<b>Bad & Co</b>" in parsed.text
    assert "evil.example'>click</a> &amp;" in parsed.text
    assert [e["type"] for e in parsed.entities] == ["bold", "italic"]  # no link at all
    assert "\u202e" not in card and "\x00" not in card
    result = inline_result(hostile, tz=UTC_ZONE)
    assert result.title == '<script>alert("x")</script> & evil'  # plain text: shown as is
    assert result.description == "<b>Bad & Co</b> · 14 Jun 2023, 11:29"


def test_a_huge_article_still_makes_a_card_within_telegram_limits() -> None:
    huge = story(99, title="𝕏" * 5_000, excerpt="😀 " * 5_000, provider="P" * 500,
                 web_url="https://news.example/" + "a" * 3_000)  # fmt: skip
    card = render_card(huge, tz=UTC_ZONE)
    assert utf16_len(card) <= 4096
    assert utf16_len(parse_html_entities(card).text) <= 4096
    result = inline_result(huge, tz=UTC_ZONE)
    assert len(result.title) <= 120 and len(result.description) <= 120
    assert len(result.id.encode()) <= 64


def test_a_story_without_a_title_is_named_by_its_source_or_untitled() -> None:
    assert inline_result(story(title=" ", provider="BBC"), tz=UTC_ZONE).title == "BBC"
    assert inline_result(story(title="\u202e", provider=""), tz=UTC_ZONE).title == "Untitled"


# -- the search ----------------------------------------------------------------------------------


def test_a_query_is_keyed_by_its_search_words() -> None:
    assert inline_key("AI chips") == inline_key("  ai CHIPS!! ") == inline_key("ai, chips ai")
    assert inline_key("") == inline_key("?!…") == ""


def test_matching_stories_one_result_per_story_with_their_coverage(db: Database) -> None:
    lead, copy, other = store_articles(
        db,
        article("Facial recognition ban endorsed by MEPs", "https://a.example/ban",
                related=["https://outside.example/1", "https://outside.example/2"]),
        article("MEPs endorse facial recognition ban", "https://b.example/ban",
                related=[("MEPs back the ban", "https://a.example/ban")]),
        article("Cameras with facial recognition at the station", "https://c.example/cams"),
    )  # fmt: skip
    found = inline_stories(db, "facial recognition", NOW)
    assert [s.lead.id for s in found] == [other, copy]  # newest first; one entry for the ban
    assert {s.lead.id: s.other_coverage for s in found} == {other: 0, copy: 3}
    assert lead not in [s.lead.id for s in found]


def test_no_searchable_words_means_the_top_stories(db: Database) -> None:
    fresh, old, _future = store_articles(
        db,
        article("Fresh news", published=NOW - timedelta(hours=1), quality=50),
        article("Old news", published=NOW - timedelta(days=3), quality=90),
        article("From the future", published=NOW + timedelta(days=2), quality=100),
    )
    for text in ("", "   ", "?!", '"'):
        assert [s.lead.id for s in inline_stories(db, text, NOW)] == [fresh, old]


@pytest.mark.parametrize(
    "hostile",
    ['"', '""', "*", "a*", "NEAR(a b)", "a AND OR NOT b", "title: x", "^x", "(", ")", "'",
     "x\x00y", "{title excerpt}: x", "-x", "a:b:c", "rowid", "\\", "%_", "😀", "x" * 10_000,
     " ".join(["word"] * 500), "'; DROP TABLE articles; --"],
)  # fmt: skip
def test_hostile_queries_search_safely(db: Database, hostile: str) -> None:
    [stored] = store_articles(db, article("Word of the day: x marks the spot"))
    found = inline_stories(db, hostile, NOW)  # no FTS5 syntax error, whatever was typed
    assert all(s.lead.id == stored for s in found)
    assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == 1


# -- the cache ------------------------------------------------------------------------------------


def test_the_cache_keeps_a_value_for_its_ttl_only() -> None:
    clock = ManualClock()
    cache: TtlCache[str, int] = TtlCache(ttl=timedelta(seconds=60), max_entries=8, clock=clock)
    cache.put("ai", 1)
    clock.advance(seconds=59)
    assert cache.get("ai") == 1
    clock.advance(seconds=1)
    assert cache.get("ai") is None
    assert (cache.hits, cache.misses, len(cache)) == (1, 1, 0)


def test_the_cache_drops_its_oldest_entries_when_full() -> None:
    cache: TtlCache[int, int] = TtlCache(ttl=timedelta(seconds=60), max_entries=3)
    for n in range(5):
        cache.put(n, n)
    assert len(cache) == 3
    assert [cache.get(n) for n in range(5)] == [None, None, 2, 3, 4]
