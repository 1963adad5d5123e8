"""Inline mode end to end: ``@bot words`` from a user, the real bot's answer via the stand-in."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest

from storage.db import utcnow
from tests.botapi import FakeBotApi
from tests.botapi.inline import InlineAnswer
from tests.clock import ManualClock
from tests.e2e.harness import make_settings, run_job, running_bot, services, write_article

USER = 301


async def _ask(
    api: FakeBotApi, text: str, offset: str = "", chat_type: str = "sender"
) -> InlineAnswer:
    query_id = await api.send_inline_query(USER, text, offset=offset, chat_type=chat_type)
    return await api.wait_for_inline_answer(query_id)


async def test_words_find_stories_and_choosing_one_sends_its_card(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        settings = make_settings(api, tmp_path)
        folder = settings.articles_dir
        write_article(folder, "robots.md", title="Robots learn to fold laundry",
                      url="https://a.example/robots", provider=("Robot Times", "a.example"),
                      excerpt="A lab taught robots <b>everything</b> & more.")  # fmt: skip
        write_article(folder, "robots-2.md", title="Folding machines arrive",
                      excerpt="Robots that do the laundry.", url="https://b.example/robots",
                      provider=("Other Post", "b.example"),
                      related=[("Robots learn to fold laundry", "https://a.example/robots")])  # fmt: skip
        write_article(folder, "bread.md", title="A better way to bake sourdough bread",
                      url="https://c.example/bread", published=utcnow() - timedelta(minutes=5))  # fmt: skip
        async with running_bot(settings) as app:
            await run_job(app, "scan")
            answer = await _ask(api, "robots laundry", chat_type="group")
            # One result for the story (the two articles link), led by the best placed: the
            # words in its title.
            assert answer.titles() == ["Robots learn to fold laundry"]
            [result] = answer.results
            assert result["description"].startswith("Robot Times · ")
            assert (answer.cache_time, answer.is_personal, answer.next_offset) == (60, True, "")
            card = api.choose_inline_result(answer.query_id, result["id"])
            assert card.plain_text.startswith("Robots learn to fold laundry\nRobot Times · ")
            assert "A lab taught robots <b>everything</b> & more." in card.plain_text
            assert "1 other source on this story" in card.plain_text
            assert {"type": "text_link", "offset": 0, "length": 28,
                    "url": "https://a.example/robots"} in card.entities  # fmt: skip

            nothing = await _ask(api, "zebra")
            assert nothing.results == [] and nothing.next_offset == ""
            # No words: the top stories, one per story, freshest first (equal quality); the
            # seed (from 2023) last.
            top = await _ask(api, "")
            assert len(top.results) == 3
            assert top.titles()[0] == "A better way to bake sourdough bread"
            assert "facial recognition" in top.titles()[2].lower()
        assert api.unanswered_inline_queries() == []
        assert not [c for c in api.errors if c.method == "answerInlineQuery"]


async def test_results_are_paged_by_next_offset(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        settings = make_settings(api, tmp_path)
        for n in range(45):
            write_article(settings.articles_dir, f"s{n}.md", title=f"Quokka sighting number {n} qz{n}",
                          url=f"https://q.example/{n}")  # fmt: skip
        async with running_bot(settings) as app:
            await run_job(app, "scan")
            seen: list[str] = []
            offsets: list[str] = []
            offset = ""
            while True:
                answer = await _ask(api, "quokka", offset)
                seen += answer.ids()
                offsets.append(answer.next_offset)
                if not answer.next_offset:
                    break
                offset = answer.next_offset
            assert offsets == ["20", "40", ""]
            assert len(seen) == len(set(seen)) == 45
            # A forged or stale offset is the first page, never an error.
            for garbage in ("-1", "abc", "9" * 64, "020", "1e9"):
                again = await _ask(api, "quokka", garbage)
                assert again.ids() == seen[:20] and again.next_offset == "20"


async def test_a_query_is_cached_for_a_minute(tmp_path: Path, clock: ManualClock) -> None:
    async with FakeBotApi() as api:
        settings = make_settings(api, tmp_path)
        folder = settings.articles_dir
        write_article(folder, "one.md", title="Wombat census begins", url="https://w.example/1")
        async with running_bot(settings, clock=clock) as app:
            cache = services(app).inline
            await run_job(app, "scan")
            first = await _ask(api, "wombat census")
            assert first.titles() == ["Wombat census begins"]
            write_article(folder, "two.md", title="Wombat census ends", url="https://w.example/2")
            await run_job(app, "scan")
            clock.advance(seconds=59)
            # The same words (any case, any punctuation): from the cache, not the database.
            cached = await _ask(api, "Wombat, CENSUS!")
            assert cached.titles() == ["Wombat census begins"]
            assert (cache.hits, cache.misses) == (1, 1)
            clock.advance(seconds=2)
            fresh = await _ask(api, "wombat census")
            assert fresh.titles() == ["Wombat census ends", "Wombat census begins"]
            assert (cache.hits, cache.misses) == (1, 2)


async def test_hostile_queries_and_articles_get_valid_answers(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        settings = make_settings(api, tmp_path)
        write_article(settings.articles_dir, "evil.md",
                      title='Tom & Jerry <script>alert("x")</script> \u202eevil',
                      url="https://e.example/evil", provider=("<b>Evil & Co</b>", "e.example"),
                      excerpt="</i><a href='javascript:alert(1)'>click</a>")  # fmt: skip
        async with running_bot(settings) as app:
            await run_job(app, "scan")
            for hostile in ['"', "*", "NEAR(tom jerry)", "tom AND OR NOT", "title: tom", "^(",
                            "<b>tom</b>", "'; DROP TABLE articles; --", "\\", "😀" * 128,
                            "tom " * 64]:  # fmt: skip
                await _ask(api, hostile)
            answer = await _ask(api, "tom jerry script")
            [result] = answer.results
            card = api.choose_inline_result(answer.query_id, result["id"])
            assert '<script>alert("x")</script>' in card.plain_text
            assert "<a href='javascript:alert(1)'>click</a>" in card.plain_text
            assert [e.get("url") for e in card.entities if e["type"] == "text_link"] == [
                "https://e.example/evil"
            ]
        assert not [c for c in api.errors if c.method == "answerInlineQuery"]
        assert api.unanswered_inline_queries() == []


async def test_the_operator_is_told_when_inline_mode_is_off(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with FakeBotApi(inline_mode=False) as api:
        caplog.set_level(logging.INFO, logger="bot.app")
        async with running_bot(make_settings(api, tmp_path)):
            pass
    assert any("/setinline" in r.getMessage() for r in caplog.records)
