"""A module's imports and exports, in the form the on-disk index stores.

A summary holds what other modules may need to resolve names into this one: the module-level
bindings, every class (bases, decorators, attributes including `self.x` assignments, methods) and
every function's return values. It is plain data (dicts, lists, tuples, strings), so `marshal`
stores and loads it quickly, and it depends only on the file's text and module name.
"""

from __future__ import annotations

import ast
from typing import TypedDict

from tokentrail_lint.analysis._bindings import ModuleContext, collect, parameters
from tokentrail_lint.analysis._expressions import (
    Expr,
    annotation,
    expression,
    localize,
    terminal_name,
)


class FunctionSummary(TypedDict):
    returns: list[Expr]
    """The annotation's type, or else the `return` values with local names followed."""
    is_property: bool
    decorators: list[Expr]
    """Each decorator (the callee when called), for telling cached getters apart."""
    sets_context: bool
    """The body calls `tracking_context` or `bind_tracking_context` (a sign-in helper)."""


class ClassSummary(TypedDict):
    bases: list[Expr]
    decorators: list[tuple[Expr, list[str]]]
    """Each decorator (the callee when called) and the keywords it sets to `True`."""
    keywords: list[str]
    """Class keywords set to `True`, such as pydantic's `frozen=True`."""
    attributes: dict[str, list[Expr]]
    """Class-level assignments and annotations, and `self.x` assignments in any method."""
    methods: list[str]


class ModuleSummary(TypedDict):
    imports: list[str]
    """Absolute names of imported modules (and of `from`-imported names, which may be modules)."""
    star_imports: list[str]
    symbols: dict[str, list[Expr]]
    classes: dict[str, ClassSummary]
    """Keyed by qualified name within the module (`Outer.Inner`, `factory.Local`)."""
    functions: dict[str, FunctionSummary]
    """Functions and methods, keyed like classes (`Service.handle`)."""
    error: str | None


def summarize(tree: ast.Module, module: str, is_package: bool) -> ModuleSummary:
    """Summarise a parsed module named `module` (`is_package` for an `__init__` file)."""
    context = ModuleContext(module, module if is_package else module.rpartition(".")[0])
    top = collect(tree.body, context, "")
    summary = ModuleSummary(
        imports=[],
        star_imports=[],
        symbols=top.names,
        classes={},
        functions={},
        error=None,
    )
    _Definitions(context, summary).walk(tree.body, "", None)
    summary["imports"] = sorted(context.imports)
    summary["star_imports"] = context.star_imports
    return summary


def failed_summary(message: str) -> ModuleSummary:
    """The summary of a module that could not be read: it exports nothing."""
    return ModuleSummary(
        imports=[], star_imports=[], symbols={}, classes={}, functions={}, error=message
    )


_COMPOUND_BODIES = ("body", "orelse", "finalbody", "handlers")
_CONTEXT_SETTERS = frozenset({"tracking_context", "bind_tracking_context"})


class _Definitions:
    """Find every class and function, at any depth, and summarise it."""

    def __init__(self, context: ModuleContext, summary: ModuleSummary) -> None:
        self.context = context
        self.summary = summary
        self.may_set_context = any(
            name == "tokentrail" or name.rpartition(".")[2] in _CONTEXT_SETTERS
            for name in context.imports
        )

    def walk(self, body: list[ast.stmt], prefix: str, owner: ClassSummary | None) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                self.class_definition(node, prefix + node.name)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self.function(node, prefix + node.name, owner, prefix[:-1] if owner else None)
            elif isinstance(node, ast.Match):
                for case in node.cases:
                    self.walk(case.body, prefix, owner)
            else:
                for name in _COMPOUND_BODIES:
                    nested = getattr(node, name, None)
                    if nested:
                        self.walk(nested, prefix, owner)

    def class_definition(self, node: ast.ClassDef, qualname: str) -> None:
        body = collect(node.body, self.context, qualname)
        attributes = {
            name: values
            for name, values in body.names.items()
            if not any(value[0] in {"def", "class"} for value in values)
        }
        summary = ClassSummary(
            bases=[expression(base) for base in node.bases],
            decorators=[_decorator(decorator) for decorator in node.decorator_list],
            keywords=[
                keyword.arg for keyword in node.keywords if keyword.arg and _is_true(keyword)
            ],
            attributes=attributes,
            methods=[],
        )
        self.summary["classes"][qualname] = summary
        self.walk(node.body, qualname + ".", summary)

    def function(
        self,
        node: ast.FunctionDef | ast.AsyncFunctionDef,
        qualname: str,
        owner: ClassSummary | None,
        owner_name: str | None,
    ) -> None:
        bound = parameters(node, self.context, owner_name)
        self_name = next((name for name, values in bound.items() if values[0][0] == "self"), None)
        body = collect(node.body, self.context, qualname, self_name)
        local = {**bound, **body.names}
        returns: list[Expr]
        if node.returns is not None:
            returns = [annotation(node.returns)]
        else:
            returns = [localize(value, local) for value in body.returns]
        decorators = {terminal_name(decorator) for decorator in node.decorator_list}
        self.summary["functions"][qualname] = FunctionSummary(
            returns=returns,
            is_property=bool(decorators & {"property", "cached_property"}),
            decorators=[_decorator(decorator)[0] for decorator in node.decorator_list],
            sets_context=self.may_set_context and _sets_context(node),
        )
        if owner is not None:
            owner["methods"].append(node.name)
            for attribute, values in body.self_attributes.items():
                owner["attributes"].setdefault(attribute, []).extend(
                    localize(value, local) for value in values
                )
        self.walk(node.body, qualname + ".", None)


def _sets_context(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(
        isinstance(inner, ast.Call) and terminal_name(inner.func) in _CONTEXT_SETTERS
        for inner in ast.walk(node)
    )


def _decorator(node: ast.expr) -> tuple[Expr, list[str]]:
    if isinstance(node, ast.Call):
        flags = [keyword.arg for keyword in node.keywords if keyword.arg and _is_true(keyword)]
        return expression(node.func), flags
    return expression(node), []


def _is_true(keyword: ast.keyword) -> bool:
    return isinstance(keyword.value, ast.Constant) and keyword.value.value is True
