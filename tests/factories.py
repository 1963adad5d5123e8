"""Test data, built in one place: article files, articles, candidates, readers, outbox rows.

Tests and the benchmarks (``bench/``, run from the checkout's root) build their values here.
Every builder takes keyword knobs named after the field they set, with defaults that make a
valid, unremarkable value, so a test names only what it is about. A module whose values
share a setting binds it once: ``cand = functools.partial(candidate, age_hours=2)``.

Times are fixed: :data:`NOW` unless a knob says otherwise (``now=``, ``at=``,
``published=``). Handler tests, whose code reads the wall clock, pass ``at=utcnow()``.

* **Articles** are described by the knobs of :class:`ArticleSpec` (every field of the seed
  file), made into upstream's Markdown with YAML frontmatter by :func:`article_file`
  (text), :func:`article_bytes` and :func:`write_article` (into a folder, aged past the
  scan's settle time; :func:`age_file`), or into the value the parser makes by
  :func:`article`. Strings are written as JSON strings, which YAML reads as is, so any
  title is quoted safely. For hostile variants, a :class:`Yaml` value is written verbatim
  (``title=Yaml("[a]")``), ``omit`` leaves fields out and ``extra`` adds raw lines.
* **Stored articles**: :func:`articles_on` (one per list of topics), :func:`store_articles`
  (saved as ingestion saves them; their ids), :func:`store_by_title`, :func:`topic_id`.
* **Digest candidates**: :func:`candidate`.
* **Readers**: :func:`subscribe_reader` (subscribed, with topics, digest time and zone).
* **The outbox**: :func:`outgoing` (an ``OutgoingMessage``).
"""

from __future__ import annotations

import json
import os
import re
import time
import zlib
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from bot.env_values import parse_hhmm
from digest.keyboard import Keyboard
from digest.model import Article, Candidate, Image, Provider, RelatedLink
from digest.urls import normalize_url
from storage.articles import save_articles
from storage.outbox import PRIORITY_BREAKING, PRIORITY_DIGEST, MessageKind, OutgoingMessage
from storage.readers import Reader, get_reader
from storage.subscriptions import subscribe
from storage.topics import toggle_topic, topic_ids_by_names

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)  # a Monday noon: "now" for fixed-time tests
HOUR = 3600.0  # seconds: a file this old has long settled for the folder scan
PROVIDER = ("Example News", "example.com")
RELATED_DOMAIN = "other.example"


class Yaml(str):
    """Frontmatter written as is: a value YAML should read itself (``2023-06-14``, ``.nan``)
    or one no valid file has (``[unclosed``)."""


@dataclass(frozen=True, slots=True)
class Related:
    """One entry of an article's ``related`` list: other coverage of the same story.

    Where a builder takes ``related``, an entry may also be written ``(title, url)`` or
    ``(title, url, provider name)``, or be a bare URL, which gets the title "Related n",
    the provider "Other n" and a date an hour before the article's.
    """

    title: str
    url: str  # as written in the file (the stored key is its normalised form)
    provider: str | tuple[str, str] | None = None  # a name (domain RELATED_DOMAIN) or both
    quality: int | Yaml | None = None
    published: datetime | None = None
    excerpt: str = ""
    fields: Mapping[str, object] = field(default_factory=dict)  # more frontmatter, as is


RelatedSpec = Related | str | tuple[str, str] | tuple[str, str, str]


# -- articles, as files and as values ---------------------------------------------------------


@dataclass(frozen=True)
class ArticleSpec:
    """One article described once, as a file (:meth:`text`) or as the value the parser
    makes of that file (:meth:`value`). The knobs of :func:`article_file` and :func:`article`.

    ``url`` defaults to one made from the title (same title, same story); ``published`` to
    two hours before ``now``. Optional fields left at their default (None, empty) are not
    written. A :class:`Yaml` value only makes a file.
    """

    title: str = "A story"
    url: str | None = None
    topics: Iterable[str] | Yaml = ()
    _: KW_ONLY
    now: datetime = NOW
    published: datetime | Yaml | None = None
    excerpt: str = ""
    body: str = ""
    quality: int | Yaml | None = 50
    heat: int | Yaml | None = None
    provider: tuple[str, str] | Yaml | None = PROVIDER
    related: Iterable[RelatedSpec] = ()
    original_url: str | None = None
    is_published: bool | None = None
    category: str | None = None
    kind: str | None = None
    secured: str | None = None
    images: Iterable[Image | Mapping[str, object]] = ()

    @property
    def web_url(self) -> str:
        return self.url if self.url is not None else url_for(self.title)

    @property
    def published_at(self) -> datetime | Yaml:
        return self.published if self.published is not None else self.now - timedelta(hours=2)

    def text(self, *, omit: Collection[str] = (), extra: str = "") -> str:
        """The file, fields in the seed's order. ``omit``: frontmatter keys to leave out
        (``"webUrl"``); ``extra``: raw YAML lines appended to the frontmatter."""
        published = self.published_at
        provider = self.provider
        fields: dict[str, object] = {
            "category": self.category,
            "title": self.title,
            "excerpt": self.excerpt or None,
            "publishedDateTime": published,
            "originalUrl": self.original_url,
            "webUrl": self.web_url,
            "type": self.kind,
            "quality": self.quality,
            "heat": self.heat,
            "published": self.is_published,
            "provider": {"name": provider[0], "domain": provider[1]}
            if isinstance(provider, tuple)
            else provider,
            "topics": self.topics if isinstance(self.topics, Yaml) else list(self.topics) or None,
            "images": [_image_fields(i) for i in self.images] or None,
            "related": [_related_fields(r) for r in _related(self.related, published)] or None,
            "secured": self.secured,
        }
        lines = [
            line
            for key, value in fields.items()
            if value is not None and key not in omit
            for line in _yaml(key, value, "")
        ]
        if extra:
            lines.append(extra.rstrip("\n"))
        text = "---\n" + "\n".join(lines) + "\n---\n"
        return text + f"\n{self.body}\n" if self.body else text

    def value(self) -> Article:
        """The :class:`Article` the parser makes of :meth:`text`."""
        published, quality, heat, provider = (
            self.published_at,
            self.quality,
            self.heat,
            self.provider,
        )
        topics = self.topics
        if any(isinstance(v, Yaml) for v in (published, quality, heat, provider, topics)):
            raise TypeError("a raw YAML value makes a file (article_file), not an Article")
        assert isinstance(published, datetime) and not isinstance(topics, Yaml)
        assert not isinstance(quality, Yaml) and not isinstance(heat, Yaml)
        assert not isinstance(provider, Yaml)
        web_url = self.web_url
        return Article(
            url=normalize_url(web_url),
            web_url=web_url,
            title=self.title,
            published_at=published,
            excerpt=self.excerpt,
            original_url=self.original_url,
            quality=quality,
            heat=heat,
            published=self.is_published,
            provider=Provider(*provider) if provider is not None else None,
            topics=tuple(topics),
            images=tuple(_image(i) for i in self.images),
            related=tuple(_related_link(r) for r in _related(self.related, published)),
            category=self.category,
            kind=self.kind,
            secured=self.secured,
            body=self.body,
        )


def article_file(*args: Any, omit: Collection[str] = (), extra: str = "", **knobs: Any) -> str:
    """An article file's text: :class:`ArticleSpec` knobs, and for hostile variants
    ``omit`` (frontmatter keys to leave out) and ``extra`` (raw YAML lines)."""
    return ArticleSpec(*args, **knobs).text(omit=omit, extra=extra)


def article_bytes(*args: Any, **fields: Any) -> bytes:
    """:func:`article_file`, encoded as UTF-8 (what the folder holds)."""
    return article_file(*args, **fields).encode()


def write_article(
    folder: Path, name: str, data: str | bytes | None = None, *, age: float = HOUR, **fields: Any
) -> Path:
    """Write ``folder/name``: ``data`` as given, else :func:`article_file` of ``fields``.

    The file's mtime is ``age`` seconds ago: the scan leaves files younger than its settle
    time for the next scan (``age=0``: one still being written).
    """
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    content = article_file(**fields) if data is None else data
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return age_file(path, age)


def age_file(path: Path, seconds: float = HOUR) -> Path:
    """Set ``path``'s mtime to ``seconds`` ago."""
    moment = time.time() - seconds
    os.utime(path, (moment, moment))
    return path


def url_for(title: str) -> str:
    """A story URL made from a title: readable, and (by a CRC of the title) another
    title's URL is another story's."""
    slug = "-".join(re.findall(r"[a-z0-9]+", title.lower())[:8]) or "story"
    return f"https://example.com/{slug}-{zlib.crc32(title.encode()):08x}"


# -- stored articles ---------------------------------------------------------------------------


def article(*args: Any, **knobs: Any) -> Article:
    """An :class:`Article` as the parser makes it of ``article_file`` with the same
    :class:`ArticleSpec` knobs (title, url, topics, published, excerpt, ...)."""
    return ArticleSpec(*args, **knobs).value()


def articles_on(*topic_lists: Iterable[str], now: datetime = NOW) -> list[Article]:
    """One article per list of topics ("Story n"), published an hour before ``now``."""
    return [
        article(
            f"Story {n} zq{n}",
            f"https://news.example/story-{n}",
            topics,
            published=now - timedelta(hours=1),
            provider=None,
            quality=None,
        )
        for n, topics in enumerate(topic_lists)
    ]


def store_articles(db: Database, *articles: Article, at: datetime = NOW) -> list[int]:
    """Save ``articles`` as ingestion does, ingested ``at``; their ids, in order."""
    save_articles(db, [(a, f"/articles/{n}.md") for n, a in enumerate(articles)], at)
    return [
        int(db.execute("SELECT id FROM articles WHERE url = ?", (a.url,)).fetchone()[0])
        for a in articles
    ]


def store_by_title(db: Database, *articles: Article, at: datetime = NOW) -> dict[str, int]:
    """:func:`store_articles`, the ids by title."""
    return dict(zip((a.title for a in articles), store_articles(db, *articles, at=at), strict=True))


def topic_id(db: Database, name: str) -> int:
    """A stored topic's id by name (store an article on it first)."""
    found, unknown = topic_ids_by_names(db, [name])
    assert not unknown, f"no topic {name!r}: store an article on it first"
    return found[0]


# -- digest candidates ---------------------------------------------------------------------------


def candidate(
    id: int,
    title: str | None = None,
    *,
    url: str | None = None,
    web_url: str | None = None,
    now: datetime = NOW,
    age_hours: float = 0.0,
    published_at: datetime | None = None,
    ingested_hours_ago: float | None = None,
    ingested_at: datetime | None = None,
    quality: int | None = 50,
    heat: int | None = None,
    topics: Iterable[int] = (),
    related: Iterable[str] = (),
    excerpt: str = "",
    provider: str = "Provider",
) -> Candidate:
    """A stored article as the digest assembly sees it.

    Published ``age_hours`` before ``now`` (or at ``published_at``); ingested
    ``ingested_hours_ago`` before ``now`` (or at ``ingested_at``), by default when published.
    The default title shares no story with another candidate's.
    """
    link = url if url is not None else f"https://example.com/{id}"
    published = published_at if published_at is not None else now - timedelta(hours=age_hours)
    if ingested_at is None:
        ingested_at = (
            published if ingested_hours_ago is None else now - timedelta(hours=ingested_hours_ago)
        )
    return Candidate(
        id=id,
        url=link,
        web_url=web_url if web_url is not None else link,
        title=title if title is not None else f"Unrelated headline number {id} zq{id}",
        published_at=published,
        ingested_at=ingested_at,
        excerpt=excerpt,
        provider=provider,
        quality=quality,
        heat=heat,
        topic_ids=frozenset(topics),
        related_urls=frozenset(related),
    )


# -- readers and the outbox ----------------------------------------------------------------------


def subscribe_reader(
    db: Database,
    chat_id: int,
    topics: Iterable[str] = (),
    *,
    at: datetime = NOW,
    digest_time: str | dtime = "08:00",
    timezone: str | ZoneInfo = "UTC",
    first_name: str | None = None,
    user_id: int | None = None,
    username: str | None = None,
) -> Reader:
    """A reader who sent /start ``at`` and ticked ``topics`` (names of stored topics).

    A private chat's user id is the chat id; a group's (negative id) is None.
    """
    subscribe(
        db,
        chat_id,
        user_id=user_id if user_id is not None else (chat_id if chat_id > 0 else None),
        first_name=first_name if first_name is not None else f"Reader {chat_id}",
        username=username,
        default_time=parse_hhmm(digest_time) if isinstance(digest_time, str) else digest_time,
        default_zone=ZoneInfo(timezone) if isinstance(timezone, str) else timezone,
        now=at,
    )
    for name in topics:
        assert toggle_topic(db, chat_id, topic_id(db, name)) is True, name
    reader = get_reader(db, chat_id)
    assert reader is not None
    return reader


def outgoing(
    chat_id: int,
    text: str = "hello",
    *,
    priority: int = PRIORITY_DIGEST,
    kind: MessageKind | None = None,
    articles: Sequence[int] = (),
    push_id: int | None = None,
    keyboard: Keyboard = (),
) -> OutgoingMessage:
    """A message for the outbox; its kind follows the priority unless given."""
    if kind is None:
        kind = MessageKind.BREAKING if priority == PRIORITY_BREAKING else MessageKind.DIGEST
    return OutgoingMessage(
        chat_id,
        text,
        kind,
        priority,
        keyboard=keyboard,
        article_ids=tuple(articles),
        push_id=push_id,
    )


# -- the parts -----------------------------------------------------------------------------------


def _related(specs: Iterable[RelatedSpec], published: object) -> Iterator[Related]:
    for n, spec in enumerate(specs):
        if isinstance(spec, Related):
            yield spec
        elif isinstance(spec, str):
            when = published - timedelta(hours=1) if isinstance(published, datetime) else None
            yield Related(f"Related {n}", spec, provider=f"Other {n}", published=when)
        else:
            yield Related(*spec)


def _related_link(r: Related) -> RelatedLink:
    return RelatedLink(
        title=r.title,
        url=normalize_url(r.url),
        web_url=r.url,
        excerpt=r.excerpt,
        published_at=r.published,
        provider=Provider(*_provider(r.provider)) if r.provider else None,
        quality=r.quality if isinstance(r.quality, int) else None,
    )


def _related_fields(r: Related) -> dict[str, object]:
    fields: dict[str, object] = {
        "title": r.title,
        "excerpt": r.excerpt or None,
        "publishedDateTime": r.published,
        "webUrl": r.url,
        "provider": dict(zip(("name", "domain"), _provider(r.provider), strict=True))
        if r.provider
        else None,
        "quality": r.quality,
        **r.fields,
    }
    return {key: value for key, value in fields.items() if value is not None}


def _provider(provider: str | tuple[str, str]) -> tuple[str, str]:
    return (provider, RELATED_DOMAIN) if isinstance(provider, str) else provider


def _image(image: Image | Mapping[str, Any]) -> Image:
    if isinstance(image, Image):
        return image
    return Image(str(image["url"]), image.get("width"), image.get("height"))


def _image_fields(image: Image | Mapping[str, object]) -> Mapping[str, object]:
    if isinstance(image, Image):
        return {"url": image.url, "width": image.width, "height": image.height}
    return image


def _yaml(key: str, value: object, indent: str) -> Iterator[str]:
    """``key: value`` as block YAML lines (mappings nested, lists as ``- `` items)."""
    if isinstance(value, Mapping):
        yield f"{indent}{key}:"
        for name, inner in value.items():
            yield from _yaml(name, inner, indent + "  ")
    elif isinstance(value, list | tuple):
        if not value:
            yield f"{indent}{key}: []"
            return
        yield f"{indent}{key}:"
        for item in value:
            if isinstance(item, Mapping):
                nested = [line for k, v in item.items() for line in _yaml(k, v, indent + "    ")]
                yield indent + "  - " + nested[0][len(indent) + 4 :]
                yield from nested[1:]
            else:
                yield f"{indent}  - {_scalar(item)}"
    else:
        yield f"{indent}{key}: {_scalar(value)}"


def _scalar(value: object) -> str:
    if isinstance(value, Yaml):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        # Unquoted, as upstream writes it: YAML reads a timestamp.
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if value is None:
        return "null"
    return json.dumps(str(value), ensure_ascii=False)
