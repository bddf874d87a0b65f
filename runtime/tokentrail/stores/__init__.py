"""Where usage records go: the embedded SQLite store, PostgreSQL and Supabase.

`open_sink` turns what a user passes to `UsageTracker(store=...)` (a URL, a store object or a
supabase-py client) into the `RecordSink` the tracker writes to.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from tokentrail.stores._base import FlushResult, PricedCost, RecordSink
from tokentrail.stores.journal import JournaledStore
from tokentrail.stores.sqlite import SQLiteStore

__all__ = [
    "FlushResult",
    "PricedCost",
    "RecordSink",
    "SQLiteStore",
    "StoreConfigurationError",
    "default_sqlite_path",
    "open_sink",
    "sqlite_path_from_url",
]


class StoreConfigurationError(ValueError):
    """A store URL or object that tokentrail cannot use; the message says what to change."""


def default_sqlite_path() -> Path:
    """Where the embedded store lives when no store is configured.

    `$XDG_DATA_HOME/tokentrail/usage.db`, by default `~/.local/share/tokentrail/usage.db`.
    """
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "tokentrail" / "usage.db"


def sqlite_path_from_url(url: str) -> Path:
    """The file of a SQLite store URL: `sqlite:///relative.db` or `sqlite:////absolute.db`."""
    rest = url.removeprefix("sqlite://")
    if not rest.startswith("/") or rest == "/":
        raise StoreConfigurationError(
            f"a SQLite store URL needs a file: sqlite:///relative.db or sqlite:////absolute.db, "
            f"got {url!r}"
        )
    path = Path(rest[1:])
    if rest.endswith("/") or path.is_dir():
        raise StoreConfigurationError(
            f"a SQLite store URL needs a file, and {url!r} names a folder: add a file name, "
            "e.g. sqlite:///usage.db"
        )
    return path


def validate_store(store: Any) -> None:
    """Raise `StoreConfigurationError` now for a store that could never be opened."""
    open_sink(store, connect=False)


def open_sink(store: Any, *, connect: bool = True) -> RecordSink:
    """The sink for `store`: a URL string, a `RecordSink`, or a supabase-py sync `Client`.

    With `connect=False` only the URL or object is checked (for errors at configuration time).
    """
    if isinstance(store, str):
        if store.startswith("sqlite://"):
            path = sqlite_path_from_url(store)
            return JournaledStore(SQLiteStore(path), path.with_name(path.name + ".journal"))
        if store.startswith(("postgresql://", "postgres://", "supabase://")):
            return _open_remote(store, connect=connect)
        # Only the leading word: the rest of a mistyped URL may hold a password.
        scheme = re.split(r"[:/@]", store, maxsplit=1)[0][:20]
        raise StoreConfigurationError(
            f"unknown store URL scheme {scheme!r}: use sqlite:///FILE, postgresql://..., "
            "postgres://... or supabase://"
        )
    if all(hasattr(store, name) for name in ("append", "set_costs", "flush", "close")):
        sink: RecordSink = store
        return sink
    return _open_remote(store, connect=connect)


def _open_remote(store: Any, *, connect: bool) -> RecordSink:
    # Remote stores (PostgreSQL, Supabase) deliver through a durable local outbox.
    from tokentrail.stores._remote import open_remote_sink

    return open_remote_sink(store, connect=connect)
