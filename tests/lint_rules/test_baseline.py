"""Baselines: record today's findings, then report only new ones, even after code moves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tokentrail_lint.analysis.model import FileAnalysis, RunSite, Scope
from tokentrail_lint.baseline import (
    BaselineError,
    load_baseline,
    without_baselined,
    write_baseline,
)
from tokentrail_lint.engine import RuleSettings, check_files
from tokentrail_lint.findings import Finding

from .conftest import RunFactory


def _check(project_root: Path, *runs: RunSite, error: str | None = None) -> list[Finding]:
    file = FileAnalysis(path=project_root / "services" / "writer.py", runs=list(runs), error=error)
    return check_files([file], project_root, RuleSettings())


def test_round_trip_hides_old_findings_and_reports_new_ones(
    project_root: Path, make_run: RunFactory, tmp_path: Path
) -> None:
    baseline = tmp_path / "baseline.json"
    assert write_baseline(baseline, _check(project_root, make_run(line=10))) == 1

    shifted_plus_new = _check(
        project_root,
        make_run(line=25),
        make_run(line=30, scope=Scope("Writer", "outline", is_method=True)),
    )
    remaining, hidden = without_baselined(shifted_plus_new, load_baseline(baseline))
    assert hidden == 1
    assert [finding.span.line for finding in remaining] == [30]


def test_a_second_identical_run_in_the_same_function_is_new(
    project_root: Path, make_run: RunFactory, tmp_path: Path
) -> None:
    baseline = tmp_path / "baseline.json"
    write_baseline(baseline, _check(project_root, make_run(line=10)))
    remaining, hidden = without_baselined(
        _check(project_root, make_run(line=10), make_run(line=11)), load_baseline(baseline)
    )
    assert (len(remaining), hidden) == (1, 1)


def test_the_file_is_sorted_readable_json(
    project_root: Path, make_run: RunFactory, tmp_path: Path
) -> None:
    baseline = tmp_path / "baseline.json"
    write_baseline(
        baseline,
        _check(
            project_root,
            make_run(line=12, scope=Scope("Writer", "b", is_method=True)),
            make_run(line=10, scope=Scope("Writer", "a", is_method=True)),
        ),
    )
    document = json.loads(baseline.read_text(encoding="utf-8"))
    assert document["version"] == 1
    entries = document["findings"]
    assert {entry["path"] for entry in entries} == {"services/writer.py"}
    assert entries == sorted(
        entries, key=lambda entry: (entry["path"], entry["code"], entry["fingerprint"])
    )


def test_unparsable_files_are_never_baselined(project_root: Path, tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    findings = _check(project_root, error="invalid syntax")
    assert write_baseline(baseline, findings) == 0
    remaining, hidden = without_baselined(
        findings, frozenset(finding.fingerprint for finding in findings)
    )
    assert ([finding.code for finding in remaining], hidden) == (["TT000"], 0)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "cannot read baseline"),
        ("{not json", "is not JSON"),
        ('{"version": 99, "findings": []}', "is not a tokentrail baseline"),
        ("[]", "is not a tokentrail baseline"),
    ],
)
def test_unusable_baselines_say_what_to_do(
    tmp_path: Path, content: str | None, expected: str
) -> None:
    baseline = tmp_path / "baseline.json"
    if content is not None:
        baseline.write_text(content, encoding="utf-8")
    with pytest.raises(BaselineError, match=expected):
        load_baseline(baseline)
