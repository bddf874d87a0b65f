"""Fixtures for the store tests: a real PostgreSQL 15 server started for the session.

The server lives in a temporary directory on a free loopback port. `initdb` refuses to run as
root, so under root every server command runs as the `postgres` user.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest

BIN_DIR: Final = Path(os.environ.get("TOKENTRAIL_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))
"""Where `initdb`, `pg_ctl` and `postgres` are; `TOKENTRAIL_POSTGRES_BIN` overrides it."""

_schema_numbers = itertools.count()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PostgresServer:
    """One server: `initdb` once, then `start` / `stop` as often as a test needs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.port = _free_port()
        self._as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url_for_schema(self, schema: str) -> str:
        return f"{self.url}?options=-csearch_path%3D{schema}"

    def initialize(self) -> None:
        if self._as_postgres:
            shutil.chown(self.root, user="postgres", group="postgres")
        self._run(
            str(BIN_DIR / "initdb"),
            "--pgdata",
            str(self.data),
            "--username",
            "postgres",
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--no-sync",
        )

    def start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} "
            "-c fsync=off -c full_page_writes=off"
        )
        self._run(
            str(BIN_DIR / "pg_ctl"),
            "start",
            "--pgdata",
            str(self.data),
            "--wait",
            "--log",
            str(self.root / "server.log"),
            "-o",
            options,
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(str(BIN_DIR / "pg_ctl"), "stop", "--pgdata", str(self.data), "-m", mode)

    def _run(self, *command: str) -> None:
        subprocess.run([*self._as_postgres, *command], check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL 15 server on a free loopback port, stopped when the session ends."""
    if not (BIN_DIR / "initdb").exists():
        reason = (
            f"PostgreSQL 15 is not installed ({BIN_DIR} has no initdb): install postgresql-15 "
            "or set TOKENTRAIL_POSTGRES_BIN"
        )
        if os.environ.get("TOKENTRAIL_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{reason}; TOKENTRAIL_REQUIRE_POSTGRES=1 requires it")
        pytest.skip(reason)

    with tempfile.TemporaryDirectory(prefix="tokentrail-pg-") as root:
        server = PostgresServer(Path(root))
        server.initialize()
        server.start()
        try:
            yield server
        finally:
            server.stop("immediate")


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A URL whose search path is a fresh, empty schema, so each test has its own tables."""
    import psycopg

    schema = f"test_{os.getpid()}_{next(_schema_numbers)}"
    with psycopg.connect(postgres_server.url, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    return postgres_server.url_for_schema(schema)


@pytest.fixture
def outbox_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private outbox folder, also set as `TOKENTRAIL_OUTBOX_DIR`."""
    folder = tmp_path / "outbox"
    monkeypatch.setenv("TOKENTRAIL_OUTBOX_DIR", str(folder))
    return folder
