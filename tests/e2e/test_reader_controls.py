"""Reader controls end to end: the real bot over HTTP against the stand-in."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from babel.messages.pofile import read_po

from bot.i18n import translator
from bot.i18n_tools import TEMPLATE
from bot.settings import Settings
from storage.db import to_db_time, utcnow
from tests.botapi import FakeBotApi, SentMessage
from tests.e2e.harness import (
    ADMIN_ID,
    make_settings,
    run_job,
    running_bot,
    services,
    start_reader,
    write_article,
)
from tests.waiting import until

ANN, BOB, CAT = 201, 202, 203


async def _command(api: FakeBotApi, user: int, text: str) -> SentMessage:
    await api.send_text(user, text)
    return await api.wait_for_message(user)


def _sql(settings: Settings, sql: str, params: tuple[object, ...] = ()) -> None:
    conn = sqlite3.connect(settings.db_path)
    try:
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute(sql, params)
        conn.commit()
    finally:
        conn.close()


def _button(message: SentMessage, prefix: str) -> str:
    return next(d for d in message.callback_data() if d.startswith(prefix))


async def test_a_poisoned_zone_falls_back_to_utc_and_a_broken_row_stops_no_one(
    tmp_path: Path,
) -> None:
    async with FakeBotApi() as api:
        settings = replace(make_settings(api, tmp_path), max_age=timedelta(hours=48))
        write_article(settings.articles_dir, "a.md", title="Robots learn to fold laundry",
                      url="https://a.example/robots", topics=["AI"])  # fmt: skip
        async with running_bot(settings, digest_tick=3600.0) as app:
            for user in (ANN, BOB, CAT):
                await start_reader(api, user)
            await run_job(app, "scan")
            # Ann's zone is one only a system zoneinfo has (pip's tzdata does not); Cat's
            # digest time is garbage. Bob is fine. All three are due.
            _sql(settings, "UPDATE readers SET timezone = 'right/UTC' WHERE chat_id = ?", (ANN,))
            _sql(settings, "UPDATE readers SET digest_time = '99:99', digest_times = 'x' "
                 "WHERE chat_id = ?", (CAT,))  # fmt: skip
            _sql(settings, "UPDATE readers SET next_digest_at = ?", (to_db_time(utcnow()),))
            await run_job(app, "digest-tick")
            services(app).sender.wake()
            for user in (ANN, BOB):
                digest = await api.wait_for_message(user, lambda m: "Your digest" in m.plain_text)
                assert "Robots learn to fold laundry" in digest.plain_text
            assert not [m for m in api.messages(CAT) if "Your digest" in m.plain_text]
            assert [m for m in api.messages(CAT) if "Hello" in m.plain_text]
            # Ann's screen shows the zone she is really on now.
            shown = await _command(api, ANN, "/settings")
            assert "(UTC)" in shown.plain_text
            # Cat is tried again tomorrow, not every tick.
            conn = sqlite3.connect(settings.db_path)
            (next_at,) = conn.execute(
                "SELECT next_digest_at FROM readers WHERE chat_id = ?", (CAT,)
            ).fetchone()
            conn.close()
            assert next_at > to_db_time(utcnow())
        assert [e for e in api.errors if e.method != "getUpdates"] == []


async def test_every_settings_screen_and_back(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        settings = make_settings(api, tmp_path)
        async with running_bot(settings):
            await start_reader(api, ANN)
            home = await _command(api, ANN, "/settings")
            sections = [d for d in home.callback_data() if d.startswith("so:")]
            assert len(sections) == 8 and all(len(d.encode()) <= 64 for d in sections)
            for data in sections:
                await api.press_button(ANN, home.message_id, data)
                screen = await api.wait_for_edit(ANN, home.message_id)
                back = f"td:{ANN}" if data == f"so:topics:{ANN}" else f"set:{ANN}"  # Done
                assert back in screen.callback_data(), data
                await api.press_button(ANN, home.message_id, back)
                await api.wait_for_edit(
                    ANN, home.message_id, lambda m: "Your settings" in m.plain_text
                )
            # Times from buttons: add 18:00, then weekdays.
            await api.press_button(ANN, home.message_id, f"so:times:{ANN}")
            await api.wait_for_edit(ANN, home.message_id)
            await api.press_button(ANN, home.message_id, f"ct:{ANN}:{18 * 60}")
            await api.wait_for_edit(ANN, home.message_id, lambda m: "18:00" in m.plain_text)
            await api.press_button(ANN, home.message_id, f"cd:{ANN}:weekdays")
            times = await api.wait_for_edit(ANN, home.message_id)
            assert "08:00 and 18:00, Monday to Friday" in times.plain_text
            # Keywords through a prompt: the button asks, the reply is applied.
            await api.press_button(ANN, home.message_id, f"set:{ANN}")
            await api.wait_for_edit(ANN, home.message_id)
            await api.press_button(ANN, home.message_id, f"so:keywords:{ANN}")
            await api.wait_for_edit(ANN, home.message_id)
            await api.press_button(ANN, home.message_id, f"pr:exc:{ANN}")
            ask = await api.wait_for_message(ANN, lambda m: "exclude" in m.plain_text)
            assert ask.reply_markup == {"force_reply": True, "input_field_placeholder": "football"}
            await api.send_text(ANN, '"world cup" football')
            added = await api.wait_for_message(ANN, lambda m: "added" in m.plain_text)
            assert "“world cup”, “football”" in added.plain_text
            listed = await _command(api, ANN, "/keywords")
            assert "Never stories matching: “world cup”, “football”" in listed.plain_text
            # Quiet hours and shape from buttons, pause and resume.
            await api.press_button(ANN, home.message_id, f"set:{ANN}")
            await api.wait_for_edit(ANN, home.message_id)
            await api.press_button(ANN, home.message_id, f"so:quiet:{ANN}")
            await api.wait_for_edit(ANN, home.message_id)
            await api.press_button(ANN, home.message_id, f"qs:{ANN}:1")
            quiet = await api.wait_for_edit(ANN, home.message_id)
            assert "22:00–07:00" in quiet.plain_text
            await api.press_button(ANN, home.message_id, f"set:{ANN}")
            await api.wait_for_edit(ANN, home.message_id)
            await api.press_button(ANN, home.message_id, f"so:pause:{ANN}")
            await api.wait_for_edit(ANN, home.message_id)
            await api.press_button(ANN, home.message_id, f"pa:{ANN}:7")
            paused = await api.wait_for_edit(ANN, home.message_id)
            assert "paused until" in paused.plain_text
            assert "Resumed" in (await _command(api, ANN, "/resume")).plain_text
            assert api.unanswered_callback_queries() == []
        assert [e for e in api.errors if e.method != "getUpdates"] == []


def _template_ids() -> list[str]:
    with TEMPLATE.open("rb") as source:
        return [m.id for m in read_po(source) if isinstance(m.id, str) and m.id]


async def test_zone_from_the_start_question_a_location_and_a_city(tmp_path: Path) -> None:
    german = translator("de")  # a German user: the bot answers in German
    done_text = german.gettext(
        "Done: time zone {zone}. Your digests come at {schedule}; next: {when}."
    ).split("{zone}")[0]
    async with FakeBotApi() as api:
        api.add_user(ANN, language_code="de")
        settings = make_settings(api, tmp_path)
        async with running_bot(settings):
            await api.send_text(ANN, "/start")
            greeting = await api.wait_for_message(ANN)
            hello = german.gettext(
                next(m for m in _template_ids() if m.startswith("Hello, {name}!"))
            )
            assert greeting.plain_text == hello.format(name="Reader", when="08:00 (UTC)")
            assert any(b["text"] == "🗣 Europe/Berlin" for b in greeting.buttons())  # language
            await api.press_button(ANN, greeting.message_id, f"zq:{ANN}")
            ask = german.gettext("Tap “📍 Share my location” below (or send a city):")
            question = await api.wait_for_message(ANN, lambda m: m.plain_text == ask)
            keyboard = question.reply_markup or {}
            assert keyboard["keyboard"][0][0]["request_location"] is True
            await api.send_location(ANN, 35.68, 139.69)
            done = await api.wait_for_message(ANN, lambda m: done_text in m.plain_text)
            assert "Asia/Tokyo" in done.plain_text
            assert "Europe/Lisbon" in (await _command(api, ANN, "/timezone lisbon")).plain_text
            explained = await _command(api, ANN, "/timezone UTC+2")
            assert any(b["text"] == german.gettext("Use {offset}").format(offset="UTC+02:00")
                       or b.get("callback_data") == f"zf:{ANN}:120" for b in explained.buttons())  # fmt: skip
            await api.press_button(ANN, explained.message_id, f"zf:{ANN}:120")
            fixed = await api.wait_for_message(ANN, lambda m: "Etc/GMT-2" in m.plain_text)
            assert done_text in fixed.plain_text
        assert [e for e in api.errors if e.method != "getUpdates"] == []


async def test_mute_from_a_digest_and_keywords_in_pushes(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        settings = make_settings(api, tmp_path)
        folder = settings.articles_dir
        write_article(folder, "a.md", title="Moon base opens to visitors", url="https://r.example/moon",
                      topics=["Space"], provider=("Reuters", "reuters.com"))  # fmt: skip
        write_article(folder, "b.md", title="Moon base opens its doors", url="https://ap.example/moon",
                      topics=["Space"], provider=("AP", "ap.org"),
                      related=[("Moon base opens to visitors", "https://r.example/moon", "Reuters")])  # fmt: skip
        write_article(folder, "c.md", title="Football final tonight", url="https://f.example/final",
                      topics=["Sport"], provider=("AP", "ap.org"))  # fmt: skip
        async with running_bot(settings):
            await start_reader(api, ANN)
            await start_reader(api, BOB)
            await start_reader(api, CAT)
            await until(lambda: api.pending_updates() == [], "the updates to be read")
            await _command(api, BOB, "/exclude football")
            await _command(api, BOB, "/quiet 00:00-23:59")
            digest = None
            for _ in range(50):
                await api.send_text(ANN, "/digest")
                digest = await api.wait_for_message(ANN)
                if "Your digest" in digest.plain_text:
                    break
                await __import__("asyncio").sleep(0.2)
            assert digest is not None and "Moon base opens to visitors" in digest.plain_text
            await api.press_button(ANN, digest.message_id, f"ms:{ANN}")
            menu = await api.wait_for_edit(ANN, digest.message_id)
            labels = [b["text"] for b in menu.buttons()]
            assert "🔇 Reuters" in labels and "🔇 AP" in labels
            mute = next(b["callback_data"] for b in menu.buttons() if b["text"] == "🔇 Reuters")
            await api.press_button(ANN, digest.message_id, mute)
            restored = await api.wait_for_edit(ANN, digest.message_id)
            assert f"ms:{ANN}" in restored.callback_data()
            sources = await _command(api, ANN, "/sources")
            assert "Reuters" in sources.plain_text

            # A push of the football story: Bob excluded it; Cat gets it (Ann had it already).
            await api.send_text(ADMIN_ID, "/breaking https://f.example/final")
            preview = await api.wait_for_message(ADMIN_ID, lambda m: "Send it now?" in m.plain_text)
            assert "every active" not in preview.plain_text
            await api.press_button(ADMIN_ID, preview.message_id, _button(preview, "push:send:"))
            push = await api.wait_for_message(CAT, lambda m: "Breaking" in m.plain_text)
            assert "Football final" in push.plain_text
            # A free-text push reaches Bob, silently (his quiet hours span the day).
            await api.send_text(ADMIN_ID, "/breaking Polls close at 8 pm")
            preview = await api.wait_for_message(ADMIN_ID, lambda m: "Send it now?" in m.plain_text)
            await api.press_button(ADMIN_ID, preview.message_id, _button(preview, "push:send:"))
            await api.wait_for_message(BOB, lambda m: "Polls close" in m.plain_text)
            assert not [m for m in api.messages(BOB) if "Football final" in m.plain_text]
            silent = [c for c in api.calls if c.method == "sendMessage"
                      and "Polls close" in str(c.params.get("text")) and c.params.get("chat_id") in (BOB, str(BOB))]  # fmt: skip
            assert silent and silent[-1].params.get("disable_notification") is True
        assert [e for e in api.errors if e.method != "getUpdates"] == []
