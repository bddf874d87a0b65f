"""Positions in decoded source text: from the analysis' lines and columns to string offsets."""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import Final

_LINE_BREAK: Final = re.compile(r"\r\n|\r|\n")


class LineIndex:
    """Maps 1-based lines and 1-based character columns to offsets in one text.

    Lines break where Python's tokenizer breaks them (`\\r\\n`, `\\r` or `\\n`), so the
    positions the analysis reports land on the same characters whatever the file's line endings.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts = [0] + [match.end() for match in _LINE_BREAK.finditer(text)]

    @property
    def line_count(self) -> int:
        """How many lines the text has (a final line without a line break counts)."""
        return len(self._starts)

    def offset(self, line: int, column: int) -> int:
        """The offset of a 1-based line and 1-based character column."""
        return min(self._starts[line - 1] + column - 1, len(self.text))

    def line_of(self, offset: int) -> int:
        """The 1-based line holding `offset`."""
        return bisect_right(self._starts, offset)

    def line_start(self, line: int) -> int:
        """The offset where a 1-based line begins."""
        return self._starts[line - 1]

    def line_end(self, line: int) -> int:
        """The offset of a line's break (or of the text's end on the last line)."""
        if line < len(self._starts):
            end = self._starts[line]
            while end > self._starts[line - 1] and self.text[end - 1] in "\r\n":
                end -= 1
            return end
        return len(self.text)

    def next_line_start(self, line: int) -> int:
        """The offset just after a line's break (the text's end on the last line)."""
        return self._starts[line] if line < len(self._starts) else len(self.text)

    def line_text(self, line: int) -> str:
        """The text of a 1-based line without its break."""
        return self.text[self._starts[line - 1] : self.line_end(line)]

    def indentation(self, line: int) -> str:
        """The leading whitespace of a 1-based line."""
        text = self.line_text(line)
        return text[: len(text) - len(text.lstrip(" \t"))]
