"""What the codemod and TT003 need to know about a class that holds agent runs.

The codemod gives a class `_tracker` / `_user_id` / `_org_id` fields and a
`set_tracking_context` method (CONTRACT §4); some classes cannot take new attributes, and their
runs fall back to the ambient context. Decorators and bases are resolved by binding, through the
project's own base classes in other modules, like every other name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from tokentrail_lint.analysis._resolve import Resolver, Value, split_key
from tokentrail_lint.analysis.model import ClassFacts, ContextCapability, Span

CONTEXT_FIELDS: Final = frozenset({"_tracker", "_user_id", "_org_id"})
PLUMBING_METHOD: Final = "set_tracking_context"

_DATACLASS_DECORATORS: Final = frozenset(
    {"dataclasses.dataclass", "pydantic.dataclasses.dataclass"}
)
_ATTRS_PACKAGES: Final = frozenset({"attr", "attrs"})
_PYDANTIC_BASES: Final = frozenset(
    {
        "pydantic.BaseModel",
        "pydantic.main.BaseModel",
        "pydantic_settings.BaseSettings",
        "pydantic_settings.main.BaseSettings",
    }
)
_NAMEDTUPLE_BASES: Final = frozenset(
    {"typing.NamedTuple", "typing_extensions.NamedTuple", "collections.namedtuple"}
)
_PROTOCOL_BASES: Final = frozenset({"typing.Protocol", "typing_extensions.Protocol"})


def class_facts(resolver: Resolver, key: str, path: Path, name: str, span: Span) -> ClassFacts:
    """Describe the project class `key` (`module:Qualname`), shown as `name`."""
    project_classes, external_bases = resolver.mro(key)
    kind, cannot_hold = _kind(resolver, key, project_classes, external_bases)
    methods: set[str] = set()
    attributes: set[str] = set()
    for class_key in project_classes:
        summary = resolver.class_summary(class_key)
        if summary is not None:
            methods.update(summary["methods"])
            attributes.update(summary["attributes"])
    if PLUMBING_METHOD in methods:
        capability, reason = ContextCapability.HAS_PLUMBING, ""
    elif cannot_hold:
        capability, reason = ContextCapability.CANNOT_HOLD, cannot_hold
    else:
        capability, reason = ContextCapability.CAN_HOLD, ""
    return ClassFacts(
        path=path,
        name=name,
        span=span,
        kind=kind,
        capability=capability,
        reason=reason,
        existing_fields=frozenset(CONTEXT_FIELDS & attributes),
    )


def _kind(
    resolver: Resolver, key: str, project_classes: list[str], external_bases: list[str]
) -> tuple[str, str]:
    """The class's kind, and why it cannot hold attributes (empty when it can)."""
    kind, reason = _kind_from_decorators_and_bases(resolver, key, project_classes, external_bases)
    own = resolver.class_summary(key)
    if not reason and own is not None and "__slots__" in own["attributes"]:
        reason = "it defines __slots__, so it cannot take new attributes"
    return kind, reason


def _kind_from_decorators_and_bases(
    resolver: Resolver, key: str, project_classes: list[str], external_bases: list[str]
) -> tuple[str, str]:
    for class_key in project_classes:
        decorated = _decorator_kind(resolver, class_key)
        if decorated is not None:
            return decorated
    bases = set(external_bases)
    for base in _call_bases(resolver, project_classes):
        bases.add(base)
    if resolver.is_agent_class(key):
        return "agent", ""
    if bases & _PYDANTIC_BASES:
        return "pydantic", ""
    if bases & _NAMEDTUPLE_BASES:
        return "namedtuple", "a NamedTuple is immutable"
    if any(base.startswith("enum.") for base in bases):
        return "enum", "an Enum's members are shared constants"
    if bases & _PROTOCOL_BASES:
        return "protocol", "a Protocol describes other classes and is never instantiated"
    return "plain", ""


def _decorator_kind(resolver: Resolver, class_key: str) -> tuple[str, str] | None:
    summary = resolver.class_summary(class_key)
    frame = resolver.module_frame(split_key(class_key)[0])
    if summary is None or frame is None:
        return None
    for callee, flags in summary["decorators"]:
        value = resolver.evaluate(callee, frame)
        if value.kind != "external":
            continue
        if value.name in _DATACLASS_DECORATORS:
            if "frozen" in flags:
                return "dataclass", "it is a frozen dataclass"
            if "slots" in flags:
                return "dataclass", "it is a dataclass with slots=True"
            return "dataclass", ""
        if value.name.partition(".")[0] in _ATTRS_PACKAGES:
            return "attrs", "attrs classes are slotted or frozen by default"
    return None


def _call_bases(resolver: Resolver, project_classes: list[str]) -> list[str]:
    """External callables used as bases, such as `namedtuple("Point", "x y")`."""
    found = []
    for class_key in project_classes:
        summary = resolver.class_summary(class_key)
        frame = resolver.module_frame(split_key(class_key)[0])
        if summary is None or frame is None:
            continue
        for base in summary["bases"]:
            if base[0] == "call":
                value: Value = resolver.evaluate(base[1], frame)
                if value.kind == "external":
                    found.append(value.name)
    return found
