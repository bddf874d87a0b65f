"""Plain text, one finding a line: `path:line:column: CODE message`, as ruff and flake8 print."""

from __future__ import annotations

from collections.abc import Sequence

from tokentrail_lint.findings import Finding
from tokentrail_lint.formats._context import ReportContext


def format_line(finding: Finding, context: ReportContext) -> str:
    """Return one finding as an editor-clickable line."""
    location = f"{context.display_path(finding.path)}:{finding.span.line}:{finding.span.column}"
    return f"{location}: {finding.code} {finding.message}"


def render(findings: Sequence[Finding], context: ReportContext) -> str:
    """Return every finding on its own line (empty when there is none)."""
    return "".join(format_line(finding, context) + "\n" for finding in findings)
