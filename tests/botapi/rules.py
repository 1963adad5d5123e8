"""Telegram's rules and wording, shared by the stand-in and the offline request.

What Telegram refuses and how it says so: message text (HTML parsing, 4096 UTF-16
units after parsing), inline keyboards (one action per button, 1-64 bytes of
callback data, http(s)/tg links), command lists and scopes. Each check raises
:class:`ApiError` with the status and description Telegram gives.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .html import HtmlParseError, parse_html_entities, utf16_len

JsonDict = dict[str, Any]

MAX_TEXT_LENGTH = 4096  # UTF-16 code units after entity parsing
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_BUTTONS = 100
MAX_CALLBACK_DATA_BYTES = 64
MAX_COMMANDS = 100
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is "
    "running"
)
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
    "the webhook first"
)
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
# Methods that put a message into a chat; they share the flood-control buckets.
RATE_LIMITED_METHODS = frozenset(
    {"sendMessage", "editMessageText", "editMessageReplyMarkup", "copyMessage", "forwardMessage"}
)
# Methods that create a *new* message (for the duplicate statistic).
CREATING_METHODS = frozenset({"sendMessage", "copyMessage", "forwardMessage"})
ALL_UPDATE_TYPES = frozenset(
    {
        "message", "edited_message", "channel_post", "edited_channel_post",
        "business_connection", "business_message", "edited_business_message",
        "deleted_business_messages", "message_reaction", "message_reaction_count",
        "inline_query", "chosen_inline_result", "callback_query", "shipping_query",
        "pre_checkout_query", "purchased_paid_media", "poll", "poll_answer", "my_chat_member",
        "chat_member", "chat_join_request", "chat_boost", "removed_chat_boost",
    }
)  # fmt: skip
# What Telegram delivers when allowed_updates was never set (or set to []).
DEFAULT_UPDATE_TYPES = ALL_UPDATE_TYPES - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}
CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip
# Inline keyboard button fields of which exactly one must be present.
BUTTON_ACTIONS = (
    "callback_data", "url", "switch_inline_query", "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat", "login_url", "web_app", "callback_game", "pay",
    "copy_text",
)  # fmt: skip
# Parameters that are strings on the wire; everything else in a form body is JSON-encoded.
STRING_PARAMS = frozenset(
    {
        "text", "parse_mode", "callback_query_id", "url", "action", "language_code",
        "inline_message_id", "business_connection_id", "message_effect_id", "description",
        "short_description", "name", "secret_token", "caption", "ip_address", "emoji",
        "inline_query_id", "next_offset", "switch_pm_text", "switch_pm_parameter",
    }
)  # fmt: skip
COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
BOT_COMMAND_PREFIX = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?=\s|$)")
URL_SCHEMES = ("http://", "https://", "tg://")


class ApiError(Exception):
    """A Bot API error answer: ``{"ok": false, "error_code": status, ...}``."""

    def __init__(self, status: int, description: str, parameters: JsonDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


class FloodError(ApiError):
    """A 429 from strict mode; ``limit`` names the window that refused (for tests only:
    Telegram's answer does not say, and neither does the stand-in's)."""

    def __init__(self, retry_after: int, limit: str) -> None:
        super().__init__(
            429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
        )
        self.limit = limit


def bad_request(reason: str, parameters: JsonDict | None = None) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}", parameters)


def commands_key(params: JsonDict) -> str:
    """Storage key for a command list: scope (plus ``|language_code`` when given)."""
    scope = params.get("scope")
    if scope is None:
        key = "default"
    elif not isinstance(scope, dict):
        raise bad_request("can't parse BotCommandScope JSON object")
    else:
        kind = scope.get("type")
        if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
            key = str(kind)
        elif kind in ("chat", "chat_administrators"):
            key = f"{kind}:{scope.get('chat_id')}"
        elif kind == "chat_member":
            key = f"chat_member:{scope.get('chat_id')}:{scope.get('user_id')}"
        else:
            raise bad_request("wrong BotCommandScope type specified")
    language = params.get("language_code")
    return f"{key}|{language}" if language else key


def message_text(params: JsonDict) -> tuple[str, str, list[JsonDict], str | None]:
    """Validate text + parse_mode; returns (raw text, plain text, entities, parse_mode)."""
    text = params.get("text")
    if text is None or text == "":
        raise bad_request("message text is empty")
    if not isinstance(text, str):
        text = str(text)  # a JSON body may carry a number
    parse_mode = params.get("parse_mode") or None
    mode = parse_mode.lower() if isinstance(parse_mode, str) else None
    entities: list[JsonDict]
    if mode is None:
        plain = text
        given = params.get("entities")
        entities = list(given) if isinstance(given, list) else []
    elif mode == "html":
        try:
            parsed = parse_html_entities(text)
        except HtmlParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from exc
        plain, entities = parsed.text, parsed.entities
    elif mode in ("markdown", "markdownv2"):
        raise bad_request(f"parse_mode {parse_mode} is not supported by the fake Bot API; use HTML")
    else:
        raise bad_request(f"unsupported parse_mode {parse_mode}")
    if not plain.strip():
        raise bad_request("message text is empty")
    if utf16_len(plain) > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")
    return text, plain, entities, parse_mode


def validate_reply_markup(markup: object, *, inline_only: bool) -> JsonDict | None:
    """Check a reply_markup like Telegram does; returns it (None if absent or empty)."""
    if markup is None or markup == "":
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
            )
        buttons = [button for row in rows for button in row]
        if len(buttons) > MAX_BUTTONS:
            raise bad_request("reply markup is too long")
        for button in buttons:
            validate_inline_button(button)
        return markup if buttons else None
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request(
                'field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays'
            )
        for button in flatten(rows):
            label = button.get("text") if isinstance(button, dict) else button
            if not isinstance(label, str) or not label:
                raise bad_request("keyboard button text is empty")
        return markup
    if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
        return markup
    raise bad_request("can't parse reply keyboard markup JSON object")


def validate_inline_button(button: object) -> None:
    if not isinstance(button, dict):
        raise bad_request(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
        )
    text = button.get("text")
    if not isinstance(text, str) or not text.strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    actions = [name for name in BUTTON_ACTIONS if name in button]
    if not actions:
        raise bad_request("text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise bad_request(
            "can't parse inline keyboard button: exactly one of the optional fields must be used"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        size = len(data.encode("utf-8")) if isinstance(data, str) else 0
        if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button:
        url = button["url"]
        if not is_button_url(url):
            raise bad_request("BUTTON_URL_INVALID")


def is_button_url(url: object) -> bool:
    if not isinstance(url, str):
        return False
    lowered = url.lower()
    return any(lowered.startswith(s) and len(lowered) > len(s) for s in URL_SCHEMES)


def flatten(rows: Iterable[list[Any]]) -> list[Any]:
    return [item for row in rows for item in row]
