"""Coverage counts and their three report formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tokentrail_lint.analysis.model import FileAnalysis, Scope, Verdict
from tokentrail_lint.coverage_report import to_json, to_markdown, to_table
from tokentrail_lint.tracking_coverage import ProjectCoverage, Tally, measure

from .conftest import RunFactory


@pytest.fixture
def report(project_root: Path, make_run: RunFactory) -> ProjectCoverage:
    """Writer: 1 tracked, 1 untracked, 1 suppressed; module level: 1 unknown; app.py: 1 tracked."""
    module = Scope(None, "main")
    writer = FileAnalysis(
        path=project_root / "services" / "writer.py",
        runs=[
            make_run(line=3, tracked=True),
            make_run(line=4),
            make_run(line=5, suppressed_codes=frozenset({"TT001"})),
            make_run(line=6, is_super_call=True),
            make_run(line=7, verdict=Verdict.NOT_AGENT_RUN),
            make_run(line=8, verdict=Verdict.UNKNOWN, scope=module, reason="untyped parameter"),
        ],
    )
    app = project_root / "app.py"
    files = [
        writer,
        FileAnalysis(path=app, runs=[make_run(path=app, tracked=True, scope=module)]),
        FileAnalysis(path=project_root / "empty.py"),
    ]
    return measure(files, project_root)


def test_percent_is_100_when_there_is_nothing_to_track() -> None:
    assert Tally().percent == 100.0
    assert Tally(total=3, tracked=1, suppressed=1).percent == 66.67


def test_counts_per_project_file_and_class(report: ProjectCoverage) -> None:
    assert report.tally == Tally(total=4, tracked=2, suppressed=1, unknown=1)
    assert report.tally.percent == 75.0
    assert [file.path for file in report.files] == ["app.py", "empty.py", "services/writer.py"]
    writer = report.files[2]
    assert writer.tally == Tally(total=3, tracked=1, suppressed=1, unknown=1)
    assert writer.classes == {"Writer": Tally(total=3, tracked=1, suppressed=1)}
    assert [(run.line, run.call) for run in report.suppressed_runs] == [(5, "self.agent.run")]
    assert [(run.line, run.reason) for run in report.unknown_runs] == [(8, "untyped parameter")]


def test_json_has_the_contract_shape(report: ProjectCoverage) -> None:
    document = json.loads(to_json(report))
    assert {key: document[key] for key in ("total", "tracked", "suppressed", "unknown")} == {
        "total": 4,
        "tracked": 2,
        "suppressed": 1,
        "unknown": 1,
    }
    assert document["percent"] == 75.0
    assert [file["path"] for file in document["files"]] == ["app.py", "services/writer.py"]
    writer = document["files"][1]
    assert (writer["total"], writer["tracked"], writer["percent"]) == (3, 1, 66.67)
    assert writer["classes"] == [
        {
            "name": "Writer",
            "total": 3,
            "tracked": 1,
            "suppressed": 1,
            "unknown": 0,
            "percent": 66.67,
        }
    ]
    assert document["suppressed_runs"] == [
        {"path": "services/writer.py", "line": 5, "column": 24, "call": "self.agent.run"}
    ]
    assert document["unknown_runs"][0]["reason"] == "untyped parameter"


def test_table_aligns_and_lists_the_exceptions(report: ProjectCoverage) -> None:
    lines = to_table(report).splitlines()
    assert lines[0].split() == ["scope", "runs", "tracked", "suppressed", "unknown", "percent"]
    assert lines[1].split() == ["app.py", "1", "1", "0", "0", "100.0%"]
    assert lines[2].split() == ["services/writer.py", "3", "1", "1", "1", "66.7%"]
    assert lines[3].split() == ["services/writer.py::Writer", "3", "1", "1", "0", "66.7%"]
    assert lines[4].split() == ["TOTAL", "4", "2", "1", "1", "75.0%"]
    assert lines[5] == "suppressed: services/writer.py:5:24 self.agent.run"
    assert lines[6] == "unknown: services/writer.py:8:24 self.agent.run (untyped parameter)"


def test_markdown_is_a_table_for_job_summaries(report: ProjectCoverage) -> None:
    markdown = to_markdown(report)
    lines = markdown.splitlines()
    assert lines[0] == "### tokentrail coverage: 75.0% of agent runs tracked"
    assert lines[2] == "| scope | runs | tracked | suppressed | unknown | percent |"
    assert lines[3] == "|:---|---:|---:|---:|---:|---:|"
    assert "| `services/writer.py::Writer` | 3 | 1 | 1 | 0 | 66.7% |" in lines
    assert "| **total** | 4 | 2 | 1 | 1 | 75.0% |" in lines
    assert "- `suppressed: services/writer.py:5:24 self.agent.run`" in lines


def test_markdown_without_exceptions_ends_with_the_table(project_root: Path) -> None:
    markdown = to_markdown(measure([FileAnalysis(path=project_root / "x.py")], project_root))
    assert markdown.splitlines()[-1] == "| **total** | 0 | 0 | 0 | 0 | 100.0% |"
