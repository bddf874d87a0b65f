"""The classes of a file whose runs pass their own context, and the plumbing they receive."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from tokentrail_codemods._edits import Edit
from tokentrail_codemods._imports import ImportPlan
from tokentrail_codemods._lines import LineIndex
from tokentrail_codemods._outcome import AmbientClass, FileRewrite, Settings
from tokentrail_codemods._plumbing import (
    FIELDS,
    ClassLayout,
    Names,
    class_layout,
    instance_parameter,
    plumbing_edits,
)
from tokentrail_lint.analysis.model import ClassFacts, ContextCapability, RunSite

RUNTIME_MODULE: Final = "tokentrail"


class Services:
    """The classes of one file whose runs pass `self._tracker`, and the plumbing they need."""

    def __init__(
        self,
        index: LineIndex,
        classes: list[ClassFacts],
        imports: ImportPlan,
        settings: Settings,
        newline: str,
        path: Path,
    ) -> None:
        self._index = index
        self._facts = {facts.name: facts for facts in classes}
        self._imports = imports
        self._settings = settings
        self._newline = newline
        self._path = path
        self._layouts: dict[str, ClassLayout | None] = {}
        self._plumbed: set[str] = set()
        self._without_instance: set[str] = set()

    def context_keywords(self, site: RunSite) -> list[tuple[str, str]]:
        """`tracker=self._tracker, ...` for a call in a method, else nothing (ambient context)."""
        scope = site.scope
        if not (scope.class_name and scope.function_name and scope.is_method):
            return []
        facts = self._facts.get(scope.class_name)
        if facts is None or facts.capability is ContextCapability.CANNOT_HOLD:
            return []
        layout = self._layout(facts)
        if layout is None:
            return []
        instance = instance_parameter(self._index, layout, site.span.line, scope.function_name)
        if instance is None:
            self._without_instance.add(f"{facts.name}.{scope.function_name}")
            return []
        if facts.capability is ContextCapability.CAN_HOLD:
            self._plumbed.add(facts.name)
        return [
            ("tracker", f"{instance}._tracker"),
            ("user_id", f"{instance}._user_id"),
            ("organization_id", f"{instance}._org_id"),
        ]

    def note_ambient(self, site: RunSite, result: FileRewrite) -> None:
        """Record, once, a class or method whose runs fall back to the ambient context."""
        facts = self._facts.get(site.scope.class_name or "")
        if facts is None:
            return
        if facts.capability is ContextCapability.CANNOT_HOLD:
            name, reason = facts.name, facts.reason
        elif f"{facts.name}.{site.scope.function_name}" in self._without_instance:
            name = f"{facts.name}.{site.scope.function_name}"
            reason = "a static or class method has no instance to carry the context"
        else:
            return
        if not any(entry.name == name for entry in result.ambient):
            result.ambient.append(AmbientClass(self._path, name, reason))

    def edits(self, result: FileRewrite) -> list[Edit]:
        """Fields and methods for every class that passes its own context."""
        edits: list[Edit] = []
        for name in sorted(self._plumbed):
            facts = self._facts[name]
            layout = self._layout(facts)
            assert layout is not None  # only classes with a layout were plumbed
            if self._inherits_plumbing(layout):
                continue
            missing = [
                field_name for field_name, _ in FIELDS if field_name not in facts.existing_fields
            ]
            edits += plumbing_edits(
                self._index,
                layout,
                missing_fields=missing,
                add_method=True,
                names=Names(
                    usage_tracker=self._imports.reference(
                        RUNTIME_MODULE, "UsageTracker", annotation_only=facts.kind != "pydantic"
                    ),
                    line_length=self._settings.line_length,
                    newline=self._newline,
                    field_default=self._field_default(facts.kind),
                ),
            )
            result.plumbed_classes.append(name)
        return edits

    def _inherits_plumbing(self, layout: ClassLayout) -> bool:
        """A base in this file that gets the plumbing now gives it to its subclasses."""
        return any(base in self._plumbed and base in self._facts for base in layout.bases)

    def _field_default(self, kind: str) -> FieldDefault:
        return FieldDefault(self._imports, kind)

    def _layout(self, facts: ClassFacts) -> ClassLayout | None:
        if facts.name not in self._layouts:
            span = facts.span
            self._layouts[facts.name] = class_layout(
                self._index, span.line, span.end_line, span.end_column
            )
        return self._layouts[facts.name]


@dataclass(frozen=True, slots=True)
class FieldDefault:
    """The default of a plumbing field, declared the way the class's kind declares state."""

    imports: ImportPlan
    kind: str

    def __call__(self) -> tuple[str, list[str]]:
        if self.kind == "dataclass":
            field_function = self.imports.reference("dataclasses", "field")
            return field_function, ["default=None", "init=False", "repr=False", "compare=False"]
        if self.kind == "pydantic":
            return self.imports.reference("pydantic", "PrivateAttr"), ["default=None"]
        return "", []
