"""Which store records go to, and whether it can take them.

The store is resolved the way a tracker resolves it (`--store`, then `TOKENTRAIL_STORE`, then a
store set with `configure()` by an imported module, then the embedded SQLite file). It is only
read: a SQLite file is opened read-only and never created, and a PostgreSQL session only looks
at the catalog. Every URL and error message shown passes through `mask_secrets`.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from tokentrail.doctor._finding import Finding
from tokentrail.stores._errors import mask_secrets
from tokentrail.stores.journal import written_lines
from tokentrail.stores.schema import TABLE

_CONNECT_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class ResolvedStore:
    """The store URL and where it came from (`--store`, `TOKENTRAIL_STORE`, ...)."""

    url: str
    source: str

    @property
    def shown(self) -> str:
        """The URL with its password and the Supabase key masked."""
        return mask_secrets(self.url, (os.environ.get("SUPABASE_SERVICE_ROLE_KEY", ""),))

    @property
    def is_remote(self) -> bool:
        """True for stores written through the outbox (PostgreSQL, Supabase)."""
        return not self.url.startswith("sqlite://")


def resolve_store(given: str | None, configured: str | None) -> ResolvedStore:
    """The store a tracker in this environment would write to."""
    if given:
        return ResolvedStore(given, "--store")
    from_environment = os.environ.get("TOKENTRAIL_STORE")
    if from_environment:
        return ResolvedStore(from_environment, "TOKENTRAIL_STORE")
    if configured:
        return ResolvedStore(configured, "configure() in the imported module")
    from tokentrail.stores import default_sqlite_path

    return ResolvedStore(f"sqlite:///{default_sqlite_path()}", "embedded default")


def store_findings(store: ResolvedStore) -> list[Finding]:
    """The resolved store, then whether it is reachable and writable."""
    findings = [_resolution(store)]
    url = store.url
    if url.startswith("sqlite://"):
        findings += _sqlite_findings(url)
    elif url.startswith(("postgresql://", "postgres://")):
        findings.append(_postgres_finding(url))
    elif url.startswith("supabase://"):
        findings.append(_supabase_finding())
    else:
        scheme = url.split("://", 1)[0] if "://" in url else "(none)"
        findings.append(
            Finding(
                "store access",
                "problem",
                f"unknown store URL scheme {mask_secrets(scheme)!r}",
                "use sqlite:///FILE, postgresql://..., postgres://... or supabase://",
            )
        )
    return findings


def _resolution(store: ResolvedStore) -> Finding:
    summary = f"{store.shown} (from {store.source})"
    if store.source != "embedded default":
        return Finding("store", "ok", summary)
    if os.environ.get("TOKENTRAIL_REQUIRE_STORE", "") not in {"", "0"}:
        return Finding(
            "store",
            "problem",
            summary + "; TOKENTRAIL_REQUIRE_STORE is set, so tracking refuses this fallback",
            "set TOKENTRAIL_STORE to your store's URL (postgresql://... or supabase://)",
        )
    return Finding(
        "store",
        "warning",
        summary,
        "fine on a laptop; in production set TOKENTRAIL_STORE (postgresql://... or supabase://) "
        "so usage lands where the team can report on it",
    )


def _nearest_existing(path: Path) -> Path:
    # A relative path ends at ".", an absolute one at "/": both exist.
    return next(candidate for candidate in (path, *path.parents) if candidate.exists())


def writable_folder(folder: Path) -> bool:
    """True when `folder` exists and is writable, or can be created."""
    existing = _nearest_existing(folder)
    return existing.is_dir() and os.access(existing, os.W_OK | os.X_OK)


def _sqlite_findings(url: str) -> list[Finding]:
    from tokentrail.stores import StoreConfigurationError, sqlite_path_from_url

    try:
        path = sqlite_path_from_url(url)
    except StoreConfigurationError as error:
        return [Finding("store access", "problem", str(error), "fix TOKENTRAIL_STORE or --store")]
    if not path.exists():
        if writable_folder(path.parent):
            return [Finding("store access", "ok", f"{path} will be created at the first run")]
        return [
            Finding(
                "store access",
                "problem",
                f"{path} does not exist and {_nearest_existing(path.parent)} is not writable",
                "point the store at a writable folder, or create the folder for this user",
            )
        ]
    return [_sqlite_file_finding(path), _journal_finding(path), *_dead_letter_findings(path)]


def _sqlite_file_finding(path: Path) -> Finding:
    try:
        connection = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)
    except sqlite3.Error as error:  # pragma: no cover - opening read-only fails only on I/O errors
        return Finding("store access", "problem", f"cannot open {path}: {error}")
    try:
        has_table = connection.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", [TABLE]
        ).fetchone()[0]
        records = (
            connection.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0] if has_table else 0
        )
    except sqlite3.DatabaseError as error:
        return Finding(
            "store access",
            "problem",
            f"cannot read {path}: {error}",
            "the file is not a SQLite database: point the store at another file",
        )
    finally:
        connection.close()
    if not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)):
        return Finding(
            "store access",
            "problem",
            f"{path} (or its folder) is not writable by this user",
            "run the application as the file's owner, or fix the permissions",
        )
    holds = f"{records:,} records" if has_table else f"no {TABLE} table yet (made at first use)"
    return Finding("store access", "ok", f"{path} is writable; it holds {holds}")


def _dead_letter_findings(path: Path) -> list[Finding]:
    """Records the embedded store refused for good (see `SQLiteStore.append_rows`), if any."""
    if not path.is_file():
        return []
    connection = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)
    try:
        has_table = connection.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'dead_letter'"
        ).fetchone()[0]
        dead = (
            connection.execute("SELECT count(*) FROM dead_letter").fetchone()[0] if has_table else 0
        )
    except sqlite3.DatabaseError:
        return []  # reported by the store access check
    finally:
        connection.close()
    if not dead:
        return []
    return [
        Finding(
            "dead letters",
            "problem",
            f"{path}: {dead:,} records the store refused are kept in its dead_letter table",
            f"inspect them with: sqlite3 {path} 'SELECT id, error FROM dead_letter'; they are "
            "not in the usage totals",
        )
    ]


def journal_counts(folder: Path) -> tuple[int, int]:
    """Records waiting in a journal folder's files, and unreadable lines kept in `.bad` files."""
    waiting = sum(_journal_line_count(journal) for journal in folder.glob("*.jsonl"))
    unreadable = sum(_line_count(bad) for bad in folder.glob("*.bad"))
    return waiting, unreadable


def _journal_finding(database: Path) -> Finding:
    folder = database.with_name(database.name + ".journal")
    waiting, unreadable = journal_counts(folder)
    summary = f"{folder}: {waiting:,} records waiting to move into the store"
    if unreadable:
        return Finding(
            "journal",
            "problem",
            summary + f", {unreadable:,} unreadable lines kept in *.bad files",
            f"inspect the .bad files in {folder}; nothing in them is in the store",
        )
    if waiting:
        return Finding(
            "journal",
            "info",
            summary,
            "the running application moves them within seconds; a journal left by a stopped "
            "process is moved by the next process that opens this store",
        )
    return Finding("journal", "ok", summary)


def _journal_line_count(path: Path) -> int:
    return sum(1 for line in written_lines(path.read_bytes()).splitlines() if line.strip())


def _line_count(path: Path) -> int:
    with path.open("rb") as stream:
        return sum(1 for line in stream if line.strip())


def _postgres_finding(url: str) -> Finding:
    try:
        import psycopg
    except ImportError:
        return Finding(
            "store access",
            "problem",
            "psycopg is not installed, so PostgreSQL cannot be reached",
            "pip install 'tokentrail[postgres]'",
        )
    password = urlsplit(url).password or ""
    shown = mask_secrets(url, (password,))
    try:
        with psycopg.connect(url, connect_timeout=_CONNECT_TIMEOUT_SECONDS) as connection:
            connection.read_only = True
            return _postgres_table_finding(connection, shown)
    except psycopg.Error as error:
        reason = mask_secrets(str(error).strip().splitlines()[0], (password,))
        return Finding(
            "store access",
            "problem",
            f"cannot connect to {shown}: {reason}",
            "check the host, port, database and credentials; until it is reachable, records "
            "wait in the outbox",
        )


def _postgres_table_finding(connection: Any, shown: str) -> Finding:
    from tokentrail.stores.postgres import read_layout, read_types

    if not read_types(connection, TABLE):
        return Finding(
            "store access",
            "problem",
            f"{shown} is reachable but has no {TABLE} table",
            "run `tokentrail store init` with this URL",
        )
    can_insert = connection.execute("SELECT has_table_privilege(%s, 'INSERT')", [TABLE]).fetchone()
    if not (can_insert and can_insert[0]):
        return Finding(
            "store access",
            "problem",
            f"{shown}: this role may not insert into {TABLE}",
            f"GRANT INSERT ON {TABLE} TO the application's role",
        )
    if not read_layout(connection, TABLE).idempotent:
        return Finding(
            "store access",
            "warning",
            f"{shown} is writable, but {TABLE} has no unique id: delivery is at-least-once",
            "run `tokentrail store migrate` to add the key and make delivery exactly-once",
        )
    return Finding("store access", "ok", f"{shown} is reachable and {TABLE} is writable")


def _supabase_finding() -> Finding:
    import importlib.util

    missing = [
        name for name in ("SUPABASE_URL", "SUPABASE_SERVICE_ROLE_KEY") if not os.environ.get(name)
    ]
    if missing:
        return Finding(
            "store access",
            "problem",
            f"supabase:// needs {' and '.join(missing)}, not set in this environment",
            "set them in the application's environment (the service-role key, on servers only)",
        )
    if importlib.util.find_spec("supabase") is None:
        return Finding(
            "store access",
            "problem",
            "supabase-py is not installed",
            "pip install 'tokentrail[supabase]'",
        )
    host = urlsplit(os.environ["SUPABASE_URL"]).hostname or "(no host)"
    return Finding(
        "store access",
        "info",
        f"Supabase project at {host}; the key is set (not shown). The API is not called",
        "to check the table itself, run doctor with the project's postgresql:// connection "
        "string as --store",
    )
