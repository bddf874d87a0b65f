"""Every before/after pair under `fixtures/cases`: one call shape or class kind each.

Each `before.py` is copied into a fresh project as `service.py` (so `tool_name="service"`) and
rewritten through the real analysis; the result must equal `after.py` byte for byte, and a
second run must change nothing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tokentrail_codemods import apply

CASES_DIRECTORY = Path(__file__).parent / "fixtures" / "cases"
CASES = sorted(case.name for case in CASES_DIRECTORY.iterdir() if case.is_dir())


@pytest.mark.parametrize("case", CASES)
def test_rewrite_matches_the_after_fixture(case: str, project: Path) -> None:
    service = project / "service.py"
    shutil.copy(CASES_DIRECTORY / case / "before.py", service)
    expected = (CASES_DIRECTORY / case / "after.py").read_text()

    apply([service], write=True)

    assert service.read_text() == expected


@pytest.mark.parametrize("case", CASES)
def test_the_after_fixture_is_left_as_it_is(case: str, project: Path) -> None:
    service = project / "service.py"
    shutil.copy(CASES_DIRECTORY / case / "after.py", service)
    before = service.read_bytes()

    result = apply([service], write=True)

    assert result.changed == []
    assert result.rewritten == {}
    assert service.read_bytes() == before


def test_every_case_has_both_files() -> None:
    for case in CASES:
        assert (CASES_DIRECTORY / case / "before.py").is_file(), case
        assert (CASES_DIRECTORY / case / "after.py").is_file(), case
