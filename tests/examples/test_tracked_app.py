"""The example after `tokentrail codemod`: the rewritten app runs and bills every run correctly."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from tests.examples.conftest import BRIGHTWAVE


def _run(arguments: list[str], folder: Path, store: Path) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "TOKENTRAIL_STORE": f"sqlite:///{store}",
        "XDG_DATA_HOME": str(folder / ".data"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    environment.pop("PYTHONPATH", None)
    return subprocess.run(
        [sys.executable, *arguments],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def tracked_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the app after `tokentrail codemod`."""
    folder = tmp_path_factory.mktemp("tracked") / "brightwave"
    shutil.copytree(BRIGHTWAVE, folder, ignore=shutil.ignore_patterns("__pycache__"))
    rewrite = _run(["-m", "tokentrail", "codemod", "brightwave"], folder, folder / "unused.db")
    assert rewrite.returncode == 0, rewrite.stdout + rewrite.stderr
    return folder


@pytest.fixture(scope="module")
def tracked_store(tracked_app: Path) -> Path:
    """The store after the rewritten app served a busy morning."""
    store = tracked_app / "usage.db"
    served = _run(["-m", "brightwave"], tracked_app, store)
    assert served.returncode == 0, served.stdout + served.stderr
    assert len(served.stdout.splitlines()) == 15
    return store


def test_the_rewritten_app_passes_its_own_linter(tracked_app: Path) -> None:
    ruff = [str(Path(sys.executable).with_name("ruff"))]
    for arguments in (["check", "brightwave"], ["format", "--check", "brightwave"]):
        completed = subprocess.run(
            [*ruff, *arguments],
            cwd=tracked_app,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert completed.returncode == 0, completed.stdout + completed.stderr


def _rows(store: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(store) as database:
        rows = database.execute(sql).fetchall()
    database.close()
    return rows


def test_every_run_of_every_visit_is_recorded(tracked_store: Path) -> None:
    # Five visits of ten runs each (the planner's two copywriter runs included).
    counts = Counter(
        (str(tool), str(operation))
        for tool, operation in _rows(tracked_store, "SELECT tool_name, operation FROM token_usage")
    )
    assert counts == {
        ("headline_service", "suggest"): 5,
        ("blog_post_service", "draft"): 5,
        ("brand_voice_service", "review"): 5,
        ("campaign_service", "plan"): 5,
        ("campaign_service", "write_copy"): 10,
        ("social_post_service", "write"): 5,
        ("translation_service", "translate"): 5,
        ("seo_service", "meta_description"): 5,
        ("newsletter_service", "intro"): 5,
    }


def test_shared_services_bill_each_run_to_the_person_who_asked(tracked_store: Path) -> None:
    pairs = Counter(_rows(tracked_store, "SELECT user_id, organization_id FROM token_usage"))
    assert pairs == {("user-ana", "org-acme"): 30, ("user-ben", "org-northwind"): 20}


def test_delegated_runs_are_recorded_as_themselves(tracked_store: Path) -> None:
    planner_runs = {
        run_id
        for (run_id,) in _rows(
            tracked_store, "SELECT run_id FROM token_usage WHERE operation = 'plan'"
        )
    }
    children = _rows(
        tracked_store,
        "SELECT parent_run_id, requests, model FROM token_usage WHERE operation = 'write_copy'",
    )
    assert {parent for parent, _requests, _model in children} == planner_runs
    assert {(requests, model) for _parent, requests, model in children} == {(1, "gpt-4o")}
    # The planner's own record keeps only its own two requests, not its children's.
    assert _rows(
        tracked_store, "SELECT DISTINCT requests FROM token_usage WHERE operation = 'plan'"
    ) == [(2,)]


def test_every_record_names_a_real_model_and_carries_its_price(tracked_store: Path) -> None:
    rows = _rows(
        tracked_store, "SELECT provider, model, cost_usd, cost_source, status FROM token_usage"
    )
    assert {(provider, model) for provider, model, *_ in rows} == {
        ("openai", "gpt-4o"),
        ("openai", "gpt-4o-mini"),
        ("anthropic", "claude-sonnet-4-5"),
    }
    assert all(status == "ok" for *_, status in rows)
    assert all(cost is not None and Decimal(str(cost)) > 0 for _p, _m, cost, _s, _st in rows)
    assert {source for _p, _m, _c, source, _st in rows} == {"pydantic-ai"}
