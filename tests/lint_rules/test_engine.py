"""Severities, selections, suppressions, per-file ignores and fingerprints."""

from __future__ import annotations

from pathlib import Path

from tokentrail_lint.analysis.model import FileAnalysis, RunSite, Span, Verdict
from tokentrail_lint.engine import RuleSettings, check_files, relative_to_root
from tokentrail_lint.findings import Severity

from .conftest import RunFactory


def _writer(project_root: Path, runs: list[RunSite]) -> FileAnalysis:
    return FileAnalysis(path=project_root / "services" / "writer.py", runs=runs)


def test_defaults_follow_the_contract() -> None:
    settings = RuleSettings()
    assert [settings.severity_of(code) for code in ("TT000", "TT001", "TT002", "TT003")] == [
        Severity.ERROR,
        Severity.ERROR,
        Severity.OFF,
        Severity.ERROR,
    ]
    assert settings.severity_of("TT005") is Severity.WARNING
    assert settings.severity_of("TT006") is Severity.INFO


def test_select_runs_exactly_the_named_codes() -> None:
    settings = RuleSettings.from_selection({"TT001", "TT002", "TT004"})
    assert settings.severity_of("TT001") is Severity.ERROR
    assert settings.severity_of("TT002") is Severity.ERROR
    assert settings.severity_of("TT003") is Severity.OFF
    assert settings.severity_of("TT006") is Severity.OFF


def test_extend_select_adds_and_ignore_wins() -> None:
    settings = RuleSettings.from_selection(None, {"TT002", "TT005"}, {"TT005", "TT006"})
    assert settings.severity_of("TT002") is Severity.ERROR
    assert settings.severity_of("TT001") is Severity.ERROR
    assert settings.severity_of("TT005") is Severity.OFF
    assert settings.severity_of("TT006") is Severity.OFF


def test_noqa_hides_only_the_codes_it_names(project_root: Path, make_run: RunFactory) -> None:
    runs = [
        make_run(line=3, suppressed_codes=frozenset({"TT001"})),
        make_run(line=4, suppressed_codes=frozenset({"TT006"})),
        make_run(line=5, verdict=Verdict.UNKNOWN, suppressed_codes=frozenset({"TT006"})),
    ]
    findings = check_files([_writer(project_root, runs)], project_root, RuleSettings())
    assert [(finding.span.line, finding.code) for finding in findings] == [(4, "TT001")]


def test_per_file_ignores_switch_codes_off_for_matching_files(
    project_root: Path, make_run: RunFactory
) -> None:
    files = [_writer(project_root, [make_run(), make_run(verdict=Verdict.UNKNOWN)])]

    def ignored(path: Path) -> frozenset[str]:
        return frozenset({"TT001"}) if path.name == "writer.py" else frozenset()

    findings = check_files(files, project_root, RuleSettings(), ignored)
    assert [finding.code for finding in findings] == ["TT006"]


def test_findings_carry_paths_relative_to_the_root(
    project_root: Path, make_run: RunFactory
) -> None:
    [finding] = check_files([_writer(project_root, [make_run()])], project_root, RuleSettings())
    assert finding.relative_path == "services/writer.py"
    assert finding.severity is Severity.ERROR
    assert relative_to_root(Path("/elsewhere/x.py"), project_root) == "/elsewhere/x.py"


def test_fingerprints_survive_line_shifts_and_tell_duplicates_apart(
    project_root: Path, make_run: RunFactory
) -> None:
    before = check_files(
        [_writer(project_root, [make_run(line=10), make_run(line=12)])],
        project_root,
        RuleSettings(),
    )
    after = check_files(
        [_writer(project_root, [make_run(line=40, span=Span(40, 9, 40, 30)), make_run(line=47)])],
        project_root,
        RuleSettings(),
    )
    assert [finding.fingerprint for finding in before] == [finding.fingerprint for finding in after]
    assert before[0].fingerprint != before[1].fingerprint


def test_fingerprints_change_with_the_enclosing_function(
    project_root: Path, make_run: RunFactory
) -> None:
    from tokentrail_lint.analysis.model import Scope

    [first] = check_files([_writer(project_root, [make_run()])], project_root, RuleSettings())
    [moved] = check_files(
        [_writer(project_root, [make_run(scope=Scope("Writer", "rewrite", is_method=True))])],
        project_root,
        RuleSettings(),
    )
    assert first.fingerprint != moved.fingerprint


def test_files_come_out_sorted_by_path(project_root: Path, make_run: RunFactory) -> None:
    other = FileAnalysis(
        path=project_root / "app.py", runs=[make_run(path=project_root / "app.py")]
    )
    findings = check_files(
        [_writer(project_root, [make_run()]), other], project_root, RuleSettings()
    )
    assert [finding.relative_path for finding in findings] == ["app.py", "services/writer.py"]
