"""TT000: a file that could not be read or parsed.

A file the analysis cannot read is a file whose agent runs nobody has checked. Reporting it as a
finding (and exiting with 2) keeps a syntax error or a bad encoding from passing as "clean".
Fix the file, or exclude it in `[tool.tokentrail]` if it is not meant to be Python.
"""

from __future__ import annotations

from collections.abc import Iterator

from tokentrail_lint.analysis.model import FileAnalysis, Span
from tokentrail_lint.findings import Severity
from tokentrail_lint.rules._rule import Problem, Rule


def _find(file: FileAnalysis) -> Iterator[Problem]:
    if file.error is not None:
        yield Problem(span=Span(1, 1, 1, 1), message=file.error, subject="")


RULE = Rule(
    code="TT000",
    name="unreadable-file",
    summary="file could not be read or parsed",
    default_severity=Severity.ERROR,
    rationale=(
        "A file that cannot be parsed cannot be checked, so it must not pass as clean. "
        "The checker exits with 2 and still checks every other file."
    ),
    find=_find,
    valid=("def handler() -> None:\n    pass\n",),
    invalid=("from pydantic_ai import Agent\n\n\ndef handler(:\n    pass\n",),
)
