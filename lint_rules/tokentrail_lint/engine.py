"""Turn the analysis of each file into findings: rules, severities, suppressions, ignores."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tokentrail_lint.analysis.model import FileAnalysis
from tokentrail_lint.findings import Finding, Severity, fingerprint_key
from tokentrail_lint.rules import ALL_RULES, RULES_BY_CODE


@dataclass(frozen=True, slots=True)
class RuleSettings:
    """Which rules run, at which severity; `severities` overrides the rules' defaults by code."""

    severities: Mapping[str, Severity] = field(default_factory=dict)

    def severity_of(self, code: str) -> Severity:
        """Return the severity a rule runs at, `OFF` when it does not run."""
        return self.severities.get(code, RULES_BY_CODE[code].default_severity)

    @classmethod
    def from_selection(
        cls,
        select: Iterable[str] | None,
        extend_select: Iterable[str] = (),
        ignore: Iterable[str] = (),
    ) -> RuleSettings:
        """Build settings as ruff reads `select`, `extend-select` and `ignore`.

        `select=None` keeps each code's default; a `select` list runs exactly those codes (a
        rule that is off by default runs at its `severity_when_selected`). `ignore` wins.
        """
        chosen = set(extend_select)
        severities: dict[str, Severity] = {}
        if select is not None:
            chosen |= set(select)
            severities = {code: Severity.OFF for code in RULES_BY_CODE if code not in chosen}
        for code in chosen:
            rule = RULES_BY_CODE.get(code)
            if rule is not None and rule.default_severity is Severity.OFF:
                severities[code] = rule.severity_when_selected
            elif rule is not None:
                severities[code] = rule.default_severity
        for code in ignore:
            if code in RULES_BY_CODE:
                severities[code] = Severity.OFF
        return cls(severities=severities)


def _no_ignores(path: Path) -> frozenset[str]:
    return frozenset()


def relative_to_root(path: Path, root: Path) -> str:
    """Return `path` relative to `root` in POSIX form, or absolute when it lies outside."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def check_file(
    file: FileAnalysis,
    root: Path,
    settings: RuleSettings,
    ignored_codes: Callable[[Path], frozenset[str]] = _no_ignores,
) -> list[Finding]:
    """Run every enabled rule on one file and return its findings in source order.

    `ignored_codes` returns the codes `per-file-ignores` switches off for a file.
    """
    relative_path = relative_to_root(file.path, root)
    ignored = ignored_codes(file.path)
    seen: Counter[tuple[str, str]] = Counter()
    findings: list[Finding] = []
    for rule in ALL_RULES:
        severity = settings.severity_of(rule.code)
        if severity is Severity.OFF or rule.code in ignored:
            continue
        for problem in rule.find(file):
            if rule.code in problem.suppressed_codes:
                continue
            occurrence = seen[rule.code, problem.subject]
            seen[rule.code, problem.subject] += 1
            findings.append(
                Finding(
                    path=file.path,
                    relative_path=relative_path,
                    span=problem.span,
                    code=rule.code,
                    message=problem.message,
                    severity=severity,
                    fingerprint_key=fingerprint_key(
                        relative_path, rule.code, problem.subject, occurrence
                    ),
                )
            )
    findings.sort(key=lambda finding: (finding.span.line, finding.span.column, finding.code))
    return findings


def check_files(
    files: Iterable[FileAnalysis],
    root: Path,
    settings: RuleSettings,
    ignored_codes: Callable[[Path], frozenset[str]] = _no_ignores,
) -> list[Finding]:
    """Run the rules on every file; findings come sorted by path, then position."""
    findings: list[Finding] = []
    for file in sorted(files, key=lambda analysed: relative_to_root(analysed.path, root)):
        findings.extend(check_file(file, root, settings, ignored_codes))
    return findings
