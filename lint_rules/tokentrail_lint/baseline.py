"""Baseline files: adopt the checker on a large codebase and block only new findings.

`tokentrail check --write-baseline FILE` records the fingerprint of every current finding;
`tokentrail check --baseline FILE` then hides those and reports the rest. Fingerprints leave out
line numbers (see `findings.fingerprint_key`), so code moving up or down keeps its entry, while a
new untracked run in the same function is reported. TT000 is never baselined: a file that does
not parse hides everything in it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from tokentrail_lint.findings import Finding

FORMAT_VERSION: Final = 1
_NEVER_BASELINED: Final = frozenset({"TT000"})


class BaselineError(Exception):
    """A baseline file that cannot be read; the message names the file and what to do."""


def write_baseline(path: Path, findings: Iterable[Finding]) -> int:
    """Write the fingerprints of `findings` to `path` and return how many were written."""
    entries = sorted(
        (
            {
                "fingerprint": finding.fingerprint,
                "code": finding.code,
                "path": finding.relative_path,
                "message": finding.message,
            }
            for finding in findings
            if finding.code not in _NEVER_BASELINED
        ),
        key=lambda entry: (entry["path"], entry["code"], entry["fingerprint"]),
    )
    document = {"tool": "tokentrail", "version": FORMAT_VERSION, "findings": entries}
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return len(entries)


def load_baseline(path: Path) -> frozenset[str]:
    """Return the fingerprints a baseline file records.

    Raises:
        BaselineError: the file is missing, is not JSON, or is not a tokentrail baseline.
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise BaselineError(
            f"cannot read baseline {path}: {error.strerror}; create it with --write-baseline"
        ) from error
    except json.JSONDecodeError as error:
        raise BaselineError(f"baseline {path} is not JSON (line {error.lineno})") from error

    entries = document.get("findings") if isinstance(document, dict) else None
    if not isinstance(entries, list) or document.get("version") != FORMAT_VERSION:
        raise BaselineError(
            f"{path} is not a tokentrail baseline (version {FORMAT_VERSION}); "
            "write a new one with --write-baseline"
        )
    return frozenset(
        entry["fingerprint"]
        for entry in entries
        if isinstance(entry, dict) and isinstance(entry.get("fingerprint"), str)
    )


def without_baselined(
    findings: Iterable[Finding], fingerprints: frozenset[str]
) -> tuple[list[Finding], int]:
    """Split off the findings a baseline records; return the rest and how many were hidden."""
    remaining: list[Finding] = []
    hidden = 0
    for finding in findings:
        if finding.fingerprint in fingerprints and finding.code not in _NEVER_BASELINED:
            hidden += 1
        else:
            remaining.append(finding)
    return remaining, hidden
