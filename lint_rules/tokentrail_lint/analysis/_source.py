"""Turn a file's bytes into text and an `ast` tree, whatever Python version wrote it.

The standard library's parser is about five times faster than libcst's, but on Python 3.11 it
rejects PEP 695 syntax (`class Box[T]:`, `def first[T](...)`, `type Alias = ...`). Those files are
rare, so they take a slower path (`_pep695`) that keeps every line and column where it was.
"""

from __future__ import annotations

import ast
import io
import re
from dataclasses import dataclass
from typing import Final

_CODING_LINE: Final = re.compile(rb"^[ \t\f]*#.*?coding[:=]")
_NOQA: Final = re.compile(r"#\s*noqa\s*:\s*([A-Za-z]+[0-9]+(?:\s*,\s*[A-Za-z]+[0-9]+)*)")


class SourceError(Exception):
    """The file cannot be decoded or parsed; the message says why and where."""


@dataclass(slots=True)
class ParsedSource:
    """A decoded, parsed file and the line texts that character columns are counted in."""

    text: str
    tree: ast.Module
    lines: list[str]

    def column(self, line: int, byte_offset: int) -> int:
        """Convert `ast`'s 0-based UTF-8 byte offset on a 1-based line into a 1-based column."""
        if line > len(self.lines):
            return byte_offset + 1
        text = self.lines[line - 1]
        if text.isascii():
            return byte_offset + 1
        return len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="replace")) + 1

    def segment(self, node: ast.expr) -> str:
        """The source text of `node`, as written."""
        end_line = node.end_lineno or node.lineno
        first = self.column(node.lineno, node.col_offset) - 1
        last = self.column(end_line, node.end_col_offset or node.col_offset) - 1
        if node.lineno == end_line:
            return self.lines[node.lineno - 1][first:last]
        middle = self.lines[node.lineno : end_line - 1]
        return "\n".join(
            [self.lines[node.lineno - 1][first:], *middle, self.lines[end_line - 1][:last]]
        )

    def suppressions(self) -> dict[int, frozenset[str]]:
        """Codes named by `# noqa: CODE[, CODE]` comments, by 1-based line."""
        found: dict[int, frozenset[str]] = {}
        if "noqa" not in self.text:
            return found
        for number, line in enumerate(self.lines, start=1):
            if "noqa" in line and (match := _NOQA.search(line)):
                found[number] = frozenset(
                    code.strip().upper() for code in match.group(1).split(",")
                )
        return found


def decode(data: bytes) -> str:
    """Decode source bytes as Python does: UTF-8, a BOM, or a PEP 263 coding line.

    Raises:
        SourceError: the bytes are not valid in the declared encoding.
    """
    head = data[:400].split(b"\n", 2)[:2]
    try:
        if any(_CODING_LINE.match(line) for line in head):
            import tokenize  # rare: only for files with a coding line

            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
            return data.decode(encoding)
        return data.decode("utf-8-sig")
    except (SyntaxError, LookupError) as error:
        raise SourceError(f"bad coding declaration: {error}") from error
    except UnicodeDecodeError as error:
        raise SourceError(
            f"not valid {error.encoding} (byte {error.start}); save the file as UTF-8 or "
            "declare its encoding in a PEP 263 coding line"
        ) from error


def parse(text: str) -> ParsedSource:
    """Parse decoded source, falling back to a PEP 695 rewrite that keeps every position.

    Raises:
        SourceError: the text is not valid Python (the first syntax error is named).
    """
    try:
        tree = ast.parse(text)
    except SyntaxError as error:
        # Rare, so imported only here: files that 3.11's parser rejects.
        from tokentrail_lint.analysis._pep695 import without_type_parameters

        try:
            tree = ast.parse(without_type_parameters(text))
        except SyntaxError:
            raise SourceError(_describe(error)) from error
    except ValueError as error:  # null bytes in the source
        raise SourceError(f"cannot be parsed: {error}") from error
    except (RecursionError, MemoryError) as error:
        raise SourceError("nested too deeply for Python's parser") from error
    # Only the line breaks Python itself counts: str.splitlines() also splits on form feeds.
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return ParsedSource(text, tree, lines)


def _describe(error: SyntaxError) -> str:
    where = f"line {error.lineno}" if error.lineno else "somewhere"
    if error.lineno and error.offset:
        where += f", column {error.offset}"
    return f"syntax error at {where}: {error.msg}"
