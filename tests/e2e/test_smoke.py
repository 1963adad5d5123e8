from __future__ import annotations

from pathlib import Path

from tests.botapi import FakeBotApi
from tests.e2e.harness import make_settings, running_bot


async def test_start_replies(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        settings = make_settings(api, tmp_path)
        async with running_bot(settings):
            await api.send_text(1, "/start")
            reply = await api.wait_for_message(1)
            assert "topics" in reply.plain_text
            await api.send_text(1, "/topics")
            picker = await api.wait_for_message(1, timeout=5)
            print(picker.text, picker.reply_markup)
            await api.send_text(1, "/digest")
            digest = await api.wait_for_message(1, timeout=5)
            print(digest.text, digest.reply_markup)
