"""Reading files: encodings, positions in characters, syntax errors, PEP 695."""

from __future__ import annotations

from pathlib import Path

from tokentrail_lint.analysis import FileAnalysis, Verdict, analyze
from tokentrail_lint.analysis._index import ProjectIndex
from tokentrail_lint.config import Config

AGENT_FILE = 'from pydantic_ai import Agent\n\nagent = Agent("test")\n{call}\n'


def _one(tmp_path: Path, data: bytes) -> FileAnalysis:
    path = tmp_path / "module.py"
    path.write_bytes(data)
    [analysis] = analyze([path], root=tmp_path, config=Config(), use_cache=False).files
    return analysis


def test_columns_count_characters_not_bytes(tmp_path: Path) -> None:
    source = AGENT_FILE.format(call='naïve = "ééé"; agent.run_sync("ü")').encode()

    analysis = _one(tmp_path, source)

    [site] = analysis.runs
    line = source.decode().splitlines()[3]
    assert line[site.span.column - 1 : site.span.end_column - 1] == 'agent.run_sync("ü")'
    assert site.receiver == "agent"


def test_crlf_and_bom_files_keep_their_positions(tmp_path: Path) -> None:
    source = "\ufeff" + AGENT_FILE.format(call="agent.run_sync(\n    'x',\n)")
    analysis = _one(tmp_path, source.replace("\n", "\r\n").encode("utf-8"))

    [site] = analysis.runs
    assert (site.span.line, site.span.column, site.span.end_line, site.span.end_column) == (
        4,
        1,
        6,
        2,
    )


def test_form_feeds_do_not_shift_lines(tmp_path: Path) -> None:
    analysis = _one(tmp_path, AGENT_FILE.format(call="\x0c\nagent.run_sync('x')").encode())

    [site] = analysis.runs
    assert site.span.line == 5
    assert site.receiver == "agent"


def test_a_pep_263_coding_line_is_honoured(tmp_path: Path) -> None:
    source = "# -*- coding: latin-1 -*-\n" + AGENT_FILE.format(call="agent.run_sync('café')")

    analysis = _one(tmp_path, source.encode("latin-1"))

    assert analysis.error is None
    assert [site.verdict for site in analysis.runs] == [Verdict.AGENT_RUN]


def test_a_file_that_is_not_utf8_is_an_error_not_a_crash(tmp_path: Path) -> None:
    analysis = _one(tmp_path, AGENT_FILE.format(call="agent.run_sync('café')").encode("latin-1"))

    assert analysis.runs == []
    assert analysis.error is not None
    assert "UTF-8" in analysis.error


def test_non_utf8_is_reported_even_for_files_without_agents(tmp_path: Path) -> None:
    analysis = _one(tmp_path, "name = 'café'\n".encode("latin-1"))

    assert analysis.error is not None


def test_an_unknown_coding_is_an_error(tmp_path: Path) -> None:
    analysis = _one(tmp_path, b"# coding: klingon\nimport pydantic_ai\n")

    assert analysis.error is not None
    assert "coding" in analysis.error


def test_a_syntax_error_names_the_line(tmp_path: Path) -> None:
    analysis = _one(tmp_path, b"import pydantic_ai\n\ndef broken(:\n    pass\n")

    assert analysis.error is not None
    assert "line 3" in analysis.error


def test_null_bytes_are_an_error(tmp_path: Path) -> None:
    analysis = _one(tmp_path, b"import pydantic_ai\x00\n")

    assert analysis.error is not None


def test_a_file_that_vanished_after_selection_is_an_error(tmp_path: Path) -> None:
    index = ProjectIndex(tmp_path, Config(), [tmp_path / "vanished.py"], use_cache=False)

    project_file = index.file(tmp_path / "vanished.py")

    assert project_file.data is None
    assert project_file.read_error is not None
    assert "cannot be read" in project_file.read_error


def test_unclosed_pep_695_brackets_report_the_original_error(tmp_path: Path) -> None:
    analysis = _one(tmp_path, b"import pydantic_ai\n\nclass Box[T:\n    pass\n")

    assert analysis.error is not None
    assert "syntax error" in analysis.error


def test_code_nested_beyond_the_parser_is_an_error_not_a_crash(tmp_path: Path) -> None:
    analysis = _one(tmp_path, ("import pydantic_ai\nx = a" + ".b" * 3000 + ".run()\n").encode())

    assert analysis.error is not None
    assert "nested too deeply" in analysis.error


def test_deep_but_parseable_code_is_still_analysed(tmp_path: Path) -> None:
    analysis = _one(tmp_path, ("import pydantic_ai\nx = a" + ".b" * 400 + ".run()\n").encode())

    assert analysis.error is None
    assert [site.verdict for site in analysis.runs] == [Verdict.UNKNOWN]
