"""Every output format, from the same findings: text, JSON, SARIF 2.1.0 and GitHub annotations.

`sarif-schema-2.1.0.json` is the official SARIF 2.1.0 JSON schema (its final `2.1.0-rtm.5`
build, draft-04), as shipped in the npm package `@microsoft/jest-sarif` 1.0.0-beta.0; tests
cannot download it.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]  # no stubs are installed; only used in tests
import pytest

from tokentrail_lint.analysis.model import FileAnalysis, Span, Verdict
from tokentrail_lint.engine import RuleSettings, check_files
from tokentrail_lint.findings import Finding
from tokentrail_lint.formats import RENDERERS, ReportContext, github, json_output, sarif, text

from ..conftest import RunFactory

SCHEMA = Path(__file__).parent.parent / "sarif-schema-2.1.0.json"


@pytest.fixture
def findings(project_root: Path, make_run: RunFactory) -> list[Finding]:
    """An error, an info and an unparsable file, with a message that needs escaping."""
    runs = [
        make_run(line=4),
        make_run(
            line=9,
            span=Span(9, 5, 9, 18),
            verdict=Verdict.UNKNOWN,
            receiver="agents['a,b']",
            reason="subscript: cannot tell\nwhich value",
        ),
    ]
    files = [
        FileAnalysis(path=project_root / "services" / "writer.py", runs=runs),
        FileAnalysis(path=project_root / "broken.py", error="invalid syntax (line 2, column 7)"),
    ]
    return check_files(files, project_root, RuleSettings())


@pytest.fixture
def context(project_root: Path) -> ReportContext:
    return ReportContext(root=project_root, cwd=project_root)


def test_text_is_one_clickable_line_per_finding(
    findings: list[Finding], context: ReportContext
) -> None:
    lines = text.render(findings, context).splitlines()
    assert lines[0] == "broken.py:1:1: TT000 invalid syntax (line 2, column 7)"
    assert lines[1].startswith("services/writer.py:4:24: TT001 untracked agent run `self.agent")
    assert lines[2].startswith("services/writer.py:9:5: TT006 ")
    assert text.render([], context) == ""


def test_text_paths_outside_the_working_directory_stay_absolute(
    findings: list[Finding], project_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = ReportContext(root=project_root, cwd=tmp_path_factory.mktemp("elsewhere"))
    first = text.render(findings, elsewhere).splitlines()[0]
    assert first.startswith(f"{(project_root / 'broken.py').resolve().as_posix()}:1:1: TT000")


def test_json_is_an_array_with_the_contract_keys(
    findings: list[Finding], context: ReportContext
) -> None:
    objects = json.loads(json_output.render(findings, context))
    assert isinstance(objects, list)
    assert {"path", "line", "column", "end_line", "end_column", "code", "message"} <= set(
        objects[1]
    )
    assert objects[1] == {
        "path": "services/writer.py",
        "line": 4,
        "column": 24,
        "end_line": 4,
        "end_column": 50,
        "code": "TT001",
        "message": findings[1].message,
        "severity": "error",
        "fingerprint": findings[1].fingerprint,
    }
    assert json.loads(json_output.render([], context)) == []


def test_sarif_validates_against_the_official_schema(
    findings: list[Finding], context: ReportContext
) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    log = json.loads(sarif.render(findings, context))
    validator = jsonschema.Draft4Validator(
        schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(log), key=str)
    assert errors == []

    empty = json.loads(sarif.render([], context))
    assert list(validator.iter_errors(empty)) == []


def test_sarif_carries_what_code_scanning_needs(
    findings: list[Finding], context: ReportContext, project_root: Path
) -> None:
    log = json.loads(sarif.render(findings, context))
    [run] = log["runs"]
    assert log["version"] == "2.1.0"
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == project_root.resolve().as_uri() + "/"
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == [
        "TT000",
        "TT001",
        "TT002",
        "TT003",
        "TT004",
        "TT005",
        "TT006",
    ]
    assert rules[2]["defaultConfiguration"] == {"enabled": False, "level": "error"}
    assert rules[5]["defaultConfiguration"] == {"level": "warning"}

    levels = [(result["ruleId"], result["level"]) for result in run["results"]]
    assert levels == [("TT000", "error"), ("TT001", "error"), ("TT006", "note")]
    second = run["results"][1]
    assert rules[second["ruleIndex"]]["id"] == "TT001"
    location = second["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {
        "uri": "services/writer.py",
        "uriBaseId": "%SRCROOT%",
    }
    assert location["region"] == {"startLine": 4, "startColumn": 24, "endLine": 4, "endColumn": 50}
    assert second["partialFingerprints"] == {"tokentrailFingerprint/v1": findings[1].fingerprint}


def test_sarif_names_files_outside_the_root_by_absolute_uri(
    project_root: Path, make_run: RunFactory, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside") / "script.py"
    file = FileAnalysis(path=outside, runs=[make_run(path=outside)])
    [finding] = check_files([file], project_root, RuleSettings())
    log = sarif.build_log([finding], ReportContext(project_root, project_root))
    artifact = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": outside.resolve().as_uri()}


def test_github_annotations_escape_properties_and_messages(
    findings: list[Finding], context: ReportContext
) -> None:
    lines = github.render(findings, context).splitlines()
    assert lines[0] == (
        "::error file=broken.py,line=1,col=1,endLine=1,endColumn=1,title=tokentrail TT000"
        "::TT000 invalid syntax (line 2, column 7)"
    )
    assert lines[1].startswith(
        "::error file=services/writer.py,line=4,col=24,endLine=4,endColumn=50,"
    )
    assert lines[2].startswith("::notice file=services/writer.py,line=9,col=5,")
    assert "%0Awhich value" in lines[2]
    assert len(lines) == 3


def test_github_escapes_commas_and_colons_in_file_names(
    project_root: Path, make_run: RunFactory
) -> None:
    odd = project_root / "a,b:c.py"
    [finding] = check_files(
        [FileAnalysis(path=odd, runs=[make_run(path=odd)])], project_root, RuleSettings()
    )
    line = github.format_annotation(finding, ReportContext(project_root, project_root))
    assert line.startswith("::error file=a%2Cb%3Ac.py,line=10,")


def test_every_format_is_registered() -> None:
    assert sorted(RENDERERS) == ["github", "json", "sarif", "text"]
