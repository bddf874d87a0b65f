"""Rewriting one agent run call into tokentrail's wrapper, keeping what the call means.

`agent.run(prompt, deps=deps)` becomes `run_agent_with_tracking(agent, prompt, deps=deps,
tool_name="...", operation="...")`: the receiver moves to the first argument, every original
argument keeps its place and text (`*args`, `**kwargs` and keyword order included), and the
names are appended. Whatever surrounds the call (`await`, `async with ... as`, a `return`, an
argument list) is outside the call's text and therefore untouched, so every call shape keeps
its meaning.

The call's text is parsed on its own, which costs a few microseconds instead of a parse of
the whole file.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import libcst as cst

_PRAGMA_COMMENT: Final = re.compile(r"#\s*(noqa|type:|pyright:|pylint:|mypy:|ruff:|nosec)")
_WITH_STATEMENT: Final = re.compile(r"^\s*(?:async\s+)?with\s+")
_STRING_LITERAL: Final = re.compile(
    r"""[rbfuRBFU]{0,2}('[^'\\]*(?:\\.[^'\\]*)*'|"[^"\\]*(?:\\.[^"\\]*)*")"""
)
_EMPTY: Final = cst.SimpleWhitespace("")
_SPACE: Final = cst.SimpleWhitespace(" ")


class CallShapeError(Exception):
    """The text at a run site is not the call the analysis described; the call is left alone."""


@dataclass(frozen=True, slots=True)
class LineContext:
    """Where a call sits on its lines, which decides whether it fits on one line."""

    prefix: str
    """The text between the start of the call's first line and the call."""
    suffix: str
    """The text between the call's end and the end of its last line."""
    indentation: str
    """The leading whitespace of the call's first line."""
    line_length: int


def string_literal(value: str, quote: str = '"') -> str:
    """A Python string literal for `value`, double-quoted as ruff format writes it by default."""
    escaped = value.replace("\\", "\\\\").replace(quote, "\\" + quote)
    return f"{quote}{escaped}{quote}"


def literal_quote(prefix: str) -> str:
    """The quote for new string literals in a call that starts after `prefix` on its line.

    Inside an f-string's replacement field (before Python 3.12) a literal must not reuse the
    f-string's own quote.
    """
    open_strings = _code_characters(prefix)
    return "'" if '"' in open_strings else '"'


def rewrite_call(
    snippet: str,
    *,
    method: str,
    wrapper: str,
    keywords: Sequence[tuple[str, str]],
    context: LineContext,
) -> str:
    """Return the wrapper call that replaces the run call written as `snippet`.

    Args:
        snippet: the source text of the call, from the receiver to the closing parenthesis.
        method: the run method the analysis saw (`run`, `iter`, ...).
        wrapper: the expression naming the wrapper, as the file can refer to it.
        keywords: `(name, expression)` pairs appended after the original arguments.
        context: the call's surroundings, to choose between one line and one argument per line.

    Raises:
        CallShapeError: `snippet` is not a call of `method` on a receiver.
    """
    parts = _call_parts(snippet, method)
    if parts is not None:
        receiver_text, argument_texts, magic_comma = parts
        texts = [receiver_text, *argument_texts, *(f"{name}={value}" for name, value in keywords)]
        return _lay_out_texts(wrapper, texts, magic_comma, context)
    return _rewrite_with_libcst(snippet, method, wrapper, keywords, context)


def _lay_out_texts(wrapper: str, texts: list[str], magic_comma: bool, context: LineContext) -> str:
    if not magic_comma:
        one_line = f"{wrapper}({', '.join(texts)})"
        width = len(context.prefix) + len(one_line) + len(_without_pragma(context.suffix))
        if "\n" not in one_line and (width <= context.line_length or _is_nested(context)):
            return one_line
    indentation = context.indentation
    inner = indentation + ("\t" if "\t" in indentation else "    ")
    lines = [f"{wrapper}(", *(f"{inner}{text}," for text in texts), f"{indentation})"]
    return "\n".join(lines)


def _call_parts(snippet: str, method: str) -> tuple[str, list[str], bool] | None:
    """The receiver's and each argument's text, read with `ast` (the fast path).

    Returns `None` (leaving the call to libcst) when the call holds a comment, which `ast`
    does not see, a bare generator argument, or syntax this interpreter cannot parse.
    """
    if "#" in snippet or not snippet.endswith(")"):
        return None
    try:
        call = ast.parse(snippet, mode="eval").body
    except SyntaxError:
        return None
    if not (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == method
    ):
        return None
    arguments: list[ast.expr | ast.keyword] = [*call.args, *call.keywords]
    if any(isinstance(argument, ast.GeneratorExp) for argument in arguments):
        return None

    offset = _SnippetOffsets(snippet)
    function_end = offset(call.func.end_lineno, call.func.end_col_offset)
    receiver = snippet[: snippet.rfind(".", 0, function_end - len(method))].rstrip()
    arguments.sort(key=lambda node: (node.lineno, node.col_offset))
    texts = [
        snippet[offset(node.lineno, node.col_offset) : offset(node.end_lineno, node.end_col_offset)]
        for node in arguments
    ]
    if arguments:
        last = arguments[-1]
        tail = snippet[offset(last.end_lineno, last.end_col_offset) : -1]
        magic_comma = "," in tail
    else:
        magic_comma = False
    return receiver, texts, magic_comma


class _SnippetOffsets:
    """Turns `ast`'s (1-based line, UTF-8 byte column) into offsets in the snippet."""

    def __init__(self, snippet: str) -> None:
        self._lines = snippet.split("\n")
        self._starts = [0]
        for line in self._lines[:-1]:
            self._starts.append(self._starts[-1] + len(line) + 1)

    def __call__(self, line: int | None, byte_column: int | None) -> int:
        assert line is not None  # expressions parsed from source always have positions
        assert byte_column is not None
        text = self._lines[line - 1]
        if not text.isascii():
            byte_column = len(text.encode("utf-8")[:byte_column].decode("utf-8", "replace"))
        return self._starts[line - 1] + byte_column


def _rewrite_with_libcst(
    snippet: str,
    method: str,
    wrapper: str,
    keywords: Sequence[tuple[str, str]],
    context: LineContext,
) -> str:
    """The general path: comments inside the call are kept where they belong."""
    call = _parse_call(snippet, method)
    assert isinstance(call.func, cst.Attribute)  # checked by _parse_call
    receiver = cst.Arg(value=call.func.value)
    added = [
        cst.Arg(
            keyword=cst.Name(name),
            value=cst.parse_expression(expression),
            equal=cst.AssignEqual(whitespace_before=_EMPTY, whitespace_after=_EMPTY),
        )
        for name, expression in keywords
    ]
    wrapped = call.with_changes(func=cst.parse_expression(wrapper), whitespace_after_func=_EMPTY)

    if not _must_explode(call):
        one_line = _code(wrapped.with_changes(args=_one_line([receiver, *call.args, *added])))
        width = len(context.prefix) + len(one_line) + len(_without_pragma(context.suffix))
        if "\n" not in one_line and (width <= context.line_length or _is_nested(context)):
            return one_line

    unit = "\t" if "\t" in context.indentation else "    "
    return _code(_exploded(wrapped, call, receiver, added, context.indentation, unit))


def update_names(snippet: str, names: dict[str, str]) -> str | None:
    """Replace the string literals of the given keywords in a tracked call; `None` if unchanged.

    Only plain string literals are replaced: a name computed at run time is the author's choice.
    """
    try:
        call = cst.parse_expression(snippet)
    except cst.ParserSyntaxError:
        return None
    if not isinstance(call, cst.Call):
        return None

    changed = False
    arguments: list[cst.Arg] = []
    for argument in call.args:
        keyword = argument.keyword.value if argument.keyword else None
        value = argument.value
        if (
            keyword in names
            and isinstance(value, cst.SimpleString)
            and value.evaluated_value != names[keyword]
        ):
            argument = argument.with_changes(value=cst.SimpleString(string_literal(names[keyword])))
            changed = True
        arguments.append(argument)
    return _code(call.with_changes(args=arguments)) if changed else None


def _parse_call(snippet: str, method: str) -> cst.Call:
    try:
        node = cst.parse_expression(snippet)
    except cst.ParserSyntaxError as error:
        raise CallShapeError(
            f"the call's text does not parse on its own ({error.message})"
        ) from error
    if not (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value == method
    ):
        raise CallShapeError(f"the text at this position is not a call of `.{method}(...)`")
    return node


def _must_explode(call: cst.Call) -> bool:
    """A trailing comma after the last argument, or a comment inside, keeps one per line."""
    if call.args and isinstance(call.args[-1].comma, cst.Comma):
        return True
    finder = _CommentFinder()
    call.visit(finder)
    return finder.found


class _CommentFinder(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def visit_Comment(self, node: cst.Comment) -> None:
        self.found = True


def _one_line(arguments: Sequence[cst.Arg]) -> list[cst.Arg]:
    normalized: list[cst.Arg] = []
    for position, argument in enumerate(arguments):
        last = position == len(arguments) - 1
        normalized.append(
            argument.with_changes(
                comma=cst.MaybeSentinel.DEFAULT
                if last
                else cst.Comma(whitespace_before=_EMPTY, whitespace_after=_SPACE),
                whitespace_after_arg=_EMPTY,
            )
        )
    return normalized


def _exploded(
    wrapped: cst.Call,
    original: cst.Call,
    receiver: cst.Arg,
    added: Sequence[cst.Arg],
    indentation: str,
    unit: str,
) -> cst.Call:
    """One argument per line with a trailing comma, keeping every comment of the original."""
    argument_indentation = indentation + unit
    after_open = original.whitespace_before_args

    # Each argument carries the whitespace that follows it; comments live in that whitespace.
    trailing: list[cst.BaseParenthesizableWhitespace] = [_SPACE]
    for argument in original.args:
        comma = argument.comma
        after = comma.whitespace_after if isinstance(comma, cst.Comma) else _EMPTY
        if not isinstance(after, cst.ParenthesizedWhitespace):
            after = argument.whitespace_after_arg
        trailing.append(after)
    trailing += [_SPACE] * len(added)

    arguments = [receiver, *original.args, *added]
    laid_out: list[cst.Arg] = []
    for position, (argument, after) in enumerate(zip(arguments, trailing, strict=True)):
        last = position == len(arguments) - 1
        laid_out.append(
            argument.with_changes(
                comma=cst.Comma(
                    whitespace_before=_EMPTY,
                    whitespace_after=_line_break(
                        after, indentation if last else argument_indentation
                    ),
                ),
                whitespace_after_arg=_EMPTY,
            )
        )
    return wrapped.with_changes(
        args=laid_out,
        whitespace_before_args=_line_break(after_open, argument_indentation),
    )


def _line_break(
    original: cst.BaseParenthesizableWhitespace, indentation: str
) -> cst.ParenthesizedWhitespace:
    """A line break followed by `indentation`, keeping the comments `original` carried."""
    if isinstance(original, cst.ParenthesizedWhitespace):
        first_line = original.first_line
        empty_lines = [
            line.with_changes(
                indent=False,
                whitespace=cst.SimpleWhitespace(indentation if line.comment else ""),
            )
            for line in original.empty_lines
        ]
    else:
        first_line = cst.TrailingWhitespace()
        empty_lines = []
    return cst.ParenthesizedWhitespace(
        first_line=first_line,
        empty_lines=empty_lines,
        indent=False,
        last_line=cst.SimpleWhitespace(indentation),
    )


def _is_nested(context: LineContext) -> bool:
    """Whether the call shares its line with an enclosing bracket or other `with` items.

    There ruff format splits the enclosing construct first, which a rewrite of the call alone
    cannot reproduce; the call stays on one line and the next `ruff format` lays it out.
    """
    depth = 0
    for character in _code_characters(context.prefix):
        if character in "([{":
            depth += 1
        elif character in ")]}":
            depth = max(depth - 1, 0)
    if depth:
        return True
    if _WITH_STATEMENT.match(context.prefix):
        after_keyword = _WITH_STATEMENT.sub("", context.prefix)
        return "," in after_keyword or "," in context.suffix.partition(":")[0]
    return False


def _code_characters(text: str) -> str:
    """`text` with string literals blanked out, so brackets inside strings do not count."""
    return _STRING_LITERAL.sub("", text)


def _without_pragma(suffix: str) -> str:
    """Tool pragmas at the end of a line do not count towards its width in ruff format."""
    match = _PRAGMA_COMMENT.search(suffix)
    return suffix[: match.start()].rstrip() if match else suffix


def _code(node: cst.CSTNode) -> str:
    return _MODULE.code_for_node(node)


_MODULE: Final = cst.Module(body=[])
