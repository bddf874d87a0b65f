"""What a user who gets something wrong sees: exit code 2 and an `error:` line naming it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tokentrail.report.cli import main


def error_line(capsys: pytest.CaptureFixture[str], arguments: list[str]) -> str:
    assert main(arguments) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = [line for line in captured.err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, captured.err
    return lines[0]


def test_missing_store_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere" / "usage.db"
    line = error_line(capsys, ["--store", f"sqlite:///{missing}"])
    assert str(missing) in line
    assert "does not exist" in line
    assert "TOKENTRAIL_STORE" in line
    assert not missing.parent.exists(), "a report must never create a store"


def test_unknown_group_key(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    line = error_line(capsys, ["--store", store_url, "--by", "organization,team"])
    assert line.startswith("error: --by: unknown key 'team'")
    assert "organization, user, tool, operation, model, provider, day" in line


def test_repeated_group_key(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert "repeated" in error_line(capsys, ["--store", store_url, "--by", "user,user"])


@pytest.mark.parametrize(
    ("flag", "value"), [("--since", "yesterday"), ("--until", "2026-13-01"), ("--since", "12/01")]
)
def test_bad_date(
    store_url: str, capsys: pytest.CaptureFixture[str], flag: str, value: str
) -> None:
    line = error_line(capsys, ["--store", store_url, flag, value])
    assert line.startswith(f"error: {flag}: {value!r} is not an ISO date")


def test_empty_window(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    line = error_line(
        capsys, ["--store", store_url, "--since", "2026-12-02", "--until", "2026-12-01"]
    )
    assert "--since 2026-12-02 is not before --until 2026-12-01" in line


def test_unknown_flag_and_format(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert "--colour" in error_line(capsys, ["--store", store_url, "--colour"])
    assert "'html'" in error_line(capsys, ["--store", store_url, "--format", "html"])


def test_file_without_the_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as database:
        database.execute("CREATE TABLE notes (body TEXT)")
    database.close()
    line = error_line(capsys, ["--store", f"sqlite:///{other}"])
    assert "has no token_usage table" in line


def test_file_that_is_not_sqlite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = tmp_path / "usage.db"
    text.write_text("these are not the records you are looking for\n" * 20)
    line = error_line(capsys, ["--store", f"sqlite:///{text}"])
    assert line.startswith(f"error: cannot read {text}")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("supabase://", "postgresql:// connection string"),
        ("mysql://localhost/usage", "unknown store URL 'mysql'"),
        ("sqlite://usage.db", "needs a file"),
    ],
)
def test_stores_a_report_cannot_read(
    capsys: pytest.CaptureFixture[str], url: str, expected: str
) -> None:
    assert expected in error_line(capsys, ["--store", url])


def test_unreachable_postgres_hides_the_password(capsys: pytest.CaptureFixture[str]) -> None:
    # Port 9 on loopback (discard) has no PostgreSQL: the connection is refused at once.
    line = error_line(capsys, ["--store", "postgresql://billing:s3cret@127.0.0.1:9/usage"])
    assert line.startswith("error: cannot read postgresql://billing:***@127.0.0.1:9/usage")
    assert "s3cret" not in line
