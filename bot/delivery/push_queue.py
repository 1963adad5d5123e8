"""Breaking pushes on the database thread: draft one (preview + audience), confirm it."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from bot.i18n import SOURCE_LANGUAGE, SUPPORTED_LANGUAGES, translator
from digest.render import breaking_heading, render_breaking, render_breaking_text
from digest.urls import is_http_url
from storage.articles import article_by_id, article_by_url
from storage.db import utcnow
from storage.pushes import create_push, get_push, start_push

MAX_MESSAGE = 4096


@dataclass(frozen=True, slots=True)
class PushDraft:
    push_id: int
    text: str
    audience: int
    article_title: str | None


def draft_push(db: Database, target: str, created_by: int | None, zone: ZoneInfo) -> PushDraft:
    """A stored article's link → an article push to its topics; anything else → free text."""
    now = utcnow()
    article = article_by_url(db, target) if is_http_url(target) else None
    if article is not None:
        text = render_breaking(article, tz=zone)
        push = create_push(
            db,
            created_by=created_by,
            article_id=article.id,
            text=text,
            topic_ids=article.topic_ids,
            now=now,
        )
        return PushDraft(push.id, text, push.audience, article.title)
    text = f"{breaking_heading()}\n\n" + render_breaking_text(target)
    if len(text) > MAX_MESSAGE:
        text = render_breaking_text(target)
    push = create_push(
        db, created_by=created_by, article_id=None, text=text, topic_ids=None, now=now
    )
    return PushDraft(push.id, text, push.audience, None)


def confirm_push(db: Database, push_id: int, zone: ZoneInfo | None = None) -> int | None:
    """Queue a previewed push for its audience as of now; None if it was not awaiting.

    Readers of another language get its own "Breaking" label and date (``zone``: the
    one the preview was drafted in); the article text is the same for everyone."""
    push = get_push(db, push_id)
    if push is None:
        return None
    topic_ids = None
    translated: dict[str, str] = {}
    others = [translator(x) for x in SUPPORTED_LANGUAGES if x != SOURCE_LANGUAGE]
    if push.article_id is not None:
        article = article_by_id(db, push.article_id)
        topic_ids = article.topic_ids if article is not None else frozenset()
        if article is not None and zone is not None:
            translated = {t.language: render_breaking(article, tz=zone, texts=t) for t in others}
    elif push.text.startswith(breaking_heading()):
        rest = push.text[len(breaking_heading()) :]
        translated = {t.language: breaking_heading(t) + rest for t in others}
    translated = {k: v for k, v in translated.items() if len(v) <= MAX_MESSAGE}
    return start_push(db, push_id, topic_ids, utcnow(), texts_by_language=translated)
