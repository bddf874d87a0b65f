"""`tokentrail codemod`: rewrite untracked agent runs into tokentrail's tracked wrappers.

Exit codes follow CONTRACT §3: 0 clean, 1 when `--check` or `--diff` finds something that would
change, 2 when a file could not be processed or the command line or configuration is wrong.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from tokentrail_codemods._apply import CodemodResult, ProgressCallback, apply
from tokentrail_codemods._summary import display_path, summary_lines

EXIT_CLEAN = 0
EXIT_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    """The command line, also used to document it."""
    parser = argparse.ArgumentParser(
        prog="tokentrail codemod",
        description=(
            "Rewrite every untracked pydantic-ai agent run under PATH into tokentrail's tracked"
            " wrapper, naming the service and the operation, and give classes with runs the"
            " fields and set_tracking_context method that carry who the runs are for."
        ),
        epilog=(
            "exit codes: 0 nothing left to change; 1 --check or --diff found changes;"
            " 2 a file could not be processed, or a usage or configuration error."
        ),
    )
    parser.add_argument(
        "paths", nargs="+", type=Path, metavar="PATH", help="files or directories to rewrite"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--diff",
        action="store_true",
        help="print a unified diff and write nothing (exit 1 if not empty)",
    )
    mode.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if any file would change"
    )
    parser.add_argument(
        "--jobs",
        type=_positive_int,
        default=None,
        metavar="N",
        help="worker processes for the rewrite (default: the number of CPUs)",
    )
    parser.add_argument(
        "--no-callers",
        action="store_true",
        help="leave the places that create services alone (by default they set up each"
        " per-request service's context, and pages bind the ambient context)",
    )
    parser.add_argument(
        "--update-names",
        action="store_true",
        help="also rewrite existing tool_name= and operation= string literals that no longer"
        " match the configuration",
    )
    return parser


def main(argv: Sequence[str]) -> int:
    """Run the codemod with the given arguments and return the exit code."""
    arguments = build_parser().parse_args(list(argv))
    from tokentrail_lint.config import ConfigError

    write = not (arguments.diff or arguments.check)
    cwd = Path.cwd()
    try:
        with _progress(sys.stdout.isatty()) as progress:
            result = apply(
                arguments.paths,
                write=write,
                update_names=arguments.update_names,
                jobs=arguments.jobs,
                progress=progress,
                callers=not arguments.no_callers,
            )
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except FileNotFoundError as error:
        print(f"error: PATH: {error}", file=sys.stderr)
        return EXIT_ERROR

    for failure in result.errors:
        shown = display_path(failure.path, cwd)
        message = failure.message
        if not message.startswith((str(failure.path), shown)):
            message = f"{shown}: {message}"
        print(f"error: {message}", file=sys.stderr)

    if arguments.diff:
        _print_diff(result, cwd)
    elif arguments.check:
        for change in result.changed:
            print(f"would rewrite {display_path(change.path, cwd)}")
    _print_summary(result, cwd, sys.stderr if arguments.diff else sys.stdout)

    if write:
        return EXIT_ERROR if result.errors else EXIT_CLEAN
    return result.exit_code_for_check


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return value


def _print_diff(result: CodemodResult, cwd: Path) -> None:
    for change in result.changed:
        shown = display_path(change.path, cwd)
        sys.stdout.writelines(
            difflib.unified_diff(
                change.before.splitlines(keepends=True),
                change.after.splitlines(keepends=True),
                fromfile=f"a/{shown}",
                tofile=f"b/{shown}",
            )
        )


def _print_summary(result: CodemodResult, cwd: Path, stream: TextIO) -> None:
    lines = summary_lines(result, cwd)
    if stream.isatty():
        from rich.console import Console

        console = Console(file=stream, highlight=False)
        console.print(f"[bold]{lines[0]}[/bold]", markup=True)
        for line in lines[1:]:
            console.print(line, markup=False)
    else:
        stream.write("\n".join(lines) + "\n")


@contextmanager
def _progress(on_terminal: bool) -> Iterator[ProgressCallback | None]:
    """A progress bar on the terminal's stderr; nothing when output goes to a file or pipe."""
    if not on_terminal:
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(transient=True, console=Console(stderr=True)) as bar:
        task = bar.add_task("Rewriting", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance
