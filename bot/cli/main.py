"""The ``newsdigest`` command: run the bot, ingest articles, preview a digest, push news,
and the operator's tools (stats, readers, health, demo).

Exit codes: 0 success; 1 the command ran but something failed (files were rejected,
the bot is unhealthy); 2 a usage, configuration or start-up error (one line says
which and what to do); 3 ``run`` stopped because another process polls the token.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from bot.env_values import SettingsError
from bot.logs import configure_logging
from bot.redact import redact
from bot.settings import Settings
from storage.db import DatabaseUnusable

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

_LOGGER = logging.getLogger("newsdigest")


def _version() -> str:
    try:
        return version("newsdigest")
    except PackageNotFoundError:  # pragma: no cover - run from a bare checkout
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsdigest",
        description="Telegram news digests from a folder of Markdown articles.",
        epilog="Configuration comes from the environment and .env (see .env.example).",
    )
    parser.add_argument("--version", action="version", version=f"newsdigest {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    commands.add_parser(
        "run",
        help="run the bot: long polling (or a webhook), folder scans, scheduled digests",
        description="Run the bot until SIGINT/SIGTERM. Needs TELEGRAM_BOT_TOKEN. Webhook mode "
        "when NEWSDIGEST_WEBHOOK_URL is set. Exit 2 when it cannot start (one line says why), "
        "3 when another process keeps polling the token.",
    )

    ingest = commands.add_parser(
        "ingest",
        help="store new or changed articles from the folder (or one file) once",
        description="Scan PATH (a folder or one article file; default: NEWSDIGEST_ARTICLES) "
        "once. Exit 0 when no file was rejected, 1 when some were (the good ones are stored), "
        "2 on a usage error.",
    )
    ingest.add_argument(
        "path", nargs="?", type=Path, metavar="PATH", help="articles folder or article file"
    )
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
    preview.add_argument(
        "--examples",
        action="store_true",
        help="preview the shipped sample articles (in a temporary database), not yours",
    )

    breaking = commands.add_parser(
        "breaking",
        help="push breaking news to matching readers (delivered by the running bot)",
        description="Ingest PATH.md if needed and enqueue a breaking push of it (or of a stored "
        "article's webUrl) for every active reader whose topics match; or, with --text, push "
        "free text to every active reader. Prints the audience.",
    )
    target = breaking.add_mutually_exclusive_group(required=True)
    target.add_argument(
        "target",
        nargs="?",
        metavar="PATH.md|webUrl",
        help="an article file, or a stored article's webUrl",
    )
    target.add_argument("--text", help="free text for every active reader (links are kept)")

    stats = commands.add_parser(
        "stats",
        help="readers, articles, rejected files, outbox, last scan (what /stats shows)",
        description="Print the figures of the /stats chat command.",
    )
    stats.add_argument("--json", action="store_true", help="print them as one JSON object")

    readers = commands.add_parser(
        "readers",
        help="list readers, or block/unblock a chat by id",
        description="List readers (chat id, status, name, topics, digest time), or block a chat "
        "(nothing more is sent to it; its queued messages are dropped) or unblock it.",
    )
    readers.add_argument(
        "action", nargs="?", choices=("list", "block", "unblock"), default="list",
        help="list (default), block or unblock",
    )  # fmt: skip
    readers.add_argument("chat_id", nargs="?", type=int, help="the chat id to block or unblock")
    readers.add_argument(
        "--status", choices=("active", "stopped", "blocked"), help="list only readers in it"
    )

    commands.add_parser(
        "health",
        help="exit 0 if the bot on this database is running and well, 1 if not (says why)",
        description="Judge the running bot by its heartbeat: it polled (or heard from the Bot "
        "API in webhook mode) and ran its digest tick recently. For HEALTHCHECK and monitors.",
    )

    demo = commands.add_parser(
        "demo",
        help="watch the bot work with no token: a scripted reader against a local Bot API",
        description="Start the project's own local Bot API stand-in, run the bot against it on "
        "the sample articles in a temporary database, and print a scripted reader's chat.",
    )
    demo.add_argument(
        "--reader", default="Ada", help="the scripted reader's first name (default: Ada)"
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
    configure_logging(
        settings.log_level,
        [settings.bot_token, settings.webhook_secret or ""],
        log_format=settings.log_format,
    )
    if args.command in ("run", "demo"):
        for warning in settings.warnings():
            _LOGGER.warning("%s", warning)
    secrets = (settings.bot_token, settings.webhook_secret or "")
    try:
        return _dispatch(parser, args, settings)
    except SettingsError as exc:
        print(redact(f"newsdigest: configuration error: {exc}", secrets), file=sys.stderr)
        return EXIT_USAGE
    except DatabaseUnusable as exc:
        print(f"newsdigest {args.command}: NEWSDIGEST_DB: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        from bot.service.startup import StartupError  # imported late: it brings in telegram

        if not isinstance(exc, StartupError):
            raise
        # Printed, not logged: one line whatever the log level; no secret in it either.
        print(redact(f"newsdigest {args.command}: {exc}", secrets), file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `newsdigest preview | head`: the reader left; no traceback, and none at exit either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _dispatch(parser: argparse.ArgumentParser, args: argparse.Namespace, settings: Settings) -> int:
    command = args.command
    if command == "run":
        from bot.service.runner import run_bot

        return run_bot(settings)
    if command == "ingest":
        from bot.cli.ingest import cmd_ingest

        return cmd_ingest(settings, args.path, args.workers)
    if command == "preview":
        from bot.cli.preview import cmd_preview

        return cmd_preview(settings, args.topics, args.since, args.limit, args.html, args.examples)
    if command == "breaking":
        from bot.cli.breaking import cmd_breaking

        return cmd_breaking(settings, args.target, args.text)
    if command == "stats":
        from bot.cli.stats import cmd_stats

        return cmd_stats(settings, as_json=args.json)
    if command == "readers":
        from bot.cli.readers import cmd_readers

        return cmd_readers(settings, args.action, args.chat_id, args.status)
    if command == "health":
        from bot.cli.health import cmd_health

        return cmd_health(settings)
    if command == "demo":
        from bot.cli.demo import cmd_demo

        return cmd_demo(settings, reader=args.reader)
    parser.error(f"unknown command {command!r}")
    return EXIT_USAGE  # pragma: no cover - parser.error exits
