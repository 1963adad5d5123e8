"""``newsdigest breaking PATH.md|webUrl`` or ``--text "…"``: queue a push for the running bot."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.delivery.push_queue import confirm_push, draft_push
from bot.settings import Settings
from digest.errors import ArticleError
from digest.parse import MAX_FILE_BYTES, parse_article_bytes
from digest.render import render_breaking
from digest.urls import is_http_url
from storage.articles import article_by_url, save_articles
from storage.db import open_db, utcnow
from storage.pushes import create_push, start_push


def cmd_breaking(settings: Settings, target: str | None, text: str | None = None) -> int:
    if text is not None:
        return _push_text(settings, text)
    assert target is not None
    path = Path(target)
    db = open_db(settings.db_path)
    try:
        if path.is_file():
            try:
                if path.stat().st_size > MAX_FILE_BYTES:
                    raise ArticleError(f"file too large (limit {MAX_FILE_BYTES} bytes)")
                article = parse_article_bytes(path.read_bytes())
            except ArticleError as exc:
                print(f"newsdigest breaking: {path}: rejected: {exc}", file=sys.stderr)
                return 1
            save_articles(db, [(article, str(path.resolve()))], utcnow())
            url = article.web_url
        elif is_http_url(target):
            url = target
        else:
            print(
                f"newsdigest breaking: {target!r} is neither an article file nor an http(s) URL",
                file=sys.stderr,
            )
            return 2
        stored = article_by_url(db, url)
        if stored is None:
            print(
                f"newsdigest breaking: no stored article at {url}; pass the article file instead",
                file=sys.stderr,
            )
            return 1
        now = utcnow()
        push = create_push(
            db,
            created_by=None,
            article_id=stored.id,
            text=render_breaking(stored, tz=settings.timezone),
            topic_ids=stored.topic_ids,
            now=now,
        )
        queued = start_push(db, push.id, stored.topic_ids, now) or 0
    finally:
        db.close()
    print(f"Breaking push #{push.id} queued for {queued} readers: {stored.title}")
    print("The running `newsdigest run` delivers it.")
    return 0


def _push_text(settings: Settings, text: str) -> int:
    """Free text to every active reader, rendered as the chat's /breaking renders it."""
    if not text.strip():
        print("newsdigest breaking: --text is empty", file=sys.stderr)
        return 2
    db = open_db(settings.db_path)
    try:
        draft = draft_push(db, text.strip(), None, settings.timezone)
        queued = confirm_push(db, draft.push_id) or 0
    finally:
        db.close()
    print(f"Breaking push #{draft.push_id} queued for {queued} readers (free text).")
    print("The running `newsdigest run` delivers it.")
    return 0
