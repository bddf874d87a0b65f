"""Make PEP 695 syntax parseable by Python 3.11's `ast`, keeping every position.

`class C[T]:` and `def f[T](...)` lose their bracketed type parameter lists (overwritten with
spaces; a line break inside becomes a backslash continuation). `type X[T] = v` becomes
`_=0; X    = v`, so `X` stays bound to its value. Working on tokens, unlike a regular expression,
is never fooled by strings or comments. Type parameters never hold agents, so nothing the
analysis needs is lost.
"""

from __future__ import annotations

import io
import tokenize


def without_type_parameters(text: str) -> str:
    """Blank out PEP 695 syntax with same-length text that Python 3.11 parses.

    `class C[T]:` and `def f[T](...)` lose their bracketed lists (spaces; a line break inside
    becomes a backslash continuation). `type X[T] = v` becomes `_=0; X    = v`, so `X` stays
    bound to its value. Tokens, unlike a regular expression, are never fooled by strings.
    """
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return text  # not tokenizable: the caller reports the original syntax error
    lines = text.splitlines(keepends=True)
    edits: list[tuple[tuple[int, int], tuple[int, int], str]] = []
    for index, token in enumerate(tokens[:-2]):
        following, after = tokens[index + 1], tokens[index + 2]
        if token.type != tokenize.NAME or following.type != tokenize.NAME:
            continue
        if token.string in {"class", "def"} and after.string == "[":
            closing = _matching_bracket(tokens, index + 2)
            edits.append((after.start, tokens[closing].end, ""))
        elif (
            token.string == "type"
            and _starts_statement(tokens, index)
            and after.string in {"[", "="}
        ):
            edits.append((token.start, token.end, "_=0;"))
            if after.string == "[":
                closing = _matching_bracket(tokens, index + 2)
                edits.append((after.start, tokens[closing].end, ""))
    for start, end, replacement in reversed(edits):
        _overwrite(lines, start, end, replacement)
    return "".join(lines)


def _starts_statement(tokens: list[tokenize.TokenInfo], index: int) -> bool:
    previous = tokens[index - 1] if index else None
    return (
        previous is None
        or previous.type
        in {
            tokenize.NEWLINE,
            tokenize.NL,
            tokenize.INDENT,
            tokenize.DEDENT,
            tokenize.ENCODING,
        }
        or previous.string == ";"
    )


def _matching_bracket(tokens: list[tokenize.TokenInfo], opening: int) -> int:
    depth = 0
    for index in range(opening, len(tokens)):
        if tokens[index].string in {"(", "[", "{"}:
            depth += 1
        elif tokens[index].string in {")", "]", "}"}:
            depth -= 1
            if depth == 0:
                return index
    return len(tokens) - 1  # unclosed: blank to the end, and let the parser report the file


def _overwrite(
    lines: list[str], start: tuple[int, int], end: tuple[int, int], replacement: str
) -> None:
    """Replace a token range with `replacement` padded by spaces, keeping line breaks."""
    (first_row, first_column), (last_row, last_column) = start, end
    for row in range(first_row, last_row + 1):
        line = lines[row - 1]
        begin = first_column if row == first_row else 0
        stop = last_column if row == last_row else len(line.rstrip("\r\n"))
        fill = replacement[: stop - begin] if row == first_row else ""
        fill = fill.ljust(stop - begin)
        if row != last_row and stop > begin:
            fill = fill[:-1] + "\\"
        lines[row - 1] = line[:begin] + fill + line[stop:]
