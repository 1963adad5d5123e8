"""The ``newsdigest`` command: run the bot, ingest the folder, preview a digest, push news.

Exit codes: 0 success; 1 the command ran but something failed (e.g. files were
rejected); 2 a usage or configuration error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bot.logs import configure_logging
from bot.settings import Settings, SettingsError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsdigest",
        description="Telegram news digests from a folder of Markdown articles.",
        epilog="Configuration comes from the environment and .env (see .env.example).",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    commands.add_parser(
        "run",
        help="run the bot: long polling, periodic folder scan, scheduled digests",
        description="Run the bot until SIGINT/SIGTERM. Needs TELEGRAM_BOT_TOKEN.",
    )

    ingest = commands.add_parser(
        "ingest",
        help="scan the articles folder once and store new or changed articles",
        description="Scan DIR (default: NEWSDIGEST_ARTICLES) once. Exit 0 when no file was "
        "rejected, 1 when some were (the good ones are stored), 2 on a usage error.",
    )
    ingest.add_argument("directory", nargs="?", type=Path, metavar="DIR", help="articles folder")
    ingest.add_argument(
        "--workers",
        type=int,
        default=None,
        help="parser processes beside the main one (0: parse in-process; default: one per core)",
    )

    preview = commands.add_parser(
        "preview",
        help="print the digest a reader would get, no token needed",
        description="Print to the terminal the digest a reader with these topics would get now.",
    )
    preview.add_argument(
        "--topics", default="", help='comma-separated topic names, e.g. "AI,Privacy" (default: all)'
    )
    preview.add_argument(
        "--since", default="24h", help="how far back, e.g. 90m, 24h, 7d (default: 24h)"
    )
    preview.add_argument("--limit", type=int, default=10, help="entries at most (default: 10)")
    preview.add_argument("--html", action="store_true", help="print Telegram HTML, not plain text")

    breaking = commands.add_parser(
        "breaking",
        help="push a breaking article to matching readers (delivered by the running bot)",
        description="Ingest PATH.md if needed, enqueue a breaking push of it (or of a stored "
        "article's webUrl) for every active reader whose topics match, print the audience.",
    )
    breaking.add_argument(
        "target", metavar="PATH.md|webUrl", help="an article file, or a stored article's webUrl"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # RetryAfter.retry_after as a timedelta (PTB 22's future default), without a warning per 429.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    try:
        settings = Settings.from_env(os.environ)
    except SettingsError as exc:
        configure_logging("INFO")
        print(f"newsdigest: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(os.environ.get("NEWSDIGEST_LOG_LEVEL", "INFO"), [settings.bot_token])
    try:
        if args.command == "run":
            from bot.cli.run import StartupError, run_bot

            try:
                return run_bot(settings)
            except StartupError as exc:
                print(f"newsdigest run: {exc}", file=sys.stderr)
                return exc.code
        if args.command == "ingest":
            return cmd_ingest(settings, args.directory, args.workers)
        if args.command == "preview":
            from bot.cli.preview import cmd_preview

            return cmd_preview(settings, args.topics, args.since, args.limit, args.html)
        if args.command == "breaking":
            from bot.cli.breaking import cmd_breaking

            return cmd_breaking(settings, args.target)
    except SettingsError as exc:
        print(f"newsdigest: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    parser.error(f"unknown command {args.command!r}")
    return EXIT_USAGE  # pragma: no cover - parser.error exits


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


def cmd_ingest(settings: Settings, directory: Path | None, workers: int | None) -> int:
    from storage.db import open_db
    from storage.ingest import ScanError, scan_folder

    folder = directory or settings.articles_dir
    if not folder.is_dir():
        print(f"newsdigest ingest: {folder} is not a directory", file=sys.stderr)
        return EXIT_USAGE
    if workers is not None and workers < 0:
        print("newsdigest ingest: --workers must be 0 or more", file=sys.stderr)
        return EXIT_USAGE
    db = open_db(settings.db_path)
    try:
        report = scan_folder(
            db, folder, workers=workers, wait_for_recent=True, progress=_Progress(sys.stderr)
        )
    except ScanError as exc:
        print(f"newsdigest ingest: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        db.close()
    rejected = report.all_rejected
    print(
        f"{folder}: {report.new} new, {report.updated} updated, {report.unchanged} unchanged, "
        f"{len(rejected)} rejected ({report.seconds:.2f} s)"
    )
    for item in rejected:
        print(f"rejected: {item.path}: {item.reason}")
    for path in report.deferred:
        print(f"deferred (still being written, next scan): {path}")
    return EXIT_FAILED if rejected else EXIT_OK
