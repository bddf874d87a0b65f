"""Laying out a `with` statement whose items no longer fit on one line.

When a rewritten call is one of several `with` items, ruff format does not split the call: it
puts the items in parentheses, one per line (Python 3.9+). The rewrite does the same for a
`with` header written on one line, so the result is what the formatter would write.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

import libcst as cst

_WITH_HEADER: Final = re.compile(r"^(?P<indentation>\s*)(?P<keyword>(?:async\s+)?with)\s")
_MODULE: Final = cst.Module(body=[])


def parenthesized_items(
    line: str,
    *,
    call_item: str,
    line_length: int,
    lay_out_call: Callable[[str, str, str], str],
) -> str | None:
    """Rewrite a one-line `with` header as parenthesized items, one per line.

    Args:
        line: the header as it will read with the call rewritten on one line.
        call_item: the rewritten call's one-line text, to find its item.
        line_length: the configured line length.
        lay_out_call: `(prefix, suffix, indentation) -> text` lays the call out again for its
            own line within the parentheses.

    Returns:
        The new header lines, or `None` when `line` is not a one-line `with` header.
    """
    match = _WITH_HEADER.match(line)
    if match is None:
        return None
    indentation = match["indentation"]
    try:
        statement = cst.parse_statement(line[len(indentation) :] + " pass\n")
    except cst.ParserSyntaxError:
        return None
    if (
        not isinstance(statement, cst.With)
        or len(statement.items) < 2
        or isinstance(statement.lpar, cst.LeftParen)
    ):
        return None

    inner = indentation + ("\t" if "\t" in indentation else "    ")
    lines = [f"{indentation}{match['keyword']} ("]
    for item in statement.items:
        expression = _MODULE.code_for_node(item.item)
        alias = f" as {_MODULE.code_for_node(item.asname.name)}" if item.asname else ""
        text = f"{inner}{expression}{alias},"
        if expression == call_item and len(text) > line_length:
            text = inner + lay_out_call(inner, f"{alias},", inner) + f"{alias},"
        lines.append(text)
    lines.append(f"{indentation}):{_trailing_comment(statement)}")
    return "\n".join(lines)


def _trailing_comment(statement: cst.With) -> str:
    body = statement.body
    if isinstance(body, cst.SimpleStatementSuite) and body.trailing_whitespace.comment:
        return "  " + body.trailing_whitespace.comment.value
    return ""
