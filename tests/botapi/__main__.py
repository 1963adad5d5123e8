"""Standalone runner: ``python -m tests.botapi --port 8081 --rate 30 --latency 0.05 --open-chats``.

Prints ``READY http://127.0.0.1:PORT`` once listening, then serves until SIGTERM/SIGINT. Another
process (a benchmark) reads that line, points the bot at it and uses ``GET /_stats`` and
``POST /_control/{reset,send_text,send_inline_query,block,unblock}`` to drive and observe it, and
``POST /_control/{outage,end_outage,slow,revoke,restore}`` to inject faults (JSON bodies:
``{"seconds": 300, "mode": "error|drop|hang", "include_updates": false}``,
``{"seconds": 12, "method": "sendMessage", "times": 5}``).

Strict mode (``--window 30``, ``--chat-window 3/1``, ``--group-window 20/60``) refuses any send
that would put more than N in any sliding window, with Telegram's 429 and ``retry_after``.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from .records import DEFAULT_TOKEN, parse_window
from .server import FakeBotApi


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.botapi", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--rate", type=float, default=None, help="bot-wide messages/s")
    parser.add_argument("--burst", type=int, default=None, help="bucket size (default: rate)")
    parser.add_argument("--per-chat-rate", type=float, default=None, help="messages/s per chat")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to each call")
    parser.add_argument(
        "--window", type=int, default=None, help="strict: at most N sends in any second, bot-wide"
    )
    parser.add_argument(
        "--chat-window", type=parse_window, default=None, help="strict, private chats: N/SECONDS"
    )
    parser.add_argument(
        "--group-window", type=parse_window, default=None, help="strict, groups: N/SECONDS (20/60)"
    )
    parser.add_argument(
        "--paid-limit", type=int, default=1000, help="paid broadcasts per second (1000)"
    )
    parser.add_argument(
        "--open-chats",
        action="store_true",
        help="treat every positive chat id as a private chat that started the bot",
    )
    return parser


async def serve(args: argparse.Namespace) -> None:
    api = FakeBotApi(
        token=args.token,
        rate_limit=args.rate,
        burst=args.burst,
        per_chat_rate=args.per_chat_rate,
        latency=args.latency,
        window_limit=args.window,
        chat_window=args.chat_window,
        group_window=args.group_window,
        paid_limit=args.paid_limit,
        open_chats=args.open_chats,
        host=args.host,
        port=args.port,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await api.start()
    try:
        print(f"READY {api.base_url}", flush=True)
        await stop.wait()
    finally:
        await api.stop()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
