"""``python -m bot.i18n_tools extract|check``: the catalogue upkeep's command and its
output (the work itself is :mod:`bot.i18n_tools`)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from bot.i18n import SOURCE_LANGUAGE, SUPPORTED_LANGUAGES
from bot.i18n_tools import ROOT, TEMPLATE, check, extract


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.i18n_tools", description=__doc__)
    parser.add_argument("command", choices=["extract", "check"])
    parser.add_argument(
        "--languages",
        default=",".join(SUPPORTED_LANGUAGES),
        help="comma-separated catalogues to update (default: all); others are left alone",
    )
    args = parser.parse_args(argv)
    chosen = [x for x in args.languages.split(",") if x in SUPPORTED_LANGUAGES]
    if args.command == "extract":
        for path in extract(chosen):
            print(f"updated {path.relative_to(ROOT)}")
        print(f"template {TEMPLATE.relative_to(ROOT)}")
    problems = check()
    for problem in problems:
        print(problem)
    counts = {lang: sum(p.language == lang for p in problems) for lang in SUPPORTED_LANGUAGES}
    print("problems: " + ", ".join(f"{k} {v}" for k, v in counts.items() if k != SOURCE_LANGUAGE))
    return 1 if problems else 0
