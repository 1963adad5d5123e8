"""Callback data: the payload of every inline button, one small typed value per format.

Telegram hands a button's callback data back when it is pressed, and a client can send
anything there, so no handler parses it by hand: each format is a frozen value here with
``encode()`` (1-64 bytes, checked) and a strict ``decode()`` that accepts exactly what
``encode`` produces and returns ``None`` for anything else: another prefix, a missing or
extra field, a number that is not canonical ASCII decimal (no sign but a chat id's minus,
no leading zero, no "²") or is beyond SQLite's int64, more than 64 bytes, the empty string.

Every settings button names the subscription it shows or changes by its chat id
(``<chat>``: a :data:`ChatId` field, the only signed one: groups and channels have
negative ids), so one set of screens serves a reader's own chat, a group, and a channel
managed from a private chat; ``bot.chat.target.editing`` checks on every press that the
presser may change it. The longest format with a channel id (``-100…``, 14 characters) is
``tt:<chat>:<topic id>:<page>``, well under 64 bytes.

=================================  =========================================
wire text                          value
=================================  =========================================
``rel:<article id>``               :class:`RelatedStory` (old digests' 🔗 buttons)
``st:<article id>``                :class:`StoryOpen` (a digest entry's story card)
``sb:<outbox id>``                 :class:`StoryBack` (the card back to its digest)
``sv:<up|down>:<article id>``      :class:`StoryVote` (👍 / 👎 on a card)
``sw:<article id>``                :class:`StoryWhy` ("Why this?" on a card)
``digest:more``                    :class:`DigestMore`
``push:send:<push id>``            :class:`PushButton` (``PushVerb.SEND``)
``push:cancel:<push id>``          :class:`PushButton` (``PushVerb.CANCEL``)
``set:<chat>``                     :class:`SettingsHome` (the /settings screen)
``so:<section>:<chat>``            :class:`SettingsOpen` (one of its screens)
``pr:<prompt>:<chat>``             :class:`PromptButton` (ask for text: a ForceReply)
``tt:<chat>:<topic id>:<page>``    :class:`TopicToggle` (the topic picker)
``tp:<chat>:<page>``               :class:`TopicsPage`
``tx:<chat>:<page>``               :class:`TopicsClear`
``td:<chat>``                      :class:`TopicsDone` (back to /settings)
``kr:<chat>:<keyword id>``         :class:`KeywordRemove`
``kc:<chat>``                      :class:`KeywordsClear`
``ms:<chat>``                      :class:`MuteMenu` (under a digest)
``mp:<chat>:<article id>``         :class:`MuteProvider`
``mb:<chat>``                      :class:`MuteBack`
``su:<chat>:<muted id>``           :class:`SourceUnmute`
``ct:<chat>:<minute of day>``      :class:`TimeToggle`
``cd:<chat>:<days>``               :class:`DaysSet`
``zs:<chat>:<index>``              :class:`ZonePick` (``digest.zones.COMMON_ZONES``)
``zl:<chat>``                      :class:`ZoneOfLanguage`
``zf:<chat>:<minutes east>``       :class:`ZoneFixed` (a whole-hour offset, confirmed)
``zq:<chat>``                      :class:`LocationAsk` (the share-location keyboard)
``qs:<chat>:<preset>``             :class:`QuietPreset` (``0``: off)
``qm:<chat>:<mode>``               :class:`QuietModeSet`
``sz:<chat>:<entries>``            :class:`ShapeSize`
``lp:<chat>:<previews>``           :class:`ShapePreviews`
``od:<chat>:<order>``              :class:`ShapeOrder`
``pa:<chat>:<days>``               :class:`PauseFor` (``0``: resume)
``chan:<stop|resume>:<chat>``      :class:`ChannelButton` (a channel's settings screen)
``chadd``                          :class:`ChannelsAdd` (/channels)
``fo:<on|off>:<article id>``       :class:`FollowStory` (🔔 / 🔕 on a story or an update)
``fl:<article id>``                :class:`FollowingUnfollow` (🔕 on the /following list)
``lang:<code>:<chat>``             :class:`LanguagePick` (/language)
=================================  =========================================

A decoded value is well-formed, not true: an id in it may name nothing (any more), so
handlers look it up before use and answer "out of date" when it is gone.

Adding a format: a subclass ``class StoryVote(CallbackData, prefix="vote")`` (at module
level) whose fields are typed ``int`` (an id, a page: 0 to 2**63-1), ``ChatId`` (a chat id,
signed) or a ``StrEnum`` (one of a fixed set of words); it becomes a frozen dataclass.
Append it to ``FORMATS`` (a test checks that prefixes are unique), register its handler
with ``pattern=matcher(StoryVote)``, and decode with ``StoryVote.decode``. The settings
screens' formats (``set`` to ``pa`` above) live in :mod:`digest.settings_callbacks`;
the codec in :mod:`digest.callback_data`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum

from digest.callback_data import CallbackData, ChatId
from digest.settings_callbacks import MUTE_BUTTONS, SETTINGS_BUTTONS


class RelatedStory(CallbackData, prefix="rel"):
    """🔗 under a digest entry: the story's related coverage."""

    article_id: int


class StoryOpen(CallbackData, prefix="st"):
    """🗞 under a digest entry: its story card, edited into the digest message."""

    article_id: int  # the entry's lead


class StoryBack(CallbackData, prefix="sb"):
    """◀ Back on a story card: the digest message as it was (the outbox row it was sent as)."""

    outbox_id: int


class VoteValue(StrEnum):
    UP = "up"
    DOWN = "down"

    @property
    def sign(self) -> int:
        return 1 if self is VoteValue.UP else -1


class StoryVote(CallbackData, prefix="sv"):
    """👍 / 👎 on a story card: the reader's ranking leans towards or away from it."""

    value: VoteValue
    article_id: int


class StoryWhy(CallbackData, prefix="sw"):
    """ "Why this?" on a story card: the factors of its place, as a pop-up."""

    article_id: int


STORY_BUTTONS: tuple[type[CallbackData], ...] = (StoryOpen, StoryBack, StoryVote, StoryWhy)


class DigestMore(CallbackData, prefix="digest:more"):
    """The "More (N)" button under a digest: the next stories."""


class PushVerb(StrEnum):
    SEND = "send"
    CANCEL = "cancel"


class PushButton(CallbackData, prefix="push"):
    """Send or Cancel under a breaking push's preview (admins only)."""

    verb: PushVerb
    push_id: int


class ChannelVerb(StrEnum):
    STOP = "stop"  # no more digests (settings kept)
    RESUME = "resume"  # digests again


class ChannelButton(CallbackData, prefix="chan"):
    """Stop or Resume on a channel's settings screen (a channel cannot send /stop)."""

    verb: ChannelVerb
    chat_id: ChatId


class ChannelsAdd(CallbackData, prefix="chadd"):
    """/channels' "Add a channel": how to add one, with the chat-picker button."""


class LanguageCode(StrEnum):
    """The languages the bot speaks (``bot.i18n.SUPPORTED_LANGUAGES``; a test checks)."""

    EN = "en"
    RU = "ru"
    DE = "de"
    ES = "es"


class LanguagePick(CallbackData, prefix="lang"):
    """A /language button: the bot's language for subscription ``chat_id``."""

    language: LanguageCode
    chat_id: ChatId


CHANNEL_BUTTONS: tuple[type[CallbackData], ...] = (ChannelButton, ChannelsAdd)


class FollowVerb(StrEnum):
    ON = "on"  # 🔔 Follow
    OFF = "off"  # 🔕 Unfollow


class FollowStory(CallbackData, prefix="fo"):
    """🔔 Follow / 🔕 Unfollow a story (its lead article), on the story's view or an update;
    the pressed button turns into the other one in place."""

    verb: FollowVerb
    article_id: int


class FollowingUnfollow(CallbackData, prefix="fl"):
    """🔕 on the /following list: unfollow, and show the list again in place."""

    article_id: int


FOLLOW_BUTTONS: tuple[type[CallbackData], ...] = (FollowStory, FollowingUnfollow)
FORMATS: tuple[type[CallbackData], ...] = (
    RelatedStory,
    *STORY_BUTTONS,
    DigestMore,
    PushButton,
    *MUTE_BUTTONS,
    *SETTINGS_BUTTONS,
    *CHANNEL_BUTTONS,
    *FOLLOW_BUTTONS,
    LanguagePick,
)


def decode_any(
    data: object, formats: Sequence[type[CallbackData]] = FORMATS
) -> CallbackData | None:
    """The value of the first of ``formats`` that ``data`` is, or ``None``."""
    for kind in formats:
        value = kind.decode(data)
        if value is not None:
            return value
    return None


def matcher(*formats: type[CallbackData]) -> Callable[[object], bool]:
    """A ``CallbackQueryHandler`` pattern: true for the data of one of ``formats``."""
    return lambda data: decode_any(data, formats) is not None
