"""`tokentrail outbox status|retry|export` on real outbox files."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tokentrail._cli import main
from tokentrail._record import UsageRecord
from tokentrail.stores._codec import record_to_json
from tokentrail.stores._outbox_file import OutboxFile


@pytest.fixture
def files(outbox_dir: Path) -> Iterator[tuple[OutboxFile, list[UsageRecord]]]:
    """A running process's outbox with two waiting records and one dead letter."""
    records = [UsageRecord(model=f"m{i}") for i in range(3)]
    outbox = OutboxFile(outbox_dir / "postgres-db-5432-app")
    outbox.append([(record.id, record_to_json(record)) for record in records])
    bad = outbox.oldest(1)[0]
    outbox.dead_letter(bad, "23514: check failed")
    yield outbox, records
    outbox.close()


def test_status_lists_each_file(
    files: tuple[OutboxFile, list[UsageRecord]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["outbox", "status"]) == 1

    header, row = capsys.readouterr().out.splitlines()
    assert header.split("\t")[:4] == ["store", "file", "waiting", "dead letters"]
    fields = row.split("\t")
    assert fields[0] == "postgres-db-5432-app"
    assert fields[2:4] == ["2", "1"]
    assert fields[5] == "running"


def test_retry_queues_dead_letters_again(
    files: tuple[OutboxFile, list[UsageRecord]], capsys: pytest.CaptureFixture[str]
) -> None:
    outbox, _ = files

    assert main(["outbox", "retry", "postgres-db-5432-app"]) == 0

    assert outbox.counts()[:2] == (3, 0)
    assert "1 dead-lettered records queued" in capsys.readouterr().out


def test_export_writes_json_lines(
    files: tuple[OutboxFile, list[UsageRecord]], tmp_path: Path
) -> None:
    _, records = files
    output = tmp_path / "export.jsonl"

    assert main(["outbox", "export", "--pending", "--output", str(output)]) == 0

    lines = [json.loads(line) for line in output.read_text().splitlines()]
    assert sorted(line["record"]["id"] for line in lines) == sorted(r.id for r in records)
    assert [line["error"] for line in lines if line["error"]] == ["23514: check failed"]


def test_a_stopped_owner_is_shown(outbox_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outbox = OutboxFile(outbox_dir / "supabase-x")
    outbox.append([("one", record_to_json(UsageRecord(id="one")))])
    outbox.close()

    assert main(["outbox", "status"]) == 0
    assert "stopped" in capsys.readouterr().out


def test_empty_and_unknown(outbox_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["outbox", "status"]) == 0
    assert main(["outbox", "export", "nope"]) == 2
    assert main(["outbox", "bogus"]) == 2
    captured = capsys.readouterr()
    assert "no outbox files" in captured.out
    assert "error: STORE: no outbox folder 'nope'" in captured.err


class Terminal(io.StringIO):
    """Standard output as a terminal sees it."""

    def isatty(self) -> bool:
        return True


def test_status_on_a_terminal_is_a_table(
    files: tuple[OutboxFile, list[UsageRecord]], monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    monkeypatch.setenv("COLUMNS", "200")

    assert main(["outbox", "status"]) == 1

    text = terminal.getvalue()
    assert "dead letters" in text
    assert "postgres-db-5432-app" in text
    assert "\t" not in text


def test_an_unreadable_outbox_is_an_error(
    outbox_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = outbox_dir / "postgres-db-5432-app"
    folder.mkdir(parents=True)
    (folder / "broken.outbox").write_text("not a database")

    assert main(["outbox", "status"]) == 2
    assert "error: cannot read the outbox" in capsys.readouterr().err
