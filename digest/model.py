"""Plain value types shared by the parser, the digest assembly and storage."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from digest.reading import count_words


@dataclass(frozen=True, slots=True)
class Provider:
    name: str
    domain: str = ""


@dataclass(frozen=True, slots=True)
class Image:
    url: str
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True, slots=True)
class RelatedLink:
    """Other coverage of a story: an entry of an article's ``related``, or a stored article."""

    title: str
    url: str  # normalised webUrl (see digest.urls.normalize_url)
    web_url: str  # as written in the file, already checked to be http(s)
    excerpt: str = ""
    published_at: datetime | None = None
    provider: Provider | None = None
    quality: int | None = None


@dataclass(frozen=True, slots=True)
class Article:
    """One validated article file. Every string is untrusted text: escape before output."""

    url: str  # normalised webUrl: the story key
    web_url: str
    title: str
    published_at: datetime  # timezone-aware, UTC
    excerpt: str = ""
    original_url: str | None = None
    quality: int | None = None
    heat: int | None = None  # -1 in files means "unknown"; stored as None
    published: bool | None = None
    provider: Provider | None = None
    topics: tuple[str, ...] = ()
    images: tuple[Image, ...] = ()
    related: tuple[RelatedLink, ...] = ()
    category: str | None = None
    kind: str | None = None  # the file's ``type``
    secured: str | None = None
    body: str = ""
    extra: Mapping[str, object] = field(default_factory=dict)  # unknown fields, JSON-safe

    @property
    def body_words(self) -> int:
        """Words in the body (stored at ingest for the reading-time estimate)."""
        return count_words(self.body)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A stored article as the digest assembly sees it."""

    id: int
    url: str
    web_url: str
    title: str
    published_at: datetime
    ingested_at: datetime
    excerpt: str = ""
    provider: str = ""
    quality: int | None = None
    heat: int | None = None
    topic_ids: frozenset[int] = frozenset()
    related_urls: frozenset[str] = frozenset()  # normalised
    body_words: int = 0  # 0: the file has no body (no reading time shown)

    def as_related_link(self) -> RelatedLink:
        """This article as a line of another story's related coverage."""
        return RelatedLink(
            title=self.title,
            url=self.url,
            web_url=self.web_url,
            excerpt=self.excerpt,
            published_at=self.published_at,
            provider=Provider(self.provider) if self.provider else None,
            quality=self.quality,
        )
