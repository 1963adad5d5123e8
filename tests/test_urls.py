"""URL checks and the normalised story key."""

from __future__ import annotations

import random
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from digest.urls import MAX_URL_LENGTH, is_http_url, normalize_url


def reference_is_http_url(value: object) -> bool:
    """The check spelled out the long way: is_http_url's regex shortcut must agree."""
    if not isinstance(value, str) or not value or len(value) > MAX_URL_LENGTH:
        return False
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def reference_key(url: str) -> str:
    """normalize_url spelled out the long way: its shortcut for plain URLs must agree."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.")
    port = parts.port
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    netloc = host if port is None or port == default else f"{host}:{port}"
    query = urlencode(
        sorted(
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not k.lower().startswith("utm_")
            and k.lower() not in {"fbclid", "gclid", "mc_cid", "mc_eid", "ocid", "cmpid"}
        )
    )
    scheme = "https" if parts.scheme.lower() == "http" else parts.scheme.lower()
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), query, ""))


URLS: list[tuple[object, bool]] = [
    ("https://example.com", True),
    ("http://example.com/a/b?c=d#e", True),
    ("HTTPS://EXAMPLE.COM/Path", True),
    ("https://example.com:8443/a", True),
    ("https://user:pw@example.com/", True),
    ("https://[2001:db8::1]/a", True),
    ("https://bücher.de/straße", True),
    ("https://example.com/" + "a" * (MAX_URL_LENGTH - 20), True),
    ("https://example.com/" + "a" * MAX_URL_LENGTH, False),
    ("https://example.com:99999/", False),
    ("https://example.com:port/", False),
    ("https://[2001:db8::1/a", False),
    ("https:///path-only", False),
    ("https://", False),
    ("javascript:alert(1)", False),
    ("JaVaScRiPt://example.com/%0Aalert(1)", False),
    ("data:text/html,<script>", False),
    ("ftp://example.com/file", False),
    ("file:///etc/passwd", False),
    ("mailto:someone@example.com", False),
    ("//example.com/protocol-relative", False),
    ("/relative/path", False),
    ("example.com/no-scheme", False),
    ("https://exa mple.com/", False),
    ("https://example.com/a b", False),
    ("https://example.com/\ttab", False),
    ("https://example.com/\nline", False),
    ("https://example.com/\x00nul", False),
    ("https://example.com/\x7fdel", False),
    ("https://example.com/\u00a0nbsp", False),
    ("https://example.com/\u2028sep", False),
    (" https://example.com/", False),
    ("", False),
    (None, False),
    (42, False),
    (["https://example.com"], False),
]


@pytest.mark.parametrize(("value", "expected"), URLS)
def test_is_http_url(value: object, expected: bool) -> None:
    assert is_http_url(value) is expected


@pytest.mark.parametrize(("value", "expected"), URLS)
def test_the_reference_check_agrees(value: object, expected: bool) -> None:
    assert reference_is_http_url(value) is expected


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://www.example.com/a/", "https://example.com/a"),
        ("http://example.com/a", "https://example.com/a"),
        ("HTTPS://Example.COM/a", "https://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://example.com/a#section", "https://example.com/a"),
        ("https://example.com/a?utm_source=x&utm_medium=y", "https://example.com/a"),
        ("https://example.com/a?fbclid=1&gclid=2&id=7", "https://example.com/a?id=7"),
        ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
        ("https://example.com/", "https://example.com"),
        ("https://example.com/Path/Case", "https://example.com/Path/Case"),
    ],
)
def test_normalize_url(url: str, key: str) -> None:
    assert normalize_url(url) == key


def test_tracking_variants_share_one_key() -> None:
    variants = [
        "https://www.example.com/story/",
        "http://example.com/story?utm_campaign=feed#top",
        "https://example.com/story?fbclid=abc",
    ]
    assert len({normalize_url(v) for v in variants}) == 1


KEYED_URLS = [
    *(value for value, valid in URLS if valid),
    "https://example.com",
    "https://example.com/",
    "https://example.com//a//",
    "https://www.example.com/story/",
    "http://WWW.Example.COM/Path/Case/",
    "https://www./a",
    "https://www.www.example.com/",
    "https://example.com./a",
    "https://example.com/a;params/b",
    "https://example.com/a:b@c/%2F/~x",
    "https://example.com/a?utm_source=x",
    "https://example.com/a?b=2&a=1#frag",
    "https://example.com/a#",
    "https://example.com:443/a",
    "https://user@example.com/a",
    "https://example.com\\evil/a",
    "https://www.euronews.com/my-europe/2023/06/14/meps-endorse-blanket-ban-on-facial-"
    "recognition-in-public-spaces-rejecting-targeted-exempti",
    "https://erepublic.brightspotcdn.com/dims4/default/43ca251/2147483647/strip/true/crop/"
    "939x490+0+70/resize/840x438!/quality/90/?url=http%3A%2F%2Ferepublic-brightspot.s3",
]


@pytest.mark.parametrize("url", KEYED_URLS)
def test_story_key_shortcut_agrees_with_the_long_way(url: str) -> None:
    assert normalize_url(url) == reference_key(url)


def test_shortcuts_agree_on_random_urls() -> None:
    rng = random.Random(2023)
    alphabet = "aZ09.-/:?#@%;~!$&'()*+,=_ []\\\t\u00e9"
    for _ in range(5000):
        url = rng.choice(["http://", "https://", "HTTP://", "https:/", ""]) + "".join(
            rng.choice(alphabet) for _ in range(rng.randint(0, 20))
        )
        assert is_http_url(url) is reference_is_http_url(url), url
        if is_http_url(url):
            assert normalize_url(url) == reference_key(url), url
