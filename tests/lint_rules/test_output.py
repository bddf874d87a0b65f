"""Terminal output: rich colours for a terminal, the plain bytes for everything else."""

from __future__ import annotations

import io

from tokentrail_lint import _output

LINE = "services/a.py:3:5: TT001 untracked agent run `agent.run(...)` [x]\nFound 1 finding.\n"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_when_not_a_terminal() -> None:
    stream = io.StringIO()
    _output.write(LINE, stream=stream, highlight=True)
    assert stream.getvalue() == LINE


def test_rich_colours_the_code_on_a_terminal_and_keeps_the_text() -> None:
    stream = _Terminal()
    _output.write(LINE, stream=stream, highlight=True)
    written = stream.getvalue()
    assert "\x1b[" in written
    assert "[x]" in written
    plain = written
    for escape in ("\x1b[1m", "\x1b[0m", "\x1b[31m", "\x1b[22m", "\x1b[39m"):
        plain = plain.replace(escape, "")
    assert "TT001 untracked agent run" in plain


def test_nothing_to_write_writes_nothing() -> None:
    stream = _Terminal()
    _output.write("", stream=stream, highlight=True)
    assert stream.getvalue() == ""
