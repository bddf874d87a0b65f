"""Where a node sits in its file: its parents, its statement, its function, and what may move.

The caller analysis needs the parents of a few calls only, so instead of walking the whole tree
to map every node to its parent, each call's chain of ancestors is found by descending from the
module through the children whose positions hold it.
"""

from __future__ import annotations

import ast
from typing import Final

from tokentrail_lint.analysis._source import ParsedSource

_FUNCTIONS: Final = (ast.FunctionDef, ast.AsyncFunctionDef)
_DEFERRED: Final = (
    ast.Lambda,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
    ast.IfExp,
)
_HOISTABLE: Final = (ast.Expr, ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Return, ast.With)


class Ancestry:
    """The parents of the nodes traced so far."""

    def __init__(self, tree: ast.Module) -> None:
        self._tree = tree
        self._parents: dict[int, ast.AST] = {}

    def trace(self, target: ast.AST) -> None:
        """Record the parents of `target`, from the module down."""
        node: ast.AST = self._tree
        while node is not target:
            child = child_containing(node, target)
            if child is None:
                return
            self._parents[id(child)] = node
            node = child

    def parent(self, node: ast.AST) -> ast.AST | None:
        """The parent of a traced node (or of one of its ancestors)."""
        return self._parents.get(id(node))

    def function_of(self, node: ast.AST) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        """The innermost function around `node` (lambdas and comprehensions do not count)."""
        current = self.parent(node)
        while current is not None:
            if isinstance(current, _FUNCTIONS):
                return current
            current = self.parent(current)
        return None

    def statement(self, node: ast.AST) -> ast.stmt | None:
        """The innermost statement holding `node`."""
        current = self.parent(node)
        while current is not None and not isinstance(current, ast.stmt):
            current = self.parent(current)
        return current

    def hoistable(self, call: ast.Call, statement: ast.stmt | None) -> bool:
        """Whether `call` can move to a line of its own just before its statement.

        It must run exactly once whenever the statement runs: not inside a lambda, a
        comprehension or a conditional expression, not after the first operand of `and`/`or`,
        and not in a statement that evaluates it repeatedly or conditionally (loops, `if`).
        """
        if not isinstance(statement, _HOISTABLE):
            return False
        current: ast.AST | None = call
        while current is not None and current is not statement:
            parent = self.parent(current)
            if isinstance(parent, _DEFERRED):
                return False
            if isinstance(parent, ast.BoolOp) and parent.values[0] is not current:
                return False
            if isinstance(statement, ast.With) and parent is statement:
                return any(item.context_expr is current for item in statement.items)
            current = parent
        return current is statement


def stands_alone(parsed: ParsedSource, statement: ast.stmt) -> bool:
    """Only blanks before the statement on its first line, only a comment after its end."""
    lines = parsed.lines
    first = lines[statement.lineno - 1]
    column = parsed.column(statement.lineno, statement.col_offset) - 1
    end_line = statement.end_lineno or statement.lineno
    end = parsed.column(end_line, statement.end_col_offset or 0) - 1
    rest = lines[end_line - 1][end:].strip()
    return not first[:column].strip() and (not rest or rest.startswith("#"))


def child_containing(node: ast.AST, target: ast.AST) -> ast.AST | None:
    """The child of `node` that is or holds `target`, found by position."""
    start = (getattr(target, "lineno", 0), getattr(target, "col_offset", 0))
    end = (getattr(target, "end_lineno", 0) or 0, getattr(target, "end_col_offset", 0) or 0)
    for child in ast.iter_child_nodes(node):
        if child is target:
            return child
        line = getattr(child, "lineno", None)
        if line is None:  # withitem, comprehension, arguments, match_case: no position
            if child_containing(child, target) is not None:
                return child
            continue
        child_start = (line, getattr(child, "col_offset", 0))
        decorators = getattr(child, "decorator_list", None)
        if decorators:  # a definition's decorators sit above its own first line
            child_start = min(child_start, (decorators[0].lineno, decorators[0].col_offset))
        child_end = (
            getattr(child, "end_lineno", None) or line,
            getattr(child, "end_col_offset", None) or 0,
        )
        if child_start <= start and end <= child_end:
            return child
    return None


def root_name(node: ast.expr) -> str | None:
    """`a` in `a.b.c(...)` or `a(...)`."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def callee(decorator: ast.expr) -> ast.expr:
    """What a decorator calls: `cache` in `@cache` and in `@lru_cache(maxsize=None)`."""
    return decorator.func if isinstance(decorator, ast.Call) else decorator


def single_target(parent: ast.AST | None, value: ast.expr) -> ast.expr | None:
    """The one target `value` is assigned to by `parent`, if it is such an assignment."""
    if isinstance(parent, ast.Assign) and parent.value is value and len(parent.targets) == 1:
        return parent.targets[0]
    if isinstance(parent, ast.AnnAssign) and parent.value is value:
        return parent.target
    return None


def declares_global(function: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> bool:
    """`global name` in the function: an assignment there changes the module's binding."""
    return any(isinstance(node, ast.Global) and name in node.names for node in ast.walk(function))


def is_first_parameter(
    node: ast.expr, function: ast.FunctionDef | ast.AsyncFunctionDef | None
) -> bool:
    """`self.helper = Service()`: the owning object decides who the helper works for."""
    if function is None or not isinstance(node, ast.Name):
        return False
    positional = [*function.args.posonlyargs, *function.args.args]
    return bool(positional) and positional[0].arg == node.id
