"""``newsdigest ingest [PATH]``: store new or changed articles from a folder, or one file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from bot.settings import Settings
from digest.errors import ArticleError
from digest.parse import MAX_FILE_BYTES, parse_article_bytes
from storage.articles import save_articles
from storage.db import open_db, utcnow
from storage.folder import ARTICLE_SUFFIXES
from storage.ingest import ScanError, scan_folder

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class _Progress:
    """A one-line progress bar on a terminal; silent otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._enabled = stream.isatty()
        self._shown = -1

    def __call__(self, done: int, total: int) -> None:
        if not self._enabled or total < 200:
            return
        percent = done * 100 // total
        if percent == self._shown:
            return
        self._shown = percent
        bar = "#" * (percent // 4)
        self._stream.write(f"\r[{bar:<25}] {done}/{total} files")
        if done >= total:
            self._stream.write("\n")
        self._stream.flush()


def cmd_ingest(settings: Settings, path: Path | None, workers: int | None) -> int:
    target = path or settings.articles_dir
    if workers is not None and workers < 0:
        print("newsdigest ingest: --workers must be 0 or more", file=sys.stderr)
        return EXIT_USAGE
    if target.is_file():
        return _ingest_file(settings, target)
    if not target.is_dir():
        what = "NEWSDIGEST_ARTICLES " if path is None else ""
        print(
            f"newsdigest ingest: {what}{target} is not a directory or an article file",
            file=sys.stderr,
        )
        return EXIT_USAGE
    db = open_db(settings.db_path)
    try:
        report = scan_folder(
            db, target, workers=workers, wait_for_recent=True, progress=_Progress(sys.stderr)
        )
    except ScanError as exc:
        print(f"newsdigest ingest: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        db.close()
    rejected = report.all_rejected
    print(
        f"{target}: {report.new} new, {report.updated} updated, {report.unchanged} unchanged, "
        f"{len(rejected)} rejected ({report.seconds:.2f} s)"
    )
    for item in rejected:
        print(f"rejected: {item.path}: {item.reason}")
    for deferred in report.deferred:
        print(f"deferred (still being written, next scan): {deferred}")
    return EXIT_FAILED if rejected else EXIT_OK


def _ingest_file(settings: Settings, path: Path) -> int:
    """One file, whatever its name: parsed and stored now, or rejected with every reason."""
    resolved = path.resolve()
    try:
        if resolved.stat().st_size > MAX_FILE_BYTES:
            raise ArticleError(f"file too large (limit {MAX_FILE_BYTES} bytes)")
        article = parse_article_bytes(resolved.read_bytes())
    except ArticleError as exc:
        print(f"{path}: 0 new, 0 updated, 0 unchanged, 1 rejected")
        print(f"rejected: {resolved}: {exc}")
        return EXIT_FAILED
    except OSError as exc:
        print(f"newsdigest ingest: {path}: cannot read it ({exc.strerror})", file=sys.stderr)
        return EXIT_USAGE
    if resolved.suffix.lower() not in ARTICLE_SUFFIXES:
        suffixes = ", ".join(sorted(ARTICLE_SUFFIXES))
        print(f"note: folder scans read only {suffixes} files; {path} is stored all the same")
    db = open_db(settings.db_path)
    try:
        result = save_articles(db, [(article, str(resolved))], utcnow())
    finally:
        db.close()
    print(f"{path}: {result.inserted} new, {result.updated} updated, 0 unchanged, 0 rejected")
    return EXIT_OK
