"""Find the run calls, tracked calls and entry points in one parsed file, and judge them.

Each call of a run method is resolved in the scope it is written in (see `_scopes`): an agent, not
an agent, or unknown, with the reason. Calls of tokentrail's wrappers and of configured wrappers
are tracked runs; calls inside a configured wrapper's body are the tracking itself and are left out.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from tokentrail_lint.analysis._bindings import ModuleContext
from tokentrail_lint.analysis._expressions import expression, terminal_name
from tokentrail_lint.analysis._resolve import Frame, Resolver, Value
from tokentrail_lint.analysis._scopes import Enclosing, ScopeIndex
from tokentrail_lint.analysis._source import ParsedSource
from tokentrail_lint.analysis.model import (
    RUN_METHODS,
    WRAPPER_FOR_METHOD,
    EntryPointSite,
    RunSite,
    Span,
    Verdict,
)

ENTRY_POINT_METHODS: Final = frozenset({"to_web", "to_cli", "to_cli_sync", "to_ag_ui", "to_a2a"})
"""Agent methods that start servers or loops that run the agent themselves."""
ENTRY_POINT_CLASSES: Final = frozenset(
    {"AGUIAdapter", "VercelAIAdapter", "TemporalAgent", "DBOSAgent", "PrefectAgent"}
)
"""pydantic-ai classes that run agents where no call-site wrapper reaches."""
_METHOD_FOR_WRAPPER: Final = {wrapper: method for method, wrapper in WRAPPER_FOR_METHOD.items()}
_RUN_METHOD_SET: Final = frozenset(RUN_METHODS)
_AGENT_HINT: Final = re.compile(r"agent", re.IGNORECASE)
_INTERESTING_ATTRIBUTES: Final = _RUN_METHOD_SET | ENTRY_POINT_METHODS
_CALL_WORDS: Final = re.compile(
    r"\.\s*(?:"
    + "|".join(sorted(_INTERESTING_ATTRIBUTES))
    + r")\b|"
    + "|".join(sorted(ENTRY_POINT_CLASSES))
)


@dataclass(slots=True)
class FileFindings:
    runs: list[RunSite] = field(default_factory=list)
    entry_points: list[EntryPointSite] = field(default_factory=list)
    classes_with_runs: dict[str, None] = field(default_factory=dict)
    """Qualified names of the classes holding a run to track, in order of appearance."""
    class_nodes: dict[str, ast.ClassDef] = field(default_factory=dict)
    display_names: dict[str, str] = field(default_factory=dict)
    """Qualified name -> the class's name for `Scope.class_name` (enclosing classes only)."""


def find_runs(
    path: Path,
    module: str,
    module_names: set[str],
    is_package: bool,
    parsed: ParsedSource,
    resolver: Resolver,
) -> FileFindings:
    """Report the run calls, tracked calls and entry points of one parsed file."""
    frame = resolver.module_frame(module)
    if frame is None or any(
        name == "tokentrail" or name.startswith("tokentrail.") for name in module_names
    ):
        return FileFindings()  # tokentrail's own runtime is the tracking, not a user of it
    finder = _RunFinder(path, module, module_names, is_package, parsed, resolver, frame)
    return finder.findings


class _RunFinder:
    def __init__(
        self,
        path: Path,
        module: str,
        module_names: set[str],
        is_package: bool,
        parsed: ParsedSource,
        resolver: Resolver,
        frame: Frame,
    ) -> None:
        self.path = path
        self.module_names = module_names
        self.parsed = parsed
        self.resolver = resolver
        self.findings = FileFindings()
        self.wrapper_tails = set(_METHOD_FOR_WRAPPER) | {
            name.rpartition(".")[2] for name in resolver.wrappers
        }
        if not self._may_hold_calls(parsed.text):
            return
        self.suppressions = parsed.suppressions()
        context = ModuleContext(module, module if is_package else module.rpartition(".")[0])
        self.scopes = ScopeIndex(parsed.tree, context, frame, self._wanted)
        for call in self.scopes.calls:
            self._call(call)

    def _may_hold_calls(self, text: str) -> bool:
        """A cheap look at the text: no method name, wrapper or entry point, nothing to find."""
        return bool(_CALL_WORDS.search(text)) or any(tail in text for tail in self.wrapper_tails)

    def _wanted(self, node: ast.Call) -> bool:
        function = node.func
        if isinstance(function, ast.Attribute):
            return (
                function.attr in _INTERESTING_ATTRIBUTES
                or function.attr in self.wrapper_tails
                or terminal_name(function.value) in ENTRY_POINT_CLASSES
            )
        return isinstance(function, ast.Name) and (
            function.id in self.wrapper_tails or function.id in ENTRY_POINT_CLASSES
        )

    def _call(self, node: ast.Call) -> None:
        enclosing = self.scopes.enclosing(node)
        function = node.func
        if isinstance(function, ast.Attribute) and function.attr in _RUN_METHOD_SET:
            self._run_call(node, function, enclosing)
        elif terminal_name(function) in self.wrapper_tails:
            self._maybe_tracked(node, enclosing)
        self._maybe_entry_point(node, enclosing)

    # --- calls -------------------------------------------------------------------------------

    def _run_call(self, node: ast.Call, function: ast.Attribute, enclosing: Enclosing) -> None:
        if self._inside_wrapper(enclosing):
            return  # the body of a configured wrapper is the tracking itself
        value = self._evaluate(function.value, enclosing)
        scope = enclosing.scope()
        is_super_call = False
        if value.kind == "super":
            if self.resolver.is_agent_class(value.owner):
                verdict = Verdict.AGENT_RUN
                is_super_call = function.attr == scope.function_name and scope.is_method
                reason = (
                    "super() call inside the Agent subclass's own run method: part of the outer run"
                    if is_super_call
                    else "super() call on an Agent subclass"
                )
            else:
                verdict, reason = Verdict.NOT_AGENT_RUN, "super() of a class that is not an Agent"
        else:
            verdict, reason = self._verdict(value, self.parsed.segment(function.value))
        span = self._span(node)
        self.findings.runs.append(
            RunSite(
                path=self.path,
                span=span,
                method=function.attr,
                verdict=verdict,
                tracked=False,
                scope=scope,
                receiver=self.parsed.segment(function.value),
                reason=reason,
                suppressed_codes=self._suppressed(span),
                is_super_call=is_super_call,
            )
        )
        if verdict is not Verdict.NOT_AGENT_RUN and not is_super_call:
            self._note_class(enclosing)

    def _verdict(self, value: Value, receiver: str) -> tuple[Verdict, str]:
        if self.resolver.is_agent(value):
            return Verdict.AGENT_RUN, f"the receiver is {self.resolver.describe(value)}"
        if value.kind == "unknown":
            return Verdict.UNKNOWN, f"cannot resolve the receiver: {value.name}"
        if value.kind in {"class", "external"} and self.resolver.is_agent_class(value.name):
            return Verdict.UNKNOWN, "called on an agent class rather than an agent"
        described = self.resolver.describe(value)
        from_outside = value.kind == "external" or value.owner == "outside"
        if from_outside and _AGENT_HINT.search(receiver):
            # An object from a library (a container, a registry) whose name says "agent": the
            # analysis cannot see inside the library, so it must not call this "not an agent".
            return Verdict.UNKNOWN, f"the receiver is {described}, and its name suggests an agent"
        return Verdict.NOT_AGENT_RUN, f"the receiver is {described}"

    def _maybe_tracked(self, node: ast.Call, enclosing: Enclosing) -> None:
        method = self._tokentrail_wrapper(
            self.resolver.import_path(expression(node.func), enclosing.frame)
        )
        method = method or self._wrapper_method(self._evaluate(node.func, enclosing))
        if method is None:
            return
        first = node.args[0] if node.args else None
        first = first or next((item.value for item in node.keywords if item.arg == "agent"), None)
        operation = next(
            (keyword.value for keyword in node.keywords if keyword.arg == "operation"), None
        )
        span = self._span(node)
        self.findings.runs.append(
            RunSite(
                path=self.path,
                span=span,
                method=method,
                verdict=Verdict.AGENT_RUN,
                tracked=True,
                scope=enclosing.scope(),
                receiver=self.parsed.segment(first) if first is not None else "",
                reason="already goes through a tracking wrapper",
                suppressed_codes=self._suppressed(span),
                operation_literal=(
                    operation.value
                    if isinstance(operation, ast.Constant) and isinstance(operation.value, str)
                    else None
                ),
            )
        )
        self._note_class(enclosing)

    @staticmethod
    def _tokentrail_wrapper(dotted: str | None) -> str | None:
        """The run method of one of tokentrail's wrappers imported as `dotted`, if it is one.

        Read from the import itself, not resolved: in tokentrail's own repository `tokentrail` is
        a project package whose wrappers are exported lazily.
        """
        if dotted is None or dotted.partition(".")[0] != "tokentrail":
            return None
        return _METHOD_FOR_WRAPPER.get(dotted.rpartition(".")[2])

    def _wrapper_method(self, value: Value) -> str | None:
        """The run method a configured wrapper stands for, if `value` is one."""
        if value.kind == "external":
            dotted = value.name
        elif value.kind == "function":
            module, _, qualname = value.name.partition(":")
            dotted = f"{module}.{qualname}"
        else:
            return None
        if dotted in self.resolver.wrappers:
            return method_for_wrapper_name(dotted.rpartition(".")[2])
        return None

    def _maybe_entry_point(self, node: ast.Call, enclosing: Enclosing) -> None:
        function = node.func
        if isinstance(function, ast.Attribute) and function.attr in ENTRY_POINT_METHODS:
            value = self._evaluate(function.value, enclosing)
            if self.resolver.is_agent(value) or value.kind == "unknown":
                self._entry_point(node, function.attr, enclosing)
            return
        target = function
        if isinstance(function, ast.Attribute) and terminal_name(function.value) in (
            ENTRY_POINT_CLASSES
        ):
            target = function.value
        name = terminal_name(target)
        if name in ENTRY_POINT_CLASSES:
            value = self._evaluate(target, enclosing)
            if value.kind == "external" and value.name.startswith("pydantic_ai."):
                self._entry_point(node, name, enclosing)

    def _entry_point(self, node: ast.Call, name: str, enclosing: Enclosing) -> None:
        span = self._span(node)
        self.findings.entry_points.append(
            EntryPointSite(self.path, span, name, enclosing.scope(), self._suppressed(span))
        )

    def _evaluate(self, node: ast.expr, enclosing: Enclosing) -> Value:
        try:
            return self.resolver.evaluate(expression(node), enclosing.frame)
        except RecursionError:
            return Value("unknown", "nested too deeply to follow")

    def _inside_wrapper(self, enclosing: Enclosing) -> bool:
        return any(
            f"{module}.{qualname}" in self.resolver.wrappers
            for qualname in enclosing.function_qualnames()
            for module in self.module_names
        )

    # --- positions and scopes ----------------------------------------------------------------

    def _span(self, node: ast.expr) -> Span:
        end_line = node.end_lineno or node.lineno
        return Span(
            node.lineno,
            self.parsed.column(node.lineno, node.col_offset),
            end_line,
            self.parsed.column(end_line, node.end_col_offset or node.col_offset),
        )

    def _suppressed(self, span: Span) -> frozenset[str]:
        codes: frozenset[str] = frozenset()
        for line in range(span.line, span.end_line + 1):
            codes |= self.suppressions.get(line, frozenset())
        return codes

    def _note_class(self, enclosing: Enclosing) -> None:
        entry = enclosing.innermost_class
        if entry is not None and isinstance(entry.node, ast.ClassDef):
            self.findings.classes_with_runs[entry.qualname] = None
            self.findings.class_nodes[entry.qualname] = entry.node
            names = [item.name for item in enclosing.entries if item.kind == "class"]
            self.findings.display_names[entry.qualname] = ".".join(names)


def method_for_wrapper_name(name: str) -> str:
    """The run method a configured wrapper stands for, read from its name."""
    for marker, method in (
        ("stream_events", "run_stream_events"),
        ("stream_sync", "run_stream_sync"),
        ("stream", "run_stream"),
        ("iter", "iter"),
        ("sync", "run_sync"),
    ):
        if marker in name:
            return method
    return "run"
