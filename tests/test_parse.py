"""The article parser: every field of the real seed file, and every kind of hostile file."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from digest.errors import ArticleError, FieldError, FileRejected, FrontmatterError
from digest.model import Provider
from digest.parse import MAX_FILE_BYTES, parse_article_bytes, parse_article_text, parse_datetime
from digest.yaml_loader import MAX_YAML_DEPTH

GOOD_HEAD = (
    "title: Title\nwebUrl: https://example.com/story\npublishedDateTime: 2023-06-14T11:29:00Z\n"
)


def article(extra: str = "", head: str = GOOD_HEAD, body: str = "Body.\n") -> bytes:
    return f"---\n{head}{extra}---\n{body}".encode()


def without(field: str) -> bytes:
    head = "".join(line + "\n" for line in GOOD_HEAD.splitlines() if not line.startswith(field))
    return article(head=head)


def billion_laughs() -> bytes:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        refs = ", ".join([f"*l{level - 1}"] * 9)
        lines.append(f"l{level}: &l{level} [{refs}]")
    return article("\n".join(lines) + "\n")


def merge_bomb() -> bytes:
    """Nested merges of anchors, each level merging the one below nine times: 9**9 pairs
    once flattened by PyYAML before 6.0.4 (20 s and 700 MB), in under 700 bytes."""
    lines = ["m0: &m0 {k: v, j: w}"]
    for level in range(1, 10):
        refs = ", ".join([f"*m{level - 1}"] * 9)
        lines.append(f"m{level}: &m{level} {{<<: [{refs}], k{level}: v}}")
    return article("\n".join(lines) + "\n")


def many_merges(count: int) -> bytes:
    lines = ["base: &b {k: v}"] + [f"m{i}: {{<<: *b, i: {i}}}" for i in range(count)]
    return article("\n".join(lines) + "\n")


# --- the real file --------------------------------------------------------------------


def test_seed_parses_with_every_field(seed_bytes: bytes) -> None:
    a = parse_article_bytes(seed_bytes)
    url = (
        "https://www.euronews.com/my-europe/2023/06/14/meps-endorse-blanket-ban-on-facial-"
        "recognition-in-public-spaces-rejecting-targeted-exempti"
    )
    assert a.title == (
        "Breaking news. MEPs endorse blanket ban on facial recognition in public spaces, "
        "rejecting targeted exemptions"
    )
    assert a.excerpt.startswith("The debate has been inevitably shaped by developments in China")
    assert a.excerpt.endswith("monitor the country's population.")
    assert a.published_at == datetime(2023, 6, 14, 11, 29, tzinfo=UTC)
    assert a.published_at.utcoffset() is not None and not a.published_at.utcoffset()
    assert a.web_url == url
    assert a.original_url == url
    assert a.url == url.replace("https://www.", "https://")  # the normalised story key
    assert a.quality == 20
    assert a.heat is None  # -1 in the file means unknown
    assert a.published is False
    assert a.provider == Provider(name="Euronews", domain="euronews.com")
    assert a.topics == ("Computer Vision", "AI")
    assert len(a.images) == 1
    assert a.images[0].url.startswith("https://static.euronews.com/articles/stories/07/67/")
    assert (a.images[0].width, a.images[0].height) == (1000, 563)
    assert a.category == "news"
    assert a.kind == "article"
    assert a.secured is not None and a.secured.startswith("FbtjbGRSuUc4FgHt")
    assert a.secured.endswith(";DpHhkjWn2dlqE+Au2kyygA==")
    assert a.body == ""  # the seed has no text after the frontmatter
    assert dict(a.extra) == {}

    first, second = a.related
    assert first.title == "NY Schools Awaiting Decision on Facial Recognition"
    assert first.web_url == (
        "https://www.govtech.com/education/k-12/ny-schools-awaiting-decision-on-facial-recognition"
    )
    assert first.url == (
        "https://govtech.com/education/k-12/ny-schools-awaiting-decision-on-facial-recognition"
    )
    assert first.published_at == datetime(2023, 6, 12, 22, 23, tzinfo=UTC)
    assert first.provider == Provider("Government Technology", "govtech.com")
    assert first.quality == 74
    assert first.excerpt.startswith("Following debate at one district")
    assert second.title == "Facial recognition bots are scraping private data"
    assert second.provider == Provider("The Times", "thetimes.co.uk")
    assert second.published_at == datetime(2023, 6, 10, 23, 1, tzinfo=UTC)
    assert second.quality == 39


def test_body_and_unknown_fields_are_kept(seed_bytes: bytes) -> None:
    text = seed_bytes.decode().replace(
        "\ntype: article\n", "\ntype: article\nflavour: [1, 2.5]\n", 1
    )
    a = parse_article_text(text + "\nThe body, *in Markdown*.\n")
    assert a.body == "The body, *in Markdown*."
    assert dict(a.extra) == {"flavour": [1, 2.5]}


# --- hostile files ------------------------------------------------------------------

HOSTILE: list[tuple[str, bytes, type[ArticleError], str]] = [
    ("invalid YAML", article("topics: [AI, Privacy\n"), FrontmatterError, "invalid YAML"),
    ("no frontmatter", b"# Just Markdown\n\nNo fields here.\n", FrontmatterError, "no YAML"),
    ("unclosed frontmatter", b"---\ntitle: x\n", FrontmatterError, "not closed"),
    ("empty frontmatter", b"---\n---\nbody\n", FrontmatterError, "frontmatter is empty"),
    ("empty file", b"", FileRejected, "empty file"),
    ("whitespace only", b"  \n\t\r\n \n", FileRejected, "empty file"),
    ("binary", b"---\ntitle: x\x00y\n---\n", FileRejected, "binary file"),
    ("UTF-16", "---\ntitle: x\n---\n".encode("utf-16"), FileRejected, "binary file"),
    ("Latin-1", "---\ntitle: café\n---\n".encode("latin-1"), FileRejected, "not UTF-8"),
    ("over 1 MiB", article(body="x" * MAX_FILE_BYTES), FileRejected, "file too large"),
    ("billion laughs", billion_laughs(), FrontmatterError, "alias bomb"),
    ("merge-key bomb", merge_bomb(), FrontmatterError, "merge-key bomb"),
    ("too many merge keys", many_merges(101), FrontmatterError, "too many YAML merge keys"),
    ("recursive alias", article("loop: &a [1, *a]\n"), FrontmatterError, "recursive alias"),
    (
        "recursive mapping alias",
        article("loop: &a\n  self: *a\n"),
        FrontmatterError,
        "recursive alias",
    ),
    (
        "python object tag",
        article("x: !!python/object/apply:os.system ['true']\n"),
        FrontmatterError,
        "YAML tag not allowed",
    ),
    (
        "python name tag",
        article("x: !!python/name:os.system\n"),
        FrontmatterError,
        "YAML tag not allowed",
    ),
    ("local tag", article("x: !custom value\n"), FrontmatterError, "YAML tag not allowed"),
    ("missing title", without("title"), FieldError, "missing required field 'title'"),
    ("missing webUrl", without("webUrl"), FieldError, "missing required field 'webUrl'"),
    (
        "missing publishedDateTime",
        without("publishedDateTime"),
        FieldError,
        "missing required field 'publishedDateTime'",
    ),
    ("empty title", article(head=GOOD_HEAD.replace("Title", "''")), FieldError, "is empty"),
    ("title a list", article(head=GOOD_HEAD.replace("Title", "[a]")), FieldError, "a list"),
    (
        "javascript webUrl",
        article(head=GOOD_HEAD.replace("https://example.com/story", "javascript:alert(1)")),
        FieldError,
        "'webUrl' must be an absolute http(s) URL",
    ),
    (
        "ftp webUrl",
        article(head=GOOD_HEAD.replace("https://example.com/story", "ftp://example.com/a")),
        FieldError,
        "'webUrl' must be an absolute http(s) URL",
    ),
    (
        "relative webUrl",
        article(head=GOOD_HEAD.replace("https://example.com/story", "/news/story")),
        FieldError,
        "'webUrl' must be an absolute http(s) URL",
    ),
    (
        "webUrl with a space",
        article(head=GOOD_HEAD.replace("example.com/story", "'example .com/story'")),
        FieldError,
        "'webUrl' must be an absolute http(s) URL",
    ),
    (
        "date in words",
        article(head=GOOD_HEAD.replace("2023-06-14T11:29:00Z", "last tuesday")),
        FieldError,
        "'publishedDateTime' is not an ISO 8601 date-time",
    ),
    (
        "impossible date",
        article(head=GOOD_HEAD.replace("2023-06-14T11:29:00Z", "2023-13-45")),
        FieldError,
        "'publishedDateTime' is not an ISO 8601 date-time (e.g. 2023-06-14T11:29:00Z): "
        "'2023-13-45'",
    ),
    (
        "impossible date-time",
        article(head=GOOD_HEAD.replace("2023-06-14T11:29:00Z", "2023-13-45T10:00:00Z")),
        FieldError,
        "'2023-13-45T10:00:00Z'",
    ),
    (
        "date a number",
        article(head=GOOD_HEAD.replace("2023-06-14T11:29:00Z", "20230614")),
        FieldError,
        "not an ISO 8601 date-time",
    ),
    (
        "year 1 (breaks the stored order)",
        article(head=GOOD_HEAD.replace("2023-06-14T11:29:00Z", "0001-01-01T00:00:00Z")),
        FieldError,
        "not an ISO 8601 date-time",
    ),
    ("topics a string", article("topics: AI\n"), FieldError, "'topics' must be a list"),
    ("topics a mapping", article("topics: {AI: 1}\n"), FieldError, "not a mapping"),
    ("topics with a number", article("topics: [AI, 42]\n"), FieldError, "found a number"),
    ("frontmatter a list", b"---\n- title\n- webUrl\n---\n", FrontmatterError, "not a list"),
    ("frontmatter a string", b"---\njust words\n---\n", FrontmatterError, "not a string"),
    (
        "5,000-level nested list",
        article("deep: " + "[" * 5000 + "]" * 5000 + "\n"),
        FrontmatterError,
        "nest",
    ),
    (
        "nested past the depth limit",
        article("deep:\n" + "".join("  " * i + "- \n" for i in range(1, MAX_YAML_DEPTH + 5))),
        FrontmatterError,
        "nested too deeply",
    ),
    ("non-finite quality", article("quality: .nan\n"), FieldError, "finite"),
    ("provider a string", article("provider: Euronews\n"), FieldError, "'provider'"),
    ("related a string", article("related: none\n"), FieldError, "'related' must be a list"),
    (
        "integer of 5,000 digits",
        article("quality: " + "9" * 5000 + "\n"),
        FrontmatterError,
        "invalid YAML value",
    ),
    (
        "unhashable key",
        article("? [a, b]\n: 1\n"),
        FrontmatterError,
        "found unhashable key",
    ),
]


@pytest.mark.parametrize(
    ("data", "error", "reason"),
    [pytest.param(data, error, reason, id=name) for name, data, error, reason in HOSTILE],
)
def test_hostile_file_is_rejected_with_a_reason(
    data: bytes, error: type[ArticleError], reason: str
) -> None:
    with pytest.raises(error) as caught:
        parse_article_bytes(data)
    assert reason in str(caught.value)


def test_alias_bomb_is_refused_fast() -> None:
    started = time.process_time()
    for _ in range(10):
        with pytest.raises(FrontmatterError, match="alias bomb"):
            parse_article_bytes(billion_laughs())
    assert (time.process_time() - started) / 10 < 0.05  # seconds of CPU for one file


def test_merge_bomb_is_small_and_refused_whatever_pyyaml_does_with_it() -> None:
    data = merge_bomb()
    assert len(data) < 1000
    with pytest.raises(FrontmatterError) as caught:
        parse_article_bytes(data)
    assert "merge keys (<<) expand too far" in str(caught.value)


def test_a_few_merge_keys_still_work() -> None:
    parsed = parse_article_bytes(many_merges(100))
    assert parsed.extra["m99"] == {"k": "v", "i": 99}
    provider = "base: &p {name: A, domain: a.org}\nprovider:\n  <<: *p\n  name: B\n"
    assert parse_article_bytes(article(provider)).provider == Provider("B", "a.org")


def test_alias_bomb_of_long_strings_is_refused() -> None:
    # Few nodes, but a megabyte of text each time the alias is used.
    text = "x" * 200_000
    data = article(f"big: &big {text}\nuse: [{', '.join(['*big'] * 10)}]\n")
    assert len(data) < MAX_FILE_BYTES
    with pytest.raises(FrontmatterError, match="characters"):
        parse_article_bytes(data)


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object/apply:os.system ['touch {marker}']",
        "!!python/object/apply:subprocess.call [['touch', '{marker}']]",
        "!!python/object/new:os.system ['touch {marker}']",
        "!!python/name:os.system",
        "!!python/module:os",
    ],
)
def test_python_tags_never_run_anything(tmp_path: Path, tag: str) -> None:
    marker = tmp_path / "executed"
    with pytest.raises(FrontmatterError, match="YAML tag not allowed"):
        parse_article_bytes(article(f"x: {tag.format(marker=marker)}\n"))
    assert not marker.exists()


def test_yaml_error_names_the_file_line() -> None:
    data = b"\n---\ntitle: T\nwebUrl: https://example.com/a\nbad: : :\n---\n"
    with pytest.raises(FrontmatterError, match="at line 5, column"):
        parse_article_bytes(data)


# --- what is accepted, and how ------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023-06-14T11:29:00Z", datetime(2023, 6, 14, 11, 29, tzinfo=UTC)),
        ("'2023-06-14T13:29:00+02:00'", datetime(2023, 6, 14, 11, 29, tzinfo=UTC)),
        ("2023-06-14 13:29:00 +02:00", datetime(2023, 6, 14, 11, 29, tzinfo=UTC)),
        ("2023-06-14T11:29:00", datetime(2023, 6, 14, 11, 29, tzinfo=UTC)),  # naive: UTC
        ("2023-06-14", datetime(2023, 6, 14, tzinfo=UTC)),
    ],
)
def test_published_date_time_becomes_aware_utc(value: str, expected: datetime) -> None:
    published = parse_article_bytes(
        article(head=GOOD_HEAD.replace("2023-06-14T11:29:00Z", value))
    ).published_at
    assert published == expected
    assert published.tzinfo is UTC


@pytest.mark.parametrize(
    "value", ["", "yesterday", "2023-02-30", "9999-12-31T23:00:00-05:00", 12, None, [2023]]
)
def test_parse_datetime_refuses(value: object) -> None:
    assert parse_datetime(value) is None


def test_crlf_bom_and_leading_blank_lines_are_accepted() -> None:
    data = b"\xef\xbb\xbf\n\n" + article().replace(b"\n", b"\r\n")
    a = parse_article_bytes(data)
    assert (a.title, a.body) == ("Title", "Body.")


def test_heat_minus_one_is_unknown_and_a_real_heat_is_kept() -> None:
    assert parse_article_bytes(article("heat: -1\n")).heat is None
    assert parse_article_bytes(article("heat: 17\n")).heat == 17


def test_topics_are_trimmed_and_deduplicated_case_insensitively() -> None:
    a = parse_article_bytes(article("topics: ['  AI ', ai, 'Computer   Vision', '']\n"))
    assert a.topics == ("AI", "Computer Vision")


def test_bad_related_entries_are_dropped_not_fatal() -> None:
    a = parse_article_bytes(
        article(
            "related:\n"
            "  - {title: Kept, webUrl: 'https://b.example/x', provider: {name: [1]}}\n"
            "  - {title: No link, webUrl: 'javascript:alert(1)'}\n"
            "  - {title: '', webUrl: 'https://c.example/'}\n"
            "  - {title: Duplicate, webUrl: 'https://www.b.example/x/'}\n"
            "  - {title: Bad date, webUrl: 'https://d.example/', publishedDateTime: 2023-13-45}\n"
        )
    )
    assert [(r.title, r.url, r.provider) for r in a.related] == [
        ("Kept", "https://b.example/x", None),
        ("Bad date", "https://d.example", None),
    ]
    assert a.related[1].published_at is None


def test_original_url_that_is_not_http_is_dropped() -> None:
    assert parse_article_bytes(article("originalUrl: 'file:///etc/passwd'\n")).original_url is None


# The parser builds YAML values itself (for speed); it must give what PyYAML's safe
# loader gives for any YAML, the shapes articles use and the rare ones alike.
SAME_AS_PYYAML = [
    "a: &x {k: 1}\nb: *x\nc: [*x, *x]",
    "a: !!set {x, y}",
    "a: !!omap [{x: 1}, {y: 2}]",
    "a: !!pairs [{x: 1}]",
    "<<: {a: 1}\nb: 2",
    "a: &a {x: 1}\nb:\n  <<: *a\n  y: 2",
    "a: &a {x: 1}\nb: &b {y: 2}\nc:\n  <<: [*a, *b]",
    "a: &a {x: 1, y: 1}\nb: &b {<<: *a, y: 2}\nc: &c {<<: [*b, *a], z: 3}\nd: [{<<: *c}]",
    "a: !!binary aGVsbG8=",
    "1: one\n2.5: two\ntrue: t\nnull: n\n2020-01-01: d",
    "a: 0x1F\nb: 0o17\nc: 1_000\nd: 1:30\ne: 017\nf: -42\ng: +7\nh: 0",
    "a: .inf\nb: -.inf\nc: 1e3\nd: 1.5\ne: .5\nf: 6.8523015e+5",
    "a: ~\nb: null\nc:\nd: yes\ne: No\nf: on\ng: OFF\nh: true",
    "a: 2023-06-14 11:29:00.5 +02:00\nb: 2023-06-14t11:29:00z\nc: 2023-06-14",
    "a: !!str 123\nb: !!int '7'\nc: !!float '1'\nd: !!null ''\ne: !!bool 'true'",
    "- 1\n- [2, [3, {a: b}]]",
    "a: |\n  block\n  text\nb: >\n  folded\n  text\nc: |-\n  kept",
    "a: &s str\nb: *s",
    "? a\n: b",
    "a: !!map {b: c}\nd: !!seq [e]",
    "a: 'quoted: yes'\nb: \"esc\\tx\\u00e9\"\nc: plain # comment",
    "a: &e []\nb: *e\nc: &m {}\nd: *m",
    "a: 1\na: 2",
]


@pytest.mark.parametrize("text", SAME_AS_PYYAML)
def test_yaml_values_match_pyyaml_safe_loader(text: str) -> None:
    from digest.yaml_loader import _HANDLER

    assert _HANDLER.load(text) == yaml.load(text, Loader=yaml.SafeLoader)


def test_seed_frontmatter_matches_pyyaml(seed_bytes: bytes) -> None:
    from digest.yaml_loader import _HANDLER

    fm = seed_bytes.decode().split("---")[1]
    assert _HANDLER.load(fm) == yaml.load(fm, Loader=yaml.SafeLoader)


def test_every_field_problem_is_reported_at_once() -> None:
    from digest.errors import FieldError
    from digest.parse import parse_article_text

    with pytest.raises(FieldError) as caught:
        parse_article_text(
            "---\ntitle: ''\nwebUrl: ftp://x\npublishedDateTime: 2023-13-45\nheat: [1]\n"
            "published: maybe\nprovider: acme\n---\nbody"
        )
    reasons = str(caught.value).split("; ")
    assert reasons == [
        "'title' is empty",
        "'webUrl' must be an absolute http(s) URL, got 'ftp://x'",
        "'publishedDateTime' is not an ISO 8601 date-time (e.g. 2023-06-14T11:29:00Z): "
        "'2023-13-45'",
        "'heat' must be a number, not a list",
        "'published' must be true or false, not a string",
        "'provider' must be a mapping with name and domain",
    ]
