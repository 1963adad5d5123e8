"""Callback data: every format round-trips, and anything else decodes to None."""

from __future__ import annotations

import dataclasses
import itertools
from enum import StrEnum

import pytest

from digest.callbacks import (
    FORMATS,
    INT64_MAX,
    TOPIC_BUTTONS,
    CallbackData,
    CallbackDataError,
    ChannelButton,
    ChannelsAdd,
    ChannelVerb,
    ChatId,
    CommonZone,
    DigestMore,
    PickTime,
    PickZone,
    PushButton,
    PushVerb,
    RelatedStory,
    TopicsClear,
    TopicsDone,
    TopicsPage,
    TopicToggle,
    decode_any,
    matcher,
)
from digest.keyboard import Button

CHANNEL = -1001234567890  # a channel's (and a supergroup's) chat id: negative, 14 characters
EXAMPLES: list[tuple[CallbackData, str]] = [
    (RelatedStory(7), "rel:7"),
    (RelatedStory(0), "rel:0"),
    (RelatedStory(INT64_MAX), f"rel:{INT64_MAX}"),
    (DigestMore(), "digest:more"),
    (TopicToggle(501, 12, 3), "tt:501:12:3"),
    (TopicToggle(CHANNEL, INT64_MAX, INT64_MAX), f"tt:{CHANNEL}:{INT64_MAX}:{INT64_MAX}"),
    (TopicToggle(-INT64_MAX, 0, 0), f"tt:-{INT64_MAX}:0:0"),
    (TopicsPage(0, 0), "tp:0:0"),
    (TopicsPage(-4012, 1), "tp:-4012:1"),
    (TopicsClear(501, 2), "tx:501:2"),
    (TopicsDone(CHANNEL), f"td:{CHANNEL}"),
    (PushButton(PushVerb.SEND, 5), "push:send:5"),
    (PushButton(PushVerb.CANCEL, 5), "push:cancel:5"),
    (ChannelButton(ChannelVerb.OPEN, CHANNEL), f"chan:open:{CHANNEL}"),
    (ChannelButton(ChannelVerb.RESUME, CHANNEL), f"chan:resume:{CHANNEL}"),
    (ChannelsAdd(), "chadd"),
    (PickTime(CHANNEL, 1439), f"st:{CHANNEL}:1439"),
    (PickZone(CHANNEL, CommonZone.LOS_ANGELES), f"sz:{CHANNEL}:America/Los_Angeles"),
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
        "rel:01",  # leading zeros are not what encode writes
        "rel:00",
        "rel: 1",
        "rel:1 ",
        "rel:1\n",
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
        "chan:open",
        "chan:open:",
        "chan:delete:-100",
        "chan:OPEN:-100",
        "chan:open:-100:1",
        "chadd:1",
        "st:-100",
        "st:-100:-1",
        "st:-100:x",
        "sz:-100:Mars/Olympus",
        "sz:-100:utc",
        "sz:-100",
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
        PickZone(longest, max(CommonZone, key=len)),
        ChannelButton(max(ChannelVerb, key=len), longest),
    ):
        assert len(value.encode()) <= 64
        assert type(value).decode(value.encode()) == value


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
