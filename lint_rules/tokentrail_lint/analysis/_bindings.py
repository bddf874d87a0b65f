"""Collect what each name in a scope is bound to, without running anything.

Flow-insensitive on purpose: every assignment of a name in a scope counts, wherever it sits in the
scope's `if`/`for`/`try`/`with` blocks. A name assigned an agent in one branch and something else in
another is then "maybe an agent", which the resolver reports as unknown rather than guessing.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from tokentrail_lint.analysis._expressions import (
    LITERAL,
    Expr,
    annotation,
    expression,
    terminal_name,
)

Bindings = dict[str, list[Expr]]


@dataclass(slots=True)
class ModuleContext:
    """Where a module sits, for making its relative imports absolute."""

    module: str
    package: str
    imports: set[str] = field(default_factory=set)
    star_imports: list[str] = field(default_factory=list)

    def absolute(self, level: int, name: str | None) -> str | None:
        """The absolute module of `from <level dots><name> import ...`."""
        if level == 0:
            return name
        parts = self.package.split(".") if self.package else []
        if level - 1 > len(parts):
            return None
        base = parts[: len(parts) - (level - 1)]
        if name:
            base.append(name)
        return ".".join(base) or None


@dataclass(slots=True)
class ScopeBindings:
    """What a scope's body binds, and what escapes it."""

    names: Bindings = field(default_factory=dict)
    returns: list[Expr] = field(default_factory=list)
    self_attributes: Bindings = field(default_factory=dict)
    """`self.x = ...` assignments (methods only), keyed by attribute name."""


def collect(
    body: list[ast.stmt],
    context: ModuleContext,
    qualname: str,
    self_name: str | None = None,
) -> ScopeBindings:
    """Collect the bindings made directly in `body` (nested functions and classes excluded)."""
    scope = ScopeBindings()
    _Collector(scope, context, qualname, self_name).statements(body)
    return scope


def parameters(
    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda,
    context: ModuleContext,
    owner: str | None,
) -> Bindings:
    """Bind a function's parameters: annotated ones to their type, `self`/`cls` to the class."""
    arguments = node.args
    positional = [*arguments.posonlyargs, *arguments.args]
    decorators = (
        set()
        if isinstance(node, ast.Lambda)
        else {terminal_name(decorator) for decorator in node.decorator_list}
    )
    bound: Bindings = {}
    if owner is not None and positional and "staticmethod" not in decorators:
        kind = "cls" if "classmethod" in decorators or node.name == "__new__" else "self"  # type: ignore[union-attr]  # lambdas are never methods
        bound[positional[0].arg] = [(kind, context.module, owner)]
        positional = positional[1:]
    for argument in [*positional, *arguments.kwonlyargs]:
        bound[argument.arg] = [_parameter(argument)]
    for variadic, container in ((arguments.vararg, "seq"), (arguments.kwarg, "dict")):
        if variadic is not None:
            element = _parameter(variadic)
            bound[variadic.arg] = [(container, (element,))]
    return bound


def _parameter(argument: ast.arg) -> Expr:
    if argument.annotation is None:
        return ("unknown", f"parameter {argument.arg!r} has no annotation")
    return annotation(argument.annotation)


class _Collector:
    def __init__(
        self, scope: ScopeBindings, context: ModuleContext, qualname: str, self_name: str | None
    ) -> None:
        self.scope = scope
        self.context = context
        self.prefix = f"{qualname}." if qualname else ""
        self.self_name = self_name

    def statements(self, body: list[ast.stmt]) -> None:
        for statement in body:
            self.statement(statement)

    def bind(self, name: str, value: Expr) -> None:
        self.scope.names.setdefault(name, []).append(value)

    def statement(self, node: ast.stmt) -> None:
        if isinstance(node, ast.Assign):
            value = expression(node.value)
            for target in node.targets:
                self.target(target, value, node.value)
        elif isinstance(node, ast.AnnAssign):
            self.target(node.target, annotation(node.annotation), None)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            self.bind(node.name, ("def", self.context.module, self.prefix + node.name))
        elif isinstance(node, ast.ClassDef):
            self.bind(node.name, ("class", self.context.module, self.prefix + node.name))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            self.imports(node)
        elif isinstance(node, ast.Return):
            if node.value is not None:
                self.scope.returns.append(expression(node.value))
        elif isinstance(node, ast.For | ast.AsyncFor):
            self.target(node.target, ("iter", expression(node.iter)), None)
            self.statements(node.body)
            self.statements(node.orelse)
        elif isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                if item.optional_vars is not None:
                    value = ("with", expression(item.context_expr))
                    self.target(item.optional_vars, value, None)
            self.statements(node.body)
        elif isinstance(node, ast.If | ast.While):
            self.statements(node.body)
            self.statements(node.orelse)
        elif isinstance(node, ast.Try | ast.TryStar):
            self.statements(node.body)
            for handler in node.handlers:
                if handler.name:
                    self.bind(handler.name, LITERAL)
                self.statements(handler.body)
            self.statements(node.orelse)
            self.statements(node.finalbody)
        elif isinstance(node, ast.Match):
            for case in node.cases:
                self.statements(case.body)

    def target(self, target: ast.expr, value: Expr, value_node: ast.expr | None) -> None:
        if isinstance(target, ast.Name):
            self.bind(target.id, value)
        elif isinstance(target, ast.Tuple | ast.List):
            elements = (
                value_node.elts
                if isinstance(value_node, ast.Tuple | ast.List)
                and len(value_node.elts) == len(target.elts)
                else None
            )
            for index, element in enumerate(target.elts):
                if elements is not None:
                    self.target(element, expression(elements[index]), elements[index])
                else:
                    self.target(element, ("unknown", "unpacked from a sequence"), None)
        elif isinstance(target, ast.Starred):
            self.target(target.value, LITERAL, None)
        elif (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == self.self_name
        ):
            self.scope.self_attributes.setdefault(target.attr, []).append(value)

    def imports(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                self.context.imports.add(alias.name)
                if alias.asname:
                    self.bind(alias.asname, ("ref", alias.name))
                else:
                    head = alias.name.partition(".")[0]
                    self.bind(head, ("ref", head))
            return
        source = self.context.absolute(node.level, node.module)
        if source is None:
            return
        self.context.imports.add(source)
        for alias in node.names:
            if alias.name == "*":
                self.context.star_imports.append(source)
                continue
            self.context.imports.add(f"{source}.{alias.name}")
            self.bind(alias.asname or alias.name, ("ref", source, alias.name))
