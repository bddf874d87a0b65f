"""The index cache: warm runs reuse summaries; edits and corruption are handled."""

from __future__ import annotations

import ast
import marshal
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.lint_rules.analysis.conftest import FIXTURES

from tokentrail_lint.analysis import Verdict, _index, analyze
from tokentrail_lint.analysis._summary import ModuleSummary, summarize

CACHE = Path(".tokentrail") / "cache" / "index.marshal"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURES / "project", tmp_path, dirs_exist_ok=True)
    return tmp_path


@pytest.fixture
def summaries(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The modules summarised by parsing (not taken from the cache) during the test."""
    made: list[str] = []

    def counting(tree: ast.Module, module: str, is_package: bool) -> ModuleSummary:
        made.append(module)
        return summarize(tree, module, is_package)

    monkeypatch.setattr(_index, "summarize", counting)
    return made


def _orders_verdicts(project: Path) -> list[Verdict]:
    [orders] = analyze([project / "shop" / "services" / "orders.py"], root=project).files
    return [site.verdict for site in sorted(orders.runs, key=lambda site: site.span.line)]


def test_a_warm_run_parses_nothing_but_the_files_it_reports_on(
    project: Path, summaries: list[str]
) -> None:
    cold = _orders_verdicts(project)
    assert "shop.agents.support" in summaries
    assert (project / CACHE).is_file()
    assert (project / ".tokentrail" / ".gitignore").read_text().strip().endswith("*")
    written = (project / CACHE).stat().st_mtime_ns
    summaries.clear()

    warm = _orders_verdicts(project)

    assert warm == cold
    assert summaries == []
    assert (project / CACHE).stat().st_mtime_ns == written


def test_an_edited_file_is_summarised_again_and_changes_the_answer(
    project: Path, summaries: list[str]
) -> None:
    assert _orders_verdicts(project)[1] is Verdict.AGENT_RUN
    summaries.clear()
    support = project / "shop" / "agents" / "support.py"
    support.write_text(
        "import pydantic_ai\n\nfrom helpdesk import Client\n\nsupport = Client()\n",
        encoding="utf-8",
    )

    verdicts = _orders_verdicts(project)

    assert summaries == ["shop.agents.support"]
    assert verdicts[1] is Verdict.NOT_AGENT_RUN


@pytest.mark.parametrize("garbage", [b"", b"\x00\x01garbage", b"\xe3" + b"\xff" * 64])
def test_a_corrupt_cache_is_ignored_and_replaced(
    project: Path, summaries: list[str], garbage: bytes
) -> None:
    cold = _orders_verdicts(project)
    (project / CACHE).write_bytes(garbage)
    summaries.clear()

    assert _orders_verdicts(project) == cold
    assert summaries
    assert (project / CACHE).read_bytes() != garbage


def test_a_cache_from_other_code_is_ignored(project: Path, summaries: list[str]) -> None:
    _orders_verdicts(project)
    stored = marshal.loads((project / CACHE).read_bytes())
    stored["stamp"] = "format=0"
    (project / CACHE).write_bytes(marshal.dumps(stored))
    summaries.clear()

    _orders_verdicts(project)

    assert summaries


def test_an_unwritable_cache_folder_does_not_stop_the_analysis(project: Path) -> None:
    (project / ".tokentrail").write_text("a file where the folder should be", encoding="utf-8")

    assert _orders_verdicts(project)[0] is Verdict.AGENT_RUN


def test_without_the_cache_nothing_is_written(project: Path) -> None:
    analyze([project], root=project, use_cache=False)

    assert not (project / ".tokentrail").exists()


def test_concurrent_cold_runs_agree_and_leave_a_valid_cache(project: Path) -> None:
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from tokentrail_lint.analysis import analyze\n"
        "root = Path(sys.argv[1])\n"
        "[orders] = analyze([root / 'shop' / 'services' / 'orders.py'], root=root).files\n"
        "print(sorted((site.span.line, site.verdict.value) for site in orders.runs))\n"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(project)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    outputs = {process.communicate(timeout=60)[0] for process in processes}

    assert all(process.returncode == 0 for process in processes)
    assert len(outputs) == 1
    assert marshal.loads((project / CACHE).read_bytes())["entries"]
    assert [path.name for path in (project / CACHE).parent.iterdir()] == ["index.marshal"]


def test_a_run_on_a_few_files_keeps_the_rest_of_the_cache(
    project: Path, summaries: list[str]
) -> None:
    analyze([project], root=project)
    everything = set(summaries)
    (project / "shop" / "agents" / "writers.py").write_text(
        "from pydantic_ai import Agent\n\n\ndef make_writer(tone: str) -> Agent[None, str]:\n"
        "    return Agent('test')\n",
        encoding="utf-8",
    )
    summaries.clear()
    analyze([project / "scripts" / "report.py"], root=project)
    assert summaries == ["shop.agents.writers"]
    summaries.clear()

    analyze([project], root=project)

    assert summaries == []
    assert len(everything) > 5
