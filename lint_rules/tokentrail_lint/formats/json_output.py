"""A JSON array of findings, for scripts: one object per finding, positions 1-based."""

from __future__ import annotations

import json
from collections.abc import Sequence

from tokentrail_lint.findings import Finding
from tokentrail_lint.formats._context import ReportContext


def render(findings: Sequence[Finding], context: ReportContext) -> str:
    """Return the findings as a JSON array (`[]` when there is none)."""
    objects = [
        {
            "path": context.display_path(finding.path),
            "line": finding.span.line,
            "column": finding.span.column,
            "end_line": finding.span.end_line,
            "end_column": finding.span.end_column,
            "code": finding.code,
            "message": finding.message,
            "severity": finding.severity.value,
            "fingerprint": finding.fingerprint,
        }
        for finding in findings
    ]
    return json.dumps(objects, indent=2) + "\n"
