"""Story cards, pure parts: the sources line, reading time, the provider cap, the card,
and a digest message rendered again from its DigestPart."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pytest

from digest.assemble import PROVIDER_CAP, Digest, DigestPool, Entry
from digest.entries import distinct_sources, sources_line
from digest.model import Article, Provider, RelatedLink
from digest.parts import DigestPart
from digest.reading import count_words, reading_label, reading_minutes
from digest.render import (
    render_digest,
    render_part,
)
from digest.story_card import (
    StoryCard,
    render_story_card,
    story_card_buttons,
)
from tests.factories import NOW, candidate

ZONE = ZoneInfo("Europe/Berlin")
LONG_AGO = NOW - timedelta(days=30)
cand = partial(candidate, topics=(1,), age_hours=2, ingested_hours_ago=1)


# -- the sources line ----------------------------------------------------------------------------


def test_sources_line_names_distinct_providers_the_leads_first() -> None:
    lead = candidate(1, provider="Euronews")
    also = [
        candidate(2, provider="BBC"),
        candidate(3, provider="bbc "),  # the same provider, another spelling: once
        candidate(4, provider="Le Monde"),
        candidate(5, provider="Euronews"),  # the lead's own: not again
        candidate(6, provider="AP"),
        candidate(7, provider="Reuters"),
    ]
    line = sources_line(lead, also)
    assert line == (
        '🗞 5 sources · Euronews, <a href="https://example.com/2">BBC</a>, '
        '<a href="https://example.com/4">Le Monde</a> +2'
    )
    assert [c.id for c in distinct_sources(lead, also)] == [1, 2, 4, 6, 7]


def test_one_source_has_no_sources_line_just_the_provider() -> None:
    lead = candidate(1, provider="Euronews")
    assert sources_line(lead, [candidate(2, provider="EURONEWS")]) == ""
    [message] = render_digest(
        Digest((Entry(lead, (candidate(2, provider="Euronews"),)),), 0, frozenset({1, 2})),
        tz=ZONE,
        heading="",
        now=NOW,
    )
    lines = message.text.split("\n")
    assert lines[1] == "<i>Euronews · 14:00</i>"
    assert "🗞" not in message.text and "also" not in message.text


def test_sources_without_a_provider_count_by_host_and_escape() -> None:
    lead = candidate(1, provider="<b>Lead</b>")
    also = [
        candidate(2, provider="", web_url="https://a.example/x"),
        candidate(3, provider="", web_url="https://a.example/y"),
        candidate(4, provider="", web_url="javascript:alert(1)"),
    ]
    line = sources_line(lead, also)
    # a.example once; the unlinkable one is a source of its own, shown as plain "link".
    assert line == (
        '🗞 3 sources · &lt;b&gt;Lead&lt;/b&gt;, <a href="https://a.example/x">a.example</a>, link'
    )


# -- reading time --------------------------------------------------------------------------------


def test_reading_time_from_the_body_word_count() -> None:
    assert count_words("") == 0
    assert count_words("  one two\n\nthree  ") == 3
    assert [reading_minutes(w) for w in (0, 1, 230, 231, 1000)] == [0, 1, 1, 2, 5]
    assert reading_label(0) == "" and reading_label(700) == "4 min read"
    article = Article(
        url="https://e.example/a", web_url="https://e.example/a", title="t",
        published_at=NOW, body="word " * 500,
    )  # fmt: skip
    assert article.body_words == 500


def test_reading_time_shows_on_the_entry_only_with_a_body() -> None:
    with_body = candidate(1, provider="BBC", age_hours=0)
    with_body = type(with_body)(**{**_fields(with_body), "body_words": 700})
    [message] = render_digest(
        Digest((Entry(with_body), Entry(candidate(2, provider="AP"))), 0, frozenset({1, 2})),
        tz=ZONE,
        heading="",
        now=NOW,
    )
    first, second = message.text.split("\n\n")
    assert "<i>BBC · 14:00 · 4 min read</i>" in first
    assert "min read" not in second


def _fields(c: object) -> dict[str, object]:
    return {name: getattr(c, name) for name in c.__slots__}  # type: ignore[attr-defined]


# -- the provider cap ----------------------------------------------------------------------------


def test_no_more_than_two_entries_per_provider_while_others_have_stories() -> None:
    # Reuters has the five best stories; three other providers have worse ones.
    reuters = [cand(i, provider="Reuters", quality=90 - i) for i in range(1, 6)]
    others = [cand(10 + i, provider=f"P{i}", quality=40 - i) for i in range(3)]
    pool = DigestPool([*reuters, *others], NOW)
    d = pool.assemble(frozenset(), LONG_AGO, cap=5)
    providers = [e.lead.provider for e in d.entries]
    assert providers == ["Reuters", "Reuters", "P0", "P1", "P2"]
    assert providers.count("Reuters") == PROVIDER_CAP
    assert d.more == 3  # the three other Reuters stories are still there


def test_the_cap_gives_way_when_no_other_provider_has_stories() -> None:
    reuters = [cand(i, provider="Reuters", quality=90 - i) for i in range(1, 6)]
    pool = DigestPool([*reuters, cand(10, provider="AP", quality=10)], NOW)
    d = pool.assemble(frozenset(), LONG_AGO, cap=5)
    # Two Reuters, AP, then Reuters again (after the others): the digest is still full.
    assert [e.lead.id for e in d.entries] == [1, 2, 10, 3, 4]
    assert d.more == 1
    everything = pool.assemble(frozenset(), LONG_AGO, cap=10)
    assert [e.lead.id for e in everything.entries] == [1, 2, 10, 3, 4, 5]
    assert everything.more == 0


def test_a_capped_providers_story_may_come_led_by_other_coverage() -> None:
    reuters = [cand(i, provider="Reuters", quality=90 - i, url=f"https://r.example/{i}")
               for i in range(1, 4)]  # fmt: skip
    # The same story as Reuters' third (it links it), from the BBC.
    bbc = cand(20, provider="BBC", quality=20, related=["https://r.example/3"])
    pool = DigestPool([*reuters, bbc, cand(30, provider="AP", quality=5)], NOW)
    d = pool.assemble(frozenset(), LONG_AGO, cap=3)
    assert [(e.lead.id, [a.id for a in e.also]) for e in d.entries] == [
        (1, []),
        (2, []),
        (20, [3]),  # led by the BBC, Reuters' article as its other coverage
    ]
    assert d.article_ids == frozenset({1, 2, 3, 20})


# -- a digest message again, from its part -------------------------------------------------------


def test_each_message_renders_again_from_its_part() -> None:
    entries = [
        Entry(
            candidate(i, excerpt="x " * 130, provider=f"P{i}"),
            (candidate(100 + i, provider="BBC"), candidate(200 + i, provider="AP")),
        )
        for i in range(1, 31)
    ]
    digest = Digest(tuple(entries), 7, frozenset())
    messages = render_digest(digest, tz=ZONE, heading="Your digest · Sat 14 Jun", now=NOW,
                             mute_chat=501)  # fmt: skip
    assert len(messages) > 1
    by_id = {c.id: c for e in entries for c in (e.lead, *e.also)}
    numbers = 0
    for m in messages:
        part = m.part
        assert part is not None
        assert DigestPart.from_text(part.to_text()) == part
        assert m.article_ids == part.article_ids
        again = render_part(
            part,
            [Entry(by_id[ids[0]], tuple(by_id[a] for a in ids[1:])) for ids in part.entries],
            tz=ZONE,
            now=NOW,
        )
        assert (again.text, again.buttons, again.article_ids) == (m.text, m.buttons, m.article_ids)
        numbers += len(part.entries)
    assert numbers == 30
    assert messages[0].part and messages[0].part.heading == "Your digest · Sat 14 Jun"
    assert messages[-1].part and messages[-1].part.more == 7
    assert messages[-1].part.mute_chat == 501


def test_a_part_whose_story_is_gone_renders_without_it() -> None:
    entries = [Entry(candidate(i)) for i in (1, 2, 3)]
    [message] = render_digest(Digest(tuple(entries), 0, frozenset()), tz=ZONE, heading="H",
                              now=NOW)  # fmt: skip
    assert message.part is not None
    again = render_part(message.part, [entries[0], None, entries[2]], tz=ZONE, now=NOW)
    assert "<b>1.</b>" in again.text and "<b>3.</b>" in again.text and "<b>2.</b>" not in again.text
    labels = [b.label for row in again.buttons for b in row]
    assert labels == ["🗞 1", "🗞 3"]


@pytest.mark.parametrize(
    "text",
    ["", "{}", "[]", '{"e":[[]],"n":1}', '{"e":[["1"]],"n":1}', '{"e":[[1]],"n":0}',
     '{"e":[[1]],"n":1,"m":-1}', "not json"],
)  # fmt: skip
def test_damaged_parts_read_as_none(text: str) -> None:
    assert DigestPart.from_text(text) is None


# -- the card ------------------------------------------------------------------------------------


def test_card_lists_all_coverage_newest_first_escaped_and_http_only() -> None:
    lead = candidate(1, title="Fed <raises> rates", provider="Reuters", age_hours=3)
    coverage = (
        RelatedLink("Older take", "https://b.example/old", "https://b.example/old",
                    published_at=NOW - timedelta(hours=9), provider=Provider("BBC")),
        RelatedLink("Newest & best", "https://c.example/new", "https://c.example/new",
                    published_at=NOW - timedelta(hours=1), provider=Provider("AP")),
        RelatedLink("Bad link", "javascript:x", "javascript:alert(1)"),
        RelatedLink("Dup of lead", lead.url, lead.web_url),
    )  # fmt: skip
    text = render_story_card(StoryCard(lead, coverage), tz=ZONE)
    assert text.startswith('🗞 <b><a href="https://example.com/1">Fed &lt;raises&gt; rates</a></b>')
    # Reuters, BBC, AP and the unnamed one; the lead's duplicate is one article.
    assert "<i>4 sources · 4 articles</i>" in text
    lines = [line for line in text.split("\n") if line.startswith("• ")]
    assert [line.split(">", 2)[1].split("<")[0] if "<a" in line else line for line in lines] == [
        "Newest &amp; best",
        "Fed &lt;raises&gt; rates",
        "Older take",
        "• Bad link",  # no date: last; not a link
    ]
    assert "javascript" not in text


def test_card_of_a_huge_story_fits_one_message() -> None:
    lead = candidate(1)
    coverage = tuple(
        RelatedLink("🚀 " * 300, f"https://e.example/{i}", f"https://e.example/{i}",
                    published_at=NOW - timedelta(minutes=i))
        for i in range(200)
    )  # fmt: skip
    text = render_story_card(StoryCard(lead, coverage), tz=ZONE)
    from digest.html import MAX_MESSAGE, utf16_len

    assert utf16_len(text) <= MAX_MESSAGE
    assert text.endswith(" more</i>")


def test_card_buttons_leave_room_for_follow() -> None:
    from digest.keyboard import Button

    rows = story_card_buttons(7, 12, vote=1)
    assert [[b.callback_data for b in row] for row in rows] == [
        ["sv:up:7", "sv:down:7", "sw:7"],
        ["sb:12"],
    ]
    assert rows[0][0].label == "👍 ✓"
    follow = Button("🔔 Follow", "fo:7")
    assert story_card_buttons(7, 12, follow=follow)[1] == (follow, rows[1][0])
