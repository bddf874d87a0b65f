"""A real PostgreSQL server for the tests, in a temporary directory on a free loopback port.

`initdb` refuses to run as root, so under root every server command runs as the `postgres` user.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Final


def _newest_installed_bin() -> Path:
    installed = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda initdb: (
            int(initdb.parent.parent.name) if initdb.parent.parent.name.isdigit() else 0
        ),
    )
    return installed[-1].parent if installed else Path("/usr/lib/postgresql/15/bin")


BIN_DIR: Final = Path(os.environ.get("TOKENTRAIL_POSTGRES_BIN") or _newest_installed_bin())
"""Where `initdb`, `pg_ctl` and `postgres` are: Debian's newest, or `TOKENTRAIL_POSTGRES_BIN`."""


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
