"""Caller plumbing: the places that create tracked services give each run its user.

An instance made for one request gets `setup_tracking_context(service)` right after it is made
(with the identity of whoever creates it when `identity-function` is configured, or the context
of the service that makes it); a plain getter builds, sets up and returns; an inline
`Service().generate()` goes through a local name first. An instance shared between users (cached
getter, module-level singleton, `app.state`) never gets an identity: its runs take the ambient
context, so with `identity-function` configured, pages that use tracked services bind it at
their top; everything else that needs a person is reported with what to do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from tokentrail_codemods._edits import Edit
from tokentrail_codemods._imports import ImportPlan
from tokentrail_codemods._lines import LineIndex
from tokentrail_codemods._outcome import CallerNote, CallerSettings, FileRewrite
from tokentrail_lint.analysis.model import (
    CallerFacts,
    CreationKind,
    ServiceCreation,
    ServiceUse,
    Span,
)

RUNTIME_MODULE: Final = "tokentrail"
BIND_FUNCTION: Final = "bind_tracking_context"
SUPPRESSION_CODE: Final = "TT004"
_PER_REQUEST: Final = frozenset({CreationKind.ASSIGNMENT, CreationKind.GETTER, CreationKind.INLINE})
_CAMEL_BOUNDARY: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_BOUNDARY_HELP: Final = (
    "set it where the request or job begins (TrackingContextMiddleware or"
    " WSGITrackingContextMiddleware for web apps, @tracking_job for jobs,"
    " bind_tracking_context at a session's start)"
)


def is_tracked(site: ServiceCreation | ServiceUse, settings: CallerSettings) -> bool:
    """Whether the site's class has, or in this run receives, `set_tracking_context`."""
    return site.has_plumbing or any(name in settings.tracked_classes for name in site.lineage)


@dataclass
class CallerPlumbing:
    """The caller edits of one file, planned against its shared import plan."""

    index: LineIndex
    newline: str
    imports: ImportPlan
    settings: CallerSettings
    result: FileRewrite
    line_length: int = 88

    def edits(self, facts: CallerFacts) -> list[Edit]:
        """Edits for every site of the file; sites that need a person become notes."""
        edits: list[Edit] = []
        for creation in facts.creations:
            if is_tracked(creation, self.settings) and not _suppressed(creation):
                edits += self._creation(creation)
        page_edits = self._page(facts)
        bound = facts.binds_at_module_level or bool(page_edits)
        for use in facts.uses:
            if is_tracked(use, self.settings) and not _suppressed(use):
                self._use(use, bound)
        return edits + page_edits

    # --- per-request instances ---------------------------------------------------------------

    def _creation(self, site: ServiceCreation) -> list[Edit]:
        if site.kind in (CreationKind.CACHED_GETTER, CreationKind.SHARED):
            if site.set_up:
                self._note(
                    site.span,
                    f"{_short(site.class_name)} is shared between users but its context is set"
                    " here: remove the setup and bind the context where requests begin",
                )
            return []
        if site.kind not in _PER_REQUEST or site.set_up:
            return []
        if site.kind is CreationKind.INLINE and site.scope.function_name is None:
            return []  # page code: the context bound at the page's top covers it
        if not site.rewritable:
            self._note(
                site.span,
                f"{_short(site.class_name)} is created here without its context and the line"
                f" cannot be rewritten safely: keep it in a local name and call"
                f" {self.settings.setup[1]}(...) on it",
            )
            return []
        self.result.callers_set_up += 1
        if site.kind is CreationKind.ASSIGNMENT:
            assert site.target is not None  # an assignment always binds a name
            return [self._after(site.statement, self._setup_lines(site.target, site))]
        name = _fresh_name(site)
        if site.kind is CreationKind.GETTER:
            return self._getter(site, name)
        return self._inline(site, name)

    def _getter(self, site: ServiceCreation, name: str) -> list[Edit]:
        """`return Service()` becomes build, set up, return."""
        start = self.index.offset(site.statement.line, site.statement.column)
        call_start = self.index.offset(site.span.line, site.span.column)
        return [
            Edit(start, call_start, f"{name} = "),
            self._after(site.statement, [*self._setup_lines(name, site), f"return {name}"]),
        ]

    def _inline(self, site: ServiceCreation, name: str) -> list[Edit]:
        """`Service().generate()` becomes a local name, set up, then used."""
        index = self.index
        call_start = index.offset(site.span.line, site.span.column)
        call_end = index.offset(site.span.end_line, site.span.end_column)
        line_start = index.line_start(site.statement.line)
        indentation = index.indentation(site.statement.line)
        lines = [f"{name} = {index.text[call_start:call_end]}", *self._setup_lines(name, site)]
        inserted = "".join(indentation + line + self.newline for line in lines)
        # After any setup line that an assignment just above adds at the same place.
        hoisted = Edit(line_start, line_start, inserted, order=5)
        return [hoisted, Edit(call_start, call_end, name)]

    def _setup_lines(self, name: str, site: ServiceCreation) -> list[str]:
        """`setup(service)`, passing on the context of the service that makes it, if any;
        else, with an identity function, the identity of whoever creates it.

        A per-request instance is made inside the request, so asking the identity function
        there gives the instance its own user, wherever its runs happen later (a dependency
        provider runs on a worker thread, its endpoint in the request's task).
        """
        module, function = self.settings.setup
        setup = self.imports.reference(module, function)
        indentation = len(self.index.indentation(site.statement.line))
        if site.owner is not None and site.owner_instance is not None:
            # Made inside another tracked service's method: it works for the same person.
            instance = site.owner_instance
            return self._call(
                setup,
                [
                    name,
                    f"tracker={instance}._tracker",
                    f"user_id={instance}._user_id",
                    f"organization_id={instance}._org_id",
                ],
                indentation,
            )
        if self.settings.identity is None:
            return [f"{setup}({name})"]
        identity = self.imports.reference(*self.settings.identity)
        user, organization = _identity_names(site.taken_names)
        return [
            f"{user}, {organization} = {identity}() or (None, None)",
            *self._call(
                setup, [name, f"user_id={user}", f"organization_id={organization}"], indentation
            ),
        ]

    def _call(self, function: str, arguments: list[str], indentation: int) -> list[str]:
        """One line when it fits, else one argument per line with a trailing comma."""
        line = f"{function}({', '.join(arguments)})"
        if indentation + len(line) <= self.line_length:
            return [line]
        return [f"{function}(", *(f"    {argument}," for argument in arguments), ")"]

    def _after(self, statement: Span, lines: list[str]) -> Edit:
        index = self.index
        indentation = index.indentation(statement.line)
        position = index.next_line_start(statement.end_line)
        lead = "" if index.text[:position].endswith(("\n", "\r")) else self.newline
        text = lead + "".join(indentation + line + self.newline for line in lines)
        return Edit(position, position, text, order=2)

    # --- shared instances and page tops ------------------------------------------------------

    def _use(self, use: ServiceUse, bound: bool) -> None:
        what = f"`{use.getter}()`" if use.getter else f"this module-level {_short(use.class_name)}"
        if use.shared and use.set_up:
            self._note(
                use.span,
                f"{what} returns an instance shared between users, and its context is set here:"
                " remove the setup and bind the context where requests begin",
            )
        elif use.shared and not (use.ambient or bound) and use.scope.function_name is not None:
            self._note(
                use.span,
                f"{what} is shared between users and no context is set around it here:"
                f" {_BOUNDARY_HELP}",
            )

    def _page(self, facts: CallerFacts) -> list[Edit]:
        """Bind the ambient context at the top of a page whose module-level code uses services."""
        sites: list[ServiceCreation | ServiceUse] = [*facts.creations, *facts.uses]
        page_sites = [
            site
            for site in sites
            if site.scope.function_name is None
            and site.scope.class_name is None
            and is_tracked(site, self.settings)
            and not _suppressed(site)
            and not _is_plain_definition(site)
        ]
        if not page_sites or facts.binds_at_module_level:
            return []
        first = min(page_sites, key=lambda site: (site.span.line, site.span.column))
        if self.settings.identity is None:
            self._note(
                first.span,
                "page code uses a tracked service but no context is bound: set identity-function"
                " in [tool.tokentrail] so the codemod binds it here, or call"
                " bind_tracking_context(identity) at the top of the page",
            )
            return []
        position = self.imports.code_start
        if position >= self.index.offset(first.span.line, first.span.column):
            self._note(first.span, "page code comes before the imports end: " + _BOUNDARY_HELP)
            return []
        module, function = self.settings.identity
        identity = self.imports.reference(module, function)
        bind = self.imports.reference(RUNTIME_MODULE, BIND_FUNCTION)
        self.result.pages_bound += 1
        line = f"{bind}({identity}){self.newline}{self.imports.blank_lines_after(position)}"
        start = self.imports.header_end
        if start == 0 or self.index.text[start:position].strip():
            return [Edit(position, position, line, order=3)]
        # One blank line after the imports, then the binding, then what the code needs.
        return [Edit(start, position, self.newline + line, order=3)]

    def _note(self, span: Span, message: str) -> None:
        self.result.caller_notes.append(
            CallerNote(self.result.path, span.line, span.column, message)
        )


def _suppressed(site: ServiceCreation | ServiceUse) -> bool:
    return SUPPRESSION_CODE in site.suppressed_codes


def _is_plain_definition(site: ServiceCreation | ServiceUse) -> bool:
    """A module-level singleton made or fetched, not used: a library's, not a page's.

    Binding the context there would happen once, at import, in whichever request imports it.
    """
    if isinstance(site, ServiceUse):
        return site.defines
    return site.kind is CreationKind.SHARED


def _short(dotted: str) -> str:
    return dotted.rpartition(".")[2]


def _identity_names(taken: frozenset[str]) -> tuple[str, str]:
    for prefix in ("", "caller_", "tracked_"):
        user, organization = f"{prefix}user_id", f"{prefix}organization_id"
        if user not in taken and organization not in taken:
            return user, organization
    return "tracked_user_id_", "tracked_organization_id_"


def _fresh_name(site: ServiceCreation) -> str:
    """`service`, else the class in snake_case, else a numbered `service`."""
    snake = _CAMEL_BOUNDARY.sub("_", _short(site.class_name)).lower()
    for candidate in ("service", snake):
        if candidate not in site.taken_names:
            return candidate
    number = 2
    while f"service_{number}" in site.taken_names:
        number += 1
    return f"service_{number}"
