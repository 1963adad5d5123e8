"""Callback data: every format round-trips, and anything else decodes to None."""

from __future__ import annotations

import dataclasses
import itertools
import typing
from enum import StrEnum

import pytest

from digest.callback_data import INT64_MAX, CallbackData, CallbackDataError, ChatId
from digest.callbacks import (
    FORMATS,
    ChannelButton,
    ChannelsAdd,
    ChannelVerb,
    DigestMore,
    FollowingUnfollow,
    FollowStory,
    FollowVerb,
    LanguageCode,
    LanguagePick,
    PushButton,
    PushVerb,
    RelatedStory,
    StoryBack,
    StoryOpen,
    StoryVote,
    StoryWhy,
    VoteValue,
    decode_any,
    matcher,
)
from digest.keyboard import Button
from digest.settings_callbacks import (
    TOPIC_BUTTONS,
    DaysSet,
    DaysWord,
    KeywordRemove,
    KeywordsClear,
    LocationAsk,
    MuteBack,
    MuteMenu,
    MuteProvider,
    OrderWord,
    PauseFor,
    PreviewWord,
    Prompt,
    PromptButton,
    QuietModeSet,
    QuietPreset,
    QuietWord,
    Section,
    SettingsHome,
    SettingsOpen,
    ShapeOrder,
    ShapePreviews,
    ShapeSize,
    SourceUnmute,
    TimeToggle,
    TopicsClear,
    TopicsDone,
    TopicsPage,
    TopicToggle,
    ZoneFixed,
    ZoneOfLanguage,
    ZonePick,
)

CHANNEL = -1001234567890  # a channel's (and a supergroup's) chat id: negative, 14 characters
EXAMPLES: list[tuple[CallbackData, str]] = [
    (RelatedStory(7), "rel:7"),
    (RelatedStory(0), "rel:0"),
    (RelatedStory(INT64_MAX), f"rel:{INT64_MAX}"),
    (DigestMore(), "digest:more"),
    (StoryOpen(7), "st:7"),
    (StoryOpen(INT64_MAX), f"st:{INT64_MAX}"),
    (StoryBack(12), "sb:12"),
    (StoryVote(VoteValue.UP, 7), "sv:up:7"),
    (StoryVote(VoteValue.DOWN, INT64_MAX), f"sv:down:{INT64_MAX}"),
    (StoryWhy(7), "sw:7"),
    (TopicToggle(501, 12, 3), "tt:501:12:3"),
    (TopicToggle(CHANNEL, INT64_MAX, INT64_MAX), f"tt:{CHANNEL}:{INT64_MAX}:{INT64_MAX}"),
    (TopicToggle(-INT64_MAX, 0, 0), f"tt:-{INT64_MAX}:0:0"),
    (TopicsPage(0, 0), "tp:0:0"),
    (TopicsPage(-4012, 1), "tp:-4012:1"),
    (TopicsClear(501, 2), "tx:501:2"),
    (TopicsDone(CHANNEL), f"td:{CHANNEL}"),
    (PushButton(PushVerb.SEND, 5), "push:send:5"),
    (PushButton(PushVerb.CANCEL, 5), "push:cancel:5"),
    (ChannelButton(ChannelVerb.STOP, CHANNEL), f"chan:stop:{CHANNEL}"),
    (ChannelButton(ChannelVerb.RESUME, CHANNEL), f"chan:resume:{CHANNEL}"),
    (ChannelsAdd(), "chadd"),
    (FollowStory(FollowVerb.ON, 7), "fo:on:7"),
    (FollowStory(FollowVerb.OFF, INT64_MAX), f"fo:off:{INT64_MAX}"),
    (FollowingUnfollow(7), "fl:7"),
    (LanguagePick(LanguageCode.RU, 501), "lang:ru:501"),
    (LanguagePick(LanguageCode.ES, CHANNEL), f"lang:es:{CHANNEL}"),
    # Settings: the subscription's chat id is signed (channels are negative).
    (SettingsHome(CHANNEL), f"set:{CHANNEL}"),
    (SettingsHome(-INT64_MAX), f"set:-{INT64_MAX}"),
    (SettingsOpen(Section.KEYWORDS, 501), "so:keywords:501"),
    (PromptButton(Prompt.INCLUDE, CHANNEL), f"pr:inc:{CHANNEL}"),
    (KeywordRemove(CHANNEL, 7), f"kr:{CHANNEL}:7"),
    (KeywordsClear(0), "kc:0"),
    (MuteMenu(CHANNEL), f"ms:{CHANNEL}"),
    (MuteProvider(501, 9), "mp:501:9"),
    (MuteBack(501), "mb:501"),
    (SourceUnmute(501, 3), "su:501:3"),
    (TimeToggle(501, 450), "ct:501:450"),
    (DaysSet(501, DaysWord.WEEKDAYS), "cd:501:weekdays"),
    (ZonePick(501, 2), "zs:501:2"),
    (ZoneOfLanguage(501), "zl:501"),
    (ZoneFixed(CHANNEL, -300), f"zf:{CHANNEL}:-300"),
    (LocationAsk(501), "zq:501"),
    (QuietPreset(501, 1), "qs:501:1"),
    (QuietModeSet(501, QuietWord.HOLD), "qm:501:hold"),
    (ShapeSize(501, 20), "sz:501:20"),
    (ShapePreviews(501, PreviewWord.FIRST), "lp:501:first"),
    (ShapeOrder(501, OrderWord.NEWEST), "od:501:newest"),
    (PauseFor(501, 7), "pa:501:7"),
]


@pytest.mark.parametrize(("value", "wire"), EXAMPLES)
def test_encode_is_the_documented_wire_text_and_decodes_back(
    value: CallbackData, wire: str
) -> None:
    assert value.encode() == wire
    assert type(value).decode(wire) == value
    assert decode_any(wire) == value
    # Exactly one format accepts it: no two formats can be confused.
    assert [f.__name__ for f in FORMATS if f.decode(wire) is not None] == [type(value).__name__]


def test_every_format_has_an_example_and_a_distinct_prefix() -> None:
    assert {type(value) for value, _ in EXAMPLES} == set(FORMATS)
    for a, b in itertools.permutations(FORMATS, 2):
        assert a.PREFIX != b.PREFIX
        assert not b.PREFIX.startswith(a.PREFIX + ":"), (a, b)


@pytest.mark.parametrize(
    "data",
    [
        "",
        "rel",
        "rel:",
        "rel:99999999999999999999",  # beyond SQLite's int64
        f"rel:{INT64_MAX + 1}",
        "rel:²",  # str.isdigit() says yes; int() says no
        "rel:٣",  # Arabic-Indic digit three: int() would take it
        "rel:७",
        "rel:-1",
        "rel:+1",
        "st:-1",
        "st:7:1",  # an extra field
        "sb:",
        "sv:7",  # the vote's word is missing
        "sv:sideways:7",
        "sv:UP:7",
        "sv:up:07",
        "sw:1e3",
        "rel:01",  # leading zeros are not what encode writes
        "rel:00",
        "rel: 1",
        "rel:1 ",
        "rel:1\n",
        "set:-0",  # a signed field: no minus zero,
        "set:--1",
        "set:+5",
        "set:-01",
        f"set:-{INT64_MAX + 1}",
        "set:-",
        "so:keywords:",
        "so:nope:1",
        "mp:-5:-1",  # only the chat is signed
        "zf:1:-0",
        "rel:1.0",
        "rel:1e3",
        "rel:0x1f",
        "rel:1_000",
        "rel:7:8",  # an extra field
        "rel:7:",
        "REL:7",
        "rel;7",
        "tt:²:0",
        "tt:1",
        "tt:1:",
        "tt::0",
        "tt:1:2",  # the format before chat ids: out of date
        "lang:fr:501",  # a language we do not speak
        "lang:RU:501",
        "lang:ru",
        "tt:1:2:3:4",
        "tt:abc:0:0",
        "tt:1:-2:0",  # only a chat id is signed
        "tt:-0:1:0",
        "tt:--5:1:0",
        "tt:+5:1:0",
        "tt:-05:1:0",
        f"tt:-{INT64_MAX + 1}:1:0",
        "tp:",
        "tp:x",
        "tp:0",
        "tp:-0:0",
        "tx",
        "tx:0",
        "td",
        "td:",
        "td:x",
        "td:0:0",
        "tdx",
        "chan",
        "chan:stop",
        "chan:stop:",
        "chan:delete:-100",
        "chan:STOP:-100",
        "chan:stop:-100:1",
        "chan:open:-100",  # the channel screen is the settings screen now: set:<chat>
        "chan:time:-100",
        "chadd:1",
        "st:-100:480",  # issue 10's time and zone stand-ins: the settings screens now
        "sz:-100:Europe/Berlin",
        "sz:-100:utc",
        "sz:-100",
        "sz:-100:-5",
        "tc:-100:1:0",  # issue 11's first topic formats: one picker, tt/tp/tx/td
        "tg:-100:0",
        "tk:-100:0",
        "digest:more:1",
        "digest:more ",
        "digest:",
        "digest",
        "push:send:²",
        "push:send:",
        "push:send",
        "push:send:1:2",
        "push:SEND:1",
        "push:delete:1",
        "push:cancel:-3",
        "push::1",
        "zz:old",
        "rel:" + "1" * 61,  # 65 bytes
        "tt:" + "1" * 200 + ":0:0",
        "tt:-" + "1" * 40 + ":0:0",
        "x" * 65,
        "rel:7\x00",
        "rel:７",  # fullwidth digit seven
    ],
)
def test_malformed_data_decodes_to_none(data: str) -> None:
    assert decode_any(data) is None
    assert all(f.decode(data) is None for f in FORMATS)


@pytest.mark.parametrize("data", [None, 7, b"rel:7", ["rel:7"]])
def test_data_that_is_not_text_decodes_to_none(data: object) -> None:
    assert decode_any(data) is None


def test_encode_refuses_values_no_button_could_carry() -> None:
    for value in (
        RelatedStory(-1),
        RelatedStory(INT64_MAX + 1),
        TopicsPage(True, 0),
        TopicsPage(0, -1),
        TopicsPage(-INT64_MAX - 1, 0),
        TopicsDone(True),
    ):
        with pytest.raises(CallbackDataError):
            value.encode()
    with pytest.raises(CallbackDataError):
        PushButton("send", 1).encode()  # type: ignore[arg-type]  # a str, not a PushVerb


def test_encode_checks_the_64_byte_limit() -> None:
    class Wide(CallbackData, prefix="w" * 40):
        a: int
        b: int

    assert len(Wide(1, 2).encode()) <= 64
    assert Wide.decode(Wide(1, 2).encode()) == Wide(1, 2)
    with pytest.raises(CallbackDataError):
        Wide(INT64_MAX, INT64_MAX).encode()


class Vote(StrEnum):
    UP = "up"
    DOWN = "down"
    WITHDRAWN = "withdrawn"


class StoryVote(CallbackData, prefix="vote"):
    """What a later feature adds: a prefix and typed fields (at module level, like FORMATS)."""

    article_id: int
    vote: Vote


def test_a_new_format_needs_only_its_prefix_and_typed_fields() -> None:
    value = StoryVote(42, Vote.DOWN)
    assert value.encode() == "vote:42:down"
    assert StoryVote.decode("vote:42:down") == value
    assert StoryVote.decode("vote:42:sideways") is None
    assert StoryVote.decode("vote:42") is None
    assert decode_any("vote:42:down", (StoryVote,)) == value


def test_the_longest_settings_buttons_of_a_channel_fit_in_64_bytes() -> None:
    longest = -(10**13 - 1)  # channel ids are -100 followed by 10 digits today: room to grow
    for value in (
        TopicToggle(longest, INT64_MAX, INT64_MAX),
        ChannelButton(max(ChannelVerb, key=len), longest),
        SettingsOpen(max(Section, key=len), longest),
        PromptButton(max(Prompt, key=len), longest),
        KeywordRemove(longest, INT64_MAX),
        MuteProvider(longest, INT64_MAX),
        SourceUnmute(longest, INT64_MAX),
        DaysSet(longest, max(DaysWord, key=len)),
        ZoneFixed(longest, -14 * 60),
        QuietModeSet(longest, max(QuietWord, key=len)),
        ShapePreviews(longest, max(PreviewWord, key=len)),
        ShapeOrder(longest, max(OrderWord, key=len)),
    ):
        assert len(value.encode()) <= 64
        assert type(value).decode(value.encode()) == value


@pytest.mark.parametrize("kind", FORMATS)
def test_every_format_with_a_channel_id_fits_in_64_bytes(kind: type[CallbackData]) -> None:
    """Each format filled with the widest values its fields take, the chat a channel's."""
    widest: list[object] = []
    for hint in typing.get_type_hints(kind, include_extras=True).values():
        if typing.get_origin(hint) is typing.ClassVar:
            continue
        if hint == ChatId:
            widest.append(-(10**13 - 1))  # a channel id with room to grow
        elif hint is int:
            widest.append(INT64_MAX)
        else:
            widest.append(max(hint, key=len))
    value = typing.cast("typing.Callable[..., CallbackData]", kind)(*widest)
    assert len(value.encode().encode()) <= 64
    assert kind.decode(value.encode()) == value


class ChatVote(CallbackData, prefix="cv"):
    chat_id: ChatId
    article_id: int


def test_a_chat_id_field_is_signed_and_canonical() -> None:
    assert ChatVote(-5, 7).encode() == "cv:-5:7"
    assert ChatVote.decode("cv:-5:7") == ChatVote(-5, 7)
    assert ChatVote.decode("cv:5:7") == ChatVote(5, 7)
    assert ChatVote.decode("cv:0:7") == ChatVote(0, 7)
    for data in ("cv:-0:7", "cv:+5:7", "cv:-05:7", "cv:5:-7", "cv:-٣:7", "cv:- 5:7"):
        assert ChatVote.decode(data) is None, data


def test_a_field_type_without_a_codec_is_refused_when_the_format_is_defined() -> None:
    with pytest.raises(TypeError, match="int, ChatId or a StrEnum"):

        class Named(CallbackData, prefix="named"):
            name: str


def test_values_are_frozen() -> None:
    value = RelatedStory(7)
    with pytest.raises(dataclasses.FrozenInstanceError):
        value.article_id = 8  # type: ignore[misc]
    assert hash(value) == hash(RelatedStory(7))


def test_button_carries_the_encoded_value() -> None:
    assert RelatedStory(7).button("🔗 1") == Button("🔗 1", "rel:7")


def test_matcher_is_a_handler_pattern_for_its_formats_only() -> None:
    topics = matcher(*TOPIC_BUTTONS)
    assert topics("tt:5:1:0") and topics("td:-5") and topics("tp:5:3") and topics("tx:5:0")
    assert not topics("rel:1") and not topics("tt:5:²:0") and not topics("tt:1:0")
    assert not topics("")
    assert matcher(RelatedStory)("rel:1") and not matcher(RelatedStory)("rel:01")
