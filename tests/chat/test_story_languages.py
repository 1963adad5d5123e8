"""A Russian reader's story card, Why this?, vote, follow and the follow update come in
Russian, next to an English reader's in the same run; inline cards in the querier's
language."""

from __future__ import annotations

import json

import pytest
from sqlite_utils import Database

from bot.delivery.follow_updates import run_follow_updates
from bot.i18n import translator
from storage.db import utcnow
from tests.chat.harness import OTHER, READER, Offline
from tests.chat.stories import deliver, fed_story
from tests.factories import article, store_articles, store_by_title

RUSSIAN = translator("ru")


@pytest.fixture
def fed(db: Database) -> int:
    now = utcnow()
    ids = store_by_title(
        db,
        *fed_story(now),
        at=now,
    )  # fmt: skip
    return ids["Fed raises rates"]


def labels(message: dict[str, object]) -> list[str]:
    markup = message.get("reply_markup")
    assert isinstance(markup, dict)
    return [b["text"] for row in markup["inline_keyboard"] for b in row]


async def test_a_russian_readers_card_why_vote_and_follow_update(
    offline: Offline, db: Database, fed: int
) -> None:
    await offline.start(READER, language_code="ru")
    await offline.send(READER, "/digest")
    (digest,) = await deliver(offline, db)

    await offline.press(READER, digest["message_id"], f"st:{fed}")
    card = offline.message(READER, digest["message_id"])
    assert card["text"].startswith("🗞 Fed raises rates\n2 источника · 2 статьи · 4 мин чтения")
    assert labels(card) == ["👍", "👎", "Почему это?", "🔔 Следить", "◀ Назад"]

    answer, _ = await offline.press(READER, digest["message_id"], f"sv:up:{fed}")
    assert answer.params["text"] == "👍 Учтено: больше таких новостей (Economy, Reuters)."
    assert labels(offline.message(READER, digest["message_id"]))[2:] == [
        "Почему это?", "🔔 Следить", "◀ Назад"
    ]  # fmt: skip

    answer, _ = await offline.press(READER, digest["message_id"], f"sw:{fed}")
    why = answer.params["text"]
    assert answer.params["show_alert"] is True and len(why) <= 200
    for part in ("Тема: Economy", "качество 50", "2 источника", "2 ч назад", "ваш голос 👍",
                 "Reuters ×"):  # fmt: skip
        assert part in why, why

    answer, _ = await offline.press(READER, digest["message_id"], f"fo:on:{fed}")
    assert answer.params["text"] == RUSSIAN.gettext(
        "🔔 Following: I tell you when other sources cover this story."
    )
    assert "🔕 Не следить" in labels(offline.message(READER, digest["message_id"]))

    # An English reader follows the same story: one run, each in their own language.
    start = await offline.start(OTHER)
    await offline.press(OTHER, start.result["message_id"], f"fo:on:{fed}", on_keyboard=False)
    store_articles(
        db,
        article("Markets shrug at the Fed", "https://ap.example/fed", ["Economy"],
                provider=("AP", "ap.example"), related=[("Lead", "https://reuters.example/fed")]),
        at=utcnow(),
    )  # fmt: skip
    assert run_follow_updates(db, utcnow()) == 2
    updates = dict(
        db.execute(
            "SELECT chat_id, text FROM outbox WHERE kind = 'follow' ORDER BY chat_id"
        ).fetchall()
    )
    assert updates[READER].startswith("🔔 <b>Новое о новости, за которой вы следите</b>")
    assert "<i>1 новый источник с прошлого раза</i>" in updates[READER]
    assert updates[OTHER].startswith("🔔 <b>News on a story you follow</b>")
    assert "<i>1 new source since you looked</i>" in updates[OTHER]
    (markup,) = db.execute(
        "SELECT reply_markup FROM outbox WHERE kind = 'follow' AND chat_id = ?", (READER,)
    ).fetchone()
    assert json.loads(markup)["inline_keyboard"][0][0]["text"] == "🔕 Не следить"

    listing = await offline.reply(READER, "/following")
    assert "Новости, за которыми вы следите (1)" in listing.text
    assert "3 источника, последнее" in listing.text


async def test_inline_cards_are_in_the_queriers_language(
    offline: Offline, db: Database, fed: int
) -> None:
    answers = {}
    for number, language in enumerate(("ru", "en")):
        calls = await offline.process(
            {
                "inline_query": {
                    "id": f"iq-{number}",
                    "from": {"id": OTHER, "is_bot": False, "first_name": "Ann",
                             "language_code": language},
                    "query": "fed rates",
                    "offset": "",
                    "chat_type": "sender",
                }
            }
        )  # fmt: skip
        (answer,) = [c for c in calls if c.method == "answerInlineQuery"]
        answers[language] = answer.params
    assert answers["ru"]["is_personal"] is True  # Telegram caches per query text otherwise
    cards = {
        language: params["results"][0]["input_message_content"]["message_text"]
        for language, params in answers.items()
    }
    assert "🗞 ещё 1 источник об этой новости" in cards["ru"]
    assert "🗞 1 other source on this story" in cards["en"]
