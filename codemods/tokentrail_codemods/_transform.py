"""The rewrite of one file: a pure function of its text, its analysis and the project's naming.

Everything that decides what a file becomes lives here, so the command line, the Python API,
`check --fix` and the libcst runner all produce the same text for the same input.
"""

from __future__ import annotations

import ast
import re
from dataclasses import replace
from pathlib import Path
from typing import Final

import libcst as cst

from tokentrail_codemods._callers import CallerPlumbing
from tokentrail_codemods._calls import (
    CallShapeError,
    LineContext,
    literal_quote,
    rewrite_call,
    string_literal,
    update_names,
)
from tokentrail_codemods._edits import Edit, OverlappingEditsError, apply_edits
from tokentrail_codemods._imports import ImportPlan
from tokentrail_codemods._lines import LineIndex
from tokentrail_codemods._outcome import (
    AmbientClass,
    CallerNote,
    FileRewrite,
    RewriteError,
    Settings,
    SkippedCall,
    SkipReason,
)
from tokentrail_codemods._services import RUNTIME_MODULE, Services
from tokentrail_codemods._with_items import parenthesized_items
from tokentrail_lint.analysis.model import (
    WRAPPER_FOR_METHOD,
    CallerFacts,
    ClassFacts,
    RunSite,
    Verdict,
)

__all__ = [
    "AmbientClass",
    "FileRewrite",
    "RewriteError",
    "Settings",
    "SkipReason",
    "SkippedCall",
    "is_untracked",
    "needs_rewrite",
    "rewrite_file",
    "skipped_calls",
]

_UNTRACKED_CODE: Final = "TT001"
_LINE_BREAK: Final = re.compile(r"\r\n|\n")


def is_untracked(site: RunSite) -> bool:
    """An agent run the codemod should rewrite: not tracked, not `super()`, not suppressed."""
    return (
        site.verdict is Verdict.AGENT_RUN
        and not site.tracked
        and not site.is_super_call
        and not _is_suppressed(site)
    )


def needs_rewrite(runs: list[RunSite], *, update_names: bool) -> bool:
    """Whether a file's analysis has anything the rewrite would act on (skips reading it)."""
    return any((site.tracked and update_names) or is_untracked(site) for site in runs)


def skipped_calls(runs: list[RunSite]) -> list[SkippedCall]:
    """The calls of a file that are left alone for a reason the user should see."""
    skipped = FileRewrite(Path())
    for site in runs:
        _wants_rewrite(site, skipped)
    return skipped.skipped


def rewrite_file(
    path: Path,
    text: str,
    newline: str,
    runs: list[RunSite],
    classes: list[ClassFacts],
    settings: Settings,
    callers: CallerFacts | None = None,
) -> FileRewrite:
    """Rewrite the untracked agent runs of one file and give their classes the plumbing.

    Raises:
        RewriteError: the result would not parse (then nothing is written).
    """
    result = FileRewrite(path)
    index = LineIndex(text)
    imports = ImportPlan(
        index, newline=newline, line_length=settings.line_length, first_party=settings.first_party
    )
    to_rewrite = [site for site in runs if _wants_rewrite(site, result)]
    edits: list[Edit] = []
    if settings.update_names:
        edits += _renames(index, [site for site in runs if site.tracked], settings, result)

    services = Services(index, classes, imports, settings, newline, path)
    call_edits = _CallRewriter(index, newline, imports, services, settings, result).edits(
        to_rewrite
    )
    edits += call_edits
    edits += services.edits(result)
    caller_edits: list[Edit] = []
    if callers is not None and settings.callers is not None:
        plumbing = CallerPlumbing(
            index, newline, imports, settings.callers, result, settings.line_length
        )
        caller_edits = plumbing.edits(callers)
    edits += caller_edits
    if not call_edits and not result.renamed and not caller_edits:
        return result
    edits += imports.edits()

    try:
        rewritten = apply_edits(text, edits)
    except OverlappingEditsError as error:
        raise RewriteError(f"{path}: {error}; the file was left unchanged") from error
    _ensure_parses(path, text, rewritten)
    result.text = rewritten if rewritten != text else None
    if result.caller_notes and result.text is not None:
        result.caller_notes = _moved_notes(result.caller_notes, index, edits, rewritten)
    return result


def _moved_notes(
    notes: list[CallerNote], index: LineIndex, edits: list[Edit], rewritten: str
) -> list[CallerNote]:
    """Give each note its position in the rewritten text too (written files report that one)."""
    after = LineIndex(rewritten)
    moved = []
    for note in notes:
        offset = index.offset(note.line, note.column)
        shift = sum(
            len(edit.text) - (edit.end - edit.start) for edit in edits if edit.end <= offset
        )
        line = after.line_of(offset + shift)
        column = offset + shift - after.line_start(line) + 1
        moved.append(replace(note, rewritten_position=(line, column)))
    return moved


def _wants_rewrite(site: RunSite, result: FileRewrite) -> bool:
    if site.tracked or site.is_super_call or site.verdict is Verdict.NOT_AGENT_RUN:
        return False
    if _is_suppressed(site):
        result.skipped.append(
            SkippedCall(site.path, site.span.line, site.span.column, SkipReason.SUPPRESSED)
        )
        return False
    if site.verdict is Verdict.UNKNOWN:
        result.skipped.append(
            SkippedCall(
                site.path, site.span.line, site.span.column, SkipReason.UNKNOWN, site.reason
            )
        )
        return False
    return True


def _is_suppressed(site: RunSite) -> bool:
    """`# noqa: TT001` on the call's lines: the author chose to leave this run untracked."""
    return _UNTRACKED_CODE in site.suppressed_codes


class _CallRewriter:
    """Rewrites the agent runs of one file into edits, one per outermost call."""

    def __init__(
        self,
        index: LineIndex,
        newline: str,
        imports: ImportPlan,
        services: Services,
        settings: Settings,
        result: FileRewrite,
    ) -> None:
        self._index = index
        self._newline = newline
        self._imports = imports
        self._services = services
        self._settings = settings
        self._result = result

    def edits(self, sites: list[RunSite], *, nested: bool = False) -> list[Edit]:
        """Edits for `sites`; a run inside another's arguments is rewritten within it."""
        index = self._index
        spans = sorted(
            (
                (
                    index.offset(site.span.line, site.span.column),
                    index.offset(site.span.end_line, site.span.end_column),
                    site,
                )
                for site in sites
            ),
            key=lambda item: (item[0], -item[1]),
        )
        edits: list[Edit] = []
        consumed_until = -1
        for position, (start, end, site) in enumerate(spans):
            if start < consumed_until:
                continue
            inner = [item[2] for item in spans[position + 1 :] if item[0] < end]
            edit = self._rewrite(start, end, site, inner, nested=nested)
            if edit is not None:
                edits.append(edit)
                consumed_until = end
        return edits

    def _rewrite(
        self, start: int, end: int, site: RunSite, inner: list[RunSite], *, nested: bool
    ) -> Edit | None:
        index, settings = self._index, self._settings
        text = index.text
        snippet = text[start:end]
        if inner:
            inner_edits = self.edits(inner, nested=True)
            growth = sum(len(edit.text) - (edit.end - edit.start) for edit in inner_edits)
            snippet = apply_edits(text, inner_edits)[start : end + growth]

        end_line = index.line_of(end)
        prefix = text[index.line_start(site.span.line) : start]
        suffix = text[end : index.line_end(end_line)]
        quote = literal_quote(prefix)
        keywords = [
            ("tool_name", string_literal(settings.names.tool_name(site.path, site.scope), quote)),
            ("operation", string_literal(settings.names.operation(site.path, site.scope), quote)),
        ]
        context_keywords = self._services.context_keywords(site)
        if not context_keywords:
            self._services.note_ambient(site, self._result)
        wrapper = self._imports.reference(RUNTIME_MODULE, WRAPPER_FOR_METHOD[site.method])

        def lay_out(prefix: str, suffix: str, indentation: str) -> str:
            return rewrite_call(
                snippet,
                method=site.method,
                wrapper=wrapper,
                keywords=keywords + context_keywords,
                context=LineContext(prefix, suffix, indentation, settings.line_length),
            )

        try:
            replacement = lay_out(prefix, suffix, index.indentation(site.span.line))
        except CallShapeError as error:
            self._result.skipped.append(
                SkippedCall(
                    site.path, site.span.line, site.span.column, SkipReason.SHAPE, str(error)
                )
            )
            return None
        self._result.rewritten[site.method] += 1

        line = prefix + replacement + suffix
        if not nested and "\n" not in line and len(line) > settings.line_length:
            header = parenthesized_items(
                line, call_item=replacement, line_length=settings.line_length, lay_out_call=lay_out
            )
            if header is not None:
                line_start, line_end = index.line_start(site.span.line), index.line_end(end_line)
                return Edit(line_start, line_end, _with_newline(header, self._newline))
        return Edit(start, end, _with_newline(replacement, self._newline))


def _with_newline(text: str, newline: str) -> str:
    """Generated line breaks follow the file's own (CRLF files stay CRLF)."""
    return text if newline == "\n" else _LINE_BREAK.sub(newline, text)


def _renames(
    index: LineIndex, tracked: list[RunSite], settings: Settings, result: FileRewrite
) -> list[Edit]:
    """With `--update-names`: bring tracked calls' name literals in line with the defaults."""
    edits: list[Edit] = []
    for site in tracked:
        start = index.offset(site.span.line, site.span.column)
        end = index.offset(site.span.end_line, site.span.end_column)
        wanted = {
            "tool_name": settings.names.tool_name(site.path, site.scope),
            "operation": settings.names.operation(site.path, site.scope),
        }
        replacement = update_names(index.text[start:end], wanted)
        if replacement is not None:
            edits.append(Edit(start, end, replacement))
            result.renamed += 1
    return edits


def _ensure_parses(path: Path, original: str, rewritten: str) -> None:
    """Refuse to write a result that does not parse: a bug must never break a user's file.

    The standard parser is tried first (it is five times faster than libcst's); syntax newer
    than the running interpreter falls back to libcst, which parses every Python version.
    """
    try:
        ast.parse(rewritten)
        return
    except SyntaxError:
        pass
    try:
        cst.parse_module(rewritten)
    except cst.ParserSyntaxError as error:
        raise RewriteError(
            f"{path}: the rewritten file would not parse ({error.message} at line"
            f" {error.raw_line}); it was left unchanged. Please report this with the file."
        ) from error
