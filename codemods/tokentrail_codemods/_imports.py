"""Making the names a rewrite needs importable, the way the file already imports things.

A name the file already imports is reused (under its alias; through `import module` as
`module.name`). Otherwise it is merged into the file's `from module import ...` statement or
added as a new statement in the right isort section, in the position and with the blank lines
that `ruff check --select I` and `ruff format` expect. Only the run of imports at the top of
the file is read, with the tokenizer, so this costs next to nothing.
"""

from __future__ import annotations

import io
import re
import sys
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Final

from tokentrail_codemods._edits import Edit
from tokentrail_codemods._lines import LineIndex

_STANDARD_LIBRARY: Final = frozenset(sys.stdlib_module_names)
_TYPE_CHECKING: Final = re.compile(r"if(?:typing\.)?TYPE_CHECKING:")
_SKIPPED_TOKENS: Final = frozenset({tokenize.COMMENT, tokenize.NL})


class Section(IntEnum):
    """isort's sections, in the order they appear in a file."""

    FUTURE = 0
    STANDARD_LIBRARY = 1
    THIRD_PARTY = 2
    FIRST_PARTY = 3
    LOCAL_FOLDER = 4


@dataclass(slots=True)
class _Statement:
    kind: str
    """`docstring`, `import` or `from`."""
    start: int
    """Where the statement's first line starts, comments directly above it included."""
    end: int
    """Just after the statement's line break."""
    module: str = ""
    names: list[tuple[str, str | None]] = field(default_factory=list)
    has_comment: bool = False
    section: Section = Section.THIRD_PARTY


class ImportPlan:
    """The top of one file's imports, and the names a rewrite of that file asks for."""

    def __init__(
        self,
        index: LineIndex,
        *,
        newline: str,
        line_length: int,
        first_party: frozenset[str],
    ) -> None:
        self._index = index
        self._newline = newline
        self._line_length = line_length
        self._first_party = first_party
        self._statements, self._code_start, self._type_only = _scan_header(index)
        self._postponed = any(
            statement.module == "__future__" and ("annotations", None) in statement.names
            for statement in self._statements
        )
        for statement in self._statements:
            statement.section = self._section(statement)
        self._wanted: dict[str, list[str]] = {}
        self._qualified_modules: list[str] = []

    @property
    def code_start(self) -> int:
        """Where the first statement after the docstring and the imports begins."""
        return self._code_start

    @property
    def header_end(self) -> int:
        """Where the docstring and the imports at the top end (0 when there are none)."""
        return max((statement.end for statement in self._statements), default=0)

    def blank_lines_after(self, position: int) -> str:
        """The blank lines a new statement needs before the code at `position`."""
        return self._blank_lines_after(position)

    def reference(self, module: str, name: str, *, annotation_only: bool = False) -> str:
        """The expression that names `module.name` in this file, importing it if needed.

        With `annotation_only`, an import under `if TYPE_CHECKING:` is enough when the file
        postpones the evaluation of annotations (`from __future__ import annotations`).
        """
        if annotation_only and self._postponed:
            for statement in self._type_only:
                if statement.kind == "from" and statement.module == module:
                    for imported, alias in statement.names:
                        if imported == name:
                            return alias or name
        for statement in self._statements:
            if statement.kind == "from" and statement.module == module:
                for imported, alias in statement.names:
                    if imported == name:
                        return alias or name
        for statement in self._statements:
            if statement.kind == "import":
                for imported, alias in statement.names:
                    if imported == module:
                        return f"{alias or module}.{name}"
        if self._binds(name) or module in self._qualified_modules:
            if module not in self._qualified_modules:
                self._qualified_modules.append(module)
            return f"{module}.{name}"

        wanted = self._wanted.setdefault(module, [])
        if name not in wanted:
            wanted.append(name)
        return name

    def edits(self) -> list[Edit]:
        """The insertions and replacements that provide every name asked for."""
        edits: list[Edit] = []
        for module in self._qualified_modules:
            edits.append(self._insert(f"import {module}", module, is_from=False))
        for module, names in self._wanted.items():
            target = self._mergeable(module)
            if target is None:
                text = self._from_statement(module, [(name, None) for name in names])
                edits.append(self._insert(text, module, is_from=True))
            else:
                merged = target.names + [(name, None) for name in names]
                text = self._from_statement(module, merged) + self._newline
                edits.append(Edit(target.start, target.end, text, order=0))
        return edits

    def _binds(self, name: str) -> bool:
        return any(
            (alias or imported.partition(".")[0]) == name
            for statement in self._statements
            for imported, alias in statement.names
        )

    def _mergeable(self, module: str) -> _Statement | None:
        for statement in self._statements:
            if (
                statement.kind == "from"
                and statement.module == module
                and not statement.has_comment
                and all(alias is None for _, alias in statement.names)
                and all(name != "*" for name, _ in statement.names)
            ):
                return statement
        return None

    def _section(self, statement: _Statement) -> Section:
        return self._section_of(statement.module)

    def _section_of(self, module: str) -> Section:
        top = module.partition(".")[0]
        if module == "__future__":
            return Section.FUTURE
        if module.startswith("."):
            return Section.LOCAL_FOLDER
        if top in self._first_party:
            return Section.FIRST_PARTY
        if top in _STANDARD_LIBRARY:
            return Section.STANDARD_LIBRARY
        return Section.THIRD_PARTY

    def _from_statement(self, module: str, names: list[tuple[str, str | None]]) -> str:
        ordered = sorted(names, key=lambda item: _member_order(item[0]))
        written = [name if alias is None else f"{name} as {alias}" for name, alias in ordered]
        one_line = f"from {module} import {', '.join(written)}"
        if len(one_line) <= self._line_length:
            return one_line
        lines = [f"from {module} import ("] + [f"    {name}," for name in written] + [")"]
        return self._newline.join(lines)

    def _insert(self, text: str, module: str, *, is_from: bool) -> Edit:
        """Place a new statement where isort would, with the blank lines around it."""
        newline = self._newline
        section = self._section_of(module)
        imports = [s for s in self._statements if s.kind != "docstring"]
        same = [s for s in imports if s.section == section]
        if same:
            key = (is_from, module.lower())
            for statement in same:
                if (statement.kind == "from", statement.module.lower()) > key:
                    return Edit(statement.start, statement.start, text + newline, order=1)
            return Edit(same[-1].end, same[-1].end, text + newline, order=1)

        before = [s for s in imports if s.section < section]
        after = [s for s in imports if s.section > section]
        if before:
            return Edit(before[-1].end, before[-1].end, newline + text + newline, order=1)
        if after:
            return Edit(after[0].start, after[0].start, text + newline * 2, order=1)

        docstrings = [s for s in self._statements if s.kind == "docstring"]
        position = docstrings[0].end if docstrings else self._code_start
        lead = newline if docstrings else ""
        return Edit(position, position, lead + text + newline + self._blank_lines_after(position))

    def _blank_lines_after(self, position: int) -> str:
        """Blank lines between a new import block and the code that follows it."""
        index = self._index
        line = index.line_of(position)
        existing = 0
        while line <= index.line_count and not index.line_text(line).strip():
            existing += 1
            line += 1
        if line > index.line_count:
            return ""
        following = index.line_text(line)
        needed = 2 if following.startswith(("def ", "class ", "async ", "@")) else 1
        return self._newline * max(needed - existing, 0)


def _member_order(name: str) -> tuple[int, str, str]:
    """ruff's order within `from x import ...`: constants, then classes, then the rest."""
    if len(name) > 1 and name.isupper():
        kind = 0
    elif name[:1].isupper():
        kind = 1
    else:
        kind = 2
    return kind, name.lower(), name


def _scan_header(index: LineIndex) -> tuple[list[_Statement], int, list[_Statement]]:
    """Read the docstring and the imports at the top of the file, up to the first other code.

    Returns the statements found, the offset where the first other statement begins (with the
    comments directly above it), and the imports of an `if TYPE_CHECKING:` block found there.
    """
    statements: list[_Statement] = []
    logical: list[tokenize.TokenInfo] = []
    comment_start: int | None = None
    code_start = len(index.text)
    tokens = tokenize.generate_tokens(io.StringIO(index.text).readline)
    try:
        for token in tokens:
            if not logical and token.type in _SKIPPED_TOKENS:
                if token.type == tokenize.COMMENT and comment_start is None:
                    comment_start = index.line_start(token.start[0])
                elif token.type == tokenize.NL and token.line.strip() == "":
                    comment_start = None
                continue
            if token.type in (tokenize.ENDMARKER, tokenize.INDENT, tokenize.DEDENT):
                break
            logical.append(token)
            if token.type != tokenize.NEWLINE:
                continue

            start = index.line_start(logical[0].start[0])
            statement = _statement(logical, index, not statements)
            if statement is None:
                # Comments right above the first statement belong to it, unless they open the
                # file (a licence or a shebang), which stays above the imports.
                code_start = comment_start if comment_start else start
                is_type_checking = _TYPE_CHECKING.fullmatch(
                    "".join(token.string for token in logical[:-1])
                )
                type_only = _block_imports(tokens, index) if is_type_checking else []
                return statements, code_start, type_only
            statement.start = comment_start if comment_start is not None else start
            statements.append(statement)
            logical = []
            comment_start = None
    except (tokenize.TokenError, SyntaxError):
        pass
    return statements, code_start, []


def _block_imports(tokens: Iterator[tokenize.TokenInfo], index: LineIndex) -> list[_Statement]:
    """The import statements of the indented block that `tokens` is about to enter."""
    found: list[_Statement] = []
    logical: list[tokenize.TokenInfo] = []
    for token in tokens:
        if token.type in (tokenize.DEDENT, tokenize.ENDMARKER):
            break
        if token.type in (tokenize.INDENT, tokenize.COMMENT, tokenize.NL) and not logical:
            continue
        logical.append(token)
        if token.type == tokenize.NEWLINE:
            statement = _statement(logical, index, first=False, indented=True)
            if statement is not None:
                found.append(statement)
            logical = []
    return found


def _statement(
    tokens: list[tokenize.TokenInfo], index: LineIndex, first: bool, *, indented: bool = False
) -> _Statement | None:
    significant = [t for t in tokens if t.type not in (tokenize.NEWLINE, tokenize.NL)]
    end = index.next_line_start(tokens[-1].end[0])
    start = index.line_start(tokens[0].start[0])
    has_comment = any(t.type == tokenize.COMMENT for t in significant)
    words = [t for t in significant if t.type != tokenize.COMMENT]
    head = words[0]
    if first and all(t.type == tokenize.STRING for t in words):
        return _Statement("docstring", start, end)
    if (head.start[1] != 0 and not indented) or head.type != tokenize.NAME:
        return None
    if head.string == "import":
        names = _import_names(words[1:])
        module = names[0][0] if names else ""
        return _Statement("import", start, end, module, names, has_comment)
    if head.string == "from":
        module, names = _from_parts(words[1:])
        return _Statement("from", start, end, module, names, has_comment)
    return None


def _import_names(tokens: list[tokenize.TokenInfo]) -> list[tuple[str, str | None]]:
    names: list[tuple[str, str | None]] = []
    dotted, alias, expecting_alias = "", None, False
    for token in [*tokens, None]:
        if token is None or token.string == ",":
            if dotted:
                names.append((dotted, alias))
            dotted, alias, expecting_alias = "", None, False
        elif token.string == "as":
            expecting_alias = True
        elif expecting_alias:
            alias = token.string
        else:
            dotted += token.string
    return names


def _from_parts(tokens: list[tokenize.TokenInfo]) -> tuple[str, list[tuple[str, str | None]]]:
    words = [token.string for token in tokens]
    split = words.index("import") if "import" in words else len(words)
    module = "".join(words[:split])
    members = [token for token in tokens[split + 1 :] if token.string not in ("(", ")")]
    return module, _import_names(members)
