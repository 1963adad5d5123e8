"""Inline mode: a simulated user types ``@bot words``; the bot answers with results.

:meth:`InlineMode.send_inline_query` queues an ``inline_query`` update (delivered by
getUpdates, or taken for a webhook, like every update); ``answerInlineQuery`` is checked
as Telegram checks it: a known query, answered once, within ``inline_timeout`` seconds
(Telegram: about 10); at most 50 results with unique ids of 1-64 bytes; a next_offset of
at most 64 bytes; each article result with a title and a message whose text passes the
same checks as sendMessage (HTML parsed strictly, 4096 UTF-16 units). Answers are kept
for tests (:meth:`InlineMode.inline_answer`, :meth:`InlineMode.wait_for_inline_answer`);
:meth:`InlineMode.choose_inline_result` plays the user picking one.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from .records import InlineAnswer, InlineQuery
from .rules import (
    QUERY_TOO_OLD,
    ApiError,
    JsonDict,
    bad_request,
    is_button_url,
    message_text,
    validate_reply_markup,
)
from .state import ApiState

MAX_INLINE_QUERY = 256  # characters a user can type after the bot's name
MAX_INLINE_RESULTS = 50
MAX_RESULT_ID_BYTES = 64
MAX_NEXT_OFFSET_BYTES = 64
INLINE_CHAT_TYPES = frozenset({"sender", "private", "group", "supergroup", "channel"})
# Result types the stand-in models (Telegram has 20; the bot sends articles).
RESULT_TYPES = frozenset({"article"})
_START_PARAMETER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


@dataclass(slots=True)
class ChosenResult:
    """The message a user sends by choosing an inline result (into the chat they typed in)."""

    result_id: str
    text: str  # as the bot gave it (raw HTML with parse_mode HTML)
    plain_text: str  # what the chat shows
    entities: list[JsonDict] = field(default_factory=list)


class InlineMode(ApiState):
    """Inline queries from the simulated users, and the bot's answers to them."""

    async def send_inline_query(
        self, user_id: int, query: str, *, offset: str = "", chat_type: str = "sender"
    ) -> str:
        """``user_id`` types ``@bot query`` (``offset``: the next page, as the bot's last
        answer named it; ``chat_type``: where they type it, "sender" = their chat with the
        bot). Returns the inline query's id."""
        assert self.bot_user.get("supports_inline_queries"), "inline mode is off (/setinline)"
        assert len(query) <= MAX_INLINE_QUERY, f"Telegram cuts a query at {MAX_INLINE_QUERY}"
        assert chat_type in INLINE_CHAT_TYPES, f"no chat type {chat_type!r} for inline queries"
        user = self._users.get(user_id) or self.add_user(user_id)
        query_id = str(self._next_query_id)
        self._next_query_id += 1
        self._inline_queries[query_id] = InlineQuery(
            query_id, user_id, query, offset, chat_type, time.monotonic()
        )
        self._queue_update(
            "inline_query",
            {"id": query_id, "from": user, "query": query, "offset": offset,
             "chat_type": chat_type},
        )  # fmt: skip
        return query_id

    def inline_answer(self, query_id: str) -> InlineAnswer | None:
        """The bot's accepted answer to an inline query (None: none yet)."""
        query = self._inline_queries.get(query_id)
        return None if query is None else query.answer

    def expire_inline_query(self, query_id: str) -> None:
        """Make the query older than ``inline_timeout``, as if the bot had been too slow."""
        self._inline_queries[query_id].sent_at -= self.inline_timeout + 1.0

    def unanswered_inline_queries(self) -> list[str]:
        return sorted(q.id for q in self._inline_queries.values() if q.answer is None)

    async def wait_for_inline_answer(self, query_id: str, timeout: float = 5.0) -> InlineAnswer:
        """The bot's answer to ``query_id``, already there or arriving within ``timeout``."""
        query = self._inline_queries.get(query_id)
        assert query is not None, f"no inline query {query_id}"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while query.answer is None:
            remaining = deadline - loop.time()
            if remaining <= 0:
                rejected = [c.description for c in self.errors if c.method == "answerInlineQuery"]
                raise AssertionError(
                    f"no answer to inline query {query_id} ({query.query!r}) within {timeout}s; "
                    f"refused answers: {rejected!r}"
                )
            waiter: asyncio.Future[None] = loop.create_future()
            self._chat_waiters[query.user_id].add(waiter)
            try:
                await asyncio.wait({waiter}, timeout=remaining)
            finally:
                self._chat_waiters[query.user_id].discard(waiter)
        return query.answer

    def choose_inline_result(self, query_id: str, result_id: str) -> ChosenResult:
        """The user picks a result of the bot's answer: the message it sends, parsed as the
        chat shows it. The bot gets a ``chosen_inline_result`` update, as with Telegram's
        inline feedback on (its allowed_updates may drop it)."""
        query = self._inline_queries.get(query_id)
        assert query is not None and query.answer is not None, f"{query_id} has no answer"
        result = next((r for r in query.answer.results if r["id"] == result_id), None)
        assert result is not None, f"no result {result_id!r} in {query.answer.ids()!r}"
        content = result["input_message_content"]
        text, plain, entities, _ = message_text(_as_message(content))
        self._queue_update(
            "chosen_inline_result",
            {"result_id": result_id, "from": self._users[query.user_id], "query": query.query},
        )
        return ChosenResult(result_id, text, plain, entities)

    def _answer_inline_query(self, params: JsonDict) -> bool:
        query_id = params.get("inline_query_id")
        query = self._inline_queries.get(query_id) if isinstance(query_id, str) else None
        too_old = query is not None and time.monotonic() - query.sent_at > self.inline_timeout
        if query is None or query.answer is not None or too_old:
            raise bad_request(QUERY_TOO_OLD.removeprefix("Bad Request: "))
        results = params.get("results")
        if not isinstance(results, list):
            raise bad_request("can't parse inline query results JSON object")
        if len(results) > MAX_INLINE_RESULTS:
            raise bad_request("RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            _check_result(result, seen)
        next_offset = params.get("next_offset")
        if next_offset is None:
            next_offset = ""
        if not isinstance(next_offset, str) or len(next_offset.encode()) > MAX_NEXT_OFFSET_BYTES:
            raise bad_request("NEXT_OFFSET_INVALID")
        cache_time = params.get("cache_time")
        if cache_time is not None and (
            isinstance(cache_time, bool) or not isinstance(cache_time, int) or cache_time < 0
        ):
            raise bad_request("invalid cache_time specified")
        is_personal = params.get("is_personal", False)
        if not isinstance(is_personal, bool):
            raise bad_request("invalid is_personal specified")
        button = params.get("button")
        if button is not None:
            _check_results_button(button)
        query.answer = InlineAnswer(
            query_id=query.id,
            results=results,
            next_offset=next_offset,
            cache_time=cache_time,
            is_personal=is_personal,
            button=button,
            answered_at=time.monotonic(),
        )
        self._notify_chat(query.user_id)
        return True


def _as_message(content: JsonDict) -> JsonDict:
    """An InputTextMessageContent in sendMessage's terms, for the same text checks."""
    return {
        "text": content.get("message_text"),
        "parse_mode": content.get("parse_mode"),
        "entities": content.get("entities"),
    }


def _check_result(result: object, seen: set[str]) -> None:
    if not isinstance(result, dict):
        raise bad_request("can't parse inline query result: InlineQueryResult must be an Object")
    kind = result.get("type")
    if kind not in RESULT_TYPES:
        raise bad_request(f"inline result type {kind!r} is not supported by the fake Bot API")
    result_id = result.get("id")
    if not isinstance(result_id, str) or not 1 <= len(result_id.encode()) <= MAX_RESULT_ID_BYTES:
        raise bad_request("RESULT_ID_INVALID")
    if result_id in seen:
        raise bad_request("RESULT_ID_DUPLICATE")
    seen.add(result_id)
    title = result.get("title")
    if not isinstance(title, str) or not title.strip():
        raise bad_request('can\'t parse inline query result: Field "title" must be of type String')
    description = result.get("description")
    if description is not None and not isinstance(description, str):
        raise bad_request('can\'t parse inline query result: Field "description" must be of '
                          "type String")  # fmt: skip
    for name in ("url", "thumbnail_url"):
        if name in result and not (
            is_button_url(result[name]) and not str(result[name]).startswith("tg://")
        ):
            raise bad_request("URL_INVALID" if name == "url" else "THUMBNAIL_URL_INVALID")
    content = result.get("input_message_content")
    if not isinstance(content, dict) or "message_text" not in content:
        # Telegram has other contents (location, venue, contact...); the bot sends text.
        raise bad_request("can't parse inline query result: input_message_content is required")
    try:
        message_text(_as_message(content))
    except ApiError as exc:
        reason = exc.description.removeprefix("Bad Request: ")
        raise bad_request(f"result {result_id}: {reason}") from None
    validate_reply_markup(result.get("reply_markup"), inline_only=True)


def _check_results_button(button: object) -> None:
    if not isinstance(button, dict):
        raise bad_request("can't parse InlineQueryResultsButton JSON object")
    text = button.get("text")
    if not isinstance(text, str) or not text.strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    start = button.get("start_parameter")
    if ("web_app" in button) == (start is not None):
        raise bad_request("exactly one of web_app and start_parameter must be given")
    if start is not None and not (
        isinstance(start, str) and 1 <= len(start) <= 64 and set(start) <= _START_PARAMETER
    ):
        raise bad_request("START_PARAM_INVALID")
