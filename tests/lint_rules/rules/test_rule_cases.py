"""Each rule's own VALID and INVALID cases, through the real analysis."""

from __future__ import annotations

from pathlib import Path

import pytest

from tokentrail_lint.analysis import analyze
from tokentrail_lint.config import Config
from tokentrail_lint.engine import RuleSettings, check_files
from tokentrail_lint.rules import ALL_RULES, Rule

CASES = [
    pytest.param(rule, source, expected, id=f"{rule.code}-{kind}-{index}")
    for rule in ALL_RULES
    for kind, sources, expected in (("valid", rule.valid, 0), ("invalid", rule.invalid, 1))
    for index, source in enumerate(sources)
]


@pytest.mark.parametrize(("rule", "source", "expected"), CASES)
def test_rule_case(tmp_path: Path, rule: Rule, source: str, expected: int) -> None:
    path = tmp_path / "module.py"
    path.write_text(source, encoding="utf-8")
    project = analyze([path], root=tmp_path, config=Config(), use_cache=False)
    findings = check_files(
        project.files, tmp_path, RuleSettings.from_selection(None, extend_select={rule.code})
    )
    codes = [finding.code for finding in findings if finding.code == rule.code]
    assert len(codes) == expected, [finding.message for finding in findings]
