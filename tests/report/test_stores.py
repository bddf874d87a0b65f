"""Which store a report reads, older table layouts, PostgreSQL, and the `tokentrail` command."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
from tests.report.known_rows import KNOWN_ROWS

from tokentrail.report.cli import main
from tokentrail.stores._codec import record_to_row, row_to_sql_values
from tokentrail.stores.schema import create_statements
from tokentrail.stores.sqlite import SQLiteStore


def totals(capsys: pytest.CaptureFixture[str], arguments: list[str]) -> dict[str, Any]:
    assert main(["--format", "json", *arguments]) == 0
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return document


def test_store_from_the_environment(
    store_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TOKENTRAIL_STORE", store_url)
    assert totals(capsys, [])["total"]["input_tokens"] == 7700


def test_embedded_default_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TOKENTRAIL_STORE", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    store = SQLiteStore(tmp_path / "tokentrail" / "usage.db")
    store.append(KNOWN_ROWS[:2])
    store.close()
    document = totals(capsys, [])
    assert document["store"] == str(tmp_path / "tokentrail" / "usage.db")
    assert document["total"]["input_tokens"] == 4000


_OLDER_LAYOUT = """
CREATE TABLE token_usage (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT DEFAULT CURRENT_TIMESTAMP,
    provider TEXT, model TEXT, tool_name TEXT, operation TEXT,
    input_tokens INTEGER, output_tokens INTEGER, user_id TEXT, organization_id TEXT,
    cost_usd TEXT, duration_ms INTEGER, request_metadata TEXT
)
"""


def test_older_table_layout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "legacy.db"
    with sqlite3.connect(path) as database:
        database.execute(_OLDER_LAYOUT)
        database.executemany(
            "INSERT INTO token_usage (created_at, provider, model, tool_name, operation, "
            "input_tokens, output_tokens, user_id, organization_id, cost_usd, duration_ms) "
            "VALUES (?, 'openai', 'gpt-4o', 'scripts', 'generate', ?, ?, 'u1', 'acme', ?, 500)",
            [
                ("2026-12-01 10:00:00", 100, 10, "0.001"),
                ("2026-12-01 23:59:59", 200, 20, None),
                ("2026-12-02 00:00:00", 300, 30, "0.0025"),
            ],
        )
    database.close()
    document = totals(capsys, ["--store", f"sqlite:///{path}", "--by", "day"])
    rows = [
        (row["day"], row["runs"], row["input_tokens"], row["requests"], row["cost_usd"])
        for row in document["rows"]
    ]
    # Without run ids each row is a run; columns the table lacks count as zero.
    assert rows == [("2026-12-01", 2, 300, 0, "0.001"), ("2026-12-02", 1, 300, 0, "0.0025")]
    assert document["total"]["unpriced_records"] == 1
    late = totals(capsys, ["--store", f"sqlite:///{path}", "--since", "2026-12-01T23:00"])
    assert late["total"]["input_tokens"] == 500


def test_the_command_line_entry_point(store_url: str, tmp_path: Path) -> None:
    environment = {**os.environ, "TOKENTRAIL_STORE": store_url}
    completed = subprocess.run(
        [sys.executable, "-m", "tokentrail", "report", "--by", "provider", "--format", "csv"],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines()[1:] == [
        "anthropic,1,1,2,3000,500,1200,0,2,0.0165,0",
        "openai,6,6,5,4700,720,0,100,0,0.0146234567,1",
    ]


@pytest.mark.postgres
def test_postgres_gives_the_same_report_as_sqlite(
    postgres_url: str, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        for statement in create_statements("postgres"):
            connection.execute(statement)
        columns = ", ".join(
            column
            for column in (
                "id",
                "created_at",
                "user_id",
                "organization_id",
                "provider",
                "model",
                "tool_name",
                "operation",
                "input_tokens",
                "output_tokens",
                "cache_read_tokens",
                "cache_write_tokens",
                "requests",
                "tool_calls",
                "cost_usd",
                "cost_source",
                "duration_ms",
                "status",
                "error_type",
                "run_id",
                "parent_run_id",
                "agent_name",
                "request_metadata",
            )
        )
        marks = ", ".join(["%s"] * 23)
        for record in KNOWN_ROWS:
            values = list(row_to_sql_values(record_to_row(record)))
            values[1] = record.created_at
            connection.execute(f"INSERT INTO token_usage ({columns}) VALUES ({marks})", values)

    for group_by in ("organization,user", "day", "model,provider", "tool,operation"):
        from_sqlite = totals(capsys, ["--store", store_url, "--by", group_by])
        from_postgres = totals(capsys, ["--store", postgres_url, "--by", group_by])
        assert from_postgres["rows"] == from_sqlite["rows"]
        assert from_postgres["total"] == from_sqlite["total"]

    window = ["--since", "2026-12-01", "--until", "2026-12-02", "--organization", "org-acme"]
    assert totals(capsys, ["--store", postgres_url, *window])["total"]["input_tokens"] == 3900


@pytest.mark.postgres
def test_postgres_without_the_table(postgres_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--store", postgres_url]) == 2
    assert "has no token_usage table: run `tokentrail store init`" in capsys.readouterr().err


def test_a_time_window_uses_the_created_at_index(store_url: str) -> None:
    from datetime import UTC, datetime

    from tokentrail.report._query import ReportQuery, build_sql

    query = ReportQuery(
        group_by=("organization",),
        since=datetime(2026, 12, 1, tzinfo=UTC),
        until=datetime(2026, 12, 2, tzinfo=UTC),
    )
    path = store_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as database:
        columns = frozenset(row[1] for row in database.execute("PRAGMA table_info(token_usage)"))
        sql, parameters = build_sql(query, "sqlite", columns)
        plan = " ".join(
            str(row[-1]) for row in database.execute(f"EXPLAIN QUERY PLAN {sql}", parameters)
        )
    database.close()
    assert "USING INDEX token_usage_created_at_idx" in plan
