"""`tokentrail outbox`: see, retry and export records that have not reached their store.

    tokentrail outbox status [--dir DIR]
    tokentrail outbox retry [STORE] [--dir DIR]      dead letters back into the queue
    tokentrail outbox export [STORE] [--dir DIR] [--pending] [--output FILE]

Each store has a folder under the outbox root (`TOKENTRAIL_OUTBOX_DIR`, by default
`~/.local/state/tokentrail/outbox`), with one file per process. Files of running processes are
read and changed safely (SQLite's own locking); the process picks retried records up itself.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sqlite3
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from tokentrail.stores._outbox_file import LOCK_SUFFIX, SUFFIX, default_outbox_root, lock_is_held


@dataclass(frozen=True, slots=True)
class FileStatus:
    """What one outbox file holds."""

    store: str
    path: Path
    waiting: int
    dead: int
    oldest_age: float | None
    owner_running: bool


def _files(root: Path, store: str | None) -> list[Path]:
    folders = [root / store] if store else sorted(p for p in root.glob("*") if p.is_dir())
    return [path for folder in folders for path in sorted(folder.glob(f"*{SUFFIX}"))]


@contextlib.contextmanager
def _open(path: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(path, isolation_level=None, timeout=10)
    try:
        yield connection
    finally:
        connection.close()


def file_status(path: Path) -> FileStatus:
    """Counts for one outbox file."""
    with _open(path) as connection:
        waiting, oldest = connection.execute(
            "SELECT count(*), min(enqueued_at) FROM pending"
        ).fetchone()
        dead = connection.execute("SELECT count(*) FROM dead_letter").fetchone()[0]
    return FileStatus(
        store=path.parent.name,
        path=path,
        waiting=int(waiting),
        dead=int(dead),
        oldest_age=None if oldest is None else time.time() - oldest,
        owner_running=lock_is_held(path.with_suffix(LOCK_SUFFIX)),
    )


def _status(root: Path, out: TextIO) -> int:
    statuses = [file_status(path) for path in _files(root, None)]
    if not statuses:
        print(f"no outbox files under {root}", file=out)
        return 0
    rows = [
        (
            status.store,
            status.path.name,
            str(status.waiting),
            str(status.dead),
            "-" if status.oldest_age is None else f"{status.oldest_age:.0f} s",
            "running" if status.owner_running else "stopped (adopted by the next process)",
        )
        for status in statuses
    ]
    headers = ("store", "file", "waiting", "dead letters", "oldest", "owner")
    if out.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(*headers, title=f"outbox {root}")
        for row in rows:
            table.add_row(*row)
        Console(file=out).print(table)
    else:
        for row in (headers, *rows):
            print("\t".join(row), file=out)
    return 1 if any(status.dead for status in statuses) else 0


def _retry(root: Path, store: str | None, out: TextIO) -> int:
    moved = 0
    for path in _files(root, store):
        with _open(path) as connection:
            connection.execute("BEGIN IMMEDIATE")
            cursor = connection.execute(
                "INSERT INTO pending (id, enqueued_at, payload) "
                "SELECT id, failed_at, payload FROM dead_letter"
            )
            moved += cursor.rowcount
            connection.execute("DELETE FROM dead_letter")
            connection.execute("COMMIT")
    print(f"{moved} dead-lettered records queued for delivery again", file=out)
    return 0


def _export(root: Path, store: str | None, pending: bool, out: TextIO) -> int:
    exported = 0
    for path in _files(root, store):
        with _open(path) as connection:
            rows = connection.execute(
                "SELECT payload, error FROM dead_letter"
                + (" UNION ALL SELECT payload, NULL FROM pending" if pending else "")
            ).fetchall()
        for payload, error in rows:
            line = {"store": path.parent.name, "error": error, "record": json.loads(payload)}
            out.write(json.dumps(line) + "\n")
            exported += 1
    print(f"exported {exported} records", file=sys.stderr)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tokentrail outbox", description=__doc__.split("\n")[0])
    parser.add_argument("--dir", type=Path, help="outbox root (default: TOKENTRAIL_OUTBOX_DIR)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("status", help="records waiting and dead-lettered, per file")
    retry = commands.add_parser("retry", help="queue dead-lettered records for delivery again")
    retry.add_argument("store", nargs="?", help="one store's folder name (default: all)")
    export = commands.add_parser("export", help="write records as JSON lines")
    export.add_argument("store", nargs="?", help="one store's folder name (default: all)")
    export.add_argument("--pending", action="store_true", help="include records still waiting")
    export.add_argument("--output", type=Path, help="file to write (default: standard output)")
    return parser


def main(argv: list[str]) -> int:
    """Run `tokentrail outbox ...`; `status` exits 1 when dead letters exist, 2 on errors."""
    try:
        arguments = _parser().parse_args(argv)
    except SystemExit as exit_:
        return 0 if exit_.code in (0, None) else 2
    root: Path = arguments.dir or default_outbox_root()
    store: str | None = getattr(arguments, "store", None)
    if store and not (root / store).is_dir():
        print(f"error: STORE: no outbox folder {store!r} under {root}", file=sys.stderr)
        return 2
    try:
        if arguments.command == "status":
            return _status(root, sys.stdout)
        if arguments.command == "retry":
            return _retry(root, store, sys.stdout)
        if arguments.output is None:
            return _export(root, store, arguments.pending, sys.stdout)
        with arguments.output.open("w", encoding="utf-8") as output:
            return _export(root, store, arguments.pending, output)
    except sqlite3.Error as error:
        print(f"error: cannot read the outbox under {root}: {error}", file=sys.stderr)
        return 2
