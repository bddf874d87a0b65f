"""What the checker reports: one finding per problem, with a fingerprint for baselines."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

from tokentrail_lint.analysis.model import Span


class Severity(enum.Enum):
    """How much a finding matters; `OFF` disables a rule."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    OFF = "off"

    @property
    def rank(self) -> int:
        """Higher is more severe; used to compare against `--fail-on`."""
        return {"off": 0, "info": 1, "warning": 2, "error": 3}[self.value]


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem in one file, ready for any output format.

    `relative_path` is relative to the project root, in POSIX form: it is what SARIF and the
    baseline store, so a report means the same on every machine. `fingerprint` identifies the
    finding without its line number, so a baseline survives code moving up or down.
    """

    path: Path
    relative_path: str
    span: Span
    code: str
    message: str
    severity: Severity
    fingerprint_key: str
    """The text `fingerprint` hashes, made by `fingerprint_key()`."""

    @property
    def fingerprint(self) -> str:
        """A short stable hash of what the finding is about, leaving out where it sits.

        Computed on demand: a plain text check never pays for importing hashlib.
        """
        import hashlib

        return hashlib.sha256(self.fingerprint_key.encode("utf-8")).hexdigest()[:20]


def fingerprint_key(relative_path: str, code: str, subject: str, occurrence: int) -> str:
    """Return what a finding's fingerprint is made of: everything but its position.

    Args:
        relative_path: the file, relative to the project root.
        code: the rule code.
        subject: what the finding is about in words that survive line shifts, e.g. the
            enclosing class and function and the call's receiver and method.
        occurrence: the number of earlier findings in the same file with the same code and
            subject, so two identical calls in one function stay distinct.
    """
    return "\x1f".join((relative_path, code, subject, str(occurrence)))
