"""What share of a project's agent runs is tracked, per file and per class.

Counting rules (CONTRACT §5): `total` is every call the analysis decided is an agent run, tracked
or not (`super().run(...)` inside an `Agent` subclass is part of the outer run and not counted);
`tracked` goes through a wrapper; `suppressed` is untracked but marked `# noqa: TT001`, counted
as tracked for `percent` and `--fail-under`, and listed so nobody forgets it; `unknown` are calls
that may be agent runs but could not be resolved, counted and listed apart, never in `total`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tokentrail_lint.analysis.model import FileAnalysis, RunSite, Verdict
from tokentrail_lint.engine import relative_to_root


@dataclass(slots=True)
class Tally:
    """Counts for one scope: a class, a file or the whole project."""

    total: int = 0
    tracked: int = 0
    suppressed: int = 0
    unknown: int = 0

    @property
    def percent(self) -> float:
        """Share of runs tracked or suppressed, 100.0 when there is none."""
        if self.total == 0:
            return 100.0
        return round(100.0 * (self.tracked + self.suppressed) / self.total, 2)

    def add(self, other: Tally) -> None:
        """Add another scope's counts to this one."""
        self.total += other.total
        self.tracked += other.tracked
        self.suppressed += other.suppressed
        self.unknown += other.unknown


@dataclass(frozen=True, slots=True)
class ListedRun:
    """A suppressed or unknown run, named so a report can point at it."""

    path: str
    line: int
    column: int
    call: str
    reason: str = ""


@dataclass(slots=True)
class FileCoverage:
    """One file's counts, and its classes' counts by dotted class name."""

    path: str
    tally: Tally = field(default_factory=Tally)
    classes: dict[str, Tally] = field(default_factory=dict)


@dataclass(slots=True)
class ProjectCoverage:
    """The whole report."""

    tally: Tally = field(default_factory=Tally)
    files: list[FileCoverage] = field(default_factory=list)
    suppressed_runs: list[ListedRun] = field(default_factory=list)
    unknown_runs: list[ListedRun] = field(default_factory=list)


def _classify(run: RunSite) -> str | None:
    """Return `tracked`, `suppressed`, `untracked`, `unknown`, or None for calls not counted."""
    if run.is_super_call:
        return None
    if run.tracked:
        return "tracked"
    if run.verdict is Verdict.UNKNOWN:
        return "unknown"
    if run.verdict is not Verdict.AGENT_RUN:
        return None
    return "suppressed" if "TT001" in run.suppressed_codes else "untracked"


def _count(tally: Tally, kind: str) -> None:
    if kind == "unknown":
        tally.unknown += 1
        return
    tally.total += 1
    if kind == "tracked":
        tally.tracked += 1
    elif kind == "suppressed":
        tally.suppressed += 1


def measure(files: Iterable[FileAnalysis], root: Path) -> ProjectCoverage:
    """Count tracked, suppressed and unknown runs in `files`, sorted by path."""
    report = ProjectCoverage()
    for file in sorted(files, key=lambda analysed: relative_to_root(analysed.path, root)):
        coverage = FileCoverage(path=relative_to_root(file.path, root))
        for run in file.runs:
            kind = _classify(run)
            if kind is None:
                continue
            _count(coverage.tally, kind)
            if run.scope.class_name is not None:
                _count(coverage.classes.setdefault(run.scope.class_name, Tally()), kind)
            if kind in ("suppressed", "unknown"):
                listed = ListedRun(
                    coverage.path,
                    run.span.line,
                    run.span.column,
                    f"{run.receiver}.{run.method}",
                    run.reason if kind == "unknown" else "",
                )
                (report.suppressed_runs if kind == "suppressed" else report.unknown_runs).append(
                    listed
                )
        report.tally.add(coverage.tally)
        report.files.append(coverage)
    return report
