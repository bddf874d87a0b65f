"""Fixtures shared by every test directory: one real PostgreSQL server for the whole session."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import tempfile
import warnings
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from tests.postgres_server import BIN_DIR, PostgresServer

_schema_numbers = itertools.count()

# In CI, property tests replay the same examples on every run, so a red build always reproduces.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")


_loops_made_in_tests: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()


@pytest.fixture(autouse=True, scope="session")
def record_new_event_loops() -> Iterator[None]:
    """Remember the event loops made through `asyncio.new_event_loop` (pydantic-ai's `run_sync`
    makes one per thread and never closes it)."""
    make_loop = asyncio.new_event_loop

    def make_and_remember() -> asyncio.AbstractEventLoop:
        loop = make_loop()
        _loops_made_in_tests.add(loop)
        return loop

    asyncio.new_event_loop = make_and_remember
    yield
    asyncio.new_event_loop = make_loop


@pytest.fixture(autouse=True)
def close_leftover_event_loops(
    request: pytest.FixtureRequest, record_new_event_loops: None
) -> Iterator[None]:
    """Close the loops `run_sync` left open, in the synchronous test that made them.

    Left open, a loop is collected during some later test, and its ResourceWarning fails that
    unrelated test. Asynchronous tests are left alone: pytest-asyncio owns their loop.
    """
    yield
    if request.node.get_closest_marker("asyncio") is not None:
        return
    leftovers = set(_loops_made_in_tests)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with contextlib.suppress(RuntimeError):
            leftovers.add(asyncio.get_event_loop_policy().get_event_loop())
    for loop in leftovers:
        if not loop.is_running() and not loop.is_closed():
            loop.close()
    # pydantic-ai 1.x reuses the thread's current loop even when it is closed.
    asyncio.set_event_loop(None)


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
