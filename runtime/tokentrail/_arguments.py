"""Command-line parsing shared by the runtime's subcommands (`report`, `doctor`).

argparse prints its own message and exits with 2 on a bad flag; the subcommands instead raise
`UsageError`, so that each reports it in its own `error:` line and exit code, and tests can call
`main(argv)` without catching `SystemExit`.
"""

from __future__ import annotations

import argparse
from typing import NoReturn


class UsageError(Exception):
    """A flag the user got wrong; the message names it."""


class ArgumentParser(argparse.ArgumentParser):
    """An `argparse.ArgumentParser` that raises `UsageError` instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)
