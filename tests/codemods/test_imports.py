"""Where the rewrite's imports go, and how names already imported are reused."""

from __future__ import annotations

import pytest

from tokentrail_codemods._edits import apply_edits
from tokentrail_codemods._imports import ImportPlan
from tokentrail_codemods._lines import LineIndex


def _plan(
    text: str, *, line_length: int = 88, first_party: frozenset[str] = frozenset()
) -> ImportPlan:
    return ImportPlan(
        LineIndex(text), newline="\n", line_length=line_length, first_party=first_party
    )


def _add(text: str, *names: tuple[str, str], **options: object) -> tuple[list[str], str]:
    plan = _plan(text, **options)  # type: ignore[arg-type]  # options are the keyword arguments of _plan
    references = [plan.reference(module, name) for module, name in names]
    return references, apply_edits(text, plan.edits())


WRAPPER = ("tokentrail", "run_agent_with_tracking")


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param(
            '"""Doc."""\n\n\ndef f() -> None: ...\n',
            '"""Doc."""\n\nfrom tokentrail import run_agent_with_tracking\n\n\n'
            "def f() -> None: ...\n",
            id="after-docstring",
        ),
        pytest.param(
            "# Licence text.\nx = 1\n",
            "# Licence text.\nfrom tokentrail import run_agent_with_tracking\n\nx = 1\n",
            id="below-a-leading-comment",
        ),
        pytest.param(
            '"""Doc."""\n\nfrom __future__ import annotations\n\nx = 1\n',
            '"""Doc."""\n\nfrom __future__ import annotations\n\n'
            "from tokentrail import run_agent_with_tracking\n\nx = 1\n",
            id="after-future",
        ),
        pytest.param(
            "import os\n\nfrom app import models\n",
            "import os\n\nfrom tokentrail import run_agent_with_tracking\n\n"
            "from app import models\n",
            id="between-standard-library-and-first-party",
        ),
        pytest.param(
            "from app import models\n",
            "from tokentrail import run_agent_with_tracking\n\nfrom app import models\n",
            id="before-first-party",
        ),
        pytest.param(
            "import httpx\nfrom pydantic_ai import Agent\nfrom zeta import z\n",
            "import httpx\nfrom pydantic_ai import Agent\n"
            "from tokentrail import run_agent_with_tracking\nfrom zeta import z\n",
            id="sorted-within-third-party",
        ),
        pytest.param(
            "from pydantic_ai import Agent\n",
            "from pydantic_ai import Agent\nfrom tokentrail import run_agent_with_tracking\n",
            id="after-the-last-of-its-section",
        ),
        pytest.param(
            "from tokentrail import tracking_context, UsageTracker\n",
            "from tokentrail import UsageTracker, run_agent_with_tracking, tracking_context\n",
            id="merged-in-ruff-order",
        ),
        pytest.param(
            "from tokentrail import (\n    tracking_context,  # why\n)\n",
            "from tokentrail import (\n    tracking_context,  # why\n)\n"
            "from tokentrail import run_agent_with_tracking\n",
            id="a-commented-statement-is-not-merged",
        ),
    ],
)
def test_placement(before: str, after: str) -> None:
    references, result = _add(before, WRAPPER, first_party=frozenset({"app"}))
    assert references == ["run_agent_with_tracking"]
    assert result == after


def test_long_merged_statement_is_parenthesized() -> None:
    text = "from tokentrail import UsageTracker, tracking_context\n"
    _, result = _add(text, WRAPPER, ("tokentrail", "run_agent_sync_with_tracking"), line_length=60)
    assert result == (
        "from tokentrail import (\n"
        "    UsageTracker,\n"
        "    run_agent_sync_with_tracking,\n"
        "    run_agent_with_tracking,\n"
        "    tracking_context,\n"
        ")\n"
    )


@pytest.mark.parametrize(
    ("text", "reference"),
    [
        ("from tokentrail import run_agent_with_tracking as tracked\n", "tracked"),
        ("import tokentrail as tt\n", "tt.run_agent_with_tracking"),
        ("import tokentrail\n", "tokentrail.run_agent_with_tracking"),
    ],
)
def test_existing_imports_are_reused(text: str, reference: str) -> None:
    references, result = _add(text, WRAPPER)
    assert references == [reference]
    assert result == text


def test_a_name_taken_by_another_import_is_used_through_its_module() -> None:
    text = "from attrs import field\n"
    references, result = _add(text, ("dataclasses", "field"), ("dataclasses", "field"))
    assert references == ["dataclasses.field", "dataclasses.field"]
    assert result == "import dataclasses\n\nfrom attrs import field\n"


def test_relative_imports_are_their_own_section() -> None:
    text = "import os\n\nfrom . import models\n"
    _, result = _add(text, WRAPPER)
    assert result == (
        "import os\n\nfrom tokentrail import run_agent_with_tracking\n\nfrom . import models\n"
    )


def test_the_header_scan_stops_at_the_first_statement() -> None:
    text = "import os\n\nx = 1\nfrom tokentrail import run_agent_with_tracking\n"
    _, result = _add(text, WRAPPER)
    assert result.startswith("import os\n\nfrom tokentrail import run_agent_with_tracking\n\nx = 1")


TYPE_CHECKING_BLOCK = (
    "from typing import TYPE_CHECKING\n\n"
    "if TYPE_CHECKING:\n"
    "    # only for annotations\n"
    "    from tokentrail import UsageTracker as Tracker\n\n"
    "x = 1\n"
)


def test_a_type_checking_import_serves_postponed_annotations() -> None:
    text = "from __future__ import annotations\n\n" + TYPE_CHECKING_BLOCK
    references, result = _add_annotation(text)
    assert references == ["Tracker"]
    assert result == text


def test_without_postponed_annotations_the_name_is_imported_for_real() -> None:
    references, result = _add_annotation(TYPE_CHECKING_BLOCK)
    assert references == ["UsageTracker"]
    assert result.startswith(
        "from typing import TYPE_CHECKING\n\n"
        "from tokentrail import UsageTracker\n\nif TYPE_CHECKING:"
    )


def _add_annotation(text: str) -> tuple[list[str], str]:
    plan = _plan(text)
    references = [plan.reference("tokentrail", "UsageTracker", annotation_only=True)]
    return references, apply_edits(text, plan.edits())
