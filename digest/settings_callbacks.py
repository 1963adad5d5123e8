"""The callback-data formats of the settings screens and the mute menu under a digest.

Every one names the subscription it shows or changes by its chat id (a
:data:`digest.callback_data.ChatId` field), so one set of screens serves a reader's chat,
a group and a channel managed from a private chat. The wire texts are listed with every
other format in :mod:`digest.callbacks`.
"""

from __future__ import annotations

from enum import StrEnum

from digest.callback_data import CallbackData, ChatId


class Section(StrEnum):
    """The screens of /settings."""

    TOPICS = "topics"
    TIMES = "times"
    ZONE = "zone"
    KEYWORDS = "keywords"
    SOURCES = "sources"
    QUIET = "quiet"
    SHAPE = "shape"
    PAUSE = "pause"


class Prompt(StrEnum):
    """Text a settings screen asks for with a ForceReply (``bot.chat.prompts``)."""

    INCLUDE = "inc"
    EXCLUDE = "exc"
    TIME = "time"
    ZONE = "zone"
    QUIET = "quiet"
    PAUSE = "pause"


class SettingsHome(CallbackData, prefix="set"):
    """The /settings screen of subscription ``chat_id`` (every screen's "◀ Back")."""

    chat_id: ChatId


class SettingsOpen(CallbackData, prefix="so"):
    """One screen of /settings."""

    section: Section
    chat_id: ChatId


class PromptButton(CallbackData, prefix="pr"):
    """Ask for text (a ForceReply); the answer changes subscription ``chat_id``."""

    prompt: Prompt
    chat_id: ChatId


class TopicToggle(CallbackData, prefix="tt"):
    """A topic in chat ``chat_id``'s picker: select or unselect it, stay on ``page``."""

    chat_id: ChatId
    topic_id: int
    page: int


class TopicsPage(CallbackData, prefix="tp"):
    """The picker's ◀ / ▶ (and the page counter): show ``page``."""

    chat_id: ChatId
    page: int


class TopicsDone(CallbackData, prefix="td"):
    """The picker's "Done": the chosen topics, then the /settings screen."""

    chat_id: ChatId


class TopicsClear(CallbackData, prefix="tx"):
    """The picker's "Clear all", then ``page`` again."""

    chat_id: ChatId
    page: int


class KeywordRemove(CallbackData, prefix="kr"):
    chat_id: ChatId
    keyword_id: int


class KeywordsClear(CallbackData, prefix="kc"):
    chat_id: ChatId


class MuteMenu(CallbackData, prefix="ms"):
    """Under a digest: show a "Mute <provider>" button per source in the message."""

    chat_id: ChatId


class MuteProvider(CallbackData, prefix="mp"):
    """Mute the provider of ``article_id`` for subscription ``chat_id``."""

    chat_id: ChatId
    article_id: int


class MuteBack(CallbackData, prefix="mb"):
    """Close the mute menu: the digest's own buttons again."""

    chat_id: ChatId


class SourceUnmute(CallbackData, prefix="su"):
    chat_id: ChatId
    muted_id: int


class TimeToggle(CallbackData, prefix="ct"):
    """Add or remove a digest time (minutes after local midnight)."""

    chat_id: ChatId
    minute: int


class DaysWord(StrEnum):
    """The days a digest comes, as in ``digest.schedule.Days``."""

    DAILY = "daily"
    WEEKDAYS = "weekdays"
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


class DaysSet(CallbackData, prefix="cd"):
    chat_id: ChatId
    days: DaysWord


class ZonePick(CallbackData, prefix="zs"):
    """One of ``digest.zones.COMMON_ZONES``, by index."""

    chat_id: ChatId
    index: int


class ZoneOfLanguage(CallbackData, prefix="zl"):
    chat_id: ChatId


class LocationAsk(CallbackData, prefix="zq"):
    """Send the reply keyboard whose button shares the user's location."""

    chat_id: ChatId


class ZoneFixed(CallbackData, prefix="zf"):
    chat_id: ChatId
    minutes: ChatId  # minutes east of UTC: signed, like a chat id


class QuietPreset(CallbackData, prefix="qs"):
    chat_id: ChatId
    preset: int


class QuietWord(StrEnum):
    SILENT = "silent"
    HOLD = "hold"


class QuietModeSet(CallbackData, prefix="qm"):
    chat_id: ChatId
    mode: QuietWord


class ShapeSize(CallbackData, prefix="sz"):
    chat_id: ChatId
    entries: int


class PreviewWord(StrEnum):
    OFF = "off"
    FIRST = "first"
    ALL = "all"


class ShapePreviews(CallbackData, prefix="lp"):
    chat_id: ChatId
    previews: PreviewWord


class OrderWord(StrEnum):
    RANKED = "ranked"
    NEWEST = "newest"


class ShapeOrder(CallbackData, prefix="od"):
    chat_id: ChatId
    order: OrderWord


class PauseFor(CallbackData, prefix="pa"):
    chat_id: ChatId
    days: int


TOPIC_BUTTONS: tuple[type[CallbackData], ...] = (TopicToggle, TopicsPage, TopicsDone, TopicsClear)
MUTE_BUTTONS: tuple[type[CallbackData], ...] = (MuteMenu, MuteProvider, MuteBack)
KEYWORD_BUTTONS: tuple[type[CallbackData], ...] = (KeywordRemove, KeywordsClear)
CADENCE_BUTTONS: tuple[type[CallbackData], ...] = (TimeToggle, DaysSet, PauseFor)
ZONE_BUTTONS: tuple[type[CallbackData], ...] = (ZonePick, ZoneOfLanguage, ZoneFixed, LocationAsk)
QUIET_BUTTONS: tuple[type[CallbackData], ...] = (QuietPreset, QuietModeSet)
SHAPE_BUTTONS: tuple[type[CallbackData], ...] = (ShapeSize, ShapePreviews, ShapeOrder)
SETTINGS_BUTTONS: tuple[type[CallbackData], ...] = (
    SettingsHome,
    SettingsOpen,
    PromptButton,
    *TOPIC_BUTTONS,
    *KEYWORD_BUTTONS,
    SourceUnmute,
    *CADENCE_BUTTONS,
    *ZONE_BUTTONS,
    *QUIET_BUTTONS,
    *SHAPE_BUTTONS,
)
