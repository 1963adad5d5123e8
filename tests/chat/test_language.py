"""Languages: chosen from the Telegram language at /start, changed with /language (buttons,
a group's administrators), and every later answer in it; forged buttons are refused."""

from __future__ import annotations

from sqlite_utils import Database

from bot.command_menus import private_help
from bot.i18n import translator
from digest.callbacks import LanguageCode, LanguagePick
from tests.chat.harness import GROUP, OTHER, READER, Offline, group, reader


async def test_a_russian_user_gets_russian_start_and_help(offline: Offline, db: Database) -> None:
    greeting = await offline.start(READER, language_code="ru")
    assert greeting.text.startswith("Привет, Ann!")
    assert "Выбрать темы" in greeting.button_labels
    assert reader(db).language == "ru"
    shown = await offline.reply(READER, "/help")
    assert "присылает дайджесты новостей" in shown.text
    assert "<code>/time 07:30 19:00</code> — дайджест в 07:30" in shown.params["text"]


async def test_a_regional_tag_maps_to_its_language_and_an_unknown_one_to_english(
    offline: Offline, db: Database
) -> None:
    await offline.start(READER, language_code="de-AT")
    assert reader(db).language == "de"
    greeting = await offline.start(OTHER, language_code="pt-br")
    assert greeting.text.startswith("Hello, Ann!")
    assert reader(db, OTHER).language == "en"


async def test_language_buttons_switch_and_later_answers_follow(
    offline: Offline, db: Database
) -> None:
    await offline.start(READER, language_code="ru")
    screen = await offline.reply(READER, "/language")
    german = LanguagePick(LanguageCode.DE, READER).encode()
    assert german in screen.callback_data
    assert "✅ Русский" in screen.button_labels
    note, calls = await offline.press(READER, screen.result["message_id"], german)
    assert reader(db).language == "de"
    german_note = translator("de").gettext("Language: {language}")
    assert note.params["text"] == german_note.format(language="Deutsch")
    edited = [c for c in calls if c.method == "editMessageText"]
    assert edited and "✅ Deutsch" in str(edited[0].params["reply_markup"])
    # The stored choice wins over the Telegram language from now on.
    shown = await offline.reply(READER, "/help", language_code="ru")
    assert shown.params["text"] == private_help(translator("de"))


async def test_forged_language_buttons_are_refused(offline: Offline, db: Database) -> None:
    await offline.start(READER)
    screen = await offline.reply(READER, "/language")
    for forged in ("lang:fr:501", "lang:de:0501", "lang:de", f"lang:de:{OTHER}"):
        note, _ = await offline.press(
            READER, screen.result["message_id"], forged, on_keyboard=False
        )
        assert note.params["show_alert"] is True
    assert reader(db).language == "en"


async def test_a_group_language_is_its_administrators_to_change(
    offline: Offline, db: Database
) -> None:
    chat = group()
    offline.request.members[(GROUP, READER)] = "administrator"
    offline.request.members[(GROUP, OTHER)] = "member"
    await offline.start(READER, chat=chat, language_code="es")
    assert reader(db, GROUP).language == "es"
    refused = await offline.reply(OTHER, "/language", chat=chat)
    assert refused.text == translator("es").gettext(
        "Only this group's administrators can change its settings."
    )
    screen = await offline.reply(READER, "/language", chat=chat)
    russian = LanguagePick(LanguageCode.RU, GROUP).encode()
    await offline.press(READER, screen.result["message_id"], russian, chat_id=GROUP)
    assert reader(db, GROUP).language == "ru"
    shown = await offline.reply(OTHER, "/help", chat=chat, language_code="en")
    assert "публикует дайджесты" in shown.text


async def test_a_reader_from_before_languages_gets_theirs_stored(
    offline: Offline, db: Database
) -> None:
    await offline.start(READER)
    db.execute("UPDATE readers SET language = NULL WHERE chat_id = ?", (READER,))
    db.conn.commit()
    shown = await offline.reply(READER, "/settings", language_code="es")
    assert reader(db).language == "es"
    line = translator("es").gettext("Language: {language}").format(language="Español")
    assert line in shown.text
