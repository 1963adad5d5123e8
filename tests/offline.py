"""An offline Bot API for handler unit tests: PTB's ``BaseRequest`` pattern, no network.

:class:`OfflineRequest` answers the Bot API methods the bot uses with results shaped like
Telegram's (a ``Message`` for sends and edits, ``true`` for the rest) and records every call
with its decoded parameters, so a test asserts on what the bot *asked* Telegram to do.

It is stricter than a canned ``{"ok": true}`` on purpose: text and keyboards are checked by
the stand-in's own rules (:mod:`tests.botapi.rules`, HTML as Telegram parses it), so an unescaped
``<script>`` fails the send with Telegram's 400 instead of passing silently; callback data
over 64 bytes, empty or oversized texts, edits that change nothing and a second answer to
one callback query are refused with Telegram's wording, too.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass
from typing import Any

from telegram.request import BaseRequest, RequestData

from tests.botapi.members import member_json
from tests.botapi.records import bot_user_json
from tests.botapi.rules import (
    MAX_CALLBACK_ANSWER_LENGTH,
    NOT_MODIFIED,
    QUERY_TOO_OLD,
    ApiError,
    bad_request,
    message_text,
    validate_reply_markup,
)

JsonDict = dict[str, Any]

BOT_USER: JsonDict = bot_user_json()
# Methods answered with plain ``true``: they change nothing a handler test looks at.
TRUE_METHODS = frozenset(
    {
        "setMyCommands",
        "deleteMyCommands",
        "sendChatAction",
        "deleteMessage",
        "deleteWebhook",
        "close",
        "answerInlineQuery",  # Telegram answers True; the results are in the call
        "logOut",
    }
)


@dataclass(frozen=True, slots=True)
class RecordedCall:
    """One Bot API call: the method name and its parameters as decoded JSON."""

    method: str
    params: JsonDict
    result: Any = None  # what Telegram answered (a Message dict for sends and edits)
    ok: bool = True
    error: str | None = None

    @property
    def text(self) -> str:
        return str(self.params.get("text", ""))

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    @property
    def callback_data(self) -> list[str]:
        """The callback data of every inline button, row by row."""
        markup = self.params.get("reply_markup") or {}
        return [
            button["callback_data"]
            for row in markup.get("inline_keyboard", [])
            for button in row
            if "callback_data" in button
        ]

    @property
    def button_labels(self) -> list[str]:
        markup = self.params.get("reply_markup") or {}
        return [button["text"] for row in markup.get("inline_keyboard", []) for button in row]


class OfflineRequest(BaseRequest):
    """A ``BaseRequest`` that answers from memory and records every call."""

    __slots__ = (
        "_answered_queries",
        "_message_ids",
        "blocked",
        "bot_user",
        "calls",
        "members",
        "messages",
        "reply_markups",
    )

    def __init__(self, bot_user: JsonDict | None = None) -> None:
        self.bot_user: JsonDict = dict(bot_user or BOT_USER)
        self.calls: list[RecordedCall] = []
        # The current state of every message the bot sent, by (chat id, message id).
        self.messages: dict[tuple[int, int], JsonDict] = {}
        self.blocked: set[int] = set()  # chats whose user blocked the bot: sends get a 403
        # getChatMember's answers by (chat id, user id): a ChatMember's JSON, its status
        # (tests.botapi.members) or Telegram's refusal; anyone else is an ordinary member.
        self.members: dict[tuple[int, int], JsonDict | str | ApiError] = {}
        # Reply keyboards, ForceReply prompts and removals, by message (not part of it).
        self.reply_markups: dict[tuple[int, int], JsonDict] = {}
        self._answered_queries: set[str] = set()
        self._message_ids = itertools.count(1)

    # -- BaseRequest ---------------------------------------------------------------------------
    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(  # type: ignore[override]  # the timeouts mean nothing offline
        self, url: str, method: str, request_data: RequestData | None = None, **_: object
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        # ``parameters`` holds JSON-ready values (nested objects as dicts, where the wire
        # body has them as strings); the round trip turns tuples into lists as Telegram would.
        params: JsonDict = json.loads(json.dumps(request_data.parameters)) if request_data else {}
        try:
            result = self._answer(name, params)
        except ApiError as exc:
            self.calls.append(RecordedCall(name, params, ok=False, error=exc.description))
            body = {"ok": False, "error_code": exc.status, "description": exc.description}
            return exc.status, json.dumps(body).encode()
        self.calls.append(RecordedCall(name, params, result))
        return 200, json.dumps({"ok": True, "result": result}).encode()

    # -- what tests read -------------------------------------------------------------------------
    def calls_to(self, method: str) -> list[RecordedCall]:
        return [c for c in self.calls if c.method == method and c.ok]

    def sent(self, chat_id: int | None = None) -> list[RecordedCall]:
        """Successful ``sendMessage`` calls, oldest first (to one chat if given)."""
        return [c for c in self.calls_to("sendMessage") if chat_id is None or c.chat_id == chat_id]

    def failed(self) -> list[RecordedCall]:
        return [c for c in self.calls if not c.ok]

    # -- the Bot API ---------------------------------------------------------------------------
    def _answer(self, name: str, params: JsonDict) -> object:
        if name == "getMe":
            return self.bot_user
        if name == "getUpdates":
            return []
        if name == "getMyCommands":
            return []
        if name == "sendMessage":
            return self._send_message(params)
        if name == "editMessageText":
            return self._edit_message_text(params)
        if name == "editMessageReplyMarkup":
            return self._edit_message_reply_markup(params)
        if name == "answerCallbackQuery":
            return self._answer_callback_query(params)
        if name == "getChatMember":
            return self._get_chat_member(params)
        if name in TRUE_METHODS:
            return True
        # What Telegram answers for a method it does not have: the test sees an error.
        raise ApiError(404, "Not Found")

    def _send_message(self, params: JsonDict) -> JsonDict:
        chat_id = self._chat_id(params)
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        _, plain, entities, _mode = message_text(params)
        markup = validate_reply_markup(params.get("reply_markup"), inline_only=False)
        message: JsonDict = {
            "message_id": next(self._message_ids),
            "from": self.bot_user,
            "chat": _chat_json(chat_id),
            "date": int(time.time()),
            "text": plain,
        }
        if entities:
            message["entities"] = entities
        if markup is not None and "inline_keyboard" in markup:
            # Like Telegram: a message carries only an inline keyboard; a reply keyboard,
            # a ForceReply or a removal is shown by the client, not returned.
            message["reply_markup"] = markup
        elif markup is not None:
            self.reply_markups[(chat_id, message["message_id"])] = markup
        self.messages[(chat_id, message["message_id"])] = message
        return message

    def _edit_message_text(self, params: JsonDict) -> JsonDict:
        chat_id = self._chat_id(params)
        current = self.messages.get((chat_id, int(params.get("message_id", 0))))
        if current is None:
            raise bad_request("message to edit not found")
        _, plain, entities, _mode = message_text(params)
        # Telegram drops the keyboard when an edit does not repeat it.
        markup = validate_reply_markup(params.get("reply_markup"), inline_only=True)
        before = (current["text"], current.get("entities", []), current.get("reply_markup"))
        if (plain, entities, markup) == before:
            raise bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        edited: JsonDict = {
            key: value for key, value in current.items() if key not in ("entities", "reply_markup")
        }
        edited.update(text=plain, edit_date=int(time.time()))
        if entities:
            edited["entities"] = entities
        if markup is not None:
            edited["reply_markup"] = markup
        self.messages[(chat_id, current["message_id"])] = edited
        return edited

    def _edit_message_reply_markup(self, params: JsonDict) -> JsonDict:
        chat_id = self._chat_id(params)
        current = self.messages.get((chat_id, int(params.get("message_id", 0))))
        if current is None:
            raise bad_request("message to edit not found")
        markup = validate_reply_markup(params.get("reply_markup"), inline_only=True)
        if markup == current.get("reply_markup"):
            raise bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        edited = {key: value for key, value in current.items() if key != "reply_markup"}
        if markup is not None:
            edited["reply_markup"] = markup
        edited["edit_date"] = int(time.time())
        self.messages[(chat_id, current["message_id"])] = edited
        return edited

    def _answer_callback_query(self, params: JsonDict) -> bool:
        query_id = params.get("callback_query_id")
        # A query can be answered once; a second answer is refused like an expired one.
        if not isinstance(query_id, str) or query_id in self._answered_queries:
            raise bad_request(QUERY_TOO_OLD.removeprefix("Bad Request: "))
        if len(str(params.get("text") or "")) > MAX_CALLBACK_ANSWER_LENGTH:
            raise bad_request("MESSAGE_TOO_LONG")
        self._answered_queries.add(query_id)
        return True

    def _get_chat_member(self, params: JsonDict) -> JsonDict:
        chat_id, user_id = self._chat_id(params), int(params["user_id"])
        found = self.members.get((chat_id, user_id), "member")
        if isinstance(found, ApiError):
            raise found
        if isinstance(found, dict):
            return found
        user = {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}
        return member_json(user, found, "supergroup" if chat_id < 0 else "private")

    @staticmethod
    def _chat_id(params: JsonDict) -> int:
        try:
            return int(params["chat_id"])
        except (KeyError, TypeError, ValueError):
            raise bad_request("chat not found") from None


def _chat_json(chat_id: int) -> JsonDict:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "Reader"}
    return {"id": chat_id, "type": "supergroup", "title": "Group"}
