"""Run the real command line in a subprocess and take fingerprints of a project tree.

The hardening tests drive `python -m tokentrail` exactly as a user or pre-commit does, so that
what they count is what a user meets: the exit code, the messages, and the files afterwards.
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final

CACHE_FOLDER: Final = ".tokentrail"
"""The analysis cache under the project root: the only thing the commands may add."""


@dataclass(frozen=True, slots=True)
class CliRun:
    """What one command printed and how it ended."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_cli(root: Path, *arguments: str, prelude: str = "", timeout: float = 180) -> CliRun:
    """Run `python -m tokentrail ARGUMENTS` in `root`.

    Args:
        root: the working directory (the project root in these tests).
        arguments: the subcommand and its arguments.
        prelude: Python code run in the subprocess before the command, to inject a fault at a
            precise point (a file deleted between two steps); empty for a plain run.
        timeout: seconds before the run counts as hung.
    """
    code = f"import sys\n{prelude}\nfrom tokentrail._cli import main\nsys.exit(main(sys.argv[1:]))"
    environment = {key: value for key, value in os.environ.items() if key != "COLUMNS"}
    completed = subprocess.run(
        [sys.executable, "-c", code, *arguments],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=timeout,
        check=False,
    )
    return CliRun(completed.returncode, completed.stdout, completed.stderr)


def fingerprint(root: Path) -> dict[str, tuple[str, ...]]:
    """Every entry under `root` (the analysis cache aside) with its kind, content and mode.

    Links are described by their target, never followed, so a link replaced by a copy of its
    target shows up as a change.
    """
    entries: dict[str, tuple[str, ...]] = {}
    for directory, folders, files in os.walk(root):
        folders[:] = [name for name in folders if name != CACHE_FOLDER]
        for name in [*folders, *files]:
            path = Path(directory, name)
            relative = path.relative_to(root).as_posix()
            status = path.lstat()
            mode = oct(stat.S_IMODE(status.st_mode))
            if stat.S_ISLNK(status.st_mode):
                entries[relative] = ("link", os.readlink(path))
            elif stat.S_ISREG(status.st_mode):
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                entries[relative] = ("file", digest, mode)
            else:
                entries[relative] = ("other", stat.filemode(status.st_mode))
    return entries


def changed_entries(
    before: dict[str, tuple[str, ...]], after: dict[str, tuple[str, ...]]
) -> set[str]:
    """The entries added, removed or altered between two fingerprints."""
    return {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}
