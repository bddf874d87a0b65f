"""Writing to the terminal: rich when stdout is a terminal, plain text otherwise."""

from __future__ import annotations

import sys
from typing import TextIO


def write(text: str, *, stream: TextIO | None = None, highlight: bool = False) -> None:
    """Write `text` as it is, or through rich when the stream is a terminal.

    rich is imported only for a terminal: pipes, CI logs and pre-commit get plain bytes and
    the process never pays for the import.
    """
    target = sys.stdout if stream is None else stream
    if not text:
        return
    if highlight and target.isatty():
        from rich.console import Console

        Console(file=target, highlight=False, soft_wrap=True).print(_markup(text), end="")
        return
    target.write(text)
    target.flush()


def _markup(text: str) -> str:
    """Colour the code in `path:line:col: CODE message` lines, escaping everything else."""
    from rich.markup import escape

    lines = []
    for line in text.splitlines(keepends=True):
        location, separator, rest = line.partition(": ")
        code, space, message = rest.partition(" ")
        if separator and code.startswith("TT"):
            lines.append(
                f"[bold]{escape(location)}[/bold]: [red]{code}[/red]{space}{escape(message)}"
            )
        else:
            lines.append(escape(line))
    return "".join(lines)
