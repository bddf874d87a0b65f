"""What the codemod needs to know about classes that hold runs."""

from __future__ import annotations

from pathlib import Path

from tests.lint_rules.analysis.conftest import FIXTURES, analyze_copy, markers

from tokentrail_lint.analysis import ClassFacts, ContextCapability


def _facts(tmp_path: Path) -> dict[str, ClassFacts]:
    [analysis] = analyze_copy("classes/kinds.py", tmp_path).files
    return {facts.name: facts for facts in analysis.classes}


def test_every_class_with_runs_is_described_as_its_comment_says(tmp_path: Path) -> None:
    facts = _facts(tmp_path)

    described = {
        entry.span.line: " ".join(
            [entry.kind, entry.capability.value, *sorted(entry.existing_fields)]
        )
        for entry in facts.values()
    }
    expected = {
        line: " ".join(text.split()[:2] + sorted(text.split()[2:]))
        for line, text in markers(FIXTURES / "classes/kinds.py", "class").items()
    }
    assert described == expected


def test_classes_that_cannot_hold_context_say_why(tmp_path: Path) -> None:
    facts = _facts(tmp_path)

    cannot = [
        entry for entry in facts.values() if entry.capability is ContextCapability.CANNOT_HOLD
    ]
    assert {entry.name for entry in cannot} == {
        "FrozenRecord",
        "SlottedRecord",
        "Slotted",
        "AttrsRecord",
        "Point",
        "Colour",
        "Runner",
        "Pair",
    }
    assert all(entry.reason for entry in cannot)
    assert "frozen" in facts["FrozenRecord"].reason
    assert "__slots__" in facts["Slotted"].reason


def test_nested_classes_are_named_with_their_outer_class(tmp_path: Path) -> None:
    facts = _facts(tmp_path)

    assert "Outer.Inner" in facts
    assert "Outer" not in facts
    assert "Untouched" not in facts


def test_class_span_starts_at_the_class_keyword(tmp_path: Path) -> None:
    facts = _facts(tmp_path)

    record = facts["FrozenRecord"]
    lines = (FIXTURES / "classes/kinds.py").read_text().splitlines()
    assert lines[record.span.line - 1].startswith("class FrozenRecord")
    assert record.span.column == 1
