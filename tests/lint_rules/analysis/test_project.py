"""A multi-module project: re-exports, base classes and factories in other modules."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tests.lint_rules.analysis.conftest import FIXTURES, markers, run_labels

from tokentrail_lint.analysis import ProjectAnalysis, Verdict, analyze


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURES / "project", tmp_path, dirs_exist_ok=True)
    return tmp_path


def _analyze(root: Path, *paths: Path) -> ProjectAnalysis:
    return analyze(list(paths) or [root], root=root, use_cache=False)


def test_runs_resolve_across_modules(project: Path) -> None:
    result = _analyze(project)

    for analysis in result.files:
        relative = analysis.path.relative_to(project)
        assert analysis.error is None, relative
        assert run_labels(analysis) == markers(FIXTURES / "project" / relative, "expect"), relative


def test_files_are_sorted_and_module_names_cover_the_whole_project(project: Path) -> None:
    result = _analyze(project, project / "shop" / "services" / "orders.py")

    assert [analysis.path for analysis in result.files] == [
        project / "shop" / "services" / "orders.py"
    ]
    assert result.modules[project / "shop" / "services" / "orders.py"] == "shop.services.orders"
    assert result.modules[project / "shop" / "__init__.py"] == "shop"
    assert result.modules[project / "scripts" / "report.py"] == "scripts.report"
    assert result.root == project


def test_the_body_of_a_configured_wrapper_is_not_a_finding(project: Path) -> None:
    [metering] = _analyze(project, project / "shop" / "metering.py").files

    assert metering.runs == []


def test_a_file_that_cannot_hold_agents_is_reported_empty(project: Path) -> None:
    result = _analyze(project, project / "shop" / "util.py", project / "scripts" / "cleanup.py")

    assert [(analysis.runs, analysis.error) for analysis in result.files] == [([], None)] * 2


def test_the_root_and_configuration_are_found_from_the_paths(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project / "shop")
    result = analyze([Path("services")], use_cache=False)

    assert result.root == project
    assert "shop.registry.lookup" in result.config.agent_factories
    [_, orders] = result.files
    assert any(site.receiver == 'lookup("refunds")' for site in orders.runs)


def test_scope_of_a_method_in_a_subclass(project: Path) -> None:
    [orders] = _analyze(project, project / "shop" / "services" / "orders.py").files

    first = min(orders.runs, key=lambda site: site.span.line)
    assert first.verdict is Verdict.AGENT_RUN
    assert first.scope.class_name == "OrderService"
    assert first.scope.function_name == "confirm"
    assert first.scope.is_method
    assert first.scope.is_async
    [service] = orders.classes
    assert service.name == "OrderService"


def test_a_tracked_call_reports_its_agent_and_operation(project: Path) -> None:
    [orders] = _analyze(project, project / "shop" / "services" / "orders.py").files

    [tracked] = [site for site in orders.runs if site.tracked]
    assert tracked.receiver == "support_agent"
    assert tracked.method == "run"
    assert tracked.operation_literal is None


def test_src_layout_and_configured_agent_types(tmp_path: Path) -> None:
    files = {
        "pyproject.toml": (
            "[tool.tokentrail]\n"
            'agent-types = ["acme.llm.HomegrownAgent", "vendor_sdk.RemoteAgent"]\n'
        ),
        "src/acme/__init__.py": "",
        "src/acme/llm.py": (
            "class HomegrownAgent:\n"
            "    def run_sync(self, prompt: str) -> str:\n"
            "        return prompt\n"
            "\n"
            "\n"
            "class Specialised(HomegrownAgent):\n"
            "    pass\n"
        ),
        "src/acme/jobs.py": (
            "from vendor_sdk import RemoteAgent\n"
            "\n"
            "from acme.llm import Specialised\n"
            "\n"
            "Specialised().run_sync('a')\n"
            "RemoteAgent().run_sync('b')\n"
        ),
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")

    result = analyze([tmp_path / "src" / "acme" / "jobs.py"], root=tmp_path, use_cache=False)

    assert result.modules[tmp_path / "src" / "acme" / "jobs.py"] == "acme.jobs"
    [jobs] = result.files
    assert [site.verdict for site in jobs.runs] == [Verdict.AGENT_RUN, Verdict.AGENT_RUN]


def test_wrappers_count_as_tracked_where_tokentrail_itself_is_a_project_package(
    tmp_path: Path,
) -> None:
    files = {
        "pyproject.toml": "[tool.tokentrail]\n",
        "runtime/tokentrail/__init__.py": (
            "def __getattr__(name: str) -> object:\n"
            "    from tokentrail import _wrappers\n"
            "\n"
            "    return getattr(_wrappers, name)\n"
        ),
        "runtime/tokentrail/_wrappers.py": (
            "from pydantic_ai import Agent\n"
            "\n"
            "\n"
            "def run_agent_sync_with_tracking(agent: Agent, prompt: str) -> object:\n"
            "    return agent.run_sync(prompt)\n"
        ),
        "examples/demo.py": (
            "from pydantic_ai import Agent\n"
            "from tokentrail import run_agent_sync_with_tracking\n"
            "\n"
            "run_agent_sync_with_tracking(Agent('test'), 'hello')\n"
        ),
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")

    demo, wrappers = analyze(
        [tmp_path / "runtime" / "tokentrail" / "_wrappers.py", tmp_path / "examples" / "demo.py"],
        root=tmp_path,
        use_cache=False,
    ).files

    assert wrappers.runs == []
    assert [(site.tracked, site.method) for site in demo.runs] == [(True, "run_sync")]
