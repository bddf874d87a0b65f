"""A short run of `bench/soak.py`: two writer processes, two PostgreSQL restarts, one poison."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest
from tests.postgres_server import BIN_DIR

pytestmark = pytest.mark.postgres

SOAK = Path(__file__).parents[2] / "bench" / "soak.py"


def _soak_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tokentrail_soak", SOAK)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_a_short_soak_stores_each_record_once_and_sets_the_poison_aside(tmp_path: Path) -> None:
    if not (BIN_DIR / "initdb").exists():
        if os.environ.get("TOKENTRAIL_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is not installed ({BIN_DIR} has no initdb)")
        pytest.skip(f"PostgreSQL is not installed ({BIN_DIR} has no initdb)")

    # 250 records 20 ms apart keep the writers busy for 5 s: time for both restarts.
    figures = _soak_module().run_soak(
        tmp_path, processes=2, records=250, restarts=2, pause=0.02, time_limit=120.0
    )

    assert figures.restarts == 2
    assert figures.handed_over == 2 * 250  # besides the poisoned record
    assert figures.held, "\n".join(figures.lines())
