"""``newsdigest run``: the bot until SIGINT/SIGTERM, or until something asks it to exit.

The work is in :mod:`bot.runner`; this module is the command's entry point.
"""

from __future__ import annotations

from bot.runner import run_bot
from bot.startup import StartupError

__all__ = ["StartupError", "run_bot"]
