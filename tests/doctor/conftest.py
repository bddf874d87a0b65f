"""A clean environment for each doctor test: its own folders, no store set, no project around."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty folder, with the outbox, data and state homes inside it."""
    for name in ("TOKENTRAIL_STORE", "TOKENTRAIL_REQUIRE_STORE", "SUPABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("SUPABASE_SERVICE_ROLE_KEY", raising=False)
    monkeypatch.setenv("TOKENTRAIL_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    project = tmp_path / "project"
    project.mkdir()
    # A .git folder stops the search for a configuration above the test's folder.
    (project / ".git").mkdir()
    monkeypatch.chdir(project)
    return project


@pytest.fixture
def outbox_dir(tmp_path: Path) -> Path:
    """The outbox root the `isolated` fixture set as `TOKENTRAIL_OUTBOX_DIR`."""
    return tmp_path / "outbox"
