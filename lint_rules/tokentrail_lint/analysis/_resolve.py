"""Resolve expressions to what they are bound to, across the modules of a project.

Resolution is by binding, never by spelling: `Agent` means pydantic-ai's agent only when the name
is bound, through any chain of imports, re-exports, assignments, annotations, factories and base
classes, to a class that pydantic-ai (or the configuration) says makes agents. Anything the chain
cannot follow is `unknown`, with the reason, and never quietly "not an agent".
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final, Protocol

from tokentrail_lint.analysis._expressions import Expr
from tokentrail_lint.analysis._summary import ClassSummary, FunctionSummary, ModuleSummary
from tokentrail_lint.config import Config

_BUILTINS: Final = frozenset(dir(builtins))
_PLAIN_BUILTIN_NAMES: Final = (
    "abs all any ascii bin bool bytearray bytes callable chr complex dir divmod float format "
    "hasattr hash hex id input int isinstance issubclass len memoryview oct open ord pow print "
    "range repr round slice str sum vars"
)
_PLAIN_BUILTIN_RESULTS: Final = frozenset(_PLAIN_BUILTIN_NAMES.split())
"""Builtins whose result is never an agent; any other builtin's result (`next(...)`,
`max(...)`, `list(...)`) may be one, so it stays unknown."""
_ANY_TYPES: Final = frozenset({"typing.Any", "typing_extensions.Any"})
_DERIVED: Final = "an object obtained from "
_DICT_ELEMENT_METHODS: Final = frozenset({"get", "pop", "setdefault", "__getitem__"})


@dataclass(frozen=True, slots=True)
class Value:
    """What an expression evaluates to, as far as agents are concerned.

    `kind` is one of: `module`, `external` (a dotted name outside the project), `opaque` (project
    code that cannot hold agents), `class` / `function` (project definitions, keyed
    `module:qualname`), `method` (`name` on the class `owner`), `context` (pydantic-ai's
    `RunContext`, with the deps as its one member), `constructor` (an agent class's
    `from_*` class method), `instance` (of a class key or an
    external dotted name), `dict` / `seq` / `dictmethod` (containers, with `members`), `super`,
    `builtin`, `foreign` (an object that is not an agent; `owner="outside"` when it is only
    the unknown result of calling something outside the project), `literal`, `none` and
    `unknown` (`name` says why).
    """

    kind: str
    name: str = ""
    owner: str = ""
    members: tuple[Value, ...] = ()


class ModuleSource(Protocol):
    """What the resolver needs from the project index."""

    def canonical(self, module: str) -> str | None:
        """The canonical name of a project module, or `None` if it is not in the project."""

    def summary(self, module: str) -> ModuleSummary | None:
        """A project module's summary; `None` when it cannot hold agents (not parsed)."""


@dataclass(eq=False, slots=True)
class Frame:
    """One scope's bindings, linked to the scope it is nested in."""

    bindings: dict[str, list[Expr]]
    parent: Frame | None
    module: str
    owner: str | None = None
    """The class key of the method this frame belongs to (for `super()`)."""
    is_class: bool = False
    star_imports: list[str] = field(default_factory=list)
    memo: dict[Expr, Value] = field(default_factory=dict)


def split_key(key: str) -> tuple[str, str]:
    """`module:Qual.name` -> (`module`, `Qual.name`)."""
    module, _, qualname = key.partition(":")
    return module, qualname


class Resolver:
    """Evaluates expressions against the project index, memoising as it goes."""

    def __init__(self, modules: ModuleSource, config: Config) -> None:
        self._modules = modules
        self._config = config
        self._module_frames: dict[str, Frame | None] = {}
        self._dotted: dict[str, Value] = {}
        self._agent_classes: dict[str, bool] = {}
        self._mro: dict[str, tuple[list[str], list[str]]] = {}
        self._in_progress: set[tuple[int, Expr]] = set()
        self._agent_types = self._canonical_names(config.agent_types)
        self._agent_factories = self._canonical_names(config.agent_factories)
        self.wrappers = self._canonical_names(config.wrappers)

    # --- names and modules -------------------------------------------------------------------

    def _canonical_names(self, dotted_names: Iterable[str]) -> frozenset[str]:
        """Rewrite configured dotted names so that project names use canonical module names."""
        names = set()
        for dotted in dotted_names:
            parts = dotted.split(".")
            for end in range(len(parts), 0, -1):
                canonical = self._modules.canonical(".".join(parts[:end]))
                if canonical is not None:
                    names.add(".".join([canonical, *parts[end:]]))
                    break
            names.add(dotted)
        return frozenset(names)

    def module_frame(self, module: str) -> Frame | None:
        """The frame of a project module's top level; `None` for a module that is not parsed."""
        if module not in self._module_frames:
            summary = self._modules.summary(module)
            self._module_frames[module] = (
                None
                if summary is None
                else Frame(summary["symbols"], None, module, star_imports=summary["star_imports"])
            )
        return self._module_frames[module]

    def resolve_dotted(self, dotted: str) -> Value:
        """Resolve an absolute dotted name: the longest project module and its attributes."""
        cached = self._dotted.get(dotted)
        if cached is not None:
            return cached
        self._dotted[dotted] = Value("unknown", f"{dotted} is defined in terms of itself")
        parts = dotted.split(".")
        value = Value("external", dotted)
        for end in range(len(parts), 0, -1):
            canonical = self._modules.canonical(".".join(parts[:end]))
            if canonical is not None:
                value = Value("module", canonical)
                for attribute in parts[end:]:
                    value = self.attribute(value, attribute)
                break
        self._dotted[dotted] = value
        return value

    def _module_attribute(self, module: str, name: str) -> Value:
        frame = self.module_frame(module)
        if frame is not None and name in frame.bindings:
            return self._name(name, frame)
        submodule = self._modules.canonical(f"{module}.{name}")
        if submodule is not None:
            return Value("module", submodule)
        if frame is None:
            return Value("opaque", f"{module}.{name}")
        for star in frame.star_imports:
            value = self.attribute(self.resolve_dotted(star), name)
            if value.kind != "unknown":
                return value
        return Value("unknown", f"module {module} has no name {name!r} the analysis can see")

    # --- evaluation --------------------------------------------------------------------------

    def evaluate(self, expr: Expr, frame: Frame) -> Value:
        """What `expr`, written in `frame`'s scope, evaluates to."""
        cached = frame.memo.get(expr)
        if cached is not None:
            return cached
        token = (id(frame), expr)
        if token in self._in_progress:
            return Value("unknown", "defined in terms of itself")
        self._in_progress.add(token)
        try:
            value = self._evaluate(expr, frame)
        finally:
            self._in_progress.discard(token)
        frame.memo[expr] = value
        return value

    def _evaluate(self, expr: Expr, frame: Frame) -> Value:
        kind = expr[0]
        if kind == "name":
            return self._name(expr[1], frame)
        if kind == "ref":
            module = self.resolve_dotted(expr[1])
            # `from a.b import c`: a name bound in a.b wins over a submodule a.b.c, as in Python.
            return module if len(expr) == 2 else self.attribute(module, expr[2])
        if kind == "attr":
            return self.attribute(self.evaluate(expr[1], frame), expr[2])
        if kind == "call":
            return self.call(self.evaluate(expr[1], frame))
        if kind == "item":
            return self._item(self.evaluate(expr[1], frame))
        if kind == "inst":
            return self._instance_of(self.evaluate(expr[1], frame))
        if kind == "context":
            context = self.evaluate(expr[1], frame)
            if context.kind == "external" and context.name.startswith("pydantic_ai."):
                return Value("context", context.name, members=(self.evaluate(expr[2], frame),))
            return self._instance_of(context)
        if kind in {"dict", "seq"}:
            return Value(kind, members=tuple(self.evaluate(item, frame) for item in expr[1]))
        if kind == "iter":
            return self._element(self.evaluate(expr[1], frame))
        if kind == "with":
            return self._entered(self.evaluate(expr[1], frame))
        if kind == "any":
            return self.combine(self.evaluate(item, frame) for item in expr[1])
        if kind in {"def", "class"}:
            return Value("function" if kind == "def" else "class", f"{expr[1]}:{expr[2]}")
        if kind == "self":
            return Value("instance", f"{expr[1]}:{expr[2]}")
        if kind == "cls":
            return Value("class", f"{expr[1]}:{expr[2]}")
        if kind == "super":
            if frame.owner is None:
                return Value("unknown", "super() outside a method")
            return Value("super", owner=frame.owner)
        if kind == "none":
            return Value("none")
        if kind == "lit":
            return Value("literal")
        return Value("unknown", str(expr[1]) if len(expr) > 1 else "unsupported expression")

    def import_path(self, expr: Expr, frame: Frame) -> str | None:
        """The dotted import path a name or attribute chain was imported as, if it was one.

        `from tokentrail import run_agent_with_tracking` makes the name's path
        `tokentrail.run_agent_with_tracking`, whatever that module turns out to hold.
        """
        if expr[0] == "attr":
            base = self.import_path(expr[1], frame)
            return None if base is None else f"{base}.{expr[2]}"
        if expr[0] != "name":
            return None
        current: Frame | None = frame
        while current is not None:
            values = current.bindings.get(expr[1])
            if values is not None and (not current.is_class or current is frame):
                if len(values) == 1 and values[0][0] == "ref":
                    return ".".join(values[0][1:])
                return None
            current = current.parent
        return None

    def _name(self, name: str, frame: Frame) -> Value:
        current: Frame | None = frame
        while current is not None:
            if not current.is_class or current is frame:
                values = current.bindings.get(name)
                if values is not None:
                    scope = current
                    return self.combine(self.evaluate(value, scope) for value in values)
            if current.parent is None:
                for star in current.star_imports:
                    value = self.attribute(self.resolve_dotted(star), name)
                    if value.kind not in {"unknown", "external"}:
                        return value
            current = current.parent
        if name in _BUILTINS:
            return Value("builtin", name)
        return Value("unknown", f"{name!r} is not defined anywhere the analysis can see")

    def attribute(self, value: Value, name: str) -> Value:
        """The attribute `name` of `value`."""
        kind = value.kind
        if kind == "module":
            return self._module_attribute(value.name, name)
        if kind == "external":
            if self.is_agent_class(value.name) and name.startswith("from_"):
                return Value("constructor", value.name)  # Agent.from_file(...), from_spec(...)
            return Value("external", f"{value.name}.{name}")
        if kind in {"instance", "class"} and ":" in value.name:
            return self._member(value.name, name, on_instance=kind == "instance")
        if kind == "dict" and name in _DICT_ELEMENT_METHODS | {"values"}:
            return Value("dictmethod", name, members=value.members)
        if kind == "super":
            return Value("supermethod", name, owner=value.owner)
        if kind == "context":
            if name == "deps":
                return value.members[0]
            return Value("foreign", f"{name!r} of a {value.name}", owner="outside")
        if kind in {"unknown", "opaque"}:
            return value
        return self._derived(value)

    def _member(self, class_key: str, name: str, *, on_instance: bool) -> Value:
        project_classes, external_bases = self.mro(class_key)
        for key in project_classes:
            summary = self.class_summary(key)
            if summary is None:
                continue
            frame = self.module_frame(split_key(key)[0])
            if name in summary["attributes"] and frame is not None:
                return self.combine(
                    self.evaluate(item, frame) for item in summary["attributes"][name]
                )
            if name in summary["methods"]:
                method = self.function_summary(f"{key}.{name}")
                if on_instance and method is not None and method["is_property"]:
                    return self.call(Value("method", name, owner=key))
                return Value("method", name, owner=key)
        if self.is_agent_class(class_key):
            return Value("foreign", f"the attribute {name!r} of an agent")
        if external_bases:
            return Value("foreign", f"{name!r}, inherited from {external_bases[0]}")
        return Value(
            "unknown", f"{_display(class_key)} has no attribute {name!r} the analysis can see"
        )

    def call(self, value: Value) -> Value:
        """The result of calling `value`."""
        kind = value.kind
        if kind == "class":
            return Value("instance", value.name)
        if kind == "external":
            if value.name in self._agent_factories:
                return Value("instance", "pydantic_ai.Agent")
            last = value.name.rpartition(".")[2]
            if last[:1].isupper():
                return Value("instance", value.name)
            return Value("foreign", f"the result of {value.name}()", owner="outside")
        if kind == "constructor":
            return Value("instance", value.name)
        if kind == "builtin":
            if value.name in _PLAIN_BUILTIN_RESULTS:
                return Value("literal")
            return Value("unknown", f"what the builtin {value.name}() returns")
        if kind == "function":
            return self._returns(value.name)
        if kind == "method":
            return self._returns(f"{value.owner}.{value.name}")
        if kind == "dictmethod":
            if value.name == "values":
                return Value("seq", members=value.members)
            return self.combine(value.members)
        if kind in {"unknown", "opaque"}:
            return value
        if kind == "instance" and ":" in value.name:
            return Value("unknown", f"the result of calling an instance of {_display(value.name)}")
        return self._derived(value)

    def _returns(self, key: str) -> Value:
        module, qualname = split_key(key)
        if f"{module}.{qualname}" in self._agent_factories:
            return Value("instance", "pydantic_ai.Agent")
        summary = self.function_summary(key)
        frame = self.module_frame(module)
        if summary is None or frame is None:
            return Value("unknown", f"cannot see what {qualname}() returns")
        if not summary["returns"]:
            return Value("none")
        return self.combine(self.evaluate(item, frame) for item in summary["returns"])

    def _item(self, value: Value) -> Value:
        if value.kind in {"class", "external", "unknown", "opaque"}:
            return value  # a generic alias such as Agent[Deps, str] is still the class
        if value.kind in {"dict", "seq"}:
            return self.combine(value.members)
        if value.kind == "instance" and ":" in value.name:
            return Value("unknown", f"an item of {_display(value.name)}")
        return self._derived(value)

    def _element(self, value: Value) -> Value:
        if value.kind == "seq":
            return self.combine(value.members)
        if value.kind in {"unknown", "opaque"}:
            return value
        if value.kind == "instance" and ":" in value.name:
            return Value("unknown", f"an element of {_display(value.name)}")
        return self._derived(value)

    def _entered(self, value: Value) -> Value:
        if self.is_agent(value) or value.kind in {"unknown", "opaque"}:
            return value  # `async with agent:` yields the agent itself
        if value.kind == "instance" and ":" in value.name:
            return Value("unknown", f"what {_display(value.name)} yields in a with statement")
        return self._derived(value)

    def _instance_of(self, value: Value) -> Value:
        if value.name in _ANY_TYPES or (value.kind == "builtin" and value.name == "object"):
            return Value("unknown", f"annotated as {value.name}, which may be an agent")
        if value.kind in {"class", "external"}:
            return Value("instance", value.name)
        if value.kind == "builtin":
            return Value("literal")  # str, int, bytes, ...: never an agent
        if value.kind in {"unknown", "opaque", "none"}:
            return value
        return Value("unknown", f"an annotation naming {self.describe(value)}")

    def _derived(self, value: Value) -> Value:
        """Something obtained from a value that is not an agent: an attribute, a result, ...

        What comes out of a library's object is marked as from outside (`owner="outside"`):
        the analysis cannot see into it, so a receiver whose name says "agent" stays unknown.
        """
        if value.kind == "foreign":
            prefix = "" if value.name.startswith(_DERIVED) else _DERIVED
            return Value("foreign", prefix + value.name, owner=value.owner)
        from_library = value.kind == "external" or (
            value.kind == "instance" and ":" not in value.name and not self.is_agent(value)
        )
        owner = "outside" if from_library else ""
        return Value("foreign", _DERIVED + self.describe(value), owner=owner)

    def combine(self, values: Iterable[Value]) -> Value:
        """One value for a name bound several times: agent only if every binding is one."""
        options = list(values)
        meaningful = [value for value in options if value.kind != "none"] or options
        if not meaningful:
            return Value("unknown", "never bound")
        if len(meaningful) == 1:
            return meaningful[0]
        agents = [value for value in meaningful if self.is_agent(value)]
        if len(agents) == len(meaningful):
            return agents[0]
        unknown = next((value for value in meaningful if value.kind == "unknown"), None)
        if unknown is not None:
            return unknown
        if agents:
            return Value(
                "unknown", "bound to an agent in some places and to other values in others"
            )
        kinds = {value.kind for value in meaningful}
        if kinds in ({"dict"}, {"seq"}):
            return Value(
                kinds.pop(), members=tuple(m for value in meaningful for m in value.members)
            )
        return meaningful[0]

    # --- classes -----------------------------------------------------------------------------

    def class_summary(self, key: str) -> ClassSummary | None:
        module, qualname = split_key(key)
        summary = self._modules.summary(module)
        return None if summary is None else summary["classes"].get(qualname)

    def function_summary(self, key: str) -> FunctionSummary | None:
        module, qualname = split_key(key)
        summary = self._modules.summary(module)
        return None if summary is None else summary["functions"].get(qualname)

    def mro(self, class_key: str) -> tuple[list[str], list[str]]:
        """The project classes a class inherits from (itself first), and its external bases."""
        cached = self._mro.get(class_key)
        if cached is not None:
            return cached
        project: list[str] = [class_key]
        external: list[str] = []
        self._mro[class_key] = (project, external)  # a cycle stops here
        summary = self.class_summary(class_key)
        frame = self.module_frame(split_key(class_key)[0])
        if summary is not None and frame is not None:
            for base in summary["bases"]:
                value = self.evaluate(base, frame)
                if value.kind == "class":
                    inherited, outside = self.mro(value.name)
                    project += [key for key in inherited if key not in project]
                    external += [name for name in outside if name not in external]
                elif value.kind == "external":
                    external.append(value.name)
        return project, external

    def is_agent_class(self, class_ref: str) -> bool:
        """Whether instances of a class (a project key or an external dotted name) are agents."""
        cached = self._agent_classes.get(class_ref)
        if cached is not None:
            return cached
        self._agent_classes[class_ref] = False
        if ":" not in class_ref:
            last = class_ref.rpartition(".")[2]
            result = class_ref in self._agent_types or (
                class_ref.startswith("pydantic_ai.") and last.endswith("Agent")
            )
        else:
            module, qualname = split_key(class_ref)
            project, external = self.mro(class_ref)
            result = f"{module}.{qualname}" in self._agent_types or any(
                self.is_agent_class(name) for name in [*project[1:], *external]
            )
        self._agent_classes[class_ref] = result
        return result

    def is_agent(self, value: Value) -> bool:
        """Whether `value` is certainly an agent instance."""
        return value.kind == "instance" and self.is_agent_class(value.name)

    def describe(self, value: Value) -> str:
        """Words for a value, for the `reason` of a verdict."""
        kind = value.kind
        if kind == "instance":
            if ":" not in value.name:
                return f"an instance of {value.name}"
            if self.is_agent_class(value.name):
                return f"an instance of {_display(value.name)}, an agent class of the project"
            return f"an instance of {_display(value.name)}, a project class that is not an Agent"
        if kind == "module":
            return f"the module {value.name}"
        if kind == "external":
            return f"{value.name}, from outside the project"
        if kind == "foreign":
            return value.name
        if kind == "opaque":
            return f"{value.name}, from a module that does not use pydantic-ai"
        if kind == "builtin":
            return f"the builtin {value.name}"
        if kind in {"class", "function"}:
            return f"the {kind} {_display(value.name)}"
        if kind == "method":
            return f"the method {_display(value.owner)}.{value.name}"
        return {"dict": "a dict", "seq": "a sequence", "none": "None"}.get(kind, "a plain value")


def _display(key: str) -> str:
    module, qualname = split_key(key)
    return f"{module}.{qualname}"
