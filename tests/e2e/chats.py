"""Groups and channels in end-to-end tests: the stand-in's users acting there, read back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.chat.cadence import PRESET_TIMES
from bot.settings import Settings
from storage.db import open_db
from storage.readers import Reader, get_reader
from tests.botapi import FakeBotApi, SentMessage

WAIT = 8.0  # generous per-step timeout; every wait ends as soon as its condition holds


def subscription(settings: Settings, chat_id: int) -> Reader | None:
    """A chat's subscription as the bot's database holds it now."""
    db = open_db(settings.db_path, migrate=False)
    try:
        return get_reader(db, chat_id)
    finally:
        db.close()


async def in_group(
    api: FakeBotApi,
    chat_id: int,
    user_id: int,
    text: str,
    *,
    thread_id: int | None = None,
    anonymous: bool = False,
) -> SentMessage:
    """``user_id`` writes ``text`` in a group; the bot's next message there."""
    update = await api.send_group_text(
        chat_id, user_id, text, thread_id=thread_id, anonymous=anonymous
    )
    assert update is not None, f"privacy mode keeps {text!r} from the bot"
    return await api.wait_for_message(chat_id, timeout=WAIT)


async def settle(api: FakeBotApi, user_id: int) -> None:
    """Every update before this one has been handled (the bot handles them in order)."""
    await api.send_text(user_id, "/help")
    await api.wait_for_message(user_id, lambda m: "/topics" in m.plain_text, timeout=WAIT)


def button(message: SentMessage, label: str) -> str:
    """The callback data of the button whose label is (or, ticked, ends with) ``label``."""
    for found in message.buttons():
        if found["text"].removeprefix("✅ ") == label:
            return str(found["callback_data"])
    raise AssertionError(f"no button {label!r} in {[b['text'] for b in message.buttons()]}")


def next_offered_hour(after: datetime) -> tuple[str, datetime]:
    """The first digest time the times screen offers as a button (in UTC) after ``after``:
    its button label and the instant it falls on next."""
    start = after.astimezone(UTC)
    for days in (0, 1):
        for at in PRESET_TIMES:
            moment = (start + timedelta(days=days)).replace(
                hour=at.hour, minute=at.minute, second=0, microsecond=0
            )
            if moment > start + timedelta(minutes=1):
                return f"{at:%H:%M}", moment
    raise AssertionError("no time offered")


async def edited(api: FakeBotApi, user_id: int, message_id: int) -> SentMessage:
    """The message after the bot's next edit of it."""
    return await api.wait_for_edit(user_id, message_id, timeout=WAIT)


async def set_only_time(
    api: FakeBotApi, user_id: int, home: SentMessage, label: str, *, now_at: str = "08:00"
) -> SentMessage:
    """From a settings home screen: ⏰ Times, tap ``label`` on, ``now_at`` off, Back. The
    home screen as it is then."""
    message_id = home.message_id
    await api.press_button(user_id, message_id, button(home, "⏰ Times"))
    times = await edited(api, user_id, message_id)
    assert f"✅ {now_at}" in [b["text"] for b in times.buttons()]
    if label != now_at:
        await api.press_button(user_id, message_id, button(times, label))
        times = await edited(api, user_id, message_id)
        await api.press_button(user_id, message_id, button(times, now_at))
        times = await edited(api, user_id, message_id)
    await api.press_button(user_id, message_id, button(times, "◀ Back"))
    return await edited(api, user_id, message_id)
