"""Handlers: a digest entry's story card (open in place, Back), votes and "Why this?"."""

from __future__ import annotations

from typing import Any

import pytest
from sqlite_utils import Database

from bot.chat.votes import GROUP_ADMINS_VOTE
from storage.db import utcnow
from storage.follows import is_following
from storage.votes import vote_on, weights_of
from tests.chat.harness import READER, Offline, count, group
from tests.chat.stories import deliver, fed_story
from tests.factories import article, store_by_title

ADMIN, MEMBER = 601, 602
NEWSROOM = group()


def buttons(message: dict[str, Any]) -> list[str]:
    return [
        b["callback_data"] for row in message.get("reply_markup", {}).get("inline_keyboard", [])
        for b in row
    ]  # fmt: skip


@pytest.fixture
def story(db: Database) -> dict[str, int]:
    now = utcnow()
    return store_by_title(
        db,
        *fed_story(now),
        article("Chips <get> faster", "https://ap.example/chips", ["AI"], now=now,
                provider=("AP", "ap.example"), quality=30),
        at=now,
    )  # fmt: skip


async def test_open_a_story_card_go_back_vote_and_ask_why(
    offline: Offline, db: Database, story: dict[str, int]
) -> None:
    await offline.start(READER)
    await offline.send(READER, "/digest")
    (digest,) = await deliver(offline, db)
    fed, bbc = story["Fed raises rates"], story["Fed: the BBC's take"]
    assert "🗞 2 sources · Reuters, BBC" in digest["text"]
    assert "4 min read" in digest["text"]
    assert buttons(digest) == [f"st:{fed}", f"st:{story['Chips <get> faster']}", f"ms:{READER}"]
    before = (digest["text"], digest.get("entities"), digest["reply_markup"])

    # Open: the same message becomes the card; nothing new is sent.
    answer, calls = await offline.press(READER, digest["message_id"], f"st:{fed}")
    assert "text" not in answer.params
    assert [c.method for c in calls] == ["editMessageText", "answerCallbackQuery"]
    card = offline.message(READER, digest["message_id"])
    assert card["text"].startswith("🗞 Fed raises rates\n2 sources · 2 articles · 4 min read")
    assert "• Fed: the BBC's take — BBC" in card["text"]
    (outbox_id,) = [r for (r,) in db.execute("SELECT id FROM outbox")]
    assert buttons(card) == [
        f"sv:up:{fed}", f"sv:down:{fed}", f"sw:{fed}", f"fo:on:{fed}", f"sb:{outbox_id}"
    ]  # fmt: skip

    # 🔔 on the card: followed, the button turns to 🔕 in place, the rest of the card stays.
    answer, _ = await offline.press(READER, digest["message_id"], f"fo:on:{fed}")
    assert is_following(db, READER, fed)
    assert buttons(offline.message(READER, digest["message_id"])) == [
        f"sv:up:{fed}", f"sv:down:{fed}", f"sw:{fed}", f"fo:off:{fed}", f"sb:{outbox_id}"
    ]  # fmt: skip
    assert offline.message(READER, digest["message_id"])["text"] == card["text"]

    # 👍: stored for this reader, marked on the card; the same again takes it back.
    answer, _ = await offline.press(READER, digest["message_id"], f"sv:up:{fed}")
    assert answer.params["text"] == "👍 Noted: more stories like this (Economy, Reuters)."
    assert vote_on(db, READER, fed) == 1
    labels = [b["text"] for row in offline.message(READER, digest["message_id"])["reply_markup"]
              ["inline_keyboard"] for b in row]  # fmt: skip
    assert labels[:2] == ["👍 ✓", "👎"] and labels[3].startswith("🔕")  # follow kept
    weights = weights_of(db, READER, utcnow())
    assert weights is not None and weights.provider_factor("reuters") > 1

    # Why this?: a pop-up with the factors and the reader's votes.
    answer, calls = await offline.press(READER, digest["message_id"], f"sw:{fed}")
    why = answer.params["text"]
    assert answer.params["show_alert"] is True and len(why) <= 200
    for part in ("Topic: Economy", "quality 50", "2 sources", "2 h old", "you voted 👍",
                 "Reuters ×"):  # fmt: skip
        assert part in why, why
    assert [c.method for c in calls] == ["answerCallbackQuery"]

    # Back: the digest message exactly as it was.
    answer, calls = await offline.press(READER, digest["message_id"], f"sb:{outbox_id}")
    again = offline.message(READER, digest["message_id"])
    assert (again["text"], again.get("entities"), again["reply_markup"]) == before
    assert [c.method for c in calls] == ["editMessageText", "answerCallbackQuery"]
    # The card's buttons are gone with it; the vote stays.
    answer, _ = await offline.press(READER, digest["message_id"], f"sv:down:{bbc}",
                                    on_keyboard=False)  # fmt: skip
    assert answer.params["text"] == "This button is out of date."  # not an entry's lead
    assert vote_on(db, READER, fed) == 1 and count(db, "SELECT count(*) FROM story_votes") == 1


@pytest.mark.parametrize(
    "data",
    ["st:999999", "st:01", "sb:999999", "sv:up:999999", "sv:sideways:1", "sw:999999", "sw:"],
)
async def test_forged_story_buttons_get_the_expired_popup(
    offline: Offline, db: Database, story: dict[str, int], data: str
) -> None:
    await offline.start(READER)
    await offline.send(READER, "/digest")
    (digest,) = await deliver(offline, db)
    answer, calls = await offline.press(READER, digest["message_id"], data, on_keyboard=False)
    assert answer.params["text"] == "This button is out of date."
    assert answer.params["show_alert"] is True
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    assert count(db, "SELECT count(*) FROM story_votes") == 0


async def test_story_buttons_of_another_message_are_refused(
    offline: Offline, db: Database, story: dict[str, int]
) -> None:
    # A real story id and outbox row, but pressed on a message that is not that digest.
    await offline.start(READER)
    await offline.send(READER, "/digest")
    (digest,) = await deliver(offline, db)
    hello = await offline.reply(READER, "/help")
    fed = story["Fed raises rates"]
    (outbox_id,) = [r for (r,) in db.execute("SELECT id FROM outbox")]
    for data in (f"st:{fed}", f"sb:{outbox_id}", f"sv:up:{fed}", f"sw:{fed}"):
        answer, calls = await offline.press(READER, hello.result["message_id"], data,
                                            on_keyboard=False)  # fmt: skip
        assert answer.params["text"] == "This button is out of date.", data
        assert [c.method for c in calls] == ["answerCallbackQuery"]
    assert offline.message(READER, digest["message_id"])["text"] == digest["text"]


async def test_in_a_group_only_admins_votes_count(
    offline: Offline, db: Database, story: dict[str, int]
) -> None:
    offline.request.members[(-1001000000001, ADMIN)] = "administrator"
    offline.request.members[(-1001000000001, MEMBER)] = "member"
    await offline.reply(ADMIN, "/start", chat=NEWSROOM)
    await offline.send(ADMIN, "/digest", chat=NEWSROOM)
    (digest,) = await deliver(offline, db)
    group_id = NEWSROOM["id"]
    fed = story["Fed raises rates"]
    # Anyone may open the card (the shared message) and ask why.
    await offline.press(MEMBER, digest["message_id"], f"st:{fed}", chat_id=group_id)
    answer, _ = await offline.press(MEMBER, digest["message_id"], f"sv:down:{fed}",
                                    chat_id=group_id)  # fmt: skip
    assert answer.params["text"] == GROUP_ADMINS_VOTE
    assert vote_on(db, group_id, fed) == 0
    answer, _ = await offline.press(ADMIN, digest["message_id"], f"sv:down:{fed}",
                                    chat_id=group_id)  # fmt: skip
    assert answer.params["text"].startswith("👎 Noted")
    assert vote_on(db, group_id, fed) == -1
    answer, _ = await offline.press(MEMBER, digest["message_id"], f"sw:{fed}", chat_id=group_id)
    assert "you voted 👎" in answer.params["text"]  # the group's vote
