"""`tool_name=` and `operation=` defaults and overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from tokentrail_codemods._names import NameResolver, Naming, snake_case
from tokentrail_lint.analysis.model import Scope

ROOT = Path("/project")
MODULES = {
    ROOT / "app/services/script_service.py": "app.services.script_service",
    ROOT / "app/billing/utils.py": "app.billing.utils",
    ROOT / "app/support/utils.py": "app.support.utils",
    ROOT / "app/services/__init__.py": "app.services",
    ROOT / "app/__main__.py": "app.__main__",
}
METHOD = Scope("ScriptService", "draft", is_method=True)
MODULE_LEVEL = Scope(None, None)


def _resolver(**options: object) -> NameResolver:
    return NameResolver(Naming(MODULES, **options), ROOT)  # type: ignore[arg-type]  # test options


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("app/services/script_service.py", "script_service"),
        ("app/billing/utils.py", "app.billing.utils"),
        ("app/services/__init__.py", "app.services"),
        ("app/__main__.py", "app.__main__"),
        ("scripts/report.py", "report"),
    ],
)
def test_module_tool_names(relative: str, expected: str) -> None:
    assert _resolver().tool_name(ROOT / relative, METHOD) == expected


def test_class_style_uses_the_class_name() -> None:
    resolver = _resolver(style="class")
    path = ROOT / "app/services/script_service.py"
    assert (
        resolver.tool_name(path, Scope("Outer.HTTPScriptService", "draft")) == "http_script_service"
    )
    assert resolver.tool_name(path, MODULE_LEVEL) == "script_service"


def test_operations() -> None:
    resolver = _resolver()
    path = ROOT / "app/services/script_service.py"
    assert resolver.operation(path, METHOD) == "draft"
    assert resolver.operation(path, MODULE_LEVEL) == "<module>"


def test_overrides_from_the_most_specific_key() -> None:
    resolver = _resolver(
        tool_name_overrides={
            "app.services.script_service": "scripts",
            "app.services.script_service.ScriptService.draft": "drafts",
        },
        operation_overrides={"app.services.script_service.ScriptService.draft": "write_draft"},
    )
    path = ROOT / "app/services/script_service.py"
    assert resolver.tool_name(path, METHOD) == "drafts"
    assert resolver.tool_name(path, Scope("ScriptService", "review", is_method=True)) == "scripts"
    assert resolver.operation(path, METHOD) == "write_draft"
    assert resolver.operation(path, Scope(None, "draft")) == "draft"


def test_module_function_override() -> None:
    resolver = _resolver(operation_overrides={"app.billing.utils.explain": "explain_invoice"})
    assert (
        resolver.operation(ROOT / "app/billing/utils.py", Scope(None, "explain"))
        == "explain_invoice"
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [("ScriptService", "script_service"), ("HTTPClient", "http_client"), ("v2Agent", "v2_agent")],
)
def test_snake_case(name: str, expected: str) -> None:
    assert snake_case(name) == expected
