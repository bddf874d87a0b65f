"""Entry points that run agents inside pydantic-ai itself, found by binding (TT005)."""

from __future__ import annotations

from pathlib import Path

from tests.lint_rules.analysis.conftest import FIXTURES, analyze_copy, markers


def test_servers_adapters_and_durable_wrappers_are_found(tmp_path: Path) -> None:
    [analysis] = analyze_copy("entry_points/servers.py", tmp_path).files

    found = {site.span.line: site.name for site in analysis.entry_points}
    assert found == markers(FIXTURES / "entry_points/servers.py", "entry")


def test_entry_point_scope_names_the_enclosing_function(tmp_path: Path) -> None:
    [analysis] = analyze_copy("entry_points/servers.py", tmp_path).files

    scopes = {site.name: site.scope.function_name for site in analysis.entry_points}
    assert scopes["to_web"] is None
    assert scopes["VercelAIAdapter"] == "chat"
    assert scopes["to_cli_sync"] == "cli"


def test_lookalikes_from_other_libraries_and_the_project_are_not_entry_points(
    tmp_path: Path,
) -> None:
    [analysis] = analyze_copy("entry_points/lookalikes.py", tmp_path).files

    assert analysis.entry_points == []
