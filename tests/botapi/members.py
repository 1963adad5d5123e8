"""Chat members as Telegram describes them: who is what in a group or channel.

:func:`member_json` builds the ``ChatMember`` object of each status with every field the
Bot API sends (PTB refuses one that lacks a required field); :func:`post_refusal` is what
Telegram answers when the bot writes where its membership does not allow it.
"""

from __future__ import annotations

from .rules import ApiError, JsonDict

# Statuses as the Bot API names them ("creator" is the owner, "kicked" banned).
STATUSES = frozenset({"creator", "administrator", "member", "restricted", "left", "kicked"})
ADMIN_STATUSES = frozenset({"creator", "administrator"})
ADMIN_RIGHTS = (
    "can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
    "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories",
    "can_edit_stories", "can_delete_stories",
)  # fmt: skip
CHANNEL_ADMIN_RIGHTS = ("can_post_messages", "can_edit_messages")
GROUP_ADMIN_RIGHTS = ("can_pin_messages", "can_manage_topics")
RESTRICTED_RIGHTS = (
    "can_send_messages", "can_send_audios", "can_send_documents", "can_send_photos",
    "can_send_videos", "can_send_video_notes", "can_send_voice_notes", "can_send_polls",
    "can_send_other_messages", "can_add_web_page_previews", "can_change_info",
    "can_invite_users", "can_pin_messages", "can_manage_topics", "can_edit_tag",
)  # fmt: skip
# Telegram's anonymous-admin user: the "from" of a message an anonymous admin writes.
GROUP_ANONYMOUS_BOT: JsonDict = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}

SERVICE_USER: JsonDict = {"id": 777000, "is_bot": False, "first_name": "Telegram"}


def member_json(
    user: JsonDict, status: str, chat_type: str, *, anonymous: bool = False, **rights: bool
) -> JsonDict:
    """A ChatMember of ``status``. An administrator has every right unless ``rights``
    says otherwise (``can_post_messages=False``); a restricted member none unless given."""
    if status not in STATUSES:
        raise ValueError(f"unknown member status {status!r}; one of {sorted(STATUSES)}")
    member: JsonDict = {"user": user, "status": status}
    if status == "creator":
        member["is_anonymous"] = anonymous
    elif status == "administrator":
        names = ADMIN_RIGHTS + (
            CHANNEL_ADMIN_RIGHTS if chat_type == "channel" else GROUP_ADMIN_RIGHTS
        )
        member.update(can_be_edited=False, is_anonymous=anonymous)
        member.update({name: rights.get(name, True) for name in names})
    elif status == "restricted":
        member.update(is_member=True, until_date=0)
        member.update({name: rights.get(name, False) for name in RESTRICTED_RIGHTS})
    elif status == "kicked":
        member["until_date"] = 0  # 0 = forever
    unknown = set(rights) - set(member)
    if unknown:
        raise ValueError(f"{sorted(unknown)} are not rights of a {status} in a {chat_type}")
    return member


def is_admin(member: JsonDict | None, **rights: bool) -> bool:
    """An owner, or an administrator with each of ``rights`` that is true."""
    if member is None or member["status"] not in ADMIN_STATUSES:
        return False
    if member["status"] == "creator":
        return True
    return all(member.get(name, False) for name, wanted in rights.items() if wanted)


def post_refusal(chat_type: str, bot: JsonDict | None) -> ApiError | None:
    """What Telegram answers a bot that writes to a group or channel it may not post to
    (``bot``: its membership there; None in a group means an ordinary member)."""
    status = bot["status"] if bot is not None else ("left" if chat_type == "channel" else "member")
    if status == "kicked":
        return ApiError(403, f"Forbidden: bot was kicked from the {chat_type} chat")
    if status == "left":
        return ApiError(403, f"Forbidden: bot is not a member of the {chat_type} chat")
    if chat_type == "channel" and not is_admin(bot, can_post_messages=True):
        return ApiError(400, "Bad Request: need administrator rights in the channel chat")
    if status == "restricted" and bot is not None and not bot.get("can_send_messages"):
        return ApiError(400, "Bad Request: not enough rights to send text messages to the chat")
    return None
