"""SARIF 2.1.0, the format GitHub code scanning uploads.

Paths are relative to the project root under the `%SRCROOT%` base, so results line up with the
repository whichever directory the check ran in. Columns count characters
(`columnKind: unicodeCodePoints`); `partialFingerprints` carry the baseline fingerprint, so
code scanning follows a finding as code moves.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from tokentrail_lint.findings import Finding, Severity
from tokentrail_lint.formats._context import ReportContext
from tokentrail_lint.rules import ALL_RULES, Rule

SCHEMA_URI: Final = "https://json.schemastore.org/sarif-2.1.0.json"
_ROOT_BASE: Final = "%SRCROOT%"
_LEVEL: Final[dict[Severity, str]] = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "note",
}


def _tool_version() -> str:
    from importlib import metadata  # about 15 ms: paid only when SARIF is asked for

    try:
        return metadata.version("tokentrail")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def _default_configuration(rule: Rule) -> dict[str, Any]:
    if rule.default_severity is Severity.OFF:
        return {"enabled": False, "level": _LEVEL[rule.severity_when_selected]}
    return {"level": _LEVEL[rule.default_severity]}


def _driver() -> dict[str, Any]:
    rules = [
        {
            "id": rule.code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": rule.rationale},
            "defaultConfiguration": _default_configuration(rule),
            "help": {"text": f"{rule.rationale} See docs/rules/{rule.code}.md."},
        }
        for rule in ALL_RULES
    ]
    return {"name": "tokentrail", "version": _tool_version(), "rules": rules}


def _location(finding: Finding) -> dict[str, Any]:
    if finding.relative_path.startswith("/"):
        artifact = {"uri": Path(finding.relative_path).as_uri()}
    else:
        artifact = {"uri": finding.relative_path, "uriBaseId": _ROOT_BASE}
    span = finding.span
    region = {
        "startLine": span.line,
        "startColumn": span.column,
        "endLine": span.end_line,
        "endColumn": span.end_column,
    }
    return {"physicalLocation": {"artifactLocation": artifact, "region": region}}


def _result(finding: Finding, rule_index: dict[str, int]) -> dict[str, Any]:
    return {
        "ruleId": finding.code,
        "ruleIndex": rule_index[finding.code],
        "level": _LEVEL[finding.severity],
        "message": {"text": finding.message},
        "locations": [_location(finding)],
        "partialFingerprints": {"tokentrailFingerprint/v1": finding.fingerprint},
    }


def build_log(findings: Sequence[Finding], context: ReportContext) -> dict[str, Any]:
    """Return the SARIF log as a JSON-ready dictionary."""
    rule_index = {rule.code: index for index, rule in enumerate(ALL_RULES)}
    run = {
        "tool": {"driver": _driver()},
        "originalUriBaseIds": {_ROOT_BASE: {"uri": context.root.resolve().as_uri() + "/"}},
        "columnKind": "unicodeCodePoints",
        "results": [_result(finding, rule_index) for finding in findings],
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render(findings: Sequence[Finding], context: ReportContext) -> str:
    """Return the SARIF log as indented JSON."""
    return json.dumps(build_log(findings, context), indent=2) + "\n"
