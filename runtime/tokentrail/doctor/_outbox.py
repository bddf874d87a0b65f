"""The outbox: where records for a remote store wait, and how many are waiting or dead-lettered.

Each store has a folder under the outbox root, holding one outbox file per process and a
`journal/` folder where a process's records land first. Counts come from the outbox files' own
SQLite tables (as `tokentrail outbox status` reads them) and the journal files' lines; nothing is
changed.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tokentrail.doctor._finding import Finding
from tokentrail.doctor._store import ResolvedStore, journal_counts, writable_folder
from tokentrail.stores._outbox_file import SUFFIX, default_outbox_root
from tokentrail.stores.outbox_cli import FileStatus, file_status


def outbox_findings(store: ResolvedStore) -> list[Finding]:
    """Whether the outbox folder is usable, and the pending and dead-letter counts in it."""
    root = default_outbox_root()
    findings = [_folder_finding(root, store)]
    files = sorted(root.glob(f"*/*{SUFFIX}")) if root.is_dir() else []
    statuses: list[FileStatus] = []
    for path in files:
        try:
            statuses.append(file_status(path))
        except sqlite3.Error as error:
            findings.append(
                Finding(
                    "outbox records",
                    "problem",
                    f"cannot read {path}: {error}",
                    "move the file aside; `tokentrail outbox export` reads the others",
                )
            )
    journals = [journal_counts(folder) for folder in sorted(root.glob("*/journal"))]
    findings.append(_counts_finding(statuses, journals))
    return findings


def _folder_finding(root: Path, store: ResolvedStore) -> Finding:
    if writable_folder(root):
        return Finding("outbox", "ok", f"{root} is writable")
    if store.is_remote:
        return Finding(
            "outbox",
            "problem",
            f"{root} is not writable: undelivered records would be kept in memory only",
            "set TOKENTRAIL_OUTBOX_DIR to a writable folder that survives restarts",
        )
    return Finding(
        "outbox",
        "warning",
        f"{root} is not writable (only remote stores use it)",
        "set TOKENTRAIL_OUTBOX_DIR to a writable folder before switching to a remote store",
    )


def _counts_finding(statuses: list[FileStatus], journals: list[tuple[int, int]]) -> Finding:
    journaled = sum(waiting for waiting, _ in journals)
    unreadable = sum(bad for _, bad in journals)
    waiting = sum(status.waiting for status in statuses) + journaled
    dead = sum(status.dead for status in statuses)
    orphaned = sum(status.waiting for status in statuses if not status.owner_running)
    summary = f"{waiting:,} pending, {dead:,} dead-lettered in {len(statuses):,} files"
    if journaled:
        summary += f" ({journaled:,} of them still in journals)"
    if unreadable:
        return Finding(
            "outbox records",
            "problem",
            summary + f"; {unreadable:,} unreadable journal lines kept in .bad files",
            "inspect the .bad files in the journal folders; nothing in them was delivered",
        )
    if dead:
        return Finding(
            "outbox records",
            "problem",
            summary,
            "the store refused these records for good: see why with `tokentrail outbox export "
            "--output dead.jsonl`, fix the cause (often the table's layout), then run "
            "`tokentrail outbox retry`",
        )
    if orphaned:
        return Finding(
            "outbox records",
            "warning",
            summary + f" ({orphaned:,} left by stopped processes)",
            "the next process that uses the same store delivers them; if none will, start the "
            "application once with the store reachable",
        )
    if waiting:
        return Finding(
            "outbox records",
            "info",
            summary,
            "a running application is delivering them; if the count stays, check the store",
        )
    return Finding("outbox records", "ok", summary)
