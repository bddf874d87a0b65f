"""`tokentrail coverage`: what share of agent runs is tracked, per file and per class.

Exit codes (CONTRACT §3): 0; 1 when the share is below `--fail-under`; 2 for a file that cannot
be read or parsed (its runs cannot be counted), or a usage or configuration error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

from tokentrail_lint import _output
from tokentrail_lint.coverage_report import to_json, to_markdown, to_table
from tokentrail_lint.engine import relative_to_root
from tokentrail_lint.tracking_coverage import ProjectCoverage, measure

_FORMATS: Final[dict[str, Callable[[ProjectCoverage], str]]] = {
    "table": to_table,
    "json": to_json,
    "markdown": to_markdown,
}


def _percent(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0.0 <= number <= 100.0:
        raise argparse.ArgumentTypeError(f"{value} is not between 0 and 100")
    return number


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tokentrail coverage",
        description="Report what share of pydantic-ai agent runs goes through tokentrail.",
        epilog="Suppressed runs (# noqa: TT001) count as tracked for --fail-under.",
    )
    parser.add_argument("paths", nargs="*", type=Path, default=[Path(".")], metavar="PATH")
    parser.add_argument("--fail-under", type=_percent, metavar="PERCENT")
    parser.add_argument("--format", choices=list(_FORMATS), default="table")
    return parser


def main(argv: Sequence[str]) -> int:
    """Run `tokentrail coverage` with `argv` and return the exit code."""
    try:
        arguments = _parser().parse_args(list(argv))
    except SystemExit as exit_request:
        return 0 if exit_request.code in (0, None) else 2

    from tokentrail_lint.analysis import analyze
    from tokentrail_lint.config import ConfigError, find_project_root, load_config

    paths: list[Path] = arguments.paths
    missing = [path for path in paths if not path.exists()]
    if missing:
        print(f"error: PATH: {missing[0]} does not exist", file=sys.stderr)
        return 2
    try:
        root = find_project_root(paths[0])
        config = load_config(root)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    project = analyze(paths, root=root, config=config)
    report = measure(project.files, root)
    _output.write(_FORMATS[arguments.format](report))

    unreadable = [file for file in project.files if file.error is not None]
    for file in unreadable:
        print(f"error: {relative_to_root(file.path, root)}: {file.error}", file=sys.stderr)
    if unreadable:
        return 2
    if arguments.fail_under is not None and report.tally.percent < arguments.fail_under:
        print(
            f"coverage {report.tally.percent:.1f}% is below --fail-under {arguments.fail_under:g}%",
            file=sys.stderr,
        )
        return 1
    return 0
