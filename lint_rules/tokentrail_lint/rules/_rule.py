"""The shape every rule shares: its code, its words, its cases and how it finds problems."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from tokentrail_lint.analysis.model import FileAnalysis, Scope, Span
from tokentrail_lint.findings import Severity


@dataclass(frozen=True, slots=True)
class Problem:
    """What a rule found, before the engine applies suppressions, severity and paths.

    `subject` names the thing the problem is about without its position (see
    `findings.fingerprint_key`); `suppressed_codes` are the codes a `# noqa:` comment names.
    """

    span: Span
    message: str
    subject: str
    suppressed_codes: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Rule:
    """One check, described in one place so a reader learns it from one file.

    `valid` and `invalid` are small Python sources: the first must produce no problem, each of
    the second exactly one. The tests run them through the real analysis.
    """

    code: str
    name: str
    summary: str
    default_severity: Severity
    rationale: str
    find: Callable[[FileAnalysis], Iterator[Problem]]
    valid: tuple[str, ...] = ()
    invalid: tuple[str, ...] = ()
    severity_when_selected: Severity = Severity.ERROR
    """The severity a rule that is off by default takes when a user selects it."""


def describe_scope(scope: Scope) -> str:
    """Return `Class.method`, `function` or `<module>` for fingerprints and messages."""
    parts = [part for part in (scope.class_name, scope.function_name) if part]
    return ".".join(parts) if parts else "<module>"
