"""The published hook, for real: pre-commit installs it from a git repository of this checkout.

One test, because pre-commit pip-installs the hook repository (from PyPI: libcst, rich and the
build backend) into its own environment, which takes a few seconds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

_SERVICE = '''"""Writes articles."""

from pydantic_ai import Agent


class WriterService:
    def __init__(self) -> None:
        self.agent = Agent("test")

    async def write(self, topic: str) -> str:
        result = await self.agent.run(topic)
        return result.output
'''


def _git(cwd: Path, *args: str) -> str:
    completed = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return completed.stdout.strip()


@pytest.fixture
def git_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Identity for commits and a private pre-commit cache."""
    for variable in ("GIT_AUTHOR", "GIT_COMMITTER"):
        monkeypatch.setenv(f"{variable}_NAME", "Test")
        monkeypatch.setenv(f"{variable}_EMAIL", "test@example.invalid")
    monkeypatch.setenv("PRE_COMMIT_HOME", str(tmp_path / "pre-commit-home"))
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ['PATH']}")


def _hook_repository(tmp_path: Path) -> tuple[Path, str]:
    """Copy the installable part of this checkout into a new git repository; return it, its sha."""
    repository = tmp_path / "tokentrail-hooks"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".tokentrail")
    for folder in ("runtime", "codemods", "lint_rules"):
        shutil.copytree(CHECKOUT / folder, repository / folder, ignore=ignore)
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy2(CHECKOUT / name, repository / name)
    _git(repository.parent, "init", "-q", repository.name)
    _git(repository, "add", "-A")
    _git(repository, "commit", "-q", "-m", "hooks")
    return repository, _git(repository, "rev-parse", "HEAD")


def _user_project(tmp_path: Path, hooks: Path, sha: str) -> Path:
    project = tmp_path / "app"
    (project / "services").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0"\n\n[tool.tokentrail]\n', encoding="utf-8"
    )
    (project / "services" / "__init__.py").write_text("", encoding="utf-8")
    (project / "services" / "writer_service.py").write_text(_SERVICE, encoding="utf-8")
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hooks}\n    rev: {sha}\n    hooks:\n      - id: tokentrail-check\n",
        encoding="utf-8",
    )
    _git(tmp_path, "init", "-q", project.name)
    _git(project, "add", "-A")
    return project


def _pre_commit(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BIN / "pre-commit", "run", "--all-files", "--color", "never"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


@pytest.mark.usefixtures("git_environment")
def test_the_hook_fails_on_an_untracked_run_and_passes_after_the_codemod(
    tmp_path: Path,
) -> None:
    hooks, sha = _hook_repository(tmp_path)
    project = _user_project(tmp_path, hooks, sha)

    failing = _pre_commit(project)
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "tokentrail check" in failing.stdout
    assert "services/writer_service.py:11:24: TT001 untracked agent run" in failing.stdout

    codemod = subprocess.run(
        [BIN / "tokentrail", "codemod", "services"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert codemod.returncode == 0, codemod.stdout + codemod.stderr
    assert "run_agent_with_tracking" in (project / "services" / "writer_service.py").read_text(
        encoding="utf-8"
    )
    _git(project, "add", "-A")

    passing = _pre_commit(project)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "Passed" in passing.stdout


def test_the_manifest_and_this_repositorys_configuration_are_valid() -> None:
    for command in (
        ["validate-manifest", ".pre-commit-hooks.yaml"],
        ["validate-config", ".pre-commit-config.yaml"],
    ):
        completed = subprocess.run(
            [BIN / "pre-commit", *command],
            cwd=CHECKOUT,
            capture_output=True,
            text=True,
            check=False,
        )
        assert completed.returncode == 0, completed.stdout + completed.stderr
