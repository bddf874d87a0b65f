"""Where a call sits: its enclosing classes, functions, lambdas and comprehensions.

A visitor that tracks scopes on the way down touches every node of every file. Instead, one
`ast.walk` collects the calls worth resolving and the nodes that open scopes; each call's chain of
scopes is then found by position, and only the scopes around such calls get their bindings
collected. A file with a few agent runs in a thousand lines pays for those few.

Bindings follow Python's rules: a closure sees its enclosing function's names, a method sees
`self`, and a class body is invisible to the methods inside it.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Final

from tokentrail_lint.analysis._bindings import ModuleContext, collect, parameters
from tokentrail_lint.analysis._expressions import Expr
from tokentrail_lint.analysis._resolve import Frame
from tokentrail_lint.analysis.model import Scope

ScopeNode = (
    ast.FunctionDef
    | ast.AsyncFunctionDef
    | ast.ClassDef
    | ast.Lambda
    | ast.ListComp
    | ast.SetComp
    | ast.GeneratorExp
    | ast.DictComp
)
_SCOPE_TYPES: Final = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Lambda,
    ast.ListComp,
    ast.SetComp,
    ast.GeneratorExp,
    ast.DictComp,
)


class ScopeEntry:
    """One named level of nesting: a class, a function or a lambda."""

    __slots__ = ("is_async", "kind", "name", "node", "qualname")

    def __init__(self, kind: str, name: str, qualname: str, node: ScopeNode, is_async: bool):
        self.kind = kind
        self.name = name
        self.qualname = qualname
        self.node = node
        self.is_async = is_async


class Enclosing:
    """Everything about the scopes around a call: bindings, names, and the `Scope` to report."""

    __slots__ = ("entries", "frame", "prefix")

    def __init__(self, frame: Frame, prefix: str, entries: tuple[ScopeEntry, ...]) -> None:
        self.frame = frame
        self.prefix = prefix
        """Qualified-name prefix for definitions inside (`Outer.method.`)."""
        self.entries = entries

    @property
    def innermost_class(self) -> ScopeEntry | None:
        return next((entry for entry in reversed(self.entries) if entry.kind == "class"), None)

    def class_display_name(self) -> str | None:
        """Enclosing classes only, dotted (`Outer.Inner`), as `Scope.class_name` reports it."""
        names = [entry.name for entry in self.entries if entry.kind == "class"]
        return ".".join(names) if names else None

    def scope(self) -> Scope:
        class_index = max(
            (index for index, entry in enumerate(self.entries) if entry.kind == "class"),
            default=None,
        )
        inner = self.entries if class_index is None else self.entries[class_index + 1 :]
        function = next((entry for entry in inner if entry.kind == "function"), None)
        innermost = next((entry for entry in reversed(self.entries) if entry.kind != "class"), None)
        return Scope(
            class_name=self.class_display_name(),
            function_name=function.name if function else None,
            is_method=class_index is not None and bool(inner) and inner[0].kind == "function",
            is_async=innermost is not None and innermost.is_async,
        )

    def function_qualnames(self) -> list[str]:
        return [entry.qualname for entry in self.entries if entry.kind == "function"]


class ScopeIndex:
    """The calls of one file that `wanted` selects, each with its enclosing scopes."""

    def __init__(
        self,
        tree: ast.Module,
        context: ModuleContext,
        module_frame: Frame,
        wanted: Callable[[ast.Call], bool],
    ) -> None:
        self._context = context
        self.calls: list[ast.Call] = []
        self._scopes: list[ScopeNode] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                if wanted(node):
                    self.calls.append(node)
            elif isinstance(node, _SCOPE_TYPES):
                self._scopes.append(node)
        self.calls.sort(key=lambda call: (call.lineno, call.col_offset))
        self._module = Enclosing(module_frame, "", ())
        self._levels: dict[int, Enclosing] = {}

    def enclosing(self, call: ast.expr) -> Enclosing:
        """The scopes around `call` (or any expression), outermost first, with their bindings."""
        start = (call.lineno, call.col_offset)
        end = (call.end_lineno or call.lineno, call.end_col_offset or call.col_offset)
        chain = sorted(
            (scope for scope in self._scopes if _contains(scope, start, end)),
            key=lambda scope: (scope.lineno, scope.col_offset),
        )
        level = self._module
        for node in chain:
            cached = self._levels.get(id(node))
            if cached is None:
                cached = self._levels[id(node)] = self._open(node, level)
            level = cached
        return level

    def _open(self, node: ScopeNode, outer: Enclosing) -> Enclosing:
        context = self._context
        parent = outer.frame
        if isinstance(node, ast.ClassDef):
            qualname = outer.prefix + node.name
            bindings = collect(node.body, context, qualname).names
            frame = Frame(bindings, parent, context.module, parent.owner, is_class=True)
            entry = ScopeEntry("class", node.name, qualname, node, False)
            return Enclosing(frame, qualname + ".", (*outer.entries, entry))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            qualname = outer.prefix + node.name
            in_class = bool(outer.entries) and outer.entries[-1].kind == "class"
            owner_qualname = outer.entries[-1].qualname if in_class else None
            bindings = parameters(node, context, owner_qualname)
            self_name = next(
                (name for name, values in bindings.items() if values[0][0] == "self"), None
            )
            body = collect(node.body, context, qualname, self_name)
            for name, values in body.names.items():
                bindings.setdefault(name, []).extend(values)
            owner = f"{context.module}:{owner_qualname}" if in_class else parent.owner
            is_async = isinstance(node, ast.AsyncFunctionDef)
            entry = ScopeEntry("function", node.name, qualname, node, is_async)
            frame = Frame(bindings, parent, context.module, owner)
            return Enclosing(frame, qualname + ".", (*outer.entries, entry))
        if isinstance(node, ast.Lambda):
            frame = Frame(parameters(node, context, None), parent, context.module, parent.owner)
            entry = ScopeEntry("lambda", "<lambda>", outer.prefix + "<lambda>", node, False)
            return Enclosing(frame, outer.prefix, (*outer.entries, entry))
        targets: dict[str, list[Expr]] = {}
        for generator in node.generators:
            loop = ast.For(target=generator.target, iter=generator.iter, body=[], orelse=[])
            for name, values in collect([loop], context, "").names.items():
                targets.setdefault(name, []).extend(values)
        frame = Frame(targets, parent, context.module, parent.owner)
        return Enclosing(frame, outer.prefix, outer.entries)


def _contains(scope: ScopeNode, start: tuple[int, int], end: tuple[int, int]) -> bool:
    scope_start = (scope.lineno, scope.col_offset)
    scope_end = (scope.end_lineno or scope.lineno, scope.end_col_offset or scope.col_offset)
    return scope_start <= start and end <= scope_end
