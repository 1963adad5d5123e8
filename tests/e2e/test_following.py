"""Following a story end to end: 🔔 on the story's coverage, new coverage in the folder,
the update through the outbox (then nothing for three hours), /following, 🔕."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from tests.botapi import FakeBotApi, SentMessage
from tests.clock import ManualClock
from tests.e2e.harness import make_settings, run_job, running_bot, start_reader, write_article

READER = 111
LEAD_URL = "https://a.example/ban"
UPDATE = "News on a story you follow"


async def _follow_button(api: FakeBotApi) -> SentMessage:
    """/related <the lead's link> until the scan has stored it: the view with 🔔 Follow."""
    for _ in range(50):
        await api.send_text(READER, f"/related {LEAD_URL}")
        view = await api.wait_for_message(READER)
        if any(d.startswith("fo:on:") for d in view.callback_data()):
            return view
        await asyncio.sleep(0.2)
    raise AssertionError("the lead article was never stored")


async def test_follow_update_then_unfollow(tmp_path: Path) -> None:
    clock = ManualClock()
    async with FakeBotApi() as api:
        settings = make_settings(api, tmp_path, scan_interval=3600.0)  # scans run by hand
        folder = settings.articles_dir
        write_article(folder, "lead.md", title="EU endorses ban on facial recognition",
                      url=LEAD_URL)  # fmt: skip
        async with running_bot(settings, clock=clock) as application:
            await start_reader(api, READER)
            view = await _follow_button(api)
            (follow,) = [d for d in view.callback_data() if d.startswith("fo:on:")]
            lead = int(follow.rsplit(":", 1)[1])
            query_id = await api.press_button(READER, view.message_id, follow)
            await api.wait_for_edit(
                READER, view.message_id, lambda m: f"fo:off:{lead}" in m.callback_data()
            )
            assert api.callback_answers[query_id]["text"].startswith("🔔 Following")

            write_article(folder, "bbc.md", title="Lawmakers back the ban", url="https://b.example/1",
                          provider=("BBC", "bbc.co.uk"), related=[("Lead", LEAD_URL)])  # fmt: skip
            write_article(folder, "lm.md", title="Le vote sur la reconnaissance faciale",
                          url="https://c.example/2", provider=("Le Monde", "lemonde.fr"),
                          related=[("Lead", LEAD_URL)])  # fmt: skip
            await run_job(application, "scan")
            update = await api.wait_for_message(READER, lambda m: UPDATE in m.plain_text)
            assert "2 new sources since you looked" in update.plain_text
            assert update.callback_data() == [f"fo:off:{lead}"]
            # The latest stored (the later path of one scan) leads, with its source.
            assert '<a href="https://c.example/2">' in update.text
            assert "— Le Monde" in update.plain_text

            # More coverage within three hours waits for the next update.
            write_article(folder, "ap.md", title="Police criticise the ban", url="https://d.example/3",
                          provider=("AP", "apnews.com"), related=[("Lead", LEAD_URL)])  # fmt: skip
            await run_job(application, "scan")
            await api.send_text(READER, "/following")
            listing = await api.wait_for_message(READER)  # the update did not come first
            assert "Stories you follow (1)" in listing.plain_text
            assert "4 sources" in listing.plain_text
            clock.advance(timedelta(hours=3))
            await run_job(application, "scan")
            later = await api.wait_for_message(READER, lambda m: UPDATE in m.plain_text)
            assert "Police criticise the ban" in later.plain_text
            assert "1 new source since you looked" in later.plain_text

            await api.press_button(READER, listing.message_id, f"fl:{lead}")
            await api.wait_for_edit(
                READER, listing.message_id, lambda m: "You follow no stories" in m.plain_text
            )
