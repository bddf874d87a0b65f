"""Every single-module fixture: each run call gets the verdict its comment expects."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.lint_rules.analysis.conftest import FIXTURES, analyze_copy, markers, run_labels

FIXTURE_FILES = sorted(
    path.relative_to(FIXTURES).as_posix()
    for folder in ("receivers", "traps", "unknown", "tracked", "syntax")
    for path in (FIXTURES / folder).glob("*.py")
)


@pytest.mark.parametrize("relative", FIXTURE_FILES)
def test_each_run_call_gets_the_expected_verdict(relative: str, tmp_path: Path) -> None:
    project = analyze_copy(relative, tmp_path)

    [analysis] = project.files
    assert analysis.error is None
    assert run_labels(analysis) == markers(FIXTURES / relative, "expect")


@pytest.mark.parametrize("relative", FIXTURE_FILES)
def test_every_reported_call_says_why(relative: str, tmp_path: Path) -> None:
    [analysis] = analyze_copy(relative, tmp_path).files

    assert all(site.reason for site in analysis.runs)


def test_noqa_codes_are_read_from_every_line_of_the_call(tmp_path: Path) -> None:
    [analysis] = analyze_copy("tracked/noqa.py", tmp_path).files

    codes = [site.suppressed_codes for site in sorted(analysis.runs, key=lambda s: s.span.line)]
    assert codes == [frozenset({"TT001"}), frozenset({"TT001", "TT006"}), frozenset()]


def test_tracked_calls_carry_their_agent_and_operation_literal(tmp_path: Path) -> None:
    [analysis] = analyze_copy("tracked/tokentrail_wrappers.py", tmp_path).files

    first = min(analysis.runs, key=lambda site: site.span.line)
    assert first.tracked
    assert first.receiver == "agent"
    assert first.operation_literal == "tracked"
    assert first.scope.function_name == "tracked"
    assert all(site.operation_literal is None for site in analysis.runs if site is not first)


def test_run_span_covers_receiver_to_closing_parenthesis(tmp_path: Path) -> None:
    [analysis] = analyze_copy("receivers/all_methods.py", tmp_path).files

    lines = (FIXTURES / "receivers/all_methods.py").read_text().splitlines()
    for site in analysis.runs:
        assert site.span.line == site.span.end_line
        text = lines[site.span.line - 1][site.span.column - 1 : site.span.end_column - 1]
        assert text == f"agent.{site.method}(prompt)"


def test_a_wrapper_given_its_agent_by_keyword_names_it(tmp_path: Path) -> None:
    [analysis] = analyze_copy("tracked/tokentrail_wrappers.py", tmp_path).files

    last = max(analysis.runs, key=lambda site: site.span.line)
    assert last.receiver == "agent"
    assert last.scope.function_name == "by_keyword"
