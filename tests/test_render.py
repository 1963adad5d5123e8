from __future__ import annotations

import html
import itertools
import re
from datetime import UTC, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pytest

from digest.assemble import Digest, Entry
from digest.html import MAX_MESSAGE, escape, escape_attr, link, pack_blocks, utf16_len
from digest.keyboard import Button
from digest.model import Provider, RelatedLink
from digest.render import (
    RenderedMessage,
    render_breaking,
    render_breaking_text,
    render_digest,
    render_related,
)
from digest.urls import is_http_url
from tests import factories

BERLIN = ZoneInfo("Europe/Berlin")


def related_link(
    title: str, web_url: str, provider: str, published_at: datetime | None
) -> RelatedLink:
    """A related link as the renderer gets it (url: the key, not shown)."""
    return RelatedLink(
        title=title,
        url=web_url,
        web_url=web_url,
        published_at=published_at,
        provider=Provider(provider) if provider else None,
    )


NOW = datetime(2025, 6, 14, 12, 0, tzinfo=UTC)  # 14:00 in Berlin

NASTY_TITLES = [
    '<script>alert("x")</script>',
    "Tom & Jerry's <b>bold</b> \"quoted\" > 'single' &amp; &#x3C;",
    "Control\x00chars\x07and\x1bescapes\x7f\r\nnewline",
    "Emoji 🚀🇺🇦👩‍👩‍👧 and astral 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "\u202eRTL override\u202c and \u200fمرحبا بالعالم\u200f marks \u2067isolate",
    "Lone surrogate \ud800 here",
    "x" * 10_000,
    "🚀" * 10_000,
    "&" * 10_000,
    "",
]
BAD_URLS = [
    "javascript:alert(1)",
    "JavaScript:alert(document.cookie)",
    "data:text/html,<script>alert(1)</script>",
    "//example.com/no-scheme",
    "https://exa mple.com/space",
    "ftp://example.com/file",
    "",
]


# --- a strict checker for Telegram's HTML subset ------------------------------------------

_TOKEN = re.compile(
    r'<(?P<close>/?)(?P<tag>[a-z]+)(?P<attrs>(?: href="[^"<>]*")?)>'
    r"|&(?:amp|lt|gt|quot);"
    r"|(?P<text>[^<>&]+)"
    r"|(?P<bad>.)",
    re.DOTALL,
)


def assert_telegram_html(text: str) -> None:
    """Only balanced b/i/a, a only with an http(s) href, no bare < > &, no control chars."""
    assert text.strip(), "Telegram refuses empty messages"
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]", text), repr(text)
    stack: list[str] = []
    for m in _TOKEN.finditer(text):
        assert m.group("bad") is None, f"bare {m.group('bad')!r} at {m.start()}: {text!r}"
        tag = m.group("tag")
        if tag is None:
            continue
        assert tag in {"b", "i", "a"}, tag
        attrs = m.group("attrs")
        if m.group("close"):
            assert not attrs
            assert stack and stack.pop() == tag, f"unbalanced </{tag}> in {text!r}"
            continue
        if tag == "a":
            assert "a" not in stack, "nested link"
            assert attrs, "link without href"
            href = html.unescape(attrs[len(' href="') : -1])
            assert is_http_url(href), href
        else:
            assert not attrs
        stack.append(tag)
    assert not stack, f"unclosed {stack}"


@pytest.mark.parametrize(
    "text",
    [
        "<b>x</b> &amp; <i>y</i>",
        '<a href="https://a.b/?q=1&amp;r=&quot;2&quot;">ok</a>',
        "plain",
    ],
)
def test_checker_accepts_good_html(text: str) -> None:
    assert_telegram_html(text)


@pytest.mark.parametrize(
    "text",
    [
        "<b>x",
        "a < b",
        "a & b",
        "<u>x</u>",
        '<a href="javascript:x">x</a>',
        "<b><i>x</b></i>",
        "<a>x</a>",
        "",
        "x\x00",
    ],
)
def test_checker_rejects_bad_html(text: str) -> None:
    with pytest.raises(AssertionError):
        assert_telegram_html(text)


def telegram_units(message: str) -> int:
    return len(message.encode("utf-16-le", "surrogatepass")) // 2


# --- escaping and links -------------------------------------------------------------------


@pytest.mark.parametrize("text", NASTY_TITLES)
def test_escape_round_trips_everything_but_control_characters(text: str) -> None:
    out = escape(text)
    assert "<" not in out and ">" not in out
    assert re.fullmatch(r"(?:[^&]|&(?:amp|lt|gt);)*", out)
    kept = re.sub(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]", "", text)
    assert html.unescape(out) == kept


def test_escape_keeps_newlines_and_tabs() -> None:
    assert escape("a\nb\tc") == "a\nb\tc"


def test_escape_attr_also_escapes_quotes() -> None:
    out = escape_attr('say "hi" & <go>')
    assert '"' not in out
    assert html.unescape(out) == 'say "hi" & <go>'


def test_link_to_http_url() -> None:
    out = link('https://example.com/a?b=1&c="2"', "Title <1>")
    assert_telegram_html(out)
    assert out.startswith('<a href="https://example.com/a?b=1&amp;c=&quot;2&quot;">')
    assert out.endswith(">Title &lt;1&gt;</a>")


@pytest.mark.parametrize("url", BAD_URLS)
def test_link_to_anything_else_is_just_text(url: str) -> None:
    out = link(url, "Click <me>")
    assert out == escape("Click <me>")


def test_link_with_empty_label_shows_the_address() -> None:
    out = link("https://example.com/", "\x00")
    assert_telegram_html(out)
    assert ">https://example.com/</a>" in out


def test_utf16_len_counts_astral_characters_twice() -> None:
    assert utf16_len("aé") == 2
    assert utf16_len("🚀") == 2
    assert utf16_len("👩‍👩‍👧") == 8


# --- packing ------------------------------------------------------------------------------


def test_pack_blocks_keeps_blocks_whole_and_greedy() -> None:
    blocks = [f"<b>{i}</b> " + "y" * (i * 37 % 500) for i in range(60)]
    messages = pack_blocks(blocks, limit=1000)
    assert "\n\n".join(messages) == "\n\n".join(blocks)
    assert all(telegram_units(m) <= 1000 for m in messages)
    # Greedy: the first block of each next message would not have fit.
    for m, nxt in itertools.pairwise(messages):
        first = nxt.split("\n\n")[0]
        assert telegram_units(m) + 2 + telegram_units(first) > 1000


@pytest.mark.parametrize(("second", "messages"), [(498, 1), (499, 2)])
def test_pack_blocks_counts_the_separator(second: int, messages: int) -> None:
    # 500 + len("\n\n") + 498 is exactly the limit; one more unit is over it.
    packed = pack_blocks(["a" * 500, "b" * second], limit=1000)
    assert len(packed) == messages
    assert all(telegram_units(m) <= 1000 for m in packed)


def test_pack_blocks_counts_utf16_units() -> None:
    blocks = ["🚀" * 1000, "🚀" * 1000, "🚀" * 1000]  # 2000 units each
    messages = pack_blocks(blocks)
    assert len(messages) == 2
    assert all(telegram_units(m) <= MAX_MESSAGE for m in messages)


def test_pack_blocks_skips_empty_blocks() -> None:
    assert pack_blocks([]) == []
    assert pack_blocks(["", "  ", "x"]) == ["x"]


OVERSIZED = (
    '<b>1.</b> <a href="https://example.com/?a=1&amp;b=2">Tom &amp; 🚀 Jerry</a>\n'
    "<i>Provider &lt;x&gt; · 14:00</i>\n" + "word 🚀&amp;&lt; " * 40
)


@pytest.mark.parametrize("limit", range(1, utf16_len(OVERSIZED) + 5, 3))
def test_oversized_block_is_cut_safely_at_any_limit(limit: int) -> None:
    [out] = pack_blocks([OVERSIZED], limit=limit)
    assert telegram_units(out) <= limit
    if out != "…":
        assert_telegram_html(out)
    if utf16_len(OVERSIZED) <= limit:
        assert out == OVERSIZED
    else:
        assert out.rstrip("</abi>").endswith("…")


def test_plain_text_cut_prefers_a_word_boundary() -> None:
    [out] = pack_blocks(["alpha beta gamma delta epsilon"], limit=20)
    assert out == "alpha beta gamma…"


# --- buttons ------------------------------------------------------------------------------


def test_button_callback_data_is_at_most_64_bytes() -> None:
    Button("ok", "x" * 64)
    with pytest.raises(ValueError):
        Button("too long", "x" * 65)
    with pytest.raises(ValueError):
        Button("multibyte", "é" * 33)  # 66 bytes in 33 characters
    with pytest.raises(ValueError):
        Button("empty", "")


# --- digests ------------------------------------------------------------------------------


# This module's candidates are published at its NOW unless a test says otherwise.
candidate = partial(factories.candidate, published_at=NOW)


def digest_of(*entries: Entry, more: int = 0) -> Digest:
    ids = frozenset(c.id for e in entries for c in (e.lead, *e.also))
    return Digest(tuple(entries), more, ids)


def render(d: Digest) -> list[RenderedMessage]:
    return render_digest(d, tz=BERLIN, heading="Your digest", now=NOW)


def check_messages(messages: list[RenderedMessage]) -> None:
    assert messages
    for m in messages:
        assert telegram_units(m.text) <= MAX_MESSAGE
        assert_telegram_html(m.text)
        for row in m.buttons:
            assert 1 <= len(row) <= 5
            for button in row:
                assert len(button.callback_data.encode()) <= 64


def test_digest_entry_layout() -> None:
    lead = candidate(
        7,
        title="Fed raises rates",
        provider="Reuters",
        excerpt="The central bank moved again.",
        published_at=datetime(2025, 6, 14, 11, 29, tzinfo=UTC),
    )
    d = digest_of(Entry(lead, (candidate(8, provider="AP"), candidate(9, provider="BBC"))))
    [message] = render(d)
    check_messages([message])
    heading, block = message.text.split("\n\n")
    assert heading == "<b>Your digest</b>"
    assert block.split("\n") == [
        '<b>1.</b> <a href="https://example.com/7">Fed raises rates</a>',
        "<i>Reuters · 13:29</i>",  # local time in Berlin, no date: it is today
        "The central bank moved again.",
        # Distinct sources, the lead's first; the others link to their coverage.
        '🗞 3 sources · Reuters, <a href="https://example.com/8">AP</a>, '
        '<a href="https://example.com/9">BBC</a>',
    ]
    assert message.buttons == ((Button("🗞 1", "st:7"),),)
    assert message.article_ids == (7, 8, 9)  # the entry's lead, then its other coverage


@pytest.mark.parametrize(
    ("published", "shown"),
    [
        (datetime(2025, 6, 13, 11, 29, tzinfo=UTC), "13 Jun, 13:29"),
        (datetime(2025, 6, 13, 22, 30, tzinfo=UTC), "00:30"),  # already today in Berlin
        (datetime(2024, 12, 31, 9, 5, tzinfo=UTC), "31 Dec 2024, 10:05"),
    ],
)
def test_date_shown_when_not_today_in_the_readers_zone(published: datetime, shown: str) -> None:
    [message] = render(digest_of(Entry(candidate(1, published_at=published))))
    assert f"<i>Provider · {shown}</i>" in message.text


def test_long_excerpt_is_trimmed_at_a_word() -> None:
    words = " ".join(f"word{i}" for i in range(200))
    [message] = render(digest_of(Entry(candidate(1, excerpt=words))))
    excerpt = message.text.split("\n")[-1]
    assert excerpt.endswith("…")
    assert len(excerpt) <= 280
    assert words.startswith(excerpt[:-1])
    assert excerpt[:-1].split(" ")[-1] in words.split(" ")  # whole last word


@pytest.mark.parametrize("title", NASTY_TITLES)
@pytest.mark.parametrize("url", ["https://example.com/ok?a=1&b=<2>", *BAD_URLS[:3]])
def test_untrusted_fields_render_as_valid_html(title: str, url: str) -> None:
    lead = candidate(1, title=title, web_url=url, provider=title, excerpt=title)
    also = tuple(candidate(i, web_url=url, provider=title) for i in range(2, 9))
    messages = render(digest_of(Entry(lead, also), more=3))
    check_messages(messages)
    text = "\n".join(m.text for m in messages)
    assert "<script" not in text
    assert "\u202e" not in text and "\u2067" not in text  # no direction overrides leak
    assert ("<a href" in text) == is_http_url(url)


def test_fifty_huge_entries_split_between_entries_only() -> None:
    entries = [
        Entry(
            candidate(
                i,
                title=f"{i} " + "🚀&<" * 5000,
                excerpt="long & <excerpt> " * 1000,
                provider="P" * 500,
                web_url=f"https://example.com/{i}?" + ("q" * 2000 if i % 2 == 0 else "&q" * 900),
            ),
            tuple(candidate(1000 * i + k, provider="&" * 100) for k in range(1, 20)),
        )
        for i in range(1, 51)
    ]
    d = digest_of(*entries, more=17)
    messages = render(d)
    check_messages(messages)
    assert len(messages) > 1

    numbers: list[int] = []
    callbacks: list[str] = []
    for m in messages:
        blocks = m.text.split("\n\n")
        held = [
            int(b[3 : b.index(".</b>")]) for b in blocks if b.startswith("<b>") and ".</b>" in b
        ]
        # Every block of the message is whole: heading, numbered entry or the "more" line.
        assert len(held) + ("Your digest" in blocks[0]) + ("more</i>" in blocks[-1]) == len(blocks)
        numbers += held
        # Each entry's articles (numbered by id here): its lead, then its other coverage.
        assert m.article_ids == tuple(
            a for n in held for a in (n, *(1000 * n + k for k in range(1, 20)))
        )
        # Blocks are built so that a cut can only reach the excerpt: the title link and the
        # provider/time line of every entry survive.
        for block in blocks:
            if block.startswith("<b>") and ".</b>" in block:
                head, meta = block.split("\n")[:2]
                assert meta.startswith("<i>") and meta.endswith("</i>")
                number = int(head[3 : head.index(".</b>")])
                # Over-long hrefs (odd numbers here) degrade to a plain title.
                assert head.endswith("</a>") == (number % 2 == 0)
        buttons = [b for row in m.buttons for b in row]
        callbacks += [b.callback_data for b in buttons if b.callback_data.startswith("st:")]
        assert [b.label for b in buttons if b.callback_data.startswith("st:")] == [
            f"🗞 {n}" for n in held
        ]
    assert numbers == list(range(1, 51))
    assert callbacks == [f"st:{e.lead.id}" for e in entries]


def test_more_line_and_button_only_on_the_last_message() -> None:
    entries = [Entry(candidate(i, excerpt="x " * 140)) for i in range(1, 40)]
    messages = render(digest_of(*entries, more=12))
    check_messages(messages)
    assert len(messages) > 1
    assert messages[-1].text.endswith("<i>+12 more</i>")
    assert messages[-1].buttons[-1] == (Button("More (12)", "digest:more"),)
    for m in messages[:-1]:
        assert "more</i>" not in m.text
        assert all(b.callback_data != "digest:more" for row in m.buttons for b in row)


def test_no_more_line_when_nothing_else() -> None:
    [message] = render(digest_of(Entry(candidate(1))))
    assert "more" not in message.text
    assert all(b.callback_data.startswith("st:") for row in message.buttons for b in row)


def test_buttons_come_in_rows_of_five() -> None:
    [message] = render(digest_of(*(Entry(candidate(i)) for i in range(1, 13))))
    assert [len(row) for row in message.buttons] == [5, 5, 2]


def test_empty_digest_still_renders_a_message() -> None:
    messages = render(Digest((), 0, frozenset()))
    check_messages(messages)


# --- related coverage ---------------------------------------------------------------------


def test_related_lines() -> None:
    links = [
        related_link("Other <take>", "https://other.example/1", "Other & Co", NOW),
        related_link("Sneaky", "javascript:alert(1)", "Evil", None),
    ]
    [message] = render_related("Fed & rates", links, tz=BERLIN)
    assert_telegram_html(message)
    lines = message.split("\n")
    assert lines[0] == "<b>Related coverage: Fed &amp; rates</b>"
    assert lines[2] == (
        '• <a href="https://other.example/1">Other &lt;take&gt;</a>'
        " — Other &amp; Co · 14 Jun, 14:00"
    )
    assert lines[3] == "• Sneaky — Evil"


def test_related_coverage_is_packed_under_the_limit() -> None:
    links = [
        related_link(title, f"https://example.com/{i}?" + "&x" * 500, title, NOW)
        for i, title in enumerate(NASTY_TITLES * 20)
    ]
    messages = render_related("🚀" * 10_000, links, tz=BERLIN)
    assert len(messages) > 1
    for m in messages:
        assert telegram_units(m) <= MAX_MESSAGE
        assert_telegram_html(m)
    lines = [line for m in messages for line in m.split("\n")]
    assert sum(line.startswith("• ") for line in lines) == len(links)


def test_related_without_links() -> None:
    [message] = render_related("A story", [], tz=BERLIN)
    assert_telegram_html(message)


# --- breaking news ------------------------------------------------------------------------


@pytest.mark.parametrize("title", NASTY_TITLES)
def test_breaking_alert(title: str) -> None:
    c = candidate(1, title=title, excerpt=title * 3, provider=title)
    out = render_breaking(c, tz=BERLIN)
    assert out.startswith("🔴 <b>Breaking</b>\n\n")
    assert telegram_units(out) <= MAX_MESSAGE
    assert_telegram_html(out)


def test_breaking_text_links_bare_urls() -> None:
    out = render_breaking_text(
        "Read https://example.com/a?b=1&c=2. Also (see https://en.wikipedia.org/wiki/A_(b)), "
        "not javascript:alert(1) nor <b>bold</b>"
    )
    assert_telegram_html(out)
    linked = "https://example.com/a?b=1&amp;c=2"
    assert f'<a href="{linked}">{linked}</a>.' in out
    assert '<a href="https://en.wikipedia.org/wiki/A_(b)">' in out
    assert "javascript:alert(1)" in out and "&lt;b&gt;bold&lt;/b&gt;" in out


def test_breaking_text_is_one_message() -> None:
    out = render_breaking_text(("see https://example.com/" + "x" * 1000 + " & 🚀 ") * 20)
    assert telegram_units(out) <= MAX_MESSAGE
    assert_telegram_html(out)


@pytest.mark.parametrize(
    "text",
    ["plain", "a\x00b\nc", "http://", "https://exa mple.com", "<https://example.com>"],
)
def test_breaking_text_odd_inputs(text: str) -> None:
    out = render_breaking_text(text)
    assert_telegram_html(out)


def test_rendering_is_pure() -> None:
    d = digest_of(Entry(candidate(1, published_at=NOW - timedelta(days=2))))
    assert render(d) == render(d)


def test_the_entry_cache_changes_nothing_but_the_work() -> None:
    """Readers sharing stories get the same blocks, renumbered where their order differs."""
    a, b, c = (candidate(i, excerpt=f"Excerpt {i}") for i in (1, 2, 3))
    first = digest_of(Entry(a, (b,)), Entry(c))
    second = digest_of(Entry(c), Entry(a, (b,)), more=4)
    cache: dict[tuple[object, ...], str] = {}
    for d in (first, second, first):
        cached = render_digest(d, tz=BERLIN, heading="Your digest", now=NOW, cache=cache)
        assert cached == render(d)
    assert len(cache) == 4  # (a+b, 1), (c, 2), (c, 1), (a+b, 2)
