"""Where a file creates or obtains tracked services, and how it keeps them.

A *tracked service* is a project class with `set_tracking_context` (or one the codemod is about to
give it). Who creates an instance decides who may give it an identity: an instance made for one
request may carry its user, an instance shared between users (a cached getter's result, a
module-level singleton, something stored on `app.state`) must never, and takes its identity from
the ambient context set where the request or session begins. This module finds each creation and
each call of a getter, and classifies them for the codemod's caller plumbing and for TT004.
"""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path
from typing import Final

from tokentrail_lint.analysis._ancestry import (
    Ancestry,
    callee,
    declares_global,
    is_first_parameter,
    root_name,
    single_target,
    stands_alone,
)
from tokentrail_lint.analysis._bindings import ModuleContext
from tokentrail_lint.analysis._catalog import (
    CACHE_DECORATORS,
    CallerCache,
    ServiceCatalog,
    dotted,
)
from tokentrail_lint.analysis._classes import PLUMBING_METHOD
from tokentrail_lint.analysis._expressions import expression, terminal_name
from tokentrail_lint.analysis._resolve import Frame, Resolver, Value
from tokentrail_lint.analysis._scopes import Enclosing, ScopeIndex
from tokentrail_lint.analysis._source import ParsedSource
from tokentrail_lint.analysis.model import (
    CallerFacts,
    CreationKind,
    ServiceCreation,
    ServiceUse,
    Span,
)

AMBIENT_CALLS: Final = frozenset({"tracking_context", "bind_tracking_context"})
JOB_DECORATOR: Final = "tracking_job"
SETUP_FUNCTION: Final = "setup_tracking_context"
_FUNCTIONS: Final = (ast.FunctionDef, ast.AsyncFunctionDef)


def find_callers(
    module: str,
    is_package: bool,
    parsed: ParsedSource,
    resolver: Resolver,
    setup_names: frozenset[str],
    path: Path,
    cache: CallerCache | None = None,
) -> CallerFacts | None:
    """The creations and getter calls of tracked services in one parsed file, if any.

    Costs almost nothing for a file that does not import or define a service class, a getter
    of one or a module-level instance: only its module-level names are looked at.
    """
    frame = resolver.module_frame(module)
    if frame is None:
        return None
    catalog = ServiceCatalog(resolver, cache or CallerCache())
    names = catalog.service_names(frame, parsed.text)
    if not names:
        return None
    finder = _CallerFinder(path, parsed, resolver, frame, catalog)
    context = ModuleContext(module, module if is_package else module.rpartition(".")[0])
    finder.find(names, context, setup_names | {SETUP_FUNCTION})
    facts = finder.facts
    return facts if facts.creations or facts.uses else None


class _CallerFinder:
    def __init__(
        self,
        path: Path,
        parsed: ParsedSource,
        resolver: Resolver,
        frame: Frame,
        catalog: ServiceCatalog,
    ) -> None:
        self.path = path
        self.parsed = parsed
        self.resolver = resolver
        self.module_frame = frame
        self.catalog = catalog
        self.facts = CallerFacts()
        self.ancestry = Ancestry(parsed.tree)
        self.setup_arguments: list[tuple[ast.expr, int | None]] = []
        self.ambient_functions: set[int] = set()

    def find(
        self, names: frozenset[str], context: ModuleContext, setup_names: frozenset[str]
    ) -> None:
        """Find and classify the calls that make or fetch services through `names`."""
        self.setup_names = setup_names
        markers = AMBIENT_CALLS | setup_names | {PLUMBING_METHOD}

        def wanted(call: ast.Call) -> bool:
            function = call.func
            if terminal_name(function) in markers:
                return True
            if terminal_name(function) == "Depends" and call.args:
                function = call.args[0]
            return root_name(function) in names

        self.scopes = ScopeIndex(self.parsed.tree, context, self.module_frame, wanted)
        candidates = [
            call
            for call in self.scopes.calls
            if terminal_name(call.func) not in markers or terminal_name(call.func) == "Depends"
        ]
        if not candidates:
            return
        self.suppressions = self.parsed.suppressions()
        for call in self.scopes.calls:
            self.ancestry.trace(call)
        self._note_markers(markers)
        for call in candidates:
            self._call(call)

    # --- what the file does around its services ----------------------------------------------

    def _note_markers(self, markers: frozenset[str]) -> None:
        for call in self.scopes.calls:
            name = terminal_name(call.func)
            if name not in markers:
                continue
            function = self.ancestry.function_of(call)
            if name in AMBIENT_CALLS:
                if function is None:
                    self.facts.binds_at_module_level = True
                else:
                    self.ambient_functions.add(id(function))
            elif name in self.setup_names and call.args:
                self.setup_arguments.append((call.args[0], _node_id(function)))
            elif name == PLUMBING_METHOD and isinstance(call.func, ast.Attribute):
                self.setup_arguments.append((call.func.value, _node_id(function)))

    def _is_ambient(self, node: ast.AST) -> bool:
        """Whether the code around `node` visibly sets the ambient context."""
        if self.facts.binds_at_module_level:
            return True
        current = self.ancestry.parent(node)
        while current is not None:
            if id(current) in self.ambient_functions:
                return True
            if isinstance(current, _FUNCTIONS) and any(
                terminal_name(callee(item)) == JOB_DECORATOR for item in current.decorator_list
            ):
                return True
            if isinstance(current, ast.With | ast.AsyncWith) and any(
                self._sets_context(item.context_expr) for item in current.items
            ):
                return True
            current = self.ancestry.parent(current)
        return False

    def _sets_context(self, node: ast.expr) -> bool:
        """`tracking_context(...)`, or a project helper that opens one (`signed_in(session)`)."""
        if not isinstance(node, ast.Call):
            return False
        if terminal_name(node.func) in AMBIENT_CALLS:
            return True
        callee = self._evaluate(node.func, self.scopes.enclosing(node))
        if callee.kind != "function":
            return False
        summary = self.resolver.function_summary(callee.name)
        return summary is not None and summary.get("sets_context", False)

    def _is_set_up(self, name: str, function: ast.AST | None) -> bool:
        return any(
            isinstance(argument, ast.Name) and argument.id == name and owner == _node_id(function)
            for argument, owner in self.setup_arguments
        )

    def _is_set_up_anywhere(self, name: str) -> bool:
        """A module-level `name` set up in any function that does not bind `name` itself."""
        for argument, owner in self.setup_arguments:
            if not isinstance(argument, ast.Name) or argument.id != name or owner is None:
                continue
            if not _bound_below(name, self.scopes.enclosing(argument)):
                return True
        return False

    def _is_setup_argument(self, node: ast.expr) -> bool:
        return any(argument is node for argument, _ in self.setup_arguments)

    # --- the calls ---------------------------------------------------------------------------

    def _call(self, call: ast.Call) -> None:
        enclosing = self.scopes.enclosing(call)
        callee = self._evaluate(call.func, enclosing)
        if callee.kind == "class":
            has_plumbing = self.catalog.service(callee.name)
            if has_plumbing is not None:
                self._creation(call, callee.name, has_plumbing, enclosing)
        elif callee.kind == "function":
            getter = self.catalog.getter(callee.name)
            if getter is not None:
                self._use(call, call, getter, callee.name, enclosing)
        elif terminal_name(call.func) == "Depends" and call.args:
            provider = self._evaluate(call.args[0], enclosing)
            getter = self.catalog.getter(provider.name) if provider.kind == "function" else None
            if getter is not None:
                self._use(call, call.args[0], getter, provider.name, enclosing)
        elif isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name):
            self._module_instance_use(call, call.func.value, enclosing)

    def _evaluate(self, node: ast.expr, enclosing: Enclosing) -> Value:
        try:
            return self.resolver.evaluate(expression(node), enclosing.frame)
        except RecursionError:
            return Value("unknown", "nested too deeply to follow")

    def _is_cached(self, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        return any(
            self._evaluate(callee(decorator), self.scopes.enclosing(decorator)).name
            in CACHE_DECORATORS
            for decorator in function.decorator_list
        )

    # --- creations ---------------------------------------------------------------------------

    def _creation(
        self, call: ast.Call, class_key: str, has_plumbing: bool, enclosing: Enclosing
    ) -> None:
        node: ast.expr = call
        set_up = False
        parent = self.ancestry.parent(node)
        if isinstance(parent, ast.Call) and self._is_setup_argument(node):
            node, set_up = parent, True  # `setup_tracking_context(Service())` returns the service
            parent = self.ancestry.parent(node)
        function = self.ancestry.function_of(call)
        statement = self.ancestry.statement(node)
        kind, target = self._kind(node, parent, function)
        if target is not None:
            set_up = set_up or self._is_set_up(target, function)
        if kind is CreationKind.SHARED and target is not None and function is None:
            set_up = set_up or self._is_set_up_anywhere(target)
        rewritable = statement is not None and stands_alone(self.parsed, statement)
        if kind is CreationKind.INLINE:
            rewritable = (
                rewritable and function is not None and self.ancestry.hoistable(call, statement)
            )
        statement_span = self._span(statement if statement is not None else call)
        owner, owner_instance = self._owner(enclosing, function)
        self.facts.creations.append(
            ServiceCreation(
                path=self.path,
                span=self._span(call),
                class_name=dotted(class_key),
                kind=kind,
                scope=enclosing.scope(),
                has_plumbing=has_plumbing,
                lineage=self.catalog.lineage(class_key),
                statement=statement_span,
                target=target,
                set_up=set_up,
                ambient=self._is_ambient(call),
                rewritable=rewritable,
                taken_names=_taken_names(enclosing.frame),
                suppressed_codes=self._suppressed(statement_span),
                owner=owner,
                owner_instance=owner_instance,
            )
        )

    def _owner(
        self, enclosing: Enclosing, function: ast.FunctionDef | ast.AsyncFunctionDef | None
    ) -> tuple[str | None, str | None]:
        """The tracked service whose method this is, and the method's instance name."""
        entry = enclosing.innermost_class
        if entry is None or function is None or not enclosing.scope().is_method:
            return None, None
        class_key = f"{self.module_frame.module}:{entry.qualname}"
        positional = [*function.args.posonlyargs, *function.args.args]
        if not positional or self.catalog.service(class_key) is None:
            return None, None
        decorators = {terminal_name(callee(item)) for item in function.decorator_list}
        if decorators & {"staticmethod", "classmethod"}:
            return None, None
        return dotted(class_key), positional[0].arg

    def _kind(
        self,
        node: ast.expr,
        parent: ast.AST | None,
        function: ast.FunctionDef | ast.AsyncFunctionDef | None,
    ) -> tuple[CreationKind, str | None]:
        cached = function is not None and self._is_cached(function)
        if isinstance(parent, ast.Attribute):
            grandparent = self.ancestry.parent(parent)
            if isinstance(grandparent, ast.Call) and grandparent.func is parent:
                return (CreationKind.CACHED_GETTER if cached else CreationKind.INLINE), None
            return CreationKind.OTHER, None
        if isinstance(parent, ast.Return):
            return (CreationKind.CACHED_GETTER if cached else CreationKind.GETTER), None
        target = single_target(parent, node)
        if target is None:
            return CreationKind.OTHER, None
        if isinstance(target, ast.Name):
            if function is None or declares_global(function, target.id):
                return CreationKind.SHARED, target.id
            if cached:
                return CreationKind.CACHED_GETTER, target.id
            return CreationKind.ASSIGNMENT, target.id
        if isinstance(target, ast.Attribute) and not is_first_parameter(target.value, function):
            return CreationKind.SHARED, None  # app.state.service = ..., module.service = ...
        return CreationKind.OTHER, None

    # --- getter calls and shared instances ---------------------------------------------------

    def _use(
        self,
        call: ast.Call,
        node: ast.expr,
        getter: tuple[str, bool, bool],
        function_key: str,
        enclosing: Enclosing,
    ) -> None:
        class_key, has_plumbing, cached = getter
        set_up = self._is_setup_argument(call)
        parent = self.ancestry.parent(call)
        target = single_target(parent, call)
        if isinstance(target, ast.Name):
            set_up = set_up or self._is_set_up(target.id, self.ancestry.function_of(call))
        span = self._span(node if node is not call else call)
        self._add_use(call, span, class_key, has_plumbing, cached, function_key, set_up, enclosing)
        if isinstance(target, ast.Name) and self.ancestry.function_of(call) is None:
            # `SERVICE = get_service()` at module level defines a singleton; it is not page code.
            self.facts.uses[-1] = replace(self.facts.uses[-1], defines=True)

    def _module_instance_use(self, call: ast.Call, name: ast.Name, enclosing: Enclosing) -> None:
        """A method called on a module-level tracked instance (`service.generate(...)`)."""
        if name.id not in self.module_frame.bindings or _bound_below(name.id, enclosing):
            return
        value = self._evaluate(name, enclosing)
        if value.kind != "instance" or ":" not in value.name:
            return
        has_plumbing = self.catalog.service(value.name)
        if has_plumbing is None or not _creates_instance(self.module_frame, name.id):
            return
        set_up = terminal_name(call.func) == PLUMBING_METHOD
        if set_up and self.ancestry.function_of(call) is None:
            return  # reported on the creation, whose setup this is
        span = self._span(call)
        self._add_use(call, span, value.name, has_plumbing, True, None, set_up, enclosing)

    def _add_use(
        self,
        call: ast.Call,
        span: Span,
        class_key: str,
        has_plumbing: bool,
        shared: bool,
        function_key: str | None,
        set_up: bool,
        enclosing: Enclosing,
    ) -> None:
        self.facts.uses.append(
            ServiceUse(
                path=self.path,
                span=span,
                class_name=dotted(class_key),
                scope=enclosing.scope(),
                has_plumbing=has_plumbing,
                lineage=self.catalog.lineage(class_key),
                shared=shared,
                getter=None if function_key is None else dotted(function_key),
                set_up=set_up,
                ambient=self._is_ambient(call),
                suppressed_codes=self._suppressed(span),
            )
        )

    def _span(self, node: ast.AST) -> Span:
        line = getattr(node, "lineno", 1)
        end_line = getattr(node, "end_lineno", None) or line
        return Span(
            line,
            self.parsed.column(line, getattr(node, "col_offset", 0)),
            end_line,
            self.parsed.column(end_line, getattr(node, "end_col_offset", None) or 0),
        )

    def _suppressed(self, span: Span) -> frozenset[str]:
        codes: frozenset[str] = frozenset()
        for line in range(span.line, span.end_line + 1):
            codes |= self.suppressions.get(line, frozenset())
        return codes


def _node_id(node: ast.AST | None) -> int | None:
    return None if node is None else id(node)


def _bound_below(name: str, enclosing: Enclosing) -> bool:
    """Whether a function or class scope around the call binds `name` itself."""
    frame: Frame | None = enclosing.frame
    while frame is not None and frame.parent is not None:
        if name in frame.bindings:
            return True
        frame = frame.parent
    return False


def _creates_instance(frame: Frame, name: str) -> bool:
    return any(value[0] == "call" for value in frame.bindings.get(name, []))


def _taken_names(frame: Frame) -> frozenset[str]:
    names: set[str] = set()
    current: Frame | None = frame
    while current is not None:
        names.update(current.bindings)
        current = current.parent
    return frozenset(names)
