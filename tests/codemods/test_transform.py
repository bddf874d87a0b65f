"""The rewrite of one file as a pure function of its text and the analysis' facts.

Most tests here build the facts (`RunSite`, `ClassFacts`) by hand, as the analysis would
report them, to reach cases a correct analysis never produces: the rewrite must then refuse
rather than write a broken file.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tokentrail_codemods import SkipReason, apply
from tokentrail_codemods._names import NameResolver, Naming
from tokentrail_codemods._source import SourceError, SourceFile, read_source
from tokentrail_codemods._transform import RewriteError, Settings, rewrite_file
from tokentrail_lint.analysis.model import (
    ClassFacts,
    ContextCapability,
    RunSite,
    Scope,
    Span,
    Verdict,
)

PATH = Path("/project/service.py")
SETTINGS = Settings(NameResolver(Naming({PATH: "service"}), Path("/project")), 88, frozenset())
TEXT = """\
from pydantic_ai import Agent

agent = Agent("test")


class Service:
    def answer(self, prompt: str) -> str:
        return agent.run_sync(
            prompt,
        ).output
"""


def _site(line: int, column: int, end_line: int, end_column: int) -> RunSite:
    return RunSite(
        path=PATH,
        span=Span(line, column, end_line, end_column),
        method="run_sync",
        verdict=Verdict.AGENT_RUN,
        tracked=False,
        scope=Scope("Service", "answer", is_method=True),
        receiver="agent",
    )


def test_a_span_that_is_not_the_call_is_skipped_with_its_reason() -> None:
    result = rewrite_file(PATH, TEXT, "\n", [_site(8, 9, 8, 22)], [], SETTINGS)

    assert result.text is None
    assert [skip.reason for skip in result.skipped] == [SkipReason.SHAPE]
    assert "does not parse on its own" in result.skipped[0].detail


def test_edits_that_overlap_are_refused() -> None:
    # A class span ending inside the call puts the new method between its arguments.
    facts = ClassFacts(PATH, "Service", Span(6, 1, 9, 10), "plain", ContextCapability.CAN_HOLD)

    with pytest.raises(RewriteError, match="edits overlap"):
        rewrite_file(PATH, TEXT, "\n", [_site(8, 16, 10, 10)], [facts], SETTINGS)


def test_a_rewrite_that_would_not_parse_is_refused() -> None:
    text = TEXT + "\n    LIMITS = (\n        1,\n    )\n"
    # A class span that ends inside the tuple puts the new method between its items.
    facts = ClassFacts(PATH, "Service", Span(6, 1, 13, 11), "plain", ContextCapability.CAN_HOLD)

    with pytest.raises(RewriteError, match="would not parse"):
        rewrite_file(PATH, text, "\n", [_site(8, 16, 10, 10)], [facts], SETTINGS)


def test_a_run_inside_another_runs_arguments(project: Path) -> None:
    path = project / "service.py"
    path.write_text(
        "from pydantic_ai import Agent\n\n"
        'writer = Agent("test")\nreviewer = Agent("test")\n\n'
        "verdict = reviewer.run_sync(writer.run_sync('draft').output).output\n"
    )

    result = apply([path], write=True)

    text = path.read_text()
    assert result.rewritten == {"run_sync": 2}
    assert text.endswith(
        "verdict = run_agent_sync_with_tracking(\n"
        "    reviewer,\n"
        "    run_agent_sync_with_tracking("
        'writer, \'draft\', tool_name="service", operation="<module>").output,\n'
        '    tool_name="service",\n'
        '    operation="<module>",\n'
        ").output\n"
    )
    ast.parse(text)
    assert apply([path], write=True).changed == []


def test_unreadable_and_misdeclared_files(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cannot be read"):
        read_source(tmp_path)
    declared = tmp_path / "declared.py"
    declared.write_bytes(b"# -*- coding: no-such-codec -*-\nx = 1\n")
    with pytest.raises(SourceError, match="fix the coding line"):
        read_source(declared)


def test_text_the_declared_encoding_cannot_hold_is_refused() -> None:
    source = SourceFile(PATH, b"", "", "latin-1", has_bom=False, newline="\n")
    with pytest.raises(SourceError, match="cannot be encoded as latin-1"):
        source.encode("price = '€'\n")


def test_a_file_without_line_breaks_uses_newline(tmp_path: Path) -> None:
    path = tmp_path / "one_line.py"
    path.write_bytes(b"x = 1")
    assert read_source(path).newline == "\n"


def test_a_class_ending_the_file_without_a_line_break(project: Path) -> None:
    path = project / "service.py"
    path.write_text(
        TEXT.replace(
            "        return agent.run_sync(\n            prompt,\n        )",
            "        return agent.run_sync(prompt)",
        ).rstrip("\n")
    )

    apply([path], write=True)

    text = path.read_text()
    assert ".output\n\n    def set_tracking_context(" in text
    assert text.endswith("self._org_id = org_id\n")


def test_a_run_inside_an_f_string_uses_the_other_quote(project: Path) -> None:
    path = project / "service.py"
    path.write_text(
        'from pydantic_ai import Agent\n\nagent = Agent("test")\n\n'
        "print(f\"Answer: {agent.run_sync('hi').output}\")\n"
        "print(f'Answer: {agent.run_sync(\"hi\").output}')\n"
    )

    result = apply([path], write=True)

    assert result.errors == []
    lines = path.read_text().splitlines()
    assert lines[-2] == (
        "print(f\"Answer: {run_agent_sync_with_tracking(agent, 'hi',"
        " tool_name='service', operation='<module>').output}\")"
    )
    assert lines[-1] == (
        'print(f\'Answer: {run_agent_sync_with_tracking(agent, "hi",'
        ' tool_name="service", operation="<module>").output}\')'
    )
