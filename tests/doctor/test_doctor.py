"""`tokentrail doctor` on real SQLite stores and journals, configuration files and outputs."""

from __future__ import annotations

import importlib.metadata
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tokentrail import UsageRecord
from tokentrail._cli import main
from tokentrail.doctor import _environment
from tokentrail.stores import open_sink
from tokentrail.stores.journal import JournaledStore
from tokentrail.stores.sqlite import SQLiteStore


def doctor_json(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, dict[str, Any]]:
    code = main(["doctor", "--format", "json", *arguments])
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert document["healthy"] is (code == 0)
    return code, document


def check(document: dict[str, Any], name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [c for c in document["checks"] if c["check"] == name]
    assert len(found) == 1, document
    return found[0]


def sqlite_store(folder: Path, records: int) -> str:
    store = SQLiteStore(folder / "usage.db")
    store.append([UsageRecord(model="gpt-4o", input_tokens=10) for _ in range(records)])
    store.close()
    return f"sqlite:///{folder / 'usage.db'}"


def test_a_healthy_sqlite_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = sqlite_store(tmp_path, 3)
    code, document = doctor_json(capsys, "--store", url)
    assert code == 0
    assert check(document, "store") == {
        "check": "store",
        "status": "ok",
        "summary": f"{url} (from --store)",
        "advice": None,
    }
    assert check(document, "store access")["summary"] == (
        f"{tmp_path / 'usage.db'} is writable; it holds 3 records"
    )
    assert check(document, "journal")["status"] == "ok"
    assert check(document, "outbox records")["summary"] == "0 pending, 0 dead-lettered in 0 files"
    assert check(document, "identity provider")["status"] == "info"
    assert check(document, "configuration")["status"] == "info"
    installed = importlib.metadata.version("pydantic-ai-slim")
    assert check(document, "pydantic-ai")["summary"] == f"pydantic-ai-slim {installed}"
    assert check(document, "genai-prices")["status"] == "ok"


def test_the_store_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TOKENTRAIL_STORE", sqlite_store(tmp_path, 1))
    _, document = doctor_json(capsys)
    assert check(document, "store")["summary"].endswith("(from TOKENTRAIL_STORE)")
    assert "holds 1 records" in check(document, "store access")["summary"]


def test_the_embedded_default_is_a_warning_unless_a_store_is_required(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, document = doctor_json(capsys)
    store = check(document, "store")
    assert code == 0
    assert store["status"] == "warning"
    assert store["summary"] == (
        f"sqlite:///{tmp_path / 'data' / 'tokentrail' / 'usage.db'} (from embedded default)"
    )
    assert "TOKENTRAIL_STORE" in store["advice"]
    access = check(document, "store access")
    assert access["summary"].endswith("usage.db will be created at the first run")
    assert not (tmp_path / "data").exists(), "the doctor must never create a store"

    monkeypatch.setenv("TOKENTRAIL_REQUIRE_STORE", "1")
    code, document = doctor_json(capsys)
    assert code == 1
    assert check(document, "store")["status"] == "problem"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://app:pw@db/usage", "unknown store URL scheme 'mysql'"),
        ("sqlite://usage.db", "needs a file"),
    ],
)
def test_store_urls_that_cannot_work(
    capsys: pytest.CaptureFixture[str], url: str, expected: str
) -> None:
    code, document = doctor_json(capsys, "--store", url)
    assert code == 1
    access = check(document, "store access")
    assert access["status"] == "problem"
    assert expected in access["summary"]


def test_a_file_that_is_not_a_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "usage.db").write_text("not a database\n" * 100)
    code, document = doctor_json(capsys, "--store", f"sqlite:///{tmp_path / 'usage.db'}")
    assert code == 1
    assert check(document, "store access")["summary"].startswith(
        f"cannot read {tmp_path / 'usage.db'}"
    )


def test_journal_lines_waiting_and_unreadable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = sqlite_store(tmp_path, 0)
    journaled = open_sink(url)
    assert isinstance(journaled, JournaledStore)
    journaled.append([UsageRecord(model="gpt-4o") for _ in range(4)])
    try:
        code, document = doctor_json(capsys, "--store", url)
        journal = check(document, "journal")
        assert (code, journal["status"]) == (0, "info")
        assert "4 records waiting" in journal["summary"]

        # A line a crashed process left half-written: moving it keeps it in a .bad file.
        (journaled.folder / "999-dead.jsonl").write_text("{not json\n")
        journaled.drain()
        code, document = doctor_json(capsys, "--store", url)
        journal = check(document, "journal")
        assert (code, journal["status"]) == (1, "problem")
        assert "0 records waiting" in journal["summary"]
        assert "1 unreadable lines" in journal["summary"]
    finally:
        journaled.close()


def test_records_the_embedded_store_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = sqlite_store(tmp_path, 2)
    code, document = doctor_json(capsys, "--store", url)
    assert code == 0
    assert "dead letters" not in {found["check"] for found in document["checks"]}

    store = SQLiteStore(tmp_path / "usage.db")
    store.append([UsageRecord(model="gpt-4o", input_tokens=2**70)])  # beyond SQLite's integers
    store.close()

    code, document = doctor_json(capsys, "--store", url)
    dead = check(document, "dead letters")
    assert (code, dead["status"]) == (1, "problem")
    assert "1 records the store refused" in dead["summary"]
    assert "SELECT id, error FROM dead_letter" in dead["advice"]


def test_a_valid_configuration_file(
    isolated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (isolated / "pyproject.toml").write_text('[tool.tokentrail]\ntool-name = "class"\n')
    (isolated / "app").mkdir()
    _, document = doctor_json(capsys, "--store", sqlite_store(tmp_path, 0))
    configuration = check(document, "configuration")
    assert configuration["status"] == "ok"
    assert configuration["summary"].startswith(str(isolated / "pyproject.toml"))


def test_a_misspelt_configuration_key(
    isolated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (isolated / "pyproject.toml").write_text('[tool.tokentrail]\ntool-nmae = "class"\n')
    code, document = doctor_json(capsys, "--store", sqlite_store(tmp_path, 0))
    configuration = check(document, "configuration")
    assert (code, configuration["status"]) == (1, "problem")
    assert "tool-nmae" in configuration["summary"]


def test_libraries_missing_or_too_old(monkeypatch: pytest.MonkeyPatch) -> None:
    # This environment has both libraries installed: their absence is simulated at the metadata
    # lookup, which is the only thing the doctor asks.
    versions = {"pydantic-ai": "0.8.1"}

    def version(name: str) -> str:
        if name not in versions:
            raise importlib.metadata.PackageNotFoundError(name)
        return versions[name]

    monkeypatch.setattr(importlib.metadata, "version", version)
    too_old = _environment.pydantic_ai_finding()
    assert (too_old.status, too_old.summary) == ("problem", "pydantic-ai 0.8.1 is older than 1.0")
    assert _environment.genai_prices_finding().status == "warning"
    versions.clear()
    missing = _environment.pydantic_ai_finding()
    assert (missing.status, missing.summary) == ("problem", "not installed in this environment")


def test_plain_output_when_not_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["doctor", "--store", "mysql://x"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["ok", "store"]
    assert lines[1].split()[:3] == ["problem", "store", "access"]
    assert lines[2].strip().startswith("-> use sqlite:///FILE")
    assert lines[-1] == "1 problem, 0 warnings"
    assert "\x1b[" not in "\n".join(lines)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_rich_output_on_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    monkeypatch.setenv("COLUMNS", "160")
    assert main(["doctor", "--store", sqlite_store(tmp_path, 2)]) == 0
    text = terminal.getvalue()
    assert "tokentrail doctor" in text
    assert "┃" in text
    assert "holds 2 records" in text
    assert "pass --import MODULE" in text


def test_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--format", "yaml"]) == 2
    assert "error: argument --format" in capsys.readouterr().err
    assert main(["doctor", "--colour"]) == 2
    assert "--colour" in capsys.readouterr().err
