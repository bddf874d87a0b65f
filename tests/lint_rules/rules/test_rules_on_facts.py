"""Each rule on hand-built analysis facts: what it reports, and what it leaves alone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tokentrail_lint.analysis.model import (
    ClassFacts,
    ContextCapability,
    EntryPointSite,
    FileAnalysis,
    RunSite,
    Scope,
    Verdict,
)
from tokentrail_lint.rules import ALL_RULES, RESERVED_CODES, RULES_BY_CODE
from tokentrail_lint.rules._rule import Problem
from tokentrail_lint.rules.tt000_unreadable_file import RULE as TT000
from tokentrail_lint.rules.tt001_untracked_run import RULE as TT001
from tokentrail_lint.rules.tt002_stale_operation import RULE as TT002
from tokentrail_lint.rules.tt003_class_without_context import RULE as TT003
from tokentrail_lint.rules.tt005_unreachable_entry_point import RULE as TT005
from tokentrail_lint.rules.tt006_unresolved_call import RULE as TT006

from ..conftest import RunFactory


def _file(
    project_root: Path,
    *,
    runs: list[RunSite] | None = None,
    entry_points: list[EntryPointSite] | None = None,
    classes: list[ClassFacts] | None = None,
    error: str | None = None,
) -> FileAnalysis:
    return FileAnalysis(
        path=project_root / "services" / "writer.py",
        runs=runs or [],
        entry_points=entry_points or [],
        classes=classes or [],
        error=error,
    )


def test_codes_are_unique_and_none_is_reserved() -> None:
    codes = [rule.code for rule in ALL_RULES]
    assert codes == sorted(set(codes))
    assert "TT004" in RULES_BY_CODE
    assert not RESERVED_CODES


def test_every_rule_has_cases_both_ways() -> None:
    for rule in ALL_RULES:
        assert rule.valid, rule.code
        assert rule.invalid, rule.code
        assert rule.rationale, rule.code
        assert rule.summary, rule.code


def test_tt000_reports_the_error_at_the_top_of_the_file(project_root: Path) -> None:
    problems = list(TT000.find(_file(project_root, error="invalid syntax (line 3)")))
    assert [(problem.span.line, problem.message) for problem in problems] == [
        (1, "invalid syntax (line 3)")
    ]
    assert list(TT000.find(_file(project_root))) == []


def test_tt001_reports_an_untracked_agent_run(project_root: Path, make_run: RunFactory) -> None:
    [problem] = TT001.find(_file(project_root, runs=[make_run(method="run_sync")]))
    assert problem.span.line == 10
    assert "self.agent.run_sync(...)" in problem.message
    assert "run_agent_sync_with_tracking" in problem.message
    assert problem.subject == "Writer.write:self.agent.run_sync"


def test_tt001_leaves_tracked_super_and_non_agent_calls_alone(
    project_root: Path, make_run: RunFactory
) -> None:
    runs = [
        make_run(tracked=True),
        make_run(is_super_call=True, receiver="super()"),
        make_run(verdict=Verdict.NOT_AGENT_RUN, receiver="subprocess"),
        make_run(verdict=Verdict.UNKNOWN),
    ]
    assert list(TT001.find(_file(project_root, runs=runs))) == []


def test_tt001_passes_the_noqa_codes_on(project_root: Path, make_run: RunFactory) -> None:
    run = make_run(suppressed_codes=frozenset({"TT001"}))
    [problem] = TT001.find(_file(project_root, runs=[run]))
    assert problem.suppressed_codes == frozenset({"TT001"})


def test_tt002_compares_generated_literals_with_the_function(
    project_root: Path, make_run: RunFactory
) -> None:
    runs = [
        make_run(line=1, tracked=True, operation_literal="summarize"),
        make_run(line=2, tracked=True, operation_literal="write"),
        make_run(line=3, tracked=True, operation_literal="summarize the ticket"),
        make_run(line=4, tracked=True, operation_literal=None),
        make_run(line=5, tracked=False, operation_literal="summarize"),
        make_run(line=6, tracked=True, operation_literal="<module>", scope=Scope(None, None)),
        make_run(line=7, tracked=True, operation_literal="main", scope=Scope(None, None)),
    ]
    problems = list(TT002.find(_file(project_root, runs=runs)))
    assert [problem.span.line for problem in problems] == [1, 7]
    assert '`operation="summarize"`' in problems[0].message
    assert "`write`" in problems[0].message
    assert "`<module>`" in problems[1].message


def test_tt003_reports_classes_that_cannot_hold_context_and_run_agents(
    project_root: Path,
    make_run: RunFactory,
    make_class: Callable[..., ClassFacts],
) -> None:
    classes = [
        make_class(),
        make_class(name="Reader", capability=ContextCapability.CANNOT_HOLD),
        make_class(name="Planner", capability=ContextCapability.CAN_HOLD),
    ]
    runs = [
        make_run(tracked=True),
        make_run(scope=Scope("Planner", "plan", is_method=True)),
        make_run(scope=Scope("Reader", "read", is_method=True), is_super_call=True),
    ]
    [problem] = TT003.find(_file(project_root, runs=runs, classes=classes))
    assert problem.span.line == 3
    assert "`Writer`" in problem.message
    assert "(it defines __slots__)" in problem.message


def test_tt005_reports_each_entry_point(
    project_root: Path, make_entry_point: Callable[..., EntryPointSite]
) -> None:
    entries = [make_entry_point(), make_entry_point(name="TemporalAgent")]
    problems = list(TT005.find(_file(project_root, entry_points=entries)))
    assert [problem.subject for problem in problems] == [
        "<module>:to_web",
        "<module>:TemporalAgent",
    ]


def test_tt006_reports_unresolved_calls_with_the_reason(
    project_root: Path, make_run: RunFactory
) -> None:
    runs = [
        make_run(verdict=Verdict.UNKNOWN, receiver="agent", reason="untyped parameter"),
        make_run(verdict=Verdict.UNKNOWN, tracked=True),
        make_run(verdict=Verdict.AGENT_RUN),
    ]
    problems: list[Problem] = list(TT006.find(_file(project_root, runs=runs)))
    assert len(problems) == 1
    assert "`agent.run(...)`" in problems[0].message
    assert "(untyped parameter)" in problems[0].message
