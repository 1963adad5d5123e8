"""The catalogues: every language has every message of the template, translated, with
the same placeholders and balanced HTML; the template has every marked text; dates and
weekday names come in the reader's language."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po
from sqlite_utils import Database

from bot.delivery.digest_queue import digest_messages
from bot.delivery.push_queue import confirm_push, draft_push
from bot.i18n import (
    SOURCE_LANGUAGE,
    SUPPORTED_LANGUAGES,
    Translator,
    catalogue_path,
    supported_language,
    translator,
)
from bot.i18n_tools import TEMPLATE, _template, balanced, catalogue_problems
from digest.assemble import Digest
from digest.callbacks import LanguageCode
from digest.explain import explain_nothing
from digest.schedule import Cadence, Days
from digest.texts import SOURCE_TEXTS, Texts, day_label, weekday_name
from storage.outbox import pending_batch
from storage.reader_settings import set_language
from storage.readers import ChatKind, Reader, ReaderStatus
from tests.factories import NOW, subscribe_reader

TRANSLATED = [x for x in SUPPORTED_LANGUAGES if x != SOURCE_LANGUAGE]


def _ids(path: object) -> set[object]:
    with open(str(path), "rb") as source:
        return {m.id if isinstance(m.id, str) else tuple(m.id) for m in read_po(source) if m.id}


def test_the_template_has_every_marked_text_and_no_other() -> None:
    """Fails when a text was marked or changed without `python -m bot.i18n_tools extract`."""
    extracted = {m.id if isinstance(m.id, str) else tuple(m.id) for m in _template() if m.id}
    assert extracted == _ids(TEMPLATE)


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_catalogue_is_complete_and_consistent(language: str) -> None:
    with TEMPLATE.open("rb") as source:
        template = read_po(source)
    with catalogue_path(language).open("rb") as source:
        catalog = read_po(source, locale=language)
    problems = catalogue_problems(template, catalog, language)
    assert not problems, "\n".join(str(p) for p in problems[:20]) + f"\n({len(problems)} in all)"


def test_the_check_finds_missing_placeholders_and_broken_tags() -> None:
    with TEMPLATE.open("rb") as source:
        template = read_po(source)
    with catalogue_path("ru").open("rb") as source:
        catalog = read_po(source, locale="ru")
    catalog["Next: {when}"].string = "Следующий: {kogda}"
    catalog["<b>Your settings</b>"].string = "<b>Ваши настройки"
    catalog["Cancel"].flags.add("fuzzy")
    found = {(p.msgid, p.what) for p in catalogue_problems(template, catalog, "ru")}
    assert ("Next: {when}", "placeholders differ") in found
    assert ("<b>Your settings</b>", "HTML tags differ or do not balance") in found
    assert ("Cancel", "fuzzy") in found
    assert balanced("<b>a</b> <i>b <code>c</code></i>") and not balanced("<b><i>x</b></i>")


def test_languages_map_from_telegram_tags() -> None:
    assert [supported_language(x) for x in ("de-AT", "ru", "ES-mx", "pt-br", None, "")] == [
        "de", "ru", "es", "en", "en", "en",
    ]  # fmt: skip
    assert {c.value for c in LanguageCode} == set(SUPPORTED_LANGUAGES)


def test_a_translator_speaks_its_language_and_falls_back_to_english() -> None:
    russian: Texts = translator("ru")
    assert isinstance(russian, Translator) and russian.language == "ru"
    assert russian.gettext("Cancel") == "Отмена"
    assert russian.ngettext("{n} day", "{n} days", 5).format(n=5) == "5 дней"
    assert russian.ngettext("{n} day", "{n} days", 2).format(n=2) == "2 дня"
    assert russian.gettext("a text no catalogue has") == "a text no catalogue has"
    assert translator("fr").gettext("Cancel") == "Cancel"
    assert SOURCE_TEXTS.ngettext("{n} day", "{n} days", 1) == "{n} day"


def _reader(language: str | None) -> Reader:
    return Reader(
        chat_id=7,
        status=ReaderStatus.ACTIVE,
        digest_time=time(8),
        zone=ZoneInfo("Europe/Berlin"),
        topic_ids=frozenset(),
        next_digest_at=None,
        last_digest_at=None,
        digest_since=None,
        kind=ChatKind.PRIVATE,
        language=language,
    )


@pytest.mark.parametrize(
    ("language", "heading"),
    [
        (None, "Your digest · Mon 02 Jun"),
        ("ru", "Ваш дайджест · пн 02 июн."),
        ("de", "Mo. 02 Juni"),
        ("es", "lun 02 jun"),
    ],
)
def test_digest_headings_name_the_weekday_in_the_readers_language(
    language: str | None, heading: str
) -> None:
    now = datetime(2025, 6, 2, 6, 0, tzinfo=UTC)  # a Monday, 08:00 in Berlin
    empty = Digest(entries=(), more=0, article_ids=frozenset())
    [message] = digest_messages(empty, _reader(language), now, priority=1)
    assert heading in message.text


def test_dates_and_days_come_from_the_locale() -> None:
    monday = datetime(2025, 6, 2).date()
    assert day_label(monday, "en") == "Mon 02 Jun"
    assert weekday_name(0, "ru") == "понедельник"
    assert weekday_name(6, "de") == "Sonntag"
    weekly = Cadence((time(7, 30), time(19)), Days.WED)
    assert weekly.describe() == "07:30 and 19:00, every Wednesday"
    assert weekly.describe(translator("ru")) == "07:30 и 19:00, по средам"


def test_why_nothing_is_new_in_the_readers_language() -> None:
    from datetime import timedelta

    from digest.assemble import NothingNew

    nothing = NothingNew(arrived=5, too_old=5, filtered=0, seen=0)
    english = explain_nothing(nothing, timedelta(hours=48))
    assert english == "5 stories arrived but were published more than 48 h ago"
    russian = explain_nothing(nothing, timedelta(hours=48), translator("ru"))
    assert russian == "5 новостей пришли, но были опубликованы больше 48 ч назад"


def test_a_push_reaches_each_reader_in_their_language(db: Database) -> None:
    for chat_id, language in ((1, None), (2, "ru"), (3, "de")):
        subscribe_reader(db, chat_id)
        set_language(db, chat_id, language, NOW)
    draft = draft_push(db, "Polls close at 8 https://example.com/live", 9, ZoneInfo("UTC"))
    assert confirm_push(db, draft.push_id) == 3
    texts = {m.chat_id: m.text for m in pending_batch(db, NOW, limit=10)}
    assert texts[1].startswith("🔴 <b>Breaking</b>")
    assert texts[2].startswith("🔴 <b>Срочно</b>")
    assert texts[3].startswith(f"🔴 <b>{translator('de').gettext('Breaking')}</b>")
    assert all("Polls close at 8" in text for text in texts.values())
