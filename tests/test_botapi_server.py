"""Tests of the fake Telegram Bot API itself (tests/botapi), driven by a real PTB ``Bot``."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from tests.botapi import FakeBotApi, HtmlParseError, SentMessage, WaitTimeout, parse_html
from tests.botapi.html import parse_html_entities, utf16_len

REPO_ROOT = Path(__file__).resolve().parent.parent
USER = 1001


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns (PTBDeprecationWarning) whenever it builds a RetryAfter unless opted in to
    # timedelta periods; with warnings as errors that would replace the RetryAfter itself.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as server:
        yield server


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    # PTB builds URLs as base_url + token + "/" + method.
    async with Bot(token=api.token, base_url=f"{api.base_url}/bot") as client:
        yield client


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def keyboard(*callback_data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(f"button {data}", callback_data=data)] for data in callback_data]
    )


async def started_chat(api: FakeBotApi, user_id: int = USER) -> int:
    """A private chat whose user has written to the bot, with the update already consumed."""
    await api.send_text(user_id, "/start")
    assert api.pending_updates()[-1]["message"]["text"] == "/start"
    api.clear_updates()
    return user_id


# --------------------------------------------------------------------------------------------
# parse_html unit tests
# --------------------------------------------------------------------------------------------
class TestParseHtml:
    def test_plain_text_is_returned_unchanged(self) -> None:
        assert parse_html("just text > and more") == "just text > and more"

    def test_nested_tags_produce_entities_with_utf16_offsets(self) -> None:
        parsed = parse_html_entities("😀 <b>bold <i>both</i></b> <u>u</u>")
        assert parsed.text == "😀 bold both u"
        assert parsed.entities == [
            {"type": "bold", "offset": 3, "length": 9},
            {"type": "italic", "offset": 8, "length": 4},
            {"type": "underline", "offset": 13, "length": 1},
        ]

    def test_named_and_numeric_entities(self) -> None:
        assert parse_html("&lt;b&gt; &amp; &quot;q&quot; &#39; &#x1F600; &#8212;") == (
            '<b> & "q" \' 😀 —'
        )

    def test_all_supported_tags(self) -> None:
        parsed = parse_html_entities(
            "<strong>a</strong><em>b</em><ins>c</ins><s>d</s><strike>e</strike><del>f</del>"
            '<tg-spoiler>g</tg-spoiler><span class="tg-spoiler">h</span><code>i</code>'
            '<pre><code class="language-python">j</code></pre><blockquote>k</blockquote>'
            '<blockquote expandable>l</blockquote><a href="tg://resolve?domain=x">m</a>'
            '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
        )
        assert parsed.text == "abcdefghijklm👍"
        types = [entity["type"] for entity in parsed.entities]
        assert types == [
            "bold", "italic", "underline", "strikethrough", "strikethrough", "strikethrough",
            "spoiler", "spoiler", "code", "pre", "blockquote", "expandable_blockquote",
            "text_link", "custom_emoji",
        ]  # fmt: skip
        assert parsed.entities[9]["language"] == "python"

    def test_link_url_is_entity_decoded(self) -> None:
        parsed = parse_html_entities('<a href="https://e.com/?a=1&amp;b=2">link</a>')
        assert parsed.entities == [
            {"type": "text_link", "offset": 0, "length": 4, "url": "https://e.com/?a=1&b=2"}
        ]

    def test_utf16_length_counts_astral_characters_twice(self) -> None:
        assert utf16_len("abc") == 3
        assert utf16_len("é") == 1
        assert utf16_len("😀") == 2
        assert utf16_len("👨‍👩‍👧") == 8  # three astral emoji joined by two ZWJs

    @pytest.mark.parametrize(
        ("text", "reason", "offset"),
        [
            ("a < b", 'Unsupported start tag ""', 2),
            ("a<b", "Unclosed start tag", 1),
            ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"', 0),
            ("line<br>break", 'Unsupported start tag "br"', 4),
            ("AT&T", "Character entity expected", 2),
            ("&nbsp;", 'Unsupported HTML entity "&nbsp;"', 0),
            ("&#0;", "Invalid character entity", 0),
            ("x</b>", "Unexpected end tag", 1),
            ("<b>x</i>", "Unmatched end tag", 4),
            ("<b>x</b", "Unclosed end tag", 4),
            ('<b class="x">y</b>', 'Unsupported attribute "class" in the tag "b"', 0),
            ("<a>no href</a>", 'Tag "a" must have attribute "href"', 0),
            ('<a href="javascript:alert(1)">x</a>', "unsupported URL", 0),
            ('<span class="bold">x</span>', 'Tag "span" must have class "tg-spoiler"', 0),
            ("é<b>", 'Can\'t find end tag corresponding to start tag "b"', 2),  # bytes!
        ],
    )
    def test_errors_name_reason_and_byte_offset(self, text: str, reason: str, offset: int) -> None:
        with pytest.raises(HtmlParseError) as caught:
            parse_html(text)
        assert reason in caught.value.message
        assert caught.value.byte_offset == offset
        assert f"at byte offset {offset}" in str(caught.value)


# --------------------------------------------------------------------------------------------
# Protocol basics
# --------------------------------------------------------------------------------------------
async def test_get_me(bot: Bot, api: FakeBotApi) -> None:
    me = await bot.get_me()
    assert me.username == "newsdigest_bot"
    assert me.is_bot
    assert me.id == 123456
    assert api.calls[-1].method == "getMe"
    assert api.calls[-1].status == 200


async def test_wrong_token_unknown_method_and_case_insensitivity(
    api: FakeBotApi, http: aiohttp.ClientSession
) -> None:
    async with http.post(f"{api.base_url}/bot999:nope/getMe") as response:
        assert response.status == 401
        assert await response.json() == {
            "ok": False,
            "error_code": 401,
            "description": "Unauthorized",
        }
    async with http.post(f"{api.base_url}/bot{api.token}/sendCarrierPigeon") as response:
        assert response.status == 404
        assert (await response.json())["description"] == "Not Found"
    async with http.get(f"{api.base_url}/bot{api.token}/GETME") as response:
        assert response.status == 200
        assert (await response.json())["result"]["username"] == "newsdigest_bot"
    async with http.get(f"{api.base_url}/somewhere/else") as response:
        assert response.status == 404


async def test_wrong_token_raises_invalid_token_in_ptb(api: FakeBotApi) -> None:
    wrong = Bot(token="999:nope", base_url=f"{api.base_url}/bot")
    # initialize() opens the HTTP clients before get_me fails, so shutdown() must follow.
    with pytest.raises(InvalidToken, match="rejected by the server"):
        await wrong.initialize()
    await wrong.shutdown()


async def test_json_bodies_and_query_strings_are_accepted(
    api: FakeBotApi, http: aiohttp.ClientSession
) -> None:
    await started_chat(api)
    url = f"{api.base_url}/bot{api.token}/sendMessage"
    markup = {"inline_keyboard": [[{"text": "go", "callback_data": "go"}]]}
    async with http.post(url, json={"chat_id": USER, "text": "json", "reply_markup": markup}) as r:
        body = await r.json()
        assert r.status == 200, body
        assert body["result"]["reply_markup"] == markup
    async with http.get(url, params={"chat_id": str(USER), "text": "123"}) as r:
        body = await r.json()
        assert r.status == 200, body
        assert body["result"]["text"] == "123"  # text stays a string even if it looks numeric
    assert [m.plain_text for m in api.messages(USER)] == ["json", "123"]


# --------------------------------------------------------------------------------------------
# getUpdates
# --------------------------------------------------------------------------------------------
async def test_long_poll_returns_queued_command_and_offset_confirms(
    bot: Bot, api: FakeBotApi
) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    update_id = await api.send_text(USER, "/digest@newsdigest_bot today")
    updates = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started < 1.5  # answered on arrival, not at the timeout
    assert [u.update_id for u in updates] == [update_id]
    message = updates[0].message
    assert message is not None
    assert message.text == "/digest@newsdigest_bot today"
    assert message.chat.type == "private"
    assert message.from_user is not None and message.from_user.id == USER
    entity = message.entities[0]
    assert (entity.type, entity.offset, entity.length) == ("bot_command", 0, 22)

    second = await api.send_text(USER, "plain words")
    # Without a higher offset the first update is still pending...
    assert [u.update_id for u in await bot.get_updates()] == [update_id, second]
    # ...an offset confirms (drops) everything before it.
    assert [u.update_id for u in await bot.get_updates(offset=second)] == [second]
    plain = (await bot.get_updates())[0].message
    assert plain is not None and plain.entities == ()
    assert await bot.get_updates(offset=second + 1, timeout=0) == ()


async def test_negative_offset_and_limit(bot: Bot, api: FakeBotApi) -> None:
    ids = [await api.send_text(USER, f"m{i}") for i in range(5)]
    assert [u.update_id for u in await bot.get_updates(limit=2)] == ids[:2]
    assert [u.update_id for u in await bot.get_updates(offset=-2)] == ids[3:]
    # The negative offset forgot the older ones for good.
    assert [u.update_id for u in await bot.get_updates()] == ids[3:]


async def test_allowed_updates_are_honoured(bot: Bot, api: FakeBotApi) -> None:
    await api.send_text(USER, "hello")
    api.block(USER)
    updates = await bot.get_updates(allowed_updates=["my_chat_member"])
    assert len(updates) == 1
    member = updates[0].my_chat_member
    assert member is not None
    assert (member.old_chat_member.status, member.new_chat_member.status) == ("member", "kicked")
    assert member.new_chat_member.user.id == api.bot_user["id"]
    await api.send_text(USER, "after unblock")  # unblocks first, then writes
    kinds = [u.my_chat_member is not None for u in await bot.get_updates()]
    assert kinds == [True, True]  # the setting is remembered; messages are filtered out


async def test_long_poll_ends_promptly_on_stop() -> None:
    api = FakeBotApi()
    await api.start()
    async with Bot(token=api.token, base_url=f"{api.base_url}/bot") as bot:
        poll = asyncio.create_task(bot.get_updates(timeout=30))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        await api.stop()
        assert await asyncio.wait_for(poll, 2) == ()
        assert time.monotonic() - started < 2


async def test_concurrent_long_polls_conflict(
    bot: Bot, api: FakeBotApi, http: aiohttp.ClientSession
) -> None:
    # A second poller (another bot instance) terminates the first one, as on Telegram.
    # (It must be another client: one PTB Bot has a single connection for getUpdates.)
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    url = f"{api.base_url}/bot{api.token}/getUpdates"
    second = asyncio.create_task(http.post(url, data={"timeout": "5"}))
    with pytest.raises(Conflict, match="terminated by other getUpdates"):
        await asyncio.wait_for(first, 2)
    await api.send_text(USER, "hi")
    async with await asyncio.wait_for(second, 2) as response:
        assert len((await response.json())["result"]) == 1


# --------------------------------------------------------------------------------------------
# sendMessage rules
# --------------------------------------------------------------------------------------------
async def test_send_to_unknown_or_unstarted_chat_is_chat_not_found(
    bot: Bot, api: FakeBotApi
) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(4242, "hello")
    api.add_user(4243, "Known", username="known")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(4243, "hello")
    await api.send_text(4243, "/start")
    message = await bot.send_message(4243, "hello")
    assert message.chat.username == "known"
    assert api.errors[0].description == "Bad Request: chat not found"


async def test_open_chats_accepts_any_positive_id() -> None:
    async with FakeBotApi(open_chats=True) as open_api:
        async with Bot(token=open_api.token, base_url=f"{open_api.base_url}/bot") as open_bot:
            await open_bot.send_message(987654, "hi")
            with pytest.raises(BadRequest, match="Chat not found"):
                await open_bot.send_message(-100, "no such group")
        assert open_api.messages(987654)[0].text == "hi"


async def test_blocked_user_is_forbidden_until_unblocked(bot: Bot, api: FakeBotApi) -> None:
    await started_chat(api)
    api.block(USER)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(USER, "still there?")
    api.unblock(USER)
    await bot.send_message(USER, "welcome back")
    statuses = [
        (u.my_chat_member.old_chat_member.status, u.my_chat_member.new_chat_member.status)
        for u in await bot.get_updates()
        if u.my_chat_member is not None
    ]
    assert statuses == [("member", "kicked"), ("kicked", "member")]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1 < 2", 'unsupported start tag ""'),
        ("<b>unclosed", "can't find end tag"),
        ("line<br>break", 'unsupported start tag "br"'),
        ("Tom & Jerry", "character entity expected"),
        ('<a href="javascript:alert(1)">x</a>', "unsupported url"),
    ],
)
async def test_bad_html_is_rejected(bot: Bot, api: FakeBotApi, text: str, reason: str) -> None:
    await started_chat(api)
    with pytest.raises(BadRequest, match="Can't parse entities") as caught:
        await bot.send_message(USER, text, parse_mode=ParseMode.HTML)
    assert reason in str(caught.value).lower()
    assert "at byte offset" in str(caught.value)
    assert api.messages(USER) == []


async def test_html_message_is_stored_raw_and_plain(bot: Bot, api: FakeBotApi) -> None:
    await started_chat(api)
    sent = await bot.send_message(USER, "<b>Top</b> &amp; <i>more</i>", parse_mode=ParseMode.HTML)
    assert sent.text == "Top & more"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 0, 3),
        ("italic", 6, 4),
    ]
    assert sent.from_user is not None and sent.from_user.is_bot
    stored = api.messages(USER)[0]
    assert (stored.text, stored.plain_text, stored.parse_mode) == (
        "<b>Top</b> &amp; <i>more</i>",
        "Top & more",
        "HTML",
    )


async def test_markdown_is_not_supported(bot: Bot, api: FakeBotApi) -> None:
    await started_chat(api)
    with pytest.raises(BadRequest, match="not supported by the fake"):
        await bot.send_message(USER, "*hi*", parse_mode=ParseMode.MARKDOWN_V2)


async def test_length_limit_counts_utf16_after_parsing(bot: Bot, api: FakeBotApi) -> None:
    await started_chat(api)
    await bot.send_message(USER, "x" * 4096)
    await bot.send_message(USER, "😀" * 2048)  # 4096 UTF-16 code units
    await bot.send_message(USER, "<b>" + "&lt;" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(USER, "x" * 4097)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(USER, "😀" * 2048 + "x")
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(USER, "<b> </b>", parse_mode=ParseMode.HTML)
    assert len(api.messages(USER)) == 3


async def test_callback_data_limit_is_64_bytes(bot: Bot, api: FakeBotApi) -> None:
    await started_chat(api)
    await bot.send_message(USER, "ok", reply_markup=keyboard("a" * 64))
    await bot.send_message(USER, "ok", reply_markup=keyboard("é" * 32))  # 64 bytes
    for data in ("a" * 65, "é" * 33):
        with pytest.raises(BadRequest, match="Button_data_invalid"):
            await bot.send_message(USER, "too long", reply_markup=keyboard(data))


async def test_reply_markup_validation(bot: Bot, api: FakeBotApi) -> None:
    await started_chat(api)
    bad_url = InlineKeyboardMarkup([[InlineKeyboardButton("x", url="ftp://example.com")]])
    with pytest.raises(BadRequest, match="Button_url_invalid"):
        await bot.send_message(USER, "x", reply_markup=bad_url)
    too_many = keyboard(*(str(i) for i in range(101)))
    with pytest.raises(BadRequest, match="Reply markup is too long"):
        await bot.send_message(USER, "x", reply_markup=too_many)
    link = InlineKeyboardMarkup([[InlineKeyboardButton("read", url="https://example.com/a")]])
    assert (await bot.send_message(USER, "x", reply_markup=link)).reply_markup == link


# --------------------------------------------------------------------------------------------
# Editing, buttons and callback queries
# --------------------------------------------------------------------------------------------
async def test_edit_message_text_and_not_modified(bot: Bot, api: FakeBotApi) -> None:
    await started_chat(api)
    sent = await bot.send_message(USER, "<b>v1</b>", parse_mode="HTML", reply_markup=keyboard("a"))
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "<b>v1</b>", USER, sent.message_id, parse_mode="HTML", reply_markup=keyboard("a")
        )
    edited = await bot.edit_message_text(
        "<b>v2</b>", USER, sent.message_id, parse_mode="HTML", reply_markup=keyboard("b")
    )
    assert not isinstance(edited, bool)
    assert edited.text == "v2"
    assert edited.edit_date is not None
    stored = await api.wait_for_edit(USER, sent.message_id, lambda m: m.plain_text == "v2")
    assert (stored.edits, stored.text, stored.callback_data()) == (1, "<b>v2</b>", ["b"])
    # Formatting-only changes count as a modification, like on Telegram.
    await bot.edit_message_text(
        "<i>v2</i>", USER, sent.message_id, parse_mode="HTML", reply_markup=keyboard("b")
    )
    await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=None)
    assert stored.reply_markup is None and stored.edits == 3
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=None)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", USER, 9999)


async def test_press_button_must_match_current_keyboard(bot: Bot, api: FakeBotApi) -> None:
    await started_chat(api)
    sent = await bot.send_message(USER, "pick", reply_markup=keyboard("more:1", "stop"))
    with pytest.raises(AssertionError, match="no button with callback_data 'nope'"):
        await api.press_button(USER, sent.message_id, "nope")
    with pytest.raises(AssertionError, match="no bot message"):
        await api.press_button(USER, 9999, "stop")
    query_id = await api.press_button(USER, sent.message_id, "more:1")
    (update,) = await bot.get_updates()
    query = update.callback_query
    assert query is not None
    assert (query.id, query.data, query.from_user.id) == (query_id, "more:1", USER)
    assert query.message is not None and query.message.message_id == sent.message_id
    await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=keyboard("stop"))
    with pytest.raises(AssertionError, match="current buttons: \\['stop'\\]"):
        await api.press_button(USER, sent.message_id, "more:1")


async def test_answer_callback_query_once_only(bot: Bot, api: FakeBotApi) -> None:
    await started_chat(api)
    sent = await bot.send_message(USER, "pick", reply_markup=keyboard("go"))
    query_id = await api.press_button(USER, sent.message_id, "go")
    assert api.unanswered_callback_queries() == [query_id]
    with pytest.raises(BadRequest):
        await bot.answer_callback_query(query_id, text="x" * 201)
    assert await bot.answer_callback_query(query_id, text="Done")
    assert api.callback_answers[query_id]["text"] == "Done"
    assert api.unanswered_callback_queries() == []
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query_id)
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query("made-up")


async def test_delete_message(bot: Bot, api: FakeBotApi) -> None:
    await started_chat(api)
    sent = await bot.send_message(USER, "bye", reply_markup=keyboard("x"))
    assert await bot.delete_message(USER, sent.message_id)
    assert api.messages(USER)[0].deleted
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(USER, sent.message_id)
    with pytest.raises(AssertionError, match="deleted"):
        await api.press_button(USER, sent.message_id, "x")


# --------------------------------------------------------------------------------------------
# Rate limits and failure injection
# --------------------------------------------------------------------------------------------
async def test_rate_limit_answers_429_with_retry_after(http: aiohttp.ClientSession) -> None:
    async with FakeBotApi(rate_limit=2) as limited:
        await started_chat(limited)
        async with Bot(token=limited.token, base_url=f"{limited.base_url}/bot") as bot:
            await bot.send_message(USER, "1")
            await bot.send_message(USER, "2")  # burst defaults to int(rate_limit)
            with pytest.raises(RetryAfter) as caught:
                await bot.send_message(USER, "3")
            assert caught.value.retry_after == timedelta(seconds=1)
        url = f"{limited.base_url}/bot{limited.token}/sendMessage"
        async with http.post(url, data={"chat_id": str(USER), "text": "4"}) as response:
            assert response.status == 429
            body: dict[str, Any] = await response.json()
        assert body == {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        }
        assert limited.count_429 == 2
        assert [m.plain_text for m in limited.messages(USER)] == ["1", "2"]
        await asyncio.sleep(0.55)  # one token refills at 2/s
        async with http.post(url, data={"chat_id": str(USER), "text": "5"}) as response:
            assert response.status == 200


async def test_per_chat_rate_limit() -> None:
    async with FakeBotApi(per_chat_rate=1, open_chats=True) as limited:
        async with Bot(token=limited.token, base_url=f"{limited.base_url}/bot") as bot:
            await bot.send_message(1, "a")
            await bot.send_message(2, "a")  # other chats have their own bucket
            with pytest.raises(RetryAfter):
                await bot.send_message(1, "b")
        assert limited.count_429 == 1


async def test_fail_next_and_disconnect_next(bot: Bot, api: FakeBotApi) -> None:
    await started_chat(api)
    api.fail_next("sendMessage", status=500, description="Internal Server Error", times=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await bot.send_message(USER, "x")
    api.fail_next(
        "sendmessage", status=429, description="Too Many Requests: retry after 7",
        parameters={"retry_after": 7},
    )  # fmt: skip
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER, "x")
    assert caught.value.retry_after == timedelta(seconds=7)
    api.fail_next("sendMessage", status=400, description="Bad Request: custom")
    with pytest.raises(BadRequest, match="Custom"):
        await bot.send_message(USER, "x")
    api.disconnect_next("sendMessage")
    with pytest.raises(NetworkError):
        await bot.send_message(USER, "x")
    await bot.send_message(USER, "finally")
    assert [m.plain_text for m in api.messages(USER)] == ["finally"]
    assert [c.status for c in api.errors] == [500, 500, 429, 400, 0]
    with pytest.raises(ValueError, match="unknown Bot API method"):
        api.fail_next("sendPigeon", status=500, description="x")


async def test_migrated_group_raises_chat_migrated(bot: Bot, api: FakeBotApi) -> None:
    api.add_group(-4001, "Readers")
    await bot.send_message(-4001, "hello group")
    api.migrate_group(-4001, -1_004_000_000_001)
    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(-4001, "hello again")
    assert caught.value.new_chat_id == -1_004_000_000_001
    message = await bot.send_message(-1_004_000_000_001, "hello supergroup")
    assert message.chat.type == "supergroup"
    assert message.chat.title == "Readers"
    migrations = [u.message.migrate_to_chat_id for u in await bot.get_updates() if u.message]
    assert -1_004_000_000_001 in migrations


# --------------------------------------------------------------------------------------------
# Commands, chats, misc methods
# --------------------------------------------------------------------------------------------
async def test_set_my_commands_per_scope(bot: Bot, api: FakeBotApi) -> None:
    default = [BotCommand("start", "Subscribe"), BotCommand("digest", "Today's digest")]
    await bot.set_my_commands(default)
    await bot.set_my_commands([BotCommand("help", "Help")], scope=BotCommandScopeChat(USER))
    await bot.set_my_commands(
        [BotCommand("start", "Abonnieren")],
        scope=BotCommandScopeAllPrivateChats(),
        language_code="de",
    )
    assert api.commands == {
        "default": [
            {"command": "start", "description": "Subscribe"},
            {"command": "digest", "description": "Today's digest"},
        ],
        f"chat:{USER}": [{"command": "help", "description": "Help"}],
        "all_private_chats|de": [{"command": "start", "description": "Abonnieren"}],
    }
    assert [c.command for c in await bot.get_my_commands()] == ["start", "digest"]
    for bad in (BotCommand("Start", "x"), BotCommand("a" * 33, "x"), BotCommand("ok", "")):
        with pytest.raises(BadRequest):
            await bot.set_my_commands([bad])
    with pytest.raises(BadRequest, match="Bot_commands_too_much"):
        await bot.set_my_commands([BotCommand(f"c{i}", "d") for i in range(101)])
    assert await bot.delete_my_commands(scope=BotCommandScopeChat(USER))
    assert f"chat:{USER}" not in api.commands


async def test_misc_methods(bot: Bot, api: FakeBotApi) -> None:
    await started_chat(api)
    assert await bot.delete_webhook(drop_pending_updates=True)
    info = await bot.get_webhook_info()
    assert info.url == ""
    assert await bot.send_chat_action(USER, "typing")
    chat = await bot.get_chat(USER)
    assert (chat.id, chat.type, chat.first_name) == (USER, "private", "Reader")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.get_chat(555)
    original = await bot.send_message(USER, "<b>share</b>", parse_mode="HTML")
    api.add_group(-4002, "Friends")
    copy_id = await bot.copy_message(-4002, USER, original.message_id)
    forwarded = await bot.forward_message(-4002, USER, original.message_id)
    assert forwarded.text == "share"
    assert [m.message_id for m in api.messages(-4002)] == [copy_id.message_id, 2]
    assert api.stats()["accepted"] == 3
    assert await bot.log_out()
    assert await bot.close()


# --------------------------------------------------------------------------------------------
# Observation helpers
# --------------------------------------------------------------------------------------------
async def test_wait_for_message_returns_each_message_once(bot: Bot, api: FakeBotApi) -> None:
    await started_chat(api)
    await bot.send_message(USER, "first")

    async def later() -> None:
        await asyncio.sleep(0.05)
        await bot.send_message(USER, "second")

    task = asyncio.create_task(later())
    assert (await api.wait_for_message(USER)).plain_text == "first"
    assert (await api.wait_for_message(USER, timeout=2)).plain_text == "second"
    await task
    with pytest.raises(WaitTimeout, match="#2 \\(already returned\\): 'first'"):
        await api.wait_for_message(USER, timeout=0.05)
    with pytest.raises(asyncio.TimeoutError):
        await api.wait_for_message(USER, lambda m: "nothing" in m.plain_text, timeout=0.01)


async def test_calls_stats_and_reset(bot: Bot, api: FakeBotApi) -> None:
    await started_chat(api)
    for text in ("same", "same", "other"):
        await bot.send_message(USER, text)
    stats = api.stats()
    assert (stats["accepted"], stats["duplicates"], stats["per_chat"]) == (3, 1, {str(USER): 3})
    assert stats["accepted_times"][0] == 0.0
    assert [c.params["text"] for c in api.calls if c.method == "sendMessage"] == [
        "same",
        "same",
        "other",
    ]
    first: SentMessage = api.all_messages()[0]
    api.reset_observations()
    assert (api.calls, api.errors, api.all_messages(), api.count_429) == ([], [], [], 0)
    assert api.stats()["accepted"] == 0
    # Messages sent before the reset can still be edited.
    await bot.edit_message_text("edited", USER, first.message_id)
    assert first.plain_text == "edited"


# --------------------------------------------------------------------------------------------
# Standalone runner
# --------------------------------------------------------------------------------------------
async def test_standalone_runner(http: aiohttp.ClientSession) -> None:
    token = "777:RUNNER"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.botapi", "--port", "0", "--rate", "100",
        "--latency", "0.01", "--open-chats", "--token", token,
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 10)).decode().strip()
        assert line.startswith("READY http://127.0.0.1:")
        base_url = line.removeprefix("READY ")
        async with http.get(f"{base_url}/bot{token}/getMe") as response:
            assert (await response.json())["result"]["id"] == 777
        send = f"{base_url}/bot{token}/sendMessage"
        for _ in range(2):
            async with http.post(send, data={"chat_id": "5", "text": "hi"}) as response:
                assert response.status == 200
        async with http.post(
            f"{base_url}/_control/send_text", json={"user_id": 6, "text": "/start"}
        ) as response:
            assert (await response.json())["ok"]
        async with http.post(f"{base_url}/_control/block", json={"user_id": 6}) as response:
            assert response.status == 200
        async with http.post(send, data={"chat_id": "6", "text": "hi"}) as response:
            assert response.status == 403
        async with http.get(f"{base_url}/_stats") as response:
            stats = await response.json()
        assert stats["accepted"] == 2
        assert stats["per_chat"] == {"5": 2}
        assert stats["duplicates"] == 1
        assert stats["count_429"] == 0
        assert len(stats["accepted_times"]) == 2
        async with http.post(f"{base_url}/_control/reset") as response:
            assert response.status == 200
        async with http.get(f"{base_url}/_stats") as response:
            assert (await response.json())["accepted"] == 0
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 10) == 0


# --------------------------------------------------------------------------------------------
# End to end with a PTB Application
# --------------------------------------------------------------------------------------------
async def test_ptb_application_round_trip(api: FakeBotApi) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(
            update.effective_chat.id,
            "<b>Welcome</b>",
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard("subscribe"),
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Subscribed")
        await query.edit_message_text("You are subscribed.")

    application = Application.builder().token(api.token).base_url(f"{api.base_url}/bot").build()
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CallbackQueryHandler(pressed))
    async with application:
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=1)
        await application.start()
        try:
            await api.send_text(USER, "/start")
            welcome = await api.wait_for_message(USER)
            assert welcome.plain_text == "Welcome"
            query_id = await api.press_button(USER, welcome.message_id, "subscribe")
            edited = await api.wait_for_edit(USER, welcome.message_id)
            assert edited.plain_text == "You are subscribed."
            assert edited.reply_markup is None
            assert api.callback_answers[query_id]["text"] == "Subscribed"
        finally:
            await application.updater.stop()
            await application.stop()
    assert api.unanswered_callback_queries() == []
