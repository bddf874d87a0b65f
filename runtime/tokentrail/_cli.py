"""The `tokentrail` command: a thin dispatcher to subcommands.

Each subcommand lives with the package that owns it and imports its own dependencies only when it
runs, so `tokentrail check` never pays for libcst or pydantic-ai.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Final

_SUBCOMMANDS: Final[dict[str, tuple[str, str]]] = {
    "check": ("tokentrail_lint.cli", "Report agent runs that are not tracked."),
    "coverage": ("tokentrail_lint.coverage_cli", "Report what share of agent runs is tracked."),
    "codemod": ("tokentrail_codemods.cli", "Rewrite untracked agent runs into tracked wrappers."),
    "store": ("tokentrail.stores.cli", "Create, inspect and migrate the token_usage table."),
    "outbox": ("tokentrail.stores.outbox_cli", "Inspect, retry and export undelivered records."),
    "report": ("tokentrail.report.cli", "Show who spent what, from any store."),
    "doctor": ("tokentrail.doctor.cli", "Check the store, outbox and setup; say what to fix."),
}


def _usage() -> str:
    width = max(len(name) for name in _SUBCOMMANDS)
    lines = [
        "usage: tokentrail COMMAND [ARGS...]",
        "",
        "Meter pydantic-ai agent runs: track them, enforce tracking, and store usage records.",
        "",
        "commands:",
    ]
    lines += [f"  {name:<{width}}  {summary}" for name, (_, summary) in _SUBCOMMANDS.items()]
    lines += ["", "Run `tokentrail COMMAND --help` for a command's options."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the subcommand named first in `argv` and return its exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        print(_usage())
        return 0 if args else 2

    name, rest = args[0], args[1:]
    if name not in _SUBCOMMANDS:
        print(f"error: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2

    module = importlib.import_module(_SUBCOMMANDS[name][0])
    run: Callable[[list[str]], int] = module.main
    return run(rest)
