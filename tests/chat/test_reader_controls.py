"""Handlers: reader controls — cadence, zones, keywords, sources, quiet hours, pause,
shape, the /settings menu and its prompts."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

import pytest
from sqlite_utils import Database

from digest.schedule import Days
from storage.controls import keywords_of, mute_source, muted_sources
from storage.db import utcnow
from storage.outbox import pending_batch
from storage.readers import QuietMode
from tests.chat.harness import READER, Offline, count, reader
from tests.factories import article, store_articles


async def test_time_sets_several_times_weekdays_or_one_day(offline: Offline, db: Database) -> None:
    await offline.start(READER)
    answer = await offline.reply(READER, "/time 19:00 7.30")
    assert "07:30 and 19:00, every day (Europe/Berlin)" in answer.result["text"]
    assert reader(db).schedule.times == (time(7, 30), time(19))
    await offline.reply(READER, "/time weekdays 0730")
    assert reader(db).schedule.days == Days.WEEKDAYS and reader(db).digest_time == time(7, 30)
    answer = await offline.reply(READER, "/time mon 8am")
    assert "08:00, every Monday" in answer.result["text"]
    found = reader(db)
    assert found.next_digest_at is not None
    assert found.next_digest_at.astimezone(ZoneInfo("Europe/Berlin")).weekday() == 0


@pytest.mark.parametrize("value", ["25:00", "7", "ab:cd", "1:00 2:00 3:00 4:00 5:00", "<b>8:00"])
async def test_time_refuses_bad_values_and_changes_nothing(
    offline: Offline, db: Database, value: str
) -> None:
    await offline.start(READER)
    before = reader(db)
    answer = await offline.reply(READER, f"/time {value}")
    assert "<code>/time 07:30</code>" in answer.text and "<b>8" not in answer.text
    assert reader(db) == before


async def test_time_without_arguments_shows_buttons_that_toggle(
    offline: Offline, db: Database
) -> None:
    await offline.start(READER)
    screen = await offline.reply(READER, "/time")
    assert "07:15, every day" in screen.result["text"]
    assert f"ct:{READER}:{18 * 60}" in screen.callback_data
    await offline.press(READER, screen.result["message_id"], f"ct:{READER}:{18 * 60}")
    assert reader(db).schedule.times == (time(7, 15), time(18))
    edited = offline.message(READER, screen.result["message_id"])
    assert "07:15 and 18:00" in edited["text"]
    await offline.press(READER, screen.result["message_id"], f"cd:{READER}:sat")
    assert reader(db).schedule.days == Days.SAT


async def test_timezone_accepts_cities_and_refuses_zones_outside_tzdata(
    offline: Offline, db: Database
) -> None:
    await offline.start(READER)
    answer = await offline.reply(READER, "/timezone berlin")
    assert "Done: time zone Europe/Berlin" in answer.text
    await offline.reply(READER, "/timezone new york")
    assert reader(db).zone.key == "America/New_York"
    for bad in ("right/UTC", "posix/Europe/Berlin", "../../etc/passwd", "Mars/Base"):
        answer = await offline.reply(READER, f"/timezone {bad}")
        assert "is not a time zone I know" in answer.result["text"]
    assert reader(db).zone.key == "America/New_York"


async def test_a_fixed_offset_is_explained_before_it_is_used(
    offline: Offline, db: Database
) -> None:
    await offline.start(READER)
    answer = await offline.reply(READER, "/timezone UTC+2")
    assert "fixed offset" in answer.text and "summer time" in answer.text
    assert reader(db).zone.key == "Europe/Berlin"  # nothing changed yet
    assert answer.callback_data == [f"zf:{READER}:120"]
    await offline.press(READER, answer.result["message_id"], f"zf:{READER}:120")
    assert reader(db).zone.key == "Etc/GMT-2"


async def test_start_asks_for_the_zone_and_a_typed_city_answers(
    offline: Offline, db: Database
) -> None:
    greeting = await offline.start(READER)
    assert "Where are you?" in greeting.text
    assert greeting.callback_data[:2] == [f"tp:{READER}:0", f"zs:{READER}:0"]
    _, calls = await offline.press(READER, greeting.result["message_id"], f"zq:{READER}")
    (question,) = [c for c in calls if c.method == "sendMessage"]
    keyboard = question.params["reply_markup"]["keyboard"]
    assert keyboard[0][0] == {"text": "📍 Share my location", "request_location": True}
    done = await offline.reply(READER, "Tokyo")
    assert "Asia/Tokyo" in done.text and done.params["reply_markup"] == {"remove_keyboard": True}
    assert reader(db).zone.key == "Asia/Tokyo"
    # The question is answered: later text is not taken for a zone.
    assert "/help" in (await offline.reply(READER, "Paris")).text
    assert reader(db).zone.key == "Asia/Tokyo"


async def test_a_shared_location_becomes_its_zone(offline: Offline, db: Database) -> None:
    await offline.start(READER)
    message = {
        "message_id": 900,
        "date": 0,
        "chat": {"id": READER, "type": "private", "first_name": "Ann"},
        "from": {"id": READER, "is_bot": False, "first_name": "Ann"},
        "location": {"latitude": 40.71, "longitude": -74.0},
    }
    calls = await offline.process({"message": message})
    assert "America/New_York" in calls[-1].text
    assert reader(db).zone.key == "America/New_York"


async def test_include_exclude_and_keywords_with_remove_buttons(
    offline: Offline, db: Database
) -> None:
    await offline.start(READER)
    answer = await offline.reply(READER, '/include climate "interest rates"')
    assert "“climate”, “interest rates” — added" in answer.result["text"]
    await offline.reply(READER, "/exclude Football")
    again = await offline.reply(READER, "/include CLIMATE")
    assert "Already there: “CLIMATE”" in again.result["text"]
    screen = await offline.reply(READER, "/keywords")
    assert "Only stories matching one of: “climate”, “interest rates”" in screen.result["text"]
    assert "Never stories matching: “Football”" in screen.result["text"]
    stored = keywords_of(db, READER)
    remove = f"kr:{READER}:{stored[0].id}"
    assert remove in screen.callback_data and all(len(d) <= 64 for d in screen.callback_data)
    await offline.press(READER, screen.result["message_id"], remove)
    assert [k.term.text for k in keywords_of(db, READER)] == ["interest rates", "Football"]
    await offline.press(READER, screen.result["message_id"], f"kc:{READER}")
    assert keywords_of(db, READER) == []


async def test_keywords_are_bounded_with_clear_replies(offline: Offline, db: Database) -> None:
    await offline.start(READER)
    long = "x" * 65
    answer = await offline.reply(READER, f"/include {long} +++")
    assert "longer than 64 characters" in answer.text and "no letters or digits" in answer.text
    words = " ".join(f"w{n}" for n in range(55))
    answer = await offline.reply(READER, f"/exclude {words}")
    assert "maximum of 50 terms" in answer.text and "“w50”" in answer.text
    assert count(db, "SELECT count(*) FROM reader_keywords") == 50
    assert "/include climate" in (await offline.reply(READER, "/include")).text


async def test_keywords_filter_the_digest(offline: Offline, db: Database) -> None:
    store_articles(
        db,
        article("Climate talks resume", "https://example.com/a", now=utcnow()),
        article("Football final tonight", "https://example.com/b", now=utcnow()),
        article("Climate and football", "https://example.com/c", now=utcnow()),
        at=utcnow(),
    )
    await offline.start(READER)
    await offline.reply(READER, "/include climate")
    await offline.reply(READER, "/exclude football")
    assert await offline.send(READER, "/digest") == []
    (message,) = pending_batch(db, utcnow(), limit=10)
    assert "Climate talks resume" in message.text and "ootball" not in message.text
    assert (await offline.reply(READER, "/digest")).text.startswith("Nothing new since")


async def test_digest_says_why_old_articles_are_not_news(offline: Offline, db: Database) -> None:
    # A 2023 story dropped into the folder today is not news (NEWSDIGEST_MAX_AGE, 48 h).
    store_articles(db, article("Old news", "https://example.com/old"), at=utcnow())
    await offline.start(READER)
    answer = await offline.reply(READER, "/digest")
    assert "1 story arrived but was published more than 48 h ago" in answer.text
    assert count(db, "SELECT count(*) FROM outbox") == 0


async def test_mute_a_source_from_a_digest_then_unmute(offline: Offline, db: Database) -> None:
    store_articles(
        db,
        article(
            "Moon landing", "https://example.com/m", provider=("Reuters", "r.com"), now=utcnow()
        ),
        at=utcnow(),
    )
    await offline.start(READER)
    await offline.send(READER, "/digest")
    (row,) = pending_batch(db, utcnow(), limit=10)
    # Send it as the sender would, so the stand-in knows the message.
    sent = await offline.bot.send_message(
        READER, row.text, parse_mode="HTML",
        reply_markup=__import__("bot.markup", fromlist=["inline_markup"]).inline_markup(row.keyboard),
    )  # fmt: skip
    db.execute(
        "UPDATE outbox SET status = 'sent', message_id = ? WHERE id = ?", (sent.message_id, row.id)
    )
    db.conn.commit()
    await offline.press(READER, sent.message_id, f"ms:{READER}")
    menu = offline.message(READER, sent.message_id)["reply_markup"]["inline_keyboard"]
    labels = [b["text"] for r in menu for b in r]
    assert labels == ["🔇 Reuters", "◀ Back"]
    data = menu[0][0]["callback_data"]
    answer, _ = await offline.press(READER, sent.message_id, data)
    assert "Muted Reuters" in answer.params["text"]
    assert [m.provider for m in muted_sources(db, READER)] == ["Reuters"]
    assert f"ms:{READER}" in [
        b["callback_data"]
        for r in offline.message(READER, sent.message_id)["reply_markup"]["inline_keyboard"]
        for b in r
    ]
    screen = await offline.reply(READER, "/sources")
    assert "You never see: Reuters" in screen.result["text"]
    (unmute,) = [d for d in screen.callback_data if d.startswith("su:")]
    await offline.press(READER, screen.result["message_id"], unmute)
    assert muted_sources(db, READER) == []


async def test_quiet_hours_and_pause(offline: Offline, db: Database) -> None:
    await offline.start(READER)
    answer = await offline.reply(READER, "/quiet 22:00-07:00")
    assert "22:00–07:00, breaking news 🔕 silently" in answer.result["text"]
    await offline.reply(READER, "/quiet hold")
    quiet = reader(db).quiet
    assert quiet is not None and quiet.mode is QuietMode.HOLD
    await offline.reply(READER, "/quiet off")
    assert reader(db).quiet is None
    assert "two times" in (await offline.reply(READER, "/quiet 22:00")).text

    paused = await offline.reply(READER, "/pause 7d")
    assert "Paused until" in paused.text
    found = reader(db)
    assert found.paused_until is not None and found.next_digest_at is not None
    assert found.next_digest_at >= found.paused_until
    assert "has passed" in (await offline.reply(READER, "/pause 2020-01-01")).text
    resumed = await offline.reply(READER, "/resume")
    assert "Resumed" in resumed.text and reader(db).paused_until is None


async def test_settings_menu_opens_every_screen_and_comes_back(
    offline: Offline, db: Database
) -> None:
    await offline.start(READER)
    home = await offline.reply(READER, "/settings")
    text = home.result["text"]
    for line in ("Status: subscribed", "Digests: 07:15, every day", "Keywords: none",
                 "Muted sources: none", "Quiet hours: off", "Digest shape: 10 entries"):  # fmt: skip
        assert line in text
    message_id = home.result["message_id"]
    sections = [d for d in home.callback_data if d.startswith("so:")]
    assert len(sections) == 8
    for data in sections:
        await offline.press(READER, message_id, data)
        shown = offline.message(READER, message_id)
        buttons = [b["callback_data"] for r in shown["reply_markup"]["inline_keyboard"] for b in r]
        back = f"td:{READER}" if data == f"so:topics:{READER}" else f"set:{READER}"  # Done
        assert back in buttons, data
        await offline.press(READER, message_id, back)
        assert "Your settings" in offline.message(READER, message_id)["text"]


async def test_shape_buttons(offline: Offline, db: Database) -> None:
    await offline.start(READER)
    home = await offline.reply(READER, "/settings")
    message_id = home.result["message_id"]
    await offline.press(READER, message_id, f"so:shape:{READER}")
    for data in (f"sz:{READER}:20", f"lp:{READER}:first", f"od:{READER}:newest"):
        await offline.press(READER, message_id, data)
    shape = reader(db).shape
    assert (shape.size, shape.previews, shape.order) == (20, "first", "newest")
    answer, _ = await offline.press(READER, message_id, f"sz:{READER}:7", on_keyboard=False)
    assert answer.params.get("show_alert") is True and reader(db).shape.size == 20


async def test_a_prompt_button_asks_and_the_reply_is_applied(
    offline: Offline, db: Database
) -> None:
    await offline.start(READER)
    await offline.reply(READER, "Berlin")  # answers the start-up zone question
    home = await offline.reply(READER, "/settings")
    message_id = home.result["message_id"]
    await offline.press(READER, message_id, f"so:keywords:{READER}")
    _, calls = await offline.press(READER, message_id, f"pr:inc:{READER}")
    (ask,) = [c for c in calls if c.method == "sendMessage"]
    assert ask.params["reply_markup"]["force_reply"] is True
    answer = await offline.reply(READER, '"solar power" wind')
    assert "“solar power”, “wind” — added" in answer.result["text"]
    assert [k.term.text for k in keywords_of(db, READER)] == ["solar power", "wind"]


async def test_forged_settings_buttons_are_refused(offline: Offline, db: Database) -> None:
    await offline.start(READER)
    home = await offline.reply(READER, "/settings")
    message_id = home.result["message_id"]
    for data in (f"kr:{READER}:999", f"su:{READER}:5", f"zs:{READER}:99", f"qs:{READER}:9",
                 f"pa:{READER}:4", f"ct:{READER}:9999", "so:keywords:-0", f"set:{READER + 1}"):  # fmt: skip
        answer, _ = await offline.press(READER, message_id, data, on_keyboard=False)
        assert answer.params.get("text"), data
    mute_source(db, READER, "AP", "ap", utcnow())
    assert [m.provider for m in muted_sources(db, READER)] == ["AP"]
