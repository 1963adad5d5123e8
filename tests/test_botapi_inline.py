"""The stand-in's inline mode (tests/botapi/inline.py), driven by a real PTB ``Bot``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram import (
    Bot,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest

from tests.botapi import FakeBotApi

USER = 1001
TOO_OLD = r"(?i)query is too old"  # PTB capitalises the description


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(inline_timeout=0.5) as server:
        yield server


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(token=api.token, base_url=f"{api.base_url}/bot") as client:
        yield client


def article(result_id: str, text: str = "<b>Card</b>", **fields: Any) -> InlineQueryResultArticle:
    return InlineQueryResultArticle(
        id=result_id,
        title=fields.pop("title", f"Story {result_id}"),
        input_message_content=InputTextMessageContent(text, parse_mode=ParseMode.HTML),
        **fields,
    )


async def test_an_inline_query_arrives_as_an_update(api: FakeBotApi, bot: Bot) -> None:
    assert (await bot.get_me()).supports_inline_queries
    query_id = await api.send_inline_query(USER, "facial recognition", offset="20")
    [update] = await bot.get_updates()
    query = update.inline_query
    assert query is not None
    assert (query.id, query.query, query.offset, query.chat_type) == (
        query_id, "facial recognition", "20", "sender"
    )  # fmt: skip
    assert query.from_user.id == USER
    assert api.unanswered_inline_queries() == [query_id]


async def test_an_answer_is_recorded_with_its_paging_and_caching(api: FakeBotApi, bot: Bot) -> None:
    query_id = await api.send_inline_query(USER, "ai")
    assert await bot.answer_inline_query(
        query_id,
        [article("a1", description="BBC · 1 Jan 2026"), article("a2")],
        cache_time=60,
        is_personal=False,
        next_offset="20",
    )
    answer = await api.wait_for_inline_answer(query_id)
    assert answer.ids() == ["a1", "a2"]
    assert answer.titles() == ["Story a1", "Story a2"]
    assert (answer.next_offset, answer.cache_time, answer.is_personal) == ("20", 60, False)
    assert answer.results[0]["description"] == "BBC · 1 Jan 2026"
    assert api.unanswered_inline_queries() == []
    chosen = api.choose_inline_result(query_id, "a1")
    assert chosen.plain_text == "Card"
    assert chosen.entities == [{"type": "bold", "offset": 0, "length": 4}]
    [update] = [u for u in await bot.get_updates() if u.chosen_inline_result]
    assert update.chosen_inline_result is not None
    assert update.chosen_inline_result.result_id == "a1"


async def test_a_query_is_answered_once_and_in_time(api: FakeBotApi, bot: Bot) -> None:
    query_id = await api.send_inline_query(USER, "ai")
    await bot.answer_inline_query(query_id, [])
    with pytest.raises(BadRequest, match=TOO_OLD):
        await bot.answer_inline_query(query_id, [])
    with pytest.raises(BadRequest, match=TOO_OLD):
        await bot.answer_inline_query("4242", [])
    late = await api.send_inline_query(USER, "ai")
    api.expire_inline_query(late)
    with pytest.raises(BadRequest, match=TOO_OLD):
        await bot.answer_inline_query(late, [])


@pytest.mark.parametrize(
    ("results", "options", "error"),
    [
        ([article(f"a{i}") for i in range(51)], {}, "RESULTS_TOO_MUCH"),
        ([article("a1"), article("a1")], {}, "RESULT_ID_DUPLICATE"),
        ([article("x" * 65)], {}, "RESULT_ID_INVALID"),
        ([article("a1")], {"next_offset": "9" * 65}, "NEXT_OFFSET_INVALID"),
        ([article("a1", title=" ")], {}, 'Field "title"'),
        ([article("a1", "<b>unclosed")], {}, "can't parse entities"),
        ([article("a1", "Tom & Jerry")], {}, "can't parse entities"),
        ([article("a1", "x" * 4097)], {}, "message is too long"),
        ([article("a1", url="javascript:alert(1)")], {}, "URL_INVALID"),
        (
            [article("a1")],
            {"button": InlineQueryResultsButton("Open", start_parameter="no spaces")},
            "START_PARAM_INVALID",
        ),
    ],
)
async def test_answers_are_checked_like_telegram_checks_them(
    api: FakeBotApi, bot: Bot, results: list[Any], options: dict[str, Any], error: str
) -> None:
    query_id = await api.send_inline_query(USER, "ai")
    with pytest.raises(BadRequest):
        await bot.answer_inline_query(query_id, results, **options)
    assert error in str(api.errors[-1].description)
    assert api.inline_answer(query_id) is None
    await bot.answer_inline_query(query_id, [article("ok")])  # a refused answer is no answer
    assert api.inline_answer(query_id) is not None


async def test_a_long_card_is_measured_in_utf16_after_parsing(api: FakeBotApi, bot: Bot) -> None:
    query_id = await api.send_inline_query(USER, "ai")
    # 4096 units of text inside markup that does not count; one astral emoji counts two.
    text = "<b>" + "x" * 4094 + "</b>🗞"
    await bot.answer_inline_query(query_id, [article("a1", text)])
    assert api.inline_answer(query_id) is not None
    again = await api.send_inline_query(USER, "ai")
    with pytest.raises(BadRequest, match="too long"):
        await bot.answer_inline_query(again, [article("a1", text + "x")])


async def test_inline_mode_off_means_no_inline_queries() -> None:
    async with FakeBotApi(inline_mode=False) as api:
        async with Bot(token=api.token, base_url=f"{api.base_url}/bot") as bot:
            assert not (await bot.get_me()).supports_inline_queries
        with pytest.raises(AssertionError, match="/setinline"):
            await api.send_inline_query(USER, "ai")


async def test_inline_queries_obey_allowed_updates(api: FakeBotApi, bot: Bot) -> None:
    await api.send_inline_query(USER, "dropped")
    assert await bot.get_updates(allowed_updates=["message"]) == ()
    kept = await api.send_inline_query(USER, "kept")
    [update] = await bot.get_updates(allowed_updates=["inline_query"])
    assert update.inline_query is not None and update.inline_query.id == kept
