"""A small, serialisable language for "what a name is bound to".

The index stores each module's bindings in this form so that a warm run can resolve names across
modules without parsing them again. An expression is a tuple whose first item says its kind:

| form | meaning |
|---|---|
| `("name", id)` | a name, looked up in the scope the expression belongs to |
| `("ref", "pkg.mod")` | an imported module, already made absolute |
| `("ref", "pkg.mod", name)` | a name imported with `from pkg.mod import name` |
| `("attr", expr, name)` | an attribute |
| `("call", expr)` | the result of a call |
| `("item", expr)` | a subscript: a dict/list element, or a generic alias like `Agent[D, O]` |
| `("inst", expr)` | an instance of the class `expr` (from an annotation) |
| `("dict", (expr, ...))` / `("seq", (expr, ...))` | container literals: their values / elements |
| `("iter", expr)` / `("with", expr)` | a `for` target / a `with ... as` target |
| `("any", (expr, ...))` | one of several values (`a if c else b`, several assignments) |
| `("def", module, qualname)` / `("class", module, qualname)` | a function / class definition |
| `("self", module, qualname)` / `("cls", module, qualname)` | a method's first parameter |
| `("context", class, deps)` | a `RunContext[Deps]` parameter, whose `.deps` is a `Deps` |
| `("super",)` | `super()` |
| `("none",)` / `("lit",)` | `None` / any other value that is certainly not an agent |
| `("unknown", reason)` | something the analysis cannot follow, and why |
"""

from __future__ import annotations

import ast
from typing import Any, Final

Expr = tuple[Any, ...]
"""One expression in the language above (nested tuples of strings)."""

NONE: Final[Expr] = ("none",)
LITERAL: Final[Expr] = ("lit",)

_LITERAL_NODES: Final = (
    ast.JoinedStr,
    ast.BinOp,
    ast.UnaryOp,
    ast.Compare,
    ast.Lambda,
)
_MAX_FOLLOWED_BINDINGS: Final = 6
_MAPPING_TYPES: Final = frozenset(
    {"dict", "Dict", "Mapping", "MutableMapping", "OrderedDict", "defaultdict", "DefaultDict"}
)
_SEQUENCE_TYPES: Final = frozenset(
    {
        "list",
        "List",
        "Sequence",
        "MutableSequence",
        "tuple",
        "Tuple",
        "set",
        "Set",
        "frozenset",
        "FrozenSet",
        "Iterable",
        "Iterator",
        "Collection",
        "deque",
    }
)
_UNWRAPPED_ANNOTATIONS: Final = frozenset(
    {"Annotated", "ClassVar", "Final", "Required", "NotRequired", "ReadOnly", "InitVar"}
)


def expression(node: ast.expr) -> Expr:
    """Describe the value of `node`."""
    if isinstance(node, ast.Name):
        return ("name", node.id)
    if isinstance(node, ast.Attribute):
        return ("attr", expression(node.value), node.attr)
    if isinstance(node, ast.Call):
        return _call(node)
    if isinstance(node, ast.Subscript):
        return ("item", expression(node.value))
    if isinstance(node, ast.Constant):
        return NONE if node.value is None else LITERAL
    if isinstance(node, ast.Dict):
        return ("dict", tuple(expression(value) for value in node.values))
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return ("seq", tuple(expression(element) for element in node.elts))
    if isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp):
        return ("seq", (_comprehended(node.elt, node.generators),))
    if isinstance(node, ast.DictComp):
        return ("dict", (_comprehended(node.value, node.generators),))
    if isinstance(node, ast.Await | ast.Starred | ast.NamedExpr):
        return expression(node.value)
    if isinstance(node, ast.IfExp):
        return ("any", (expression(node.body), expression(node.orelse)))
    if isinstance(node, ast.BoolOp):
        return ("any", tuple(expression(value) for value in node.values))
    if isinstance(node, _LITERAL_NODES):
        return LITERAL
    return ("unknown", f"a {type(node).__name__} expression")


def _comprehended(element: ast.expr, generators: list[ast.comprehension]) -> Expr:
    """A comprehension's element, with the names its `for` clauses bind followed."""
    bound: dict[str, list[Expr]] = {}
    for generator in generators:
        if isinstance(generator.target, ast.Name):
            bound.setdefault(generator.target.id, []).append(("iter", expression(generator.iter)))
    return localize(expression(element), bound, depth=1)


def _call(node: ast.Call) -> Expr:
    function = node.func
    if isinstance(function, ast.Name):
        if function.id == "getattr":
            return ("unknown", "looked up with getattr()")
        if function.id == "super":
            return ("super",)
        if function.id == "dict" and node.keywords:
            return ("dict", tuple(expression(keyword.value) for keyword in node.keywords))
    return ("call", expression(function))


def annotation(node: ast.expr) -> Expr:
    """Describe a value of the type that the annotation `node` names."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, str):
            try:
                parsed = ast.parse(node.value.strip(), mode="eval").body
            except SyntaxError:
                return ("unknown", f"unreadable annotation {node.value!r}")
            return annotation(parsed)
        return NONE if node.value is None else LITERAL
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _union([node.left, node.right])
    if isinstance(node, ast.Subscript):
        head = terminal_name(node.value)
        arguments = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if head == "Optional":
            return annotation(arguments[0])
        if head == "Union":
            return _union(arguments)
        if head in _UNWRAPPED_ANNOTATIONS:
            return annotation(arguments[0])
        if head in {"type", "Type"}:
            return LITERAL  # a class object: calling its run methods is not a run of an instance
        if head in _MAPPING_TYPES and len(arguments) == 2:
            return ("dict", (annotation(arguments[1]),))
        if head in _SEQUENCE_TYPES:
            elements = [item for item in arguments if not isinstance(item, ast.Constant)]
            return ("seq", tuple(annotation(item) for item in elements))
        if head == "RunContext":  # a tool's context: `ctx.deps` is an instance of the argument
            return ("context", expression(node.value), annotation(arguments[0]))
    return ("inst", expression(node))


def _union(members: list[ast.expr]) -> Expr:
    options = list(members)  # never pop from the tree's own lists
    flattened: list[ast.expr] = []
    while options:
        option = options.pop()
        if isinstance(option, ast.BinOp) and isinstance(option.op, ast.BitOr):
            options += [option.left, option.right]
        else:
            flattened.append(option)
    described = [annotation(option) for option in reversed(flattened)]
    kept = [value for value in described if value != NONE]
    if len(kept) == 1:
        return kept[0]
    return ("any", tuple(kept or described))


def terminal_name(node: ast.expr) -> str | None:
    """The last name in `a.b.c` or `c`; `None` for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def localize(
    expr: Expr,
    bindings: dict[str, list[Expr]],
    depth: int = 3,
    memo: dict[tuple[str, int], Expr] | None = None,
) -> Expr:
    """Replace names bound in a function by what they are bound to.

    Used for what escapes a function (its return values, `self.x = ...`), so the index can
    evaluate them later without the function's body. The depth limit stops `x = f(x)` loops, and
    a name assigned many times is given up on, so the result stays small whatever the code.
    """
    if depth == 0:
        return expr
    memo = {} if memo is None else memo
    kind = expr[0]
    if kind == "name":
        key = (expr[1], depth)
        if key not in memo:
            values = bindings.get(expr[1])
            if values is None:
                memo[key] = expr
            elif len(values) > _MAX_FOLLOWED_BINDINGS:
                memo[key] = ("unknown", f"{expr[1]!r} is assigned too many times to follow")
            else:
                localized = tuple(localize(value, bindings, depth - 1, memo) for value in values)
                memo[key] = localized[0] if len(localized) == 1 else ("any", localized)
        return memo[key]
    if kind in {"attr", "call", "item", "inst", "iter", "with"}:
        return (kind, localize(expr[1], bindings, depth, memo), *expr[2:])
    if kind in {"dict", "seq", "any"}:
        return (kind, tuple(localize(value, bindings, depth, memo) for value in expr[1]))
    return expr
