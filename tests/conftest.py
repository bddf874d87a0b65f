"""Fixtures shared by every test directory: one real PostgreSQL server for the whole session."""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.postgres_server import BIN_DIR, PostgresServer

_schema_numbers = itertools.count()


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
