"""`tokentrail store` against a real PostgreSQL and SQLite files, through the console entry."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

from tokentrail._cli import main
from tokentrail._record import UsageRecord
from tokentrail.stores.postgres import PostgresStore, read_layout

pytestmark = pytest.mark.postgres

OLDER_TABLE = (
    "CREATE TABLE token_usage (id bigserial PRIMARY KEY, created_at timestamptz DEFAULT now(), "
    "provider text, model text, tool_name text, operation text, input_tokens integer, "
    "output_tokens integer, user_id text, organization_id text, cost_usd numeric, "
    "duration_ms integer, request_metadata jsonb)"
)


def test_init_creates_the_table_once(postgres_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["store", "init", postgres_url]) == 0
    assert main(["store", "init", postgres_url]) == 0

    with psycopg.connect(postgres_url) as connection:
        layout = read_layout(connection, "token_usage")
    assert layout.idempotent
    assert layout.left_out == ()
    assert "token_usage is ready" in capsys.readouterr().out


def test_init_reads_the_store_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "nested" / "usage.db"
    monkeypatch.setenv("TOKENTRAIL_STORE", f"sqlite:///{database}")

    assert main(["store", "init"]) == 0

    with sqlite3.connect(database) as connection:
        tables = connection.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
    connection.close()
    assert tables == [("token_usage",)]


def test_init_and_migrate_print_sql_for_supabase(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["store", "init", "supabase://"]) == 0
    init = capsys.readouterr().out
    assert main(["store", "migrate", "supabase://"]) == 0
    migrate = capsys.readouterr().out

    assert "ENABLE ROW LEVEL SECURITY" in init
    assert "supabase/migrations/" in init
    assert "ADD COLUMN IF NOT EXISTS cache_read_tokens" in migrate
    assert "CREATE UNIQUE INDEX IF NOT EXISTS token_usage_id_key" in migrate


@pytest.mark.parametrize("dialect", ["sqlite", "postgres", "supabase"])
def test_schema_prints_each_dialect(dialect: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["store", "schema", "--dialect", dialect]) == 0

    assert "CREATE TABLE IF NOT EXISTS" in capsys.readouterr().out


def test_migrate_adds_the_key_and_columns_to_an_older_table(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(OLDER_TABLE.replace("id bigserial PRIMARY KEY, ", ""))
        connection.execute("INSERT INTO token_usage (model) VALUES ('old row')")

    assert main(["store", "migrate", postgres_url]) == 0
    assert main(["store", "migrate", postgres_url]) == 0

    output = capsys.readouterr().out
    assert "ADD COLUMN IF NOT EXISTS id uuid" in output
    assert "is up to date" in output
    store = PostgresStore(postgres_url)
    record = UsageRecord(model="new", cache_read_tokens=4)
    store.write([record])
    store.write([record])
    assert store.layout().idempotent
    store.close()
    with psycopg.connect(postgres_url) as connection:
        rows = connection.execute(
            "SELECT model, cache_read_tokens, id IS NOT NULL FROM token_usage ORDER BY model"
        ).fetchall()
    assert rows == [("new", 4, True), ("old row", 0, True)]


def test_migrate_reports_an_id_it_cannot_write(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(OLDER_TABLE)

    assert main(["store", "migrate", postgres_url]) == 1

    captured = capsys.readouterr()
    assert "ADD COLUMN IF NOT EXISTS cache_read_tokens" in captured.out
    assert "token_usage.id is bigint" in captured.err


def test_migrate_without_a_table(postgres_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["store", "migrate", postgres_url]) == 1
    assert "tokentrail store init" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["store", "init"], "error: URL: give a store URL"),
        (["store", "init", "mysql://x"], "error: URL: unknown store"),
        (["store", "migrate", "sqlite:///x.db"], "keeps its own table"),
        (["store", "init", "postgresql://u:pw@127.0.0.1:1/db"], "u:***@127.0.0.1:1/db"),
    ],
)
def test_errors_name_the_argument(
    argv: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TOKENTRAIL_STORE", raising=False)

    assert main(argv) == 2

    error = capsys.readouterr().err
    assert message in error
    assert ":pw@" not in error


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["store", "schema", "--dialect", "oracle"]) == 2
    assert main(["store", "--help"]) == 0
