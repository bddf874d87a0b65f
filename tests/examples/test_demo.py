"""`make demo` end to end, its printed report checked against the store it wrote."""

from __future__ import annotations

import importlib.util
import os
import re
import sqlite3
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest
from tests.examples.conftest import EXAMPLES

STEPS = (
    "find the agent runs nobody meters",
    "preview the rewrite of one service",
    "rewrite every untracked run",
    "check again",
    "measure tracking coverage",
    "serve a busy morning",
    "see who spent what",
    "see where it went",
)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    folder = tmp_path_factory.mktemp("demo") / "story"
    environment = {key: value for key, value in os.environ.items() if key != "TOKENTRAIL_STORE"}
    completed = subprocess.run(
        [sys.executable, str(EXAMPLES / "demo.py"), "--folder", str(folder)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout, folder


def test_each_step_is_announced_in_order(demo_run: tuple[str, Path]) -> None:
    output, _folder = demo_run
    announced = re.findall(r"^== Step (\d+): (.+)$", output, flags=re.MULTILINE)
    assert announced == [(str(number), title) for number, title in enumerate(STEPS, start=1)]
    assert "-> 9 untracked agent runs found" in output
    assert "9 files changed, 9 calls rewritten" in output
    assert "All checks passed." in output
    assert re.search(r"^\s+TOTAL\s+9\s+9\s+0\s+0\s+100\.0%$", output, flags=re.MULTILINE)
    assert "\x1b[" not in output


def _report_section(output: str) -> list[list[str]]:
    section = output.split("== Step 7: see who spent what", 1)[1].split("== Step 8", 1)[0]
    return [line.split() for line in section.splitlines() if line.startswith("    ")]


def test_the_printed_report_matches_the_store(demo_run: tuple[str, Path]) -> None:
    output, folder = demo_run
    with sqlite3.connect(folder / "brightwave-usage.db") as database:
        rows = database.execute(
            "SELECT organization_id, user_id, run_id, requests, input_tokens, output_tokens, "
            "cost_usd FROM token_usage"
        ).fetchall()
    database.close()

    sums: dict[tuple[str, str], list[object]] = defaultdict(lambda: [set(), 0, 0, 0, Decimal(0)])
    for organization, user, run_id, requests, input_tokens, output_tokens, cost in rows:
        figures = sums[(organization, user)]
        runs = figures[0]
        assert isinstance(runs, set)
        runs.add(run_id)
        figures[1] = int(str(figures[1])) + requests
        figures[2] = int(str(figures[2])) + input_tokens
        figures[3] = int(str(figures[3])) + output_tokens
        figures[4] = Decimal(str(figures[4])) + Decimal(cost)

    expected = [
        [
            organization,
            user,
            f"{len(runs):,}",  # type: ignore[arg-type]  # the first figure is the set of runs
            f"{requests:,}",
            f"{input_tokens:,}",
            f"{output_tokens:,}",
            f"{cost:,.4f}",
            "0",
        ]
        for (organization, user), (runs, requests, input_tokens, output_tokens, cost) in sorted(
            sums.items()
        )
    ]
    printed = _report_section(output)
    assert printed[2:4] == expected
    assert [organization for organization, *_ in expected] == ["org-acme", "org-northwind"]


def _load_demo(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("tokentrail_demo", EXAMPLES / "demo.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Its dataclasses look their module up while the class is made.
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    return module


def test_a_step_that_misbehaves_stops_the_story(
    brightwave_copy: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    demo = _load_demo(monkeypatch)
    # Rewritten beforehand, the project has nothing left for the first check to find.
    rewritten = subprocess.run(
        [sys.executable, "-m", "tokentrail", "codemod", "brightwave"],
        cwd=brightwave_copy,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert rewritten.returncode == 0, rewritten.stderr

    story = demo.Story(brightwave_copy, demo.PlainNarrator())
    with pytest.raises(demo.DemoStepError) as failure:
        story.tell()
    assert str(failure.value).startswith(
        "step 1 (find the agent runs nobody meters): `python -m tokentrail check brightwave` "
        "exited with 0, expected 1"
    )
    assert "All checks passed." in capsys.readouterr().out


def test_the_demo_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine\n")
    completed = subprocess.run(
        [sys.executable, str(EXAMPLES / "demo.py"), "--folder", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 2
    assert "is not empty" in completed.stderr
    assert (tmp_path / "notes.txt").read_text() == "mine\n"


def test_the_story_fails_when_the_pages_leave_no_records_or_bill_nobody(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tokentrail import UsageRecord
    from tokentrail.stores.sqlite import SQLiteStore

    demo = _load_demo(monkeypatch)
    story = demo.Story(tmp_path, demo.PlainNarrator())
    with pytest.raises(demo.DemoStepError, match="holds no usage record"):
        story._recorded()

    store = SQLiteStore(story.store_path)
    store.append([UsageRecord(user_id="user-ana", organization_id="org-acme")])
    store.flush()
    assert story._recorded() == "1 usage records written, each billed to its user"
    store.append([UsageRecord(user_id=None, organization_id=None)])
    store.close()
    with pytest.raises(demo.DemoStepError, match="1 of 2 records name no user"):
        story._recorded()
