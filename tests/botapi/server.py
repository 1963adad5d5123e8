"""An in-process stand-in for the Telegram Bot API, built on aiohttp.

It answers ``/bot{token}/{method}`` the way api.telegram.org does for the methods
python-telegram-bot v22 uses, enforces Telegram's rules with Telegram's error wording, and records
everything so tests can assert on what the bot *actually* sent. Tests drive the "users" through
methods like :meth:`FakeBotApi.send_text` and :meth:`FakeBotApi.press_button`.

Everything runs on one event loop and request handlers never await between reading and updating
state (except for the simulated latency, which happens first), so no locking is needed.
"""

from __future__ import annotations

import asyncio
import math
import socket
import time
from collections.abc import Callable
from typing import Any, Self

from aiohttp import web

from .faults import FaultInjection
from .inline import InlineMode
from .methods import BotMethods
from .observe import Observations
from .records import (
    Call,
    Failure,
    SentMessage,
    SlidingWindow,
    TokenBucket,
    WaitTimeout,
    bot_user_json,
)
from .rules import RATE_LIMITED_METHODS, ApiError, FloodError, JsonDict
from .users import UserActions
from .wire import chat_id_or_none, json_response, read_params

__all__ = ["ApiError", "Call", "FakeBotApi", "SentMessage", "WaitTimeout", "bot_user_json"]

Handler = Callable[[JsonDict], Any]


class FakeBotApi(UserActions, InlineMode, Observations, FaultInjection, BotMethods):
    """A local Telegram Bot API. Use ``async with FakeBotApi() as api:``.

    Point the bot at it with ``Bot(token=api.token, base_url=api.base_url + "/bot")``.
    """

    def __init__(self, **options: Any) -> None:
        """``options``: see :class:`tests.botapi.state.ApiState` (token, limits, latency...)."""
        super().__init__(**options)
        self._methods: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "deleteWebhook": self._delete_webhook,
                "setWebhook": self._set_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "copyMessage": self._copy_message,
                "forwardMessage": self._forward_message,
                "answerCallbackQuery": self._answer_callback_query,
                "answerInlineQuery": self._answer_inline_query,
                "sendChatAction": self._send_chat_action,
                "getChat": self._get_chat,
                "getChatMember": self._get_chat_member,
                "getChatAdministrators": self._get_chat_administrators,
                "close": self._true,
                "logOut": self._true,
            }.items()
        }
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        """Root URL; the bot calls ``{base_url}/bot{token}/{method}``."""
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_bot_request)
        app.router.add_get("/_stats", self._handle_stats)
        app.router.add_post("/_control/{action}", self._handle_control)
        # Anything else is answered like Telegram answers a bogus path.
        app.router.add_route("*", "/{tail:.*}", self._handle_not_found)
        # No access log: at 1000+ requests/s it would dominate the profile.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        site = web.SockSite(runner, sock)
        await site.start()
        self._runner = runner
        self._closing = False

    async def stop(self) -> None:
        self._closing = True
        # A pending long poll would otherwise hold up shutdown for its whole timeout.
        self._wake_poller("closing")
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        description: str,
        parameters: JsonDict | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with this error instead."""
        self._failures[self._canonical(method)].append(
            Failure(status, description, parameters, times)
        )

    def poll_elsewhere(self, on: bool = True) -> None:
        """Another process polls this token (``on``): every getUpdates gets 409 Conflict."""
        self.polled_elsewhere = on
        if on:
            self._wake_poller("conflict")  # the pending long poll is terminated, as by Telegram

    def take_update(self, update_id: int) -> JsonDict:
        """Remove a queued update and return it, e.g. for a test to POST it to a webhook
        as Telegram would (with the secret token in the header)."""
        for queued in self._updates:
            if queued.update_id == update_id:
                self._updates.remove(queued)
                return queued.payload
        raise KeyError(f"no queued update {update_id}")

    def disconnect_next(self, method: str, times: int = 1) -> None:
        """Drop the connection without answering the next ``times`` calls of ``method``."""
        self._disconnects[self._canonical(method)] += times

    async def _handle_bot_request(self, request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()
        try:
            params = await read_params(request)
        except ApiError as exc:
            return self._record_error(request.match_info["method"], {}, arrived, exc)
        if request.match_info["token"] != self.token or self.token_revoked:
            return self._record_error(
                request.match_info["method"], params, arrived, ApiError(401, "Unauthorized")
            )
        entry = self._methods.get(request.match_info["method"].lower())
        if entry is None:
            return self._record_error(
                request.match_info["method"], params, arrived, ApiError(404, "Not Found")
            )
        method, handler = entry
        counted = method in RATE_LIMITED_METHODS
        if counted:
            self.in_flight += 1
            self.in_flight_max = max(self.in_flight_max, self.in_flight)
        try:
            return await self._answer(request, method, handler, params, arrived)
        finally:
            if counted:
                self.in_flight -= 1

    async def _answer(
        self,
        request: web.Request,
        method: str,
        handler: Handler,
        params: JsonDict,
        arrived: float,
    ) -> web.StreamResponse:
        outage = self.outage_left(method)
        if outage and self._outage_mode == "hang":
            await asyncio.sleep(outage)  # then dropped unprocessed, as a hung server does
        if outage and self._outage_mode in ("hang", "drop"):
            return self._drop(request, method, params, arrived, f"outage: {self._outage_mode}")
        if outage:
            error = ApiError(self._outage_status, "Internal Server Error")
            return self._record_error(method, params, arrived, error)

        if self._disconnects.get(method):
            self._disconnects[method] -= 1
            return self._drop(request, method, params, arrived, "connection dropped")

        if self.latency and method != "getUpdates":
            await asyncio.sleep(self.latency)

        failure = self._take_failure(method)
        if failure is not None:
            return self._record_error(method, params, arrived, failure)

        try:
            if method in RATE_LIMITED_METHODS:
                result = self._rate_limited(method, handler, params)
            elif method == "getUpdates":
                result = await self._get_updates(params)
            else:
                result = handler(params)
        except ApiError as exc:
            return self._record_error(method, params, arrived, exc)
        except Exception as exc:  # a bug here or a request shape we do not model
            # Answer like a Bot API outage, but keep the cause visible in api.errors.
            error = ApiError(500, f"Internal Server Error: fake Bot API failed: {exc!r}")
            return self._record_error(method, params, arrived, error)
        self.calls.append(Call(method, params, 200, arrived))
        delay = self.answer_delay(method)
        if delay:
            await asyncio.sleep(delay)  # done already: only the answer is late
        if self.take_garbled(method):
            return web.Response(status=200, text="<html>upstream hiccup", content_type="text/html")
        return json_response({"ok": True, "result": result}, 200)

    def _drop(
        self, request: web.Request, method: str, params: JsonDict, arrived: float, why: str
    ) -> web.Response:
        call = Call(method, params, 0, arrived, why)
        self.calls.append(call)
        self.errors.append(call)
        # Closing the transport makes the client see a dropped connection; aiohttp
        # then skips writing the response we return.
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=500)

    def _record_error(
        self, method: str, params: JsonDict, arrived: float, error: ApiError
    ) -> web.Response:
        call = Call(
            method, params, error.status, arrived, error.description, getattr(error, "limit", None)
        )
        self.calls.append(call)
        self.errors.append(call)
        if error.status == 429:
            self.count_429 += 1
        body: JsonDict = {
            "ok": False,
            "error_code": error.status,
            "description": error.description,
        }
        if error.parameters:
            body["parameters"] = error.parameters
        return json_response(body, error.status)

    def _take_failure(self, method: str) -> ApiError | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.times -= 1
        if failure.times <= 0:
            queue.popleft()
        return ApiError(failure.status, failure.description, failure.parameters)

    def _rate_limited(self, method: str, handler: Handler, params: JsonDict) -> Any:
        """Flood control: check the limits, run the method, count it only if accepted."""
        now = time.monotonic()
        chat_id = chat_id_or_none(params.get("chat_id"))
        paid = params.get("allow_paid_broadcast") is True
        chat_bucket = None
        wait, limit = 0.0, ""
        if self._bucket is not None and not paid:
            wait, limit = self._bucket.wait_time(now), "global"
        if self.per_chat_rate is not None and chat_id is not None:
            chat_bucket = self._chat_buckets.get(chat_id)
            if chat_bucket is None:
                chat_bucket = TokenBucket(self.per_chat_rate, self.per_chat_burst)
                self._chat_buckets[chat_id] = chat_bucket
            if (chat_wait := chat_bucket.wait_time(now)) > wait:
                wait, limit = chat_wait, "chat"
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            raise FloodError(retry_after, limit)
        windows = self._strict_windows(chat_id, paid)
        for name, window in windows:
            if (window_wait := window.wait_time(now)) > 0:
                raise FloodError(max(1, math.ceil(window_wait)), name)
        result = handler(params)
        if self._bucket is not None and not paid:
            self._bucket.take()
        if chat_bucket is not None:
            chat_bucket.take()
        for _, window in windows:
            window.take(now)
        if isinstance(result, dict) and chat_id is not None:
            # Every rate-limited method answers with (at least) the target message's id.
            stored = self._messages.get((chat_id, result["message_id"]))
            self._stats.record(method, chat_id, stored.text if stored else "", now, paid)
        return result

    def _strict_windows(self, chat_id: int | None, paid: bool) -> list[tuple[str, SlidingWindow]]:
        """The strict-mode windows this send counts against: bot-wide (or paid), per chat."""
        windows: list[tuple[str, SlidingWindow]] = []
        if paid:
            windows.append(("paid", self._paid_window))
        elif self._window is not None:
            windows.append(("global", self._window))
        shape = self.group_window if chat_id is not None and chat_id < 0 else self.chat_window
        if shape is not None and chat_id is not None:
            window = self._chat_windows.get(chat_id)
            if window is None:
                window = self._chat_windows[chat_id] = SlidingWindow(*shape)
            windows.append(("chat", window))
        return windows

    async def _handle_stats(self, request: web.Request) -> web.Response:
        return json_response(self.stats(), 200)

    async def _handle_control(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        try:
            body = await request.json() if request.can_read_body else {}
            return await self._control(action, body)
        except (ValueError, KeyError, TypeError) as exc:
            body = {"ok": False, "description": f"bad control request: {exc!r}"}
            return json_response(body, 400)

    async def _control(self, action: str, body: JsonDict) -> web.Response:
        if action == "reset":
            self.reset_observations()
            return json_response({"ok": True}, 200)
        if action == "send_text":
            update_id = await self.send_text(int(body["user_id"]), str(body["text"]))
            return json_response({"ok": True, "update_id": update_id}, 200)
        if action == "send_inline_query":
            query_id = await self.send_inline_query(
                int(body["user_id"]), str(body.get("query", "")), offset=str(body.get("offset", ""))
            )
            return json_response({"ok": True, "query_id": query_id}, 200)
        if action == "block":
            self.block(int(body["user_id"]))
            return json_response({"ok": True}, 200)
        if action == "unblock":
            self.unblock(int(body["user_id"]))
            return json_response({"ok": True}, 200)
        if action == "polled_elsewhere":
            self.poll_elsewhere(bool(body.get("on", True)))
        if action == "outage":
            self.outage(
                float(body["seconds"]),
                mode=str(body.get("mode", "error")),
                status=int(body.get("status", 500)),
                include_updates=bool(body.get("include_updates", False)),
            )
            return json_response({"ok": True}, 200)
        if action == "end_outage":
            self.end_outage()
            return json_response({"ok": True}, 200)
        if action == "slow":
            times = body.get("times")
            self.slow_answers(
                float(body["seconds"]),
                method=self._canonical(str(body.get("method", "sendMessage"))),
                times=None if times is None else int(times),
            )
            return json_response({"ok": True}, 200)
        if action == "revoke":
            self.revoke_token()
            return json_response({"ok": True}, 200)
        if action == "restore":
            self.restore_token()
            return json_response({"ok": True}, 200)
        return json_response({"ok": False, "description": f"unknown action {action}"}, 404)

    async def _handle_not_found(self, request: web.Request) -> web.Response:
        return json_response({"ok": False, "error_code": 404, "description": "Not Found"}, 404)

    def _canonical(self, method: str) -> str:
        entry = self._methods.get(method.lower())
        if entry is None:
            raise ValueError(f"unknown Bot API method {method!r}")
        return entry[0]
