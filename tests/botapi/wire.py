"""The HTTP side of the stand-in: request parameters in, Bot API JSON out."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .rules import STRING_PARAMS, JsonDict, bad_request


async def read_params(request: web.Request) -> JsonDict:
    """Merge query string and body the way the Bot API does.

    Form bodies carry every non-string value JSON-encoded (that is what PTB's HTTPXRequest
    sends), so those are decoded here; JSON bodies already have types.
    """
    params: JsonDict = dict(request.query)
    content_type = request.content_type
    if request.can_read_body:
        if content_type == "application/json":
            raw = await request.read()
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError as exc:
                    raise bad_request("can't parse JSON encoded request") from exc
                if not isinstance(body, dict):
                    raise bad_request("JSON request body must be an object")
                params.update(body)
        elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                params[key] = value if isinstance(value, str) else f"<file {key}>"
    for key, value in params.items():
        if isinstance(value, str) and key not in STRING_PARAMS:
            params[key] = maybe_json(value)
    return params


def maybe_json(value: str) -> Any:
    if not value or value[0] not in '{["-0123456789tfn':
        return value  # "@channel" and friends stay strings without a failing parse
    try:
        return json.loads(value)
    except ValueError:
        return value


def json_response(body: object, status: int) -> web.Response:
    return web.Response(
        body=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        status=status,
        content_type="application/json",
    )


def int_param(params: JsonDict, name: str, default: int) -> int:
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"invalid {name} specified")
    return value


def chat_id_or_none(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None  # "@username" chats are not modelled
    return None
