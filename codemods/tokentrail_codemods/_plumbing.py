"""Giving a class the fields and the method that carry its tracking context (CONTRACT §4).

A service class with agent runs gains `_tracker`, `_user_id` and `_org_id` (typed, defaulting
to `None`, declared the way its kind of class declares private state) and
`set_tracking_context(self, tracker, user_id, org_id)`, so that whoever creates the service can
say who its runs are for. The edits are insertions of whole lines: the class's own text is never
reparsed or rewritten.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Final

from tokentrail_codemods._edits import Edit
from tokentrail_codemods._lines import LineIndex

FIELDS: Final[tuple[tuple[str, str], ...]] = (
    ("_tracker", "tracker"),
    ("_user_id", "user_id"),
    ("_org_id", "org_id"),
)
"""Each field and the `set_tracking_context` parameter it stores."""

_METHOD_DOCSTRING: Final = '"""Attribute this object\'s agent runs to a user and organization."""'


@dataclass(frozen=True, slots=True)
class ClassLayout:
    """Where a class's body begins and ends in the file's text."""

    header_line: int
    """The line of the `class` keyword."""
    indentation: str
    """The indentation of the `class` line."""
    body_indentation: str
    fields_at: int
    """Where new fields go: after the header, or after the class docstring."""
    after_docstring: bool
    end: int
    """Just after the class's last line, where a new method goes."""
    bases: tuple[str, ...]
    """The last names of the bases written in the header (`pkg.Base` gives `Base`)."""


@dataclass(frozen=True, slots=True)
class Names:
    """How the file refers to the names the plumbing uses, and how long its lines may be."""

    usage_tracker: str
    line_length: int
    newline: str
    field_default: Callable[[], tuple[str, list[str]]]
    """The callable and the arguments of a field's default (`("", [])`: plain `None`)."""


def class_layout(
    index: LineIndex, start_line: int, end_line: int, end_column: int
) -> ClassLayout | None:
    """Read a class's header with the tokenizer; `None` when its body shares the header's line."""
    text = index.text
    tokens = tokenize.generate_tokens(io.StringIO(text[index.line_start(start_line) :]).readline)
    line_offset = start_line - 1
    try:
        header = _header_tokens(tokens)
        if header is None:
            return None
        header_end_row, bases = header
        body = _body_start(tokens)
    except (tokenize.TokenError, SyntaxError, StopIteration):
        return None
    if body is None:
        return None

    body_indentation, docstring_end_row = body
    header_line = header_end_row + line_offset
    class_line = _class_keyword_line(index, start_line, header_line)
    if docstring_end_row is None:
        fields_at = index.next_line_start(header_line)
    else:
        fields_at = index.next_line_start(docstring_end_row + line_offset)

    end = index.offset(end_line, end_column)
    if end != index.line_start(index.line_of(end)):
        end = index.next_line_start(index.line_of(end))
    return ClassLayout(
        header_line=class_line,
        indentation=index.indentation(class_line),
        body_indentation=body_indentation,
        fields_at=fields_at,
        after_docstring=docstring_end_row is not None,
        end=end,
        bases=bases,
    )


def _class_keyword_line(index: LineIndex, start_line: int, header_end_line: int) -> int:
    for line in range(start_line, header_end_line + 1):
        if index.line_text(line).lstrip().startswith("class"):
            return line
    return start_line


def _header_tokens(tokens: Iterator[tokenize.TokenInfo]) -> tuple[int, tuple[str, ...]] | None:
    """Consume decorators and the header; return the header's last row and its base names."""
    seen_class = False
    depth = 0
    bases: list[str] = []
    argument: list[str] = []
    for token in tokens:
        if token.type == tokenize.NAME and token.string == "class" and depth == 0:
            seen_class = True
        elif token.type == tokenize.OP and token.string in "([{":
            depth += 1
        elif token.type == tokenize.OP and token.string in ")]}":
            depth -= 1
            if seen_class and depth == 0:
                bases += _base_name(argument)
                argument = []
        elif seen_class and depth == 1 and token.string == ",":
            bases += _base_name(argument)
            argument = []
        elif seen_class and depth == 1:
            argument.append(token.string if token.type in (tokenize.NAME, tokenize.OP) else "")
        elif seen_class and depth == 0 and token.string == ":":
            following = next(tokens)
            while following.type == tokenize.COMMENT:
                following = next(tokens)
            if following.type != tokenize.NEWLINE:
                return None
            return following.start[0], tuple(bases)
    return None


def _base_name(argument: list[str]) -> list[str]:
    """`pkg.Base` gives `Base`; `metaclass=Meta` and `**options` give nothing."""
    if not argument or "=" in argument or argument[0] in ("*", "**"):
        return []
    names = [word for word in argument if word.isidentifier()]
    return names[-1:]


def _body_start(tokens: Iterator[tokenize.TokenInfo]) -> tuple[str, int | None] | None:
    """Return the body's indentation and, when the body opens with a docstring, its last row."""
    for token in tokens:
        if token.type in (tokenize.COMMENT, tokenize.NL):
            continue
        if token.type != tokenize.INDENT:
            return None
        indentation = token.string
        break
    else:
        return None

    first: list[tokenize.TokenInfo] = []
    for token in tokens:
        if token.type == tokenize.NEWLINE:
            break
        if token.type not in (tokenize.COMMENT, tokenize.NL):
            first.append(token)
    is_docstring = bool(first) and all(token.type == tokenize.STRING for token in first)
    return indentation, (token.end[0] if is_docstring else None)


def plumbing_edits(
    index: LineIndex,
    layout: ClassLayout,
    *,
    missing_fields: list[str],
    add_method: bool,
    names: Names,
) -> list[Edit]:
    """The insertions that give a class the missing fields and, if asked, the method."""
    newline = names.newline
    indentation = layout.body_indentation
    edits: list[Edit] = []
    if missing_fields:
        annotation = f"{names.usage_tracker} | None"
        lines = []
        for name, _ in FIELDS:
            if name in missing_fields:
                field_type = annotation if name == "_tracker" else "str | None"
                function, arguments = names.field_default()
                declaration = f"{indentation}{name}: {field_type} = "
                if function:
                    lines += fit_call(declaration, function, arguments, names.line_length)
                else:
                    lines.append(declaration + "None")
        block = newline.join(lines) + newline
        if layout.after_docstring:
            block = newline + block
        if index.text[layout.fields_at : layout.fields_at + 1] not in ("\r", "\n"):
            block += newline
        edits.append(Edit(layout.fields_at, layout.fields_at, block, order=2))

    if add_method:
        method = _method(indentation, names)
        # A class that ends the file without a final line break needs one more.
        at_end_of_text = layout.end == len(index.text) and not index.text.endswith(("\n", "\r"))
        lead = newline * (2 if at_end_of_text else 1)
        # A deeper class ending on the same line as its enclosing class goes first.
        edits.append(Edit(layout.end, layout.end, lead + method, order=10 - len(indentation)))
    return edits


def fit_call(prefix: str, function: str, arguments: list[str], line_length: int) -> list[str]:
    """Lay out `prefix + function(arguments)` as ruff format would, as lines.

    One line when it fits; else the arguments together on an indented line; else one argument
    per line with a trailing comma, which ruff keeps as written.
    """
    one_line = f"{prefix}{function}({', '.join(arguments)})"
    if len(one_line) <= line_length:
        return [one_line]
    indentation = prefix[: len(prefix) - len(prefix.lstrip())]
    inner = indentation + ("\t" if "\t" in indentation else "    ")
    hugged = inner + ", ".join(arguments)
    if len(hugged) <= line_length:
        return [f"{prefix}{function}(", hugged, f"{indentation})"]
    return [
        f"{prefix}{function}(",
        *(f"{inner}{argument}," for argument in arguments),
        f"{indentation})",
    ]


def _method(indentation: str, names: Names) -> str:
    inner = indentation + ("\t" if "\t" in indentation else "    ")
    tracker = f"{names.usage_tracker} | None"
    parameters = ["self", f"tracker: {tracker}", "user_id: str | None", "org_id: str | None"]
    one_line = f"{indentation}def set_tracking_context({', '.join(parameters)}) -> None:"
    if len(one_line) <= names.line_length:
        signature = [one_line]
    else:
        hugged = inner + ", ".join(parameters)
        if len(hugged) <= names.line_length:
            signature = [
                f"{indentation}def set_tracking_context(",
                hugged,
                f"{indentation}) -> None:",
            ]
        else:
            signature = [f"{indentation}def set_tracking_context("]
            signature += [f"{inner}{parameter}," for parameter in parameters]
            signature.append(f"{indentation}) -> None:")
    body = [f"{inner}{_METHOD_DOCSTRING}"]
    body += [f"{inner}self.{name} = {parameter}" for name, parameter in FIELDS]
    return names.newline.join(signature + body) + names.newline


def instance_parameter(
    index: LineIndex, layout: ClassLayout, call_line: int, method: str
) -> str | None:
    """The name a method calls its instance (`self`), or `None` for static and class methods.

    The method is the `def` named `method` at the class body's indentation nearest above the
    call; nested functions and lambdas reach the same instance through their closure.
    """
    definition = re.compile(
        rf"{re.escape(layout.body_indentation)}(?:async\s+)?def\s+{re.escape(method)}\s*[(\[]"
    )
    line = call_line
    while line > layout.header_line:
        if definition.match(index.line_text(line)):
            return _first_parameter(index, line, layout.body_indentation)
        line -= 1
    return None


def _first_parameter(index: LineIndex, def_line: int, indentation: str) -> str | None:
    decorator_line = def_line - 1
    while decorator_line > 0 and index.line_text(decorator_line).startswith(indentation + "@"):
        decorator = index.line_text(decorator_line).strip()
        if decorator.startswith(("@staticmethod", "@classmethod")):
            return None
        decorator_line -= 1

    tokens = tokenize.generate_tokens(
        io.StringIO(index.text[index.line_start(def_line) :]).readline
    )
    depth = 0
    try:
        for token in tokens:
            if token.type == tokenize.OP and token.string == "[":
                depth += 1
            elif token.type == tokenize.OP and token.string == "]":
                depth -= 1
            elif depth == 0 and token.type == tokenize.OP and token.string == "(":
                for parameter in tokens:
                    if parameter.type in (tokenize.NL, tokenize.COMMENT):
                        continue
                    return parameter.string if parameter.type == tokenize.NAME else None
    except (tokenize.TokenError, SyntaxError):
        return None
    return None
