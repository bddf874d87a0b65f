"""GitHub Actions workflow commands: each finding becomes an annotation on the pull request.

See GitHub's "Workflow commands" documentation: `::error file=F,line=L,col=C::message`. Values
are escaped as the runner expects, so a message with a comma or a newline arrives intact.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from tokentrail_lint.findings import Finding, Severity
from tokentrail_lint.formats._context import ReportContext

_COMMAND: Final[dict[Severity, str]] = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "notice",
}


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def format_annotation(finding: Finding, context: ReportContext) -> str:
    """Return one finding as a workflow command line."""
    span = finding.span
    properties = {
        "file": context.display_path(finding.path),
        "line": str(span.line),
        "col": str(span.column),
        "endLine": str(span.end_line),
        "endColumn": str(span.end_column),
        "title": f"tokentrail {finding.code}",
    }
    joined = ",".join(f"{key}={_escape_property(value)}" for key, value in properties.items())
    message = _escape_data(f"{finding.code} {finding.message}")
    return f"::{_COMMAND.get(finding.severity, 'notice')} {joined}::{message}"


def render(findings: Sequence[Finding], context: ReportContext) -> str:
    """Return one annotation line per finding."""
    return "".join(format_annotation(finding, context) + "\n" for finding in findings)
