"""The `tool_name=` and `operation=` a rewritten call is given (CONTRACT §4 defaults).

Existing `token_usage` data names the service after its module (`services/script_service.py`
is `script_service`), so that is the default; the dotted module path is used where the short
name would be ambiguous within the project, and `tool-name = "class"` names the service after
its class instead. Configuration overrides win over both.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from tokentrail_lint.analysis.model import Scope

MODULE_LEVEL_OPERATION: Final = "<module>"
_SPECIAL_MODULES: Final = frozenset({"__init__", "__main__"})
_CAMEL_BOUNDARY: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


@dataclass(frozen=True, slots=True)
class Naming:
    """What the names of every call in a project depend on."""

    modules: Mapping[Path, str]
    """Each project file's dotted module name."""
    style: Literal["module", "class"] = "module"
    tool_name_overrides: Mapping[str, str] | None = None
    operation_overrides: Mapping[str, str] | None = None

    def short_names(self) -> Counter[str]:
        """How many project modules end in each last component."""
        return Counter(_last(name) for name in self.modules.values())


class NameResolver:
    """Computes `tool_name` and `operation` for calls, given the project's modules."""

    def __init__(self, naming: Naming, root: Path) -> None:
        self._naming = naming
        self._root = root
        self._short_counts = naming.short_names()

    def module_name(self, path: Path) -> str:
        """The dotted module name of `path` (its path from the root when the index lacks it)."""
        known = self._naming.modules.get(path)
        if known:
            return known
        try:
            relative = path.relative_to(self._root)
        except ValueError:
            relative = Path(path.name)
        parts = list(relative.with_suffix("").parts)
        if len(parts) > 1 and parts[-1] == "__init__":
            parts.pop()
        return ".".join(parts)

    def tool_name(self, path: Path, scope: Scope) -> str:
        """The service name for a call in `path` within `scope`."""
        module = self.module_name(path)
        override = _lookup(self._naming.tool_name_overrides, _candidates(module, scope))
        if override is not None:
            return override
        if self._naming.style == "class" and scope.class_name:
            return snake_case(scope.class_name.rpartition(".")[2])

        short = _last(module)
        if path.stem in _SPECIAL_MODULES:
            return _special_module_name(module, path)
        if self._short_counts.get(short, 0) > 1:
            return module
        return short

    def operation(self, path: Path, scope: Scope) -> str:
        """The operation name: the enclosing method or function, else `<module>`."""
        module = self.module_name(path)
        candidates = _candidates(module, scope)
        override = _lookup(
            self._naming.operation_overrides, candidates[: -2 if scope.class_name else -1]
        )
        if override is not None:
            return override
        return scope.function_name or MODULE_LEVEL_OPERATION


def _special_module_name(module: str, path: Path) -> str:
    """`pkg/__init__.py` is `pkg`, `pkg/__main__.py` is `pkg.__main__`: names that say where."""
    if path.stem == "__main__" and _last(module) != "__main__":
        module = f"{module}.__main__" if module else "__main__"
    return module or path.parent.name


def snake_case(name: str) -> str:
    """`ScriptService` -> `script_service`, `HTTPClient` -> `http_client`."""
    return _CAMEL_BOUNDARY.sub("_", name).lower()


def _last(dotted: str) -> str:
    return dotted.rpartition(".")[2]


def _candidates(module: str, scope: Scope) -> list[str]:
    """Override keys from the most specific (`module.Class.method`) to the module itself."""
    keys: list[str] = []
    if scope.class_name and scope.function_name:
        keys.append(f"{module}.{scope.class_name}.{scope.function_name}")
    elif scope.function_name:
        keys.append(f"{module}.{scope.function_name}")
    if scope.class_name:
        keys.append(f"{module}.{scope.class_name}")
    keys.append(module)
    return keys


def _lookup(overrides: Mapping[str, str] | None, keys: list[str]) -> str | None:
    if not overrides:
        return None
    for key in keys:
        if key in overrides:
            return overrides[key]
    return None
