"""`make demo`: tokentrail's whole story on Brightwave, an example app, in a temporary folder.

1. `tokentrail check` finds the agent runs nobody meters.
2. `tokentrail codemod` rewrites them into tracked runs and says what it did.
3. `tokentrail check` is clean and `tokentrail coverage` says 100%.
4. Two people in two organizations use the app at the same time; every run is recorded in an
   embedded SQLite store.
5. `tokentrail report` shows who spent what.

Every model is offline, so the demo needs no keys and no network. The example in `examples/`
is never changed: the story runs on a copy. If any step does not do what it should, the demo
stops there, says which step failed and exits non-zero.

Usage: `python examples/demo.py [--keep | --folder DIR]`: `--keep` leaves the temporary folder
for you to explore; `--folder` runs the story in an empty folder of your choice and keeps it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

EXAMPLE = Path(__file__).resolve().parent / "brightwave"
STEP_TIMEOUT_SECONDS = 120


class Narrator(Protocol):
    def announce(self, number: int, title: str, detail: str) -> None: ...

    def output(self, text: str) -> None: ...

    def done(self, message: str) -> None: ...

    def failed(self, message: str) -> None: ...


class PlainNarrator:
    """Plain lines, for logs and pipes."""

    def announce(self, number: int, title: str, detail: str) -> None:
        print(f"\n== Step {number}: {title}")
        print(textwrap.fill(detail, width=100))

    def output(self, text: str) -> None:
        print(textwrap.indent(text.rstrip("\n"), "    ") if text.strip() else "    (no output)")

    def done(self, message: str) -> None:
        print(f"-> {message}")

    def failed(self, message: str) -> None:
        print(f"\nDEMO FAILED: {message}", file=sys.stderr)


class RichNarrator:
    """Headings and panels, for a terminal."""

    def __init__(self) -> None:
        from rich.console import Console

        self._console = Console()
        self._error_console = Console(stderr=True)

    def announce(self, number: int, title: str, detail: str) -> None:
        self._console.rule(f"[bold]Step {number}: {title}", align="left")
        self._console.print(detail, style="dim")

    def output(self, text: str) -> None:
        from rich.text import Text

        # Tables keep their lines: the terminal wraps what is too wide, as it would without rich.
        shown = textwrap.indent(text.rstrip("\n"), "    ") if text.strip() else "    (no output)"
        self._console.print(Text(shown, style="cyan"), soft_wrap=True)

    def done(self, message: str) -> None:
        self._console.print(f"[green]✓[/green] {message}")

    def failed(self, message: str) -> None:
        self._error_console.print(f"[bold red]✗ demo failed:[/bold red] {message}")


class DemoStepError(Exception):
    """A step did not do what the story needs; the message says which and how."""


@dataclass(frozen=True)
class Finished:
    code: int
    output: str
    seconds: float


def _run(command: Sequence[str], folder: Path, environment: dict[str, str]) -> Finished:
    started = time.perf_counter()
    try:
        completed = subprocess.run(
            list(command),
            cwd=folder,
            env=environment,
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise DemoStepError(
            f"`{' '.join(command)}` did not finish within {STEP_TIMEOUT_SECONDS} s"
        ) from None
    return Finished(
        code=completed.returncode,
        output=completed.stdout + completed.stderr,
        seconds=time.perf_counter() - started,
    )


class Story:
    """Runs the steps in order against one copy of the example."""

    def __init__(self, folder: Path, narrator: Narrator) -> None:
        self.folder = folder
        self.narrator = narrator
        self.store_path = folder / "brightwave-usage.db"
        self.store_url = f"sqlite:///{self.store_path}"
        self.environment = {
            **os.environ,
            "TOKENTRAIL_STORE": self.store_url,
            # Nothing the demo does may touch the user's own embedded store or outbox.
            "XDG_DATA_HOME": str(folder / ".data"),
            "TOKENTRAIL_OUTBOX_DIR": str(folder / ".outbox"),
            "PYTHONDONTWRITEBYTECODE": "1",
            "NO_COLOR": "1",
        }
        self.environment.pop("PYTHONPATH", None)
        self._number = 0

    def step(
        self, title: str, detail: str, arguments: Sequence[str], expected_code: int
    ) -> Finished:
        self._number += 1
        self.narrator.announce(self._number, title, detail)
        command = [sys.executable, *arguments]
        finished = _run(command, self.folder, self.environment)
        self.narrator.output(finished.output)
        if finished.code != expected_code:
            shown = " ".join(["python", *arguments])
            raise DemoStepError(
                f"step {self._number} ({title}): `{shown}` exited with {finished.code}, "
                f"expected {expected_code}"
            )
        return finished

    def tokentrail(
        self, title: str, detail: str, arguments: Sequence[str], expected_code: int
    ) -> Finished:
        return self.step(title, detail, ["-m", "tokentrail", *arguments], expected_code)

    def _recorded(self) -> str:
        total, unattributed = _store_counts(self.store_path)
        if total == 0:
            raise DemoStepError(
                f"step {self._number}: the pages ran but {self.store_url} holds no usage record"
            )
        if unattributed:
            raise DemoStepError(
                f"step {self._number}: {unattributed} of {total} records name no user"
            )
        return f"{total} usage records written, each billed to its user"

    def tell(self) -> None:
        check = self.tokentrail(
            "find the agent runs nobody meters",
            "Brightwave's eight services call their agents directly (run, run_sync, run_stream, "
            "run_stream_sync, run_stream_events, iter, and a sub-agent called from a tool). "
            "`tokentrail check` reads the project and reports each untracked run; it fails, as "
            "it would in pre-commit or CI.",
            ["check", "brightwave"],
            expected_code=1,
        )
        untracked = check.output.count(" TT001 ")
        if untracked == 0:
            raise DemoStepError("step 1: `tokentrail check` failed but reported no TT001 finding")
        self.narrator.done(f"{untracked} untracked agent runs found ({check.seconds:.1f} s)")

        self.tokentrail(
            "preview the rewrite of one service",
            "`tokentrail codemod --diff` shows what would change and writes nothing.",
            ["codemod", "--diff", "brightwave/services/headline_service.py"],
            expected_code=1,
        )

        rewrite = self.tokentrail(
            "rewrite every untracked run",
            "`tokentrail codemod` puts each run through its tracked wrapper, naming the service "
            "and the operation, gives each service class the fields that carry who a run "
            "is for, and sets up each per-request service where it is created.",
            ["codemod", "brightwave"],
            expected_code=0,
        )
        self.narrator.done(f"rewritten in {rewrite.seconds:.1f} s")

        self.tokentrail(
            "check again",
            "The same check now passes.",
            ["check", "brightwave"],
            expected_code=0,
        )
        self.narrator.done("no untracked runs left")

        self.tokentrail(
            "measure tracking coverage",
            "`tokentrail coverage --fail-under 100` is the gate CI enforces: every agent run "
            "in the project goes through tokentrail.",
            ["coverage", "brightwave", "--fail-under", "100"],
            expected_code=0,
        )
        self.narrator.done("100% of agent runs are tracked")

        pages = self.step(
            "serve a busy morning",
            "Ana (Acme Outdoor) and Ben (Northwind Coffee) use the editor, the campaign builder "
            "and publishing at the same time, twice each. The pages set who is signed in with "
            "`tracking_context`, so the shared services bill each run to the right person. "
            f"Records go to {self.store_url}.",
            ["-m", "brightwave"],
            expected_code=0,
        )
        self.narrator.done(f"pages served in {pages.seconds:.1f} s; {self._recorded()}")

        self.tokentrail(
            "see who spent what",
            "`tokentrail report` sums the store by organization and user: runs, requests, "
            "tokens and cost at each model's list price.",
            ["report", "--store", self.store_url, "--by", "organization,user"],
            expected_code=0,
        )
        self.tokentrail(
            "see where it went",
            "The same store by service and model.",
            ["report", "--store", self.store_url, "--by", "tool,model"],
            expected_code=0,
        )


def _store_counts(path: Path) -> tuple[int, int]:
    """How many records the store holds, and how many of them are billed to nobody."""
    if not path.exists():
        return 0, 0
    with sqlite3.connect(path) as database:
        total, unattributed = database.execute(
            "SELECT COUNT(*), COUNT(*) - COUNT(user_id) FROM token_usage"
        ).fetchone()
    database.close()
    return int(total), int(unattributed)


def _copy_example(folder: Path) -> None:
    shutil.copytree(
        EXAMPLE,
        folder,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns(
            "__pycache__", ".tokentrail", ".mypy_cache", ".ruff_cache", "*.db", "*.db-*"
        ),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--keep", action="store_true", help="keep the temporary folder")
    where.add_argument("--folder", type=Path, help="run in this empty folder and keep it")
    arguments = parser.parse_args(argv)

    narrator: Narrator = RichNarrator() if sys.stdout.isatty() else PlainNarrator()
    if arguments.folder is not None:
        if arguments.folder.exists() and any(arguments.folder.iterdir()):
            parser.error(f"--folder {arguments.folder} is not empty")
        arguments.folder.mkdir(parents=True, exist_ok=True)
    folder = arguments.folder or Path(tempfile.mkdtemp(prefix="tokentrail-demo-"))
    keep = arguments.keep or arguments.folder is not None
    started = time.perf_counter()
    try:
        _copy_example(folder)
        Story(folder, narrator).tell()
    except DemoStepError as failure:
        narrator.failed(str(failure))
        return 1
    finally:
        if keep:
            print(f"\nThe demo's copy of the app and its store are in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    narrator.done(f"the whole story took {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
