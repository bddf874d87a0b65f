"""`tokentrail doctor` against real PostgreSQL, a real outbox, an imported application module,
and in a fresh interpreter for its import budget."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tokentrail import UsageRecord
from tokentrail._cli import main
from tokentrail.stores import open_sink
from tokentrail.stores._codec import record_to_json
from tokentrail.stores._outbox_file import OutboxFile
from tokentrail.stores.schema import create_statements

_PASSWORD = "Tr0ub4dor&3-very-secret"
_UNREACHABLE = f"postgresql://billing:{_PASSWORD}@127.0.0.1:9/usage"


def doctor_json(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, dict[str, Any]]:
    code = main(["doctor", "--format", "json", *arguments])
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return code, document


def check(document: dict[str, Any], name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [c for c in document["checks"] if c["check"] == name]
    assert len(found) == 1, document
    return found[0]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_an_unreachable_postgres_never_shows_its_password(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Port 9 on loopback (discard) has no PostgreSQL: the connection is refused at once.
    code, document = doctor_json(capsys, "--store", _UNREACHABLE)
    assert code == 1
    access = check(document, "store access")
    assert access["status"] == "problem"
    assert access["summary"].startswith(
        "cannot connect to postgresql://billing:***@127.0.0.1:9/usage"
    )
    assert check(document, "store")["summary"] == (
        "postgresql://billing:***@127.0.0.1:9/usage (from --store)"
    )

    outputs = [json.dumps(document)]
    assert main(["doctor", "--store", _UNREACHABLE]) == 1
    outputs.append(capsys.readouterr().out)
    monkeypatch.setenv("TOKENTRAIL_STORE", _UNREACHABLE)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    assert main(["doctor"]) == 1
    outputs.append(terminal.getvalue())
    for output in outputs:
        assert "billing" in output
        assert _PASSWORD not in output
        assert "Tr0ub4dor" not in output


@pytest.mark.postgres
def test_a_reachable_postgres_with_its_table(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        for statement in create_statements("postgres"):
            connection.execute(statement)
    code, document = doctor_json(capsys, "--store", postgres_url)
    access = check(document, "store access")
    assert (code, access["status"]) == (0, "ok")
    assert access["summary"].endswith("is reachable and token_usage is writable")


@pytest.mark.postgres
def test_a_postgres_without_the_table(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, document = doctor_json(capsys, "--store", postgres_url)
    access = check(document, "store access")
    assert (code, access["status"]) == (1, "problem")
    assert "has no token_usage table" in access["summary"]
    assert access["advice"] == "run `tokentrail store init` with this URL"


@pytest.mark.postgres
def test_an_older_postgres_table_without_a_key(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(
            "CREATE TABLE token_usage (id serial, created_at timestamptz DEFAULT now(), "
            "provider text, model text, tool_name text, operation text, input_tokens integer, "
            "output_tokens integer, user_id text, organization_id text, cost_usd numeric, "
            "duration_ms integer, request_metadata jsonb)"
        )
    code, document = doctor_json(capsys, "--store", postgres_url)
    access = check(document, "store access")
    assert (code, access["status"]) == (0, "warning")
    assert "at-least-once" in access["summary"]
    assert "tokentrail store migrate" in access["advice"]


@pytest.mark.postgres
def test_a_role_that_may_not_insert(postgres_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        for statement in create_statements("postgres"):
            connection.execute(statement)
        connection.execute("DROP ROLE IF EXISTS doctor_reader")
        connection.execute("CREATE ROLE doctor_reader LOGIN")
        schema = connection.execute("SELECT current_schema()").fetchone()
        assert schema is not None
        connection.execute(f"GRANT USAGE ON SCHEMA {schema[0]} TO doctor_reader")
        connection.execute("GRANT SELECT ON token_usage TO doctor_reader")
    reader_url = postgres_url.replace("postgresql://postgres@", "postgresql://doctor_reader@")
    code, document = doctor_json(capsys, "--store", reader_url)
    access = check(document, "store access")
    assert (code, access["status"]) == (1, "problem")
    assert "may not insert" in access["summary"]


def test_pending_records_in_a_real_outbox(
    outbox_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sink = open_sink(_UNREACHABLE)
    sink.append([UsageRecord(model="gpt-4o") for _ in range(3)])
    try:
        code, document = doctor_json(capsys, "--store", _UNREACHABLE)
        records = check(document, "outbox records")
        # A record lands in this process's journal first; the tracker's thread moves it on.
        assert records["summary"] == (
            "3 pending, 0 dead-lettered in 1 files (3 of them still in journals)"
        )
        assert records["status"] == "info"
    finally:
        sink.close(timeout=0.5)

    code, document = doctor_json(capsys, "--store", _UNREACHABLE)
    assert code == 1  # the store is unreachable
    records = check(document, "outbox records")
    assert records["status"] == "warning"
    assert (
        records["summary"] == "3 pending, 0 dead-lettered in 1 files (3 left by stopped processes)"
    )
    assert check(document, "outbox")["summary"] == f"{outbox_dir} is writable"


def test_dead_letters_are_a_problem(outbox_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outbox = OutboxFile(outbox_dir / "postgres-db-5432-app")
    records = [UsageRecord(model="gpt-4o") for _ in range(2)]
    outbox.append([(record.id, record_to_json(record)) for record in records])
    outbox.dead_letter(outbox.oldest(1)[0], "23514: check failed")
    try:
        code, document = doctor_json(capsys, "--store", "sqlite:///usage.db")
    finally:
        outbox.close()
    records_check = check(document, "outbox records")
    assert (code, records_check["status"]) == (1, "problem")
    assert records_check["summary"] == "1 pending, 1 dead-lettered in 1 files"
    assert "tokentrail outbox retry" in records_check["advice"]


def _run_doctor(folder: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"TOKENTRAIL_STORE", "TOKENTRAIL_REQUIRE_STORE"}
    }
    environment["XDG_DATA_HOME"] = str(folder / "data")
    environment["TOKENTRAIL_OUTBOX_DIR"] = str(folder / "outbox")
    probe = (
        "import json, sys\n"
        "from tokentrail._cli import main\n"
        "code = main(sys.argv[1:])\n"
        "heavy = sorted({name.split('.')[0] for name in sys.modules}\n"
        "    & {'pydantic_ai', 'genai_prices', 'supabase', 'psycopg', 'libcst'})\n"
        "sys.stderr.write('HEAVY=' + json.dumps(heavy) + '\\n')\n"
        "sys.exit(code)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", probe, "doctor", "--format", "json", *arguments],
        capture_output=True,
        text=True,
        cwd=folder,
        env=environment,
        timeout=120,
        check=False,
    )


def _heavy(completed: subprocess.CompletedProcess[str]) -> list[str]:
    marker = [line for line in completed.stderr.splitlines() if line.startswith("HEAVY=")]
    assert marker, completed.stderr
    loaded: list[str] = json.loads(marker[-1].removeprefix("HEAVY="))
    return loaded


def test_the_doctor_imports_nothing_heavy(isolated: Path) -> None:
    completed = _run_doctor(isolated)
    assert completed.returncode == 0, completed.stderr
    assert _heavy(completed) == []
    document = json.loads(completed.stdout)
    assert check(document, "pydantic-ai")["status"] == "ok"


def test_an_imported_application_module(isolated: Path, tmp_path: Path) -> None:
    (isolated / "myapp_tracking.py").write_text(
        textwrap.dedent(
            f"""
            import tokentrail

            def current_identity():
                return ("user-1", "org-1")

            tokentrail.configure(
                store="sqlite:///{tmp_path / "app.db"}", identity_provider=current_identity
            )
            """
        )
    )
    completed = _run_doctor(isolated, "--import", "myapp_tracking")
    assert completed.returncode == 0, completed.stderr
    document = json.loads(completed.stdout)
    assert check(document, "store")["summary"] == (
        f"sqlite:///{tmp_path / 'app.db'} (from configure() in the imported module)"
    )
    identity = check(document, "identity provider")
    assert identity["status"] == "ok"
    assert identity["summary"] == "myapp_tracking.current_identity (set by myapp_tracking)"


def test_an_application_module_without_an_identity_provider(isolated: Path) -> None:
    (isolated / "quiet_app.py").write_text("import tokentrail\n")
    completed = _run_doctor(isolated, "--import", "quiet_app")
    document = json.loads(completed.stdout)
    assert check(document, "identity provider")["status"] == "warning"


def test_an_application_module_that_fails_to_import(isolated: Path) -> None:
    (isolated / "broken_app.py").write_text("raise RuntimeError('no database settings')\n")
    completed = _run_doctor(isolated, "--import", "broken_app")
    assert completed.returncode == 1
    document = json.loads(completed.stdout)
    application = check(document, "application")
    assert application["summary"] == (
        "importing broken_app failed: RuntimeError: no database settings"
    )
    assert check(document, "identity provider")["status"] == "info"
