"""Which project classes are tracked services, and which functions hand them out.

A *tracked service* has `set_tracking_context`, itself or through a base class, or receives it in
the current codemod run. A *getter* is a project function that returns one; a *cached getter* is
one whose result is shared between callers (`functools.cache`, `st.cache_resource`, ...). The
answers are kept for the whole analysis run, so each class and function is looked at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from tokentrail_lint.analysis._classes import PLUMBING_METHOD
from tokentrail_lint.analysis._resolve import Frame, Resolver, Value, split_key

CACHE_DECORATORS: Final = frozenset(
    {
        "functools.cache",
        "functools.lru_cache",
        "streamlit.cache_resource",
        "streamlit.cache_data",
        "streamlit.experimental_singleton",
        "streamlit.singleton",
    }
)
"""Decorators whose function returns one instance to every caller."""


@dataclass(slots=True)
class CallerCache:
    """What one analysis run learns about project classes and functions, shared by its files."""

    services: dict[str, bool | None] = field(default_factory=dict)
    """Class key -> has plumbing (`True`), receives it now (`False`), not a service (`None`)."""
    getters: dict[str, tuple[str, bool, bool] | None] = field(default_factory=dict)
    """Function key -> (class key, has plumbing, cached) when it returns a tracked service."""
    modules: dict[str, bool] = field(default_factory=dict)
    """Module -> whether its top level binds a service class, a getter or an instance."""
    to_come: frozenset[str] = frozenset()
    """Dotted classes that receive `set_tracking_context` in this codemod run."""


_CALLED_OR_DOTTED: Final = re.compile(r"(\w+)[(.]")
"""A word written right before `(` or `.`: one scan of the text instead of one per name."""


def dotted(key: str) -> str:
    """`module:Qual.name` -> `module.Qual.name`."""
    module, qualname = split_key(key)
    return f"{module}.{qualname}"


class ServiceCatalog:
    """Answers about classes and functions, remembered in a `CallerCache`."""

    def __init__(self, resolver: Resolver, cache: CallerCache) -> None:
        self._resolver = resolver
        self._cache = cache

    def service_names(self, frame: Frame, text: str | None = None) -> frozenset[str]:
        """Module-level names that are service classes, their getters or instances, or modules
        holding such names (`import app.services as services; services.Writer()`).

        With the module's `text`, names never written before `(` or `.` are skipped without
        being resolved: they cannot make or fetch a service there.
        """
        found = set()
        used = None if text is None else frozenset(_CALLED_OR_DOTTED.findall(text))
        for name in frame.bindings:
            if used is not None and name not in used:
                continue
            try:
                value = self._resolver.evaluate(("name", name), frame)
            except RecursionError:
                continue
            if value.kind == "module":
                if text is not None and self._module_has_services(value.name):
                    found.add(name)
            elif ":" in value.name and (
                (value.kind in {"class", "instance"} and self.service(value.name) is not None)
                or (value.kind == "function" and self.getter(value.name) is not None)
            ):
                found.add(name)
        return frozenset(found)

    def _module_has_services(self, module: str) -> bool:
        modules = self._cache.modules
        if module not in modules:
            modules[module] = False  # a cycle of imports stops here
            frame = self._resolver.module_frame(module)
            modules[module] = frame is not None and bool(self.service_names(frame))
        return modules[module]

    def service(self, class_key: str) -> bool | None:
        """`True` for a class with plumbing, `False` for one receiving it now, else `None`."""
        services = self._cache.services
        if class_key not in services:
            project, _ = self._resolver.mro(class_key)
            methods: set[str] = set()
            for key in project:
                summary = self._resolver.class_summary(key)
                if summary is not None:
                    methods.update(summary["methods"])
            result: bool | None = None
            if PLUMBING_METHOD in methods:
                result = True
            elif any(dotted(key) in self._cache.to_come for key in project):
                result = False
            services[class_key] = result
        return services[class_key]

    def lineage(self, class_key: str) -> tuple[str, ...]:
        """The class and the project classes it inherits from, dotted."""
        return tuple(dotted(key) for key in self._resolver.mro(class_key)[0])

    def getter(self, function_key: str) -> tuple[str, bool, bool] | None:
        """(class key, has plumbing, cached) when the function returns a tracked service."""
        getters = self._cache.getters
        if function_key not in getters:
            getters[function_key] = None
            result = self._resolver.call(Value("function", function_key))
            if result.kind == "instance" and ":" in result.name:
                has_plumbing = self.service(result.name)
                if has_plumbing is not None:
                    cached = self._is_cached_function(function_key)
                    getters[function_key] = (result.name, has_plumbing, cached)
        return getters[function_key]

    def _is_cached_function(self, function_key: str) -> bool:
        summary = self._resolver.function_summary(function_key)
        frame = self._resolver.module_frame(split_key(function_key)[0])
        if summary is None or frame is None:
            return False
        return any(
            self._resolver.evaluate(decorator, frame).name in CACHE_DECORATORS
            for decorator in summary.get("decorators", [])
        )
