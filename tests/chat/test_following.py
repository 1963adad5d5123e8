"""Handlers: 🔔 Follow on a story's coverage, the update after new coverage, /following
and its 🔕 buttons; forged data; in a group only administrators follow."""

from __future__ import annotations

import json

import pytest
from sqlite_utils import Database

from bot.chat.following import FOLLOWED, STORY_GONE, UNFOLLOWED
from bot.chat.replies import STALE_BUTTON
from bot.chat.target import GROUP_ADMINS_ONLY
from bot.delivery.follow_updates import run_follow_updates
from storage.db import utcnow
from storage.follows import is_following
from tests.chat.harness import GROUP, READER, Offline, count, group
from tests.factories import article, store_articles

LEAD_URL = "https://a.example/ban"
ADMIN = 601
MEMBER = 602


def _lead(db: Database) -> int:
    (lead,) = store_articles(
        db,
        article(
            "EU endorses ban on facial recognition",
            LEAD_URL,
            related=[("Explainer", "https://explainer.example/fr")],
        ),
        at=utcnow(),
    )
    return lead


def _new_coverage(db: Database) -> None:
    store_articles(
        db,
        article(
            "Lawmakers <back> the ban",
            "https://b.example/back",
            provider=("BBC", "bbc.co.uk"),
            related=[("Lead", LEAD_URL)],
        ),
        at=utcnow(),
    )


async def test_follow_update_following_unfollow(offline: Offline, db: Database) -> None:
    lead = _lead(db)
    start = await offline.start(READER)
    # The 🔗 under a digest entry opens the story's coverage, with 🔔 Follow under it.
    _, calls = await offline.press(READER, start.result["message_id"], f"rel:{lead}",
                                   on_keyboard=False)  # fmt: skip
    (view,) = [c for c in calls if c.method == "sendMessage"]
    assert f"fo:on:{lead}" in view.callback_data
    answer, calls = await offline.press(READER, view.result["message_id"], f"fo:on:{lead}")
    assert answer.params["text"] == FOLLOWED
    assert is_following(db, READER, lead)
    shown = offline.message(READER, view.result["message_id"])
    assert shown["text"] == view.result["text"]  # the text stays; the button turned
    buttons = [b["callback_data"] for row in shown["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == [f"fo:off:{lead}"]
    # /related by the link shows it followed.
    again = await offline.reply(READER, f"/related {LEAD_URL}")
    assert again.callback_data == [f"fo:off:{lead}"]

    _new_coverage(db)
    assert run_follow_updates(db, utcnow()) == 1
    ((text, kind, markup),) = db.execute(
        "SELECT text, kind, reply_markup FROM outbox WHERE chat_id = ?", (READER,)
    ).fetchall()
    assert kind == "follow"
    assert '<a href="https://b.example/back">Lawmakers &lt;back&gt; the ban</a> — BBC' in text
    assert "1 new source since you looked" in text
    assert json.loads(markup)["inline_keyboard"][0][0]["callback_data"] == f"fo:off:{lead}"

    listing = await offline.reply(READER, "/following")
    assert "Stories you follow (1)" in listing.text and "2 sources" in listing.text
    assert listing.callback_data == [f"fl:{lead}"]
    message_id = listing.result["message_id"]
    answer, _ = await offline.press(READER, message_id, f"fl:{lead}")
    assert answer.params["text"] == UNFOLLOWED
    assert "You follow no stories yet" in offline.message(READER, message_id)["text"]
    assert not is_following(db, READER, lead)
    assert count(db, "SELECT count(*) FROM follow_stories") == 0
    # The old button again: out of date, nothing changes.
    answer, calls = await offline.press(READER, message_id, f"fl:{lead}", on_keyboard=False)
    assert answer.params["text"] == STALE_BUTTON
    assert [c.method for c in calls] == ["answerCallbackQuery"]


@pytest.mark.parametrize(
    ("data", "note"),
    [
        ("fo:on:99999", STORY_GONE),  # well-formed, no such article
        ("fo:off:99999", STALE_BUTTON),  # not followed
        ("fl:99999", STALE_BUTTON),
        ("fo:on:-1", STALE_BUTTON),  # malformed: the catch-all
        ("fo:on:1:2", STALE_BUTTON),
        ("fo:yes:1", STALE_BUTTON),
        ("fl:" + "9" * 30, STALE_BUTTON),
    ],
)
async def test_forged_follow_buttons_get_a_pop_up_and_change_nothing(
    offline: Offline, db: Database, data: str, note: str
) -> None:
    _lead(db)
    start = await offline.start(READER)
    answer, calls = await offline.press(READER, start.result["message_id"], data,
                                        on_keyboard=False)  # fmt: skip
    assert answer.params["text"] == note and answer.params["show_alert"] is True
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    assert count(db, "SELECT count(*) FROM follows") == 0


async def test_unsubscribed_reader_is_told_to_start(offline: Offline, db: Database) -> None:
    lead = _lead(db)
    listing = await offline.reply(READER, "/help")
    answer, _ = await offline.press(READER, listing.result["message_id"], f"fo:on:{lead}",
                                    on_keyboard=False)  # fmt: skip
    assert "Send /start" in answer.params["text"]
    assert count(db, "SELECT count(*) FROM follows") == 0


async def test_in_a_group_only_administrators_follow(offline: Offline, db: Database) -> None:
    lead = _lead(db)
    newsroom = group()
    offline.request.members[(GROUP, ADMIN)] = "administrator"
    offline.request.members[(GROUP, MEMBER)] = "member"
    await offline.reply(ADMIN, "/start", chat=newsroom)
    view = await offline.reply(MEMBER, f"/related {LEAD_URL}", chat=newsroom)
    assert view.callback_data == [f"fo:on:{lead}"]
    message_id = view.result["message_id"]
    answer, _ = await offline.press(MEMBER, message_id, f"fo:on:{lead}", chat_id=GROUP)
    assert answer.params["text"] == GROUP_ADMINS_ONLY
    assert not is_following(db, GROUP, lead)
    answer, _ = await offline.press(ADMIN, message_id, f"fo:on:{lead}", chat_id=GROUP)
    assert answer.params["text"] == FOLLOWED
    assert is_following(db, GROUP, lead)
    listing = await offline.reply(MEMBER, "/following", chat=newsroom)  # everyone may look
    assert "Stories you follow (1)" in listing.text
    _new_coverage(db)
    assert run_follow_updates(db, utcnow()) == 1
    assert count(db, "SELECT count(*) FROM outbox WHERE chat_id = ? AND kind = 'follow'",
                 (GROUP,)) == 1  # fmt: skip
