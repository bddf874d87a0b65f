"""`tokentrail coverage` end to end on the fixture project."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tokentrail_lint.coverage_cli import main

FIXTURE = Path(__file__).parent / "fixtures" / "service_project"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "service_project"
    shutil.copytree(FIXTURE, root)
    monkeypatch.chdir(root)
    return root


def test_json_counts_per_file_and_class(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--format", "json", "services"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["total"], document["tracked"], document["suppressed"]) == (3, 2, 0)
    assert document["percent"] == 66.67
    by_path = {file["path"]: file for file in document["files"]}
    assert sorted(by_path) == ["services/report_service.py", "services/writer_service.py"]
    writer = by_path["services/writer_service.py"]
    assert (writer["total"], writer["tracked"], writer["percent"]) == (2, 1, 50.0)
    assert [cls["name"] for cls in writer["classes"]] == ["WriterService"]


def test_fail_under(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--fail-under", "66", "services"]) == 0
    assert main(["--fail-under", "100", "services"]) == 1
    assert "below --fail-under 100%" in capsys.readouterr().err


def test_suppressed_runs_count_as_tracked_and_are_listed(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = project / "services" / "writer_service.py"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "await self.agent.run(topic)", "await self.agent.run(topic)  # noqa: TT001"
        ),
        encoding="utf-8",
    )
    assert main(["--fail-under", "100", "--format", "markdown", "services"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("### tokentrail coverage: 100.0% of agent runs tracked")
    assert "- `suppressed: services/writer_service.py:13:24 self.agent.run`" in out


def test_table_is_the_default(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["services"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[0] == "scope"
    assert lines[-1].split() == ["TOTAL", "3", "2", "0", "0", "66.7%"]


def test_unparsable_files_exit_2(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "services" / "broken.py").write_text(
        "from pydantic_ai import Agent\n\ndef broken(:\n", encoding="utf-8"
    )
    assert main(["services"]) == 2
    assert "services/broken.py" in capsys.readouterr().err


@pytest.mark.parametrize(
    "arguments", [["--fail-under", "abc"], ["--fail-under", "101"], ["missing"]]
)
def test_usage_errors_exit_2(project: Path, arguments: list[str]) -> None:
    assert main(arguments) == 2


def test_configuration_errors_exit_2(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8") + "colour = true\n", encoding="utf-8"
    )
    assert main(["services"]) == 2
    assert "colour" in capsys.readouterr().err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "--fail-under" in capsys.readouterr().out
