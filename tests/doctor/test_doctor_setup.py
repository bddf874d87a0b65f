"""The application's side of the doctor, in this process: an imported module's `configure()`,
Supabase settings, and an outbox folder that cannot be written."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tokentrail import _context
from tokentrail._cli import main
from tokentrail.doctor._environment import identity_finding, import_application
from tokentrail.stores._outbox_file import OutboxFile


@pytest.fixture
def fresh_defaults(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Process defaults and `sys.path` restored after the test, so `configure()` leaks nowhere."""
    monkeypatch.setattr(_context, "_defaults", _context._Defaults())
    monkeypatch.setattr(sys, "path", [entry for entry in sys.path if entry != ""])
    return isolated


def doctor_json(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, dict[str, Any]]:
    code = main(["doctor", "--format", "json", *arguments])
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return code, document


def check(document: dict[str, Any], name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [c for c in document["checks"] if c["check"] == name]
    assert len(found) == 1, document
    return found[0]


def test_a_module_that_configures_a_store_and_an_identity_provider(
    fresh_defaults: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (fresh_defaults / "settings_with_identity.py").write_text(
        "import tokentrail\n\n"
        "class Identity:\n"
        "    def __call__(self):\n"
        "        return ('user-1', 'org-1')\n\n"
        f"tokentrail.configure(store='sqlite:///{tmp_path / 'app.db'}', "
        "identity_provider=Identity())\n"
    )
    store, failure = import_application("settings_with_identity")
    assert (store, failure) == (f"sqlite:///{tmp_path / 'app.db'}", None)
    identity = identity_finding("settings_with_identity")
    assert (identity.status, identity.summary) == (
        "ok",
        "settings_with_identity.Identity (set by settings_with_identity)",
    )

    code, document = doctor_json(capsys, "--import", "settings_with_identity")
    assert code == 0
    assert check(document, "store")["summary"].endswith("(from configure() in the imported module)")


def test_a_module_that_configures_nothing(
    fresh_defaults: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (fresh_defaults / "settings_plain.py").write_text("VALUE = 1\n")
    assert import_application("settings_plain") == (None, None)
    code, document = doctor_json(capsys, "--import", "settings_plain")
    identity = check(document, "identity provider")
    assert (code, identity["status"]) == (0, "warning")
    assert "configure(identity_provider=...)" in identity["advice"]
    assert check(document, "store")["summary"].endswith("(from embedded default)")


def test_a_module_that_cannot_be_imported(
    fresh_defaults: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, document = doctor_json(capsys, "--import", "no_such_settings_module")
    application = check(document, "application")
    assert (code, application["status"]) == (1, "problem")
    assert "ModuleNotFoundError" in application["summary"]


def test_supabase_without_its_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SUPABASE_URL", "https://abcd.supabase.co")
    code, document = doctor_json(capsys, "--store", "supabase://")
    access = check(document, "store access")
    assert (code, access["status"]) == (1, "problem")
    assert access["summary"] == (
        "supabase:// needs SUPABASE_SERVICE_ROLE_KEY, not set in this environment"
    )


def test_supabase_never_shows_its_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key = "sb_secret_0123456789abcdef"
    monkeypatch.setenv("SUPABASE_URL", "https://abcd.supabase.co")
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", key)
    monkeypatch.setenv("TOKENTRAIL_STORE", "supabase://")
    code, document = doctor_json(capsys)
    access = check(document, "store access")
    if importlib.util.find_spec("supabase") is None:
        # The environments that test older pydantic-ai versions install no extras.
        assert (code, access["status"]) == (1, "problem")
        assert access["advice"] == "pip install 'tokentrail[supabase]'"
    else:
        assert (code, access["status"]) == (0, "info")
        assert "abcd.supabase.co" in access["summary"]
    assert key not in json.dumps(document)
    assert main(["doctor"]) == code
    assert key not in capsys.readouterr().out


def test_an_outbox_folder_that_cannot_be_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A file where a folder should be: nobody, root included, can create the outbox under it.
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("TOKENTRAIL_OUTBOX_DIR", str(blocker / "outbox"))
    code, document = doctor_json(capsys, "--store", "postgresql://app@127.0.0.1:9/usage")
    outbox = check(document, "outbox")
    assert (code, outbox["status"]) == (1, "problem")
    assert "kept in memory only" in outbox["summary"]

    code, document = doctor_json(capsys, "--store", f"sqlite:///{tmp_path / 'usage.db'}")
    assert check(document, "outbox")["status"] == "warning"
    assert code == 0


def test_an_outbox_file_that_cannot_be_read(
    outbox_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    OutboxFile(outbox_dir / "postgres-db-5432-app").close()
    broken = outbox_dir / "postgres-db-5432-app" / "broken.outbox"
    broken.write_text("this is not SQLite\n" * 50)
    code, document = doctor_json(capsys, "--store", "sqlite:///usage.db")
    problems = [c for c in document["checks"] if c["check"] == "outbox records"]
    assert code == 1
    assert problems[0]["summary"].startswith(f"cannot read {broken}")


def test_a_sqlite_store_under_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    code, document = doctor_json(capsys, "--store", f"sqlite:///{blocker / 'usage.db'}")
    access = check(document, "store access")
    assert (code, access["status"]) == (1, "problem")
    assert access["summary"] == (
        f"{blocker / 'usage.db'} does not exist and {blocker} is not writable"
    )


def test_unreadable_lines_in_a_remote_stores_journal(
    outbox_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    journal = outbox_dir / "postgres-db-5432-app" / "journal"
    journal.mkdir(parents=True)
    (journal / "123-abcd.jsonl").write_text('{"id": "1"}\n{"id": "2"}\n')
    (journal / "77-dead.jsonl.bad").write_text("{half a line\n")
    code, document = doctor_json(capsys, "--store", "sqlite:///usage.db")
    records = check(document, "outbox records")
    assert (code, records["status"]) == (1, "problem")
    assert records["summary"] == (
        "2 pending, 0 dead-lettered in 0 files (2 of them still in journals); "
        "1 unreadable journal lines kept in .bad files"
    )
