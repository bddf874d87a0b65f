"""Builders for the analysis facts the checker consumes, so rules can be tested in isolation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tokentrail_lint.analysis.model import (
    ClassFacts,
    ContextCapability,
    EntryPointSite,
    RunSite,
    Scope,
    Span,
    Verdict,
)

RunFactory = Callable[..., RunSite]


@pytest.fixture
def project_root(tmp_path: Path) -> Path:
    """A project root holding `services/writer.py`, the file the built facts point at."""
    (tmp_path / "services").mkdir()
    (tmp_path / "services" / "writer.py").write_text("", encoding="utf-8")
    return tmp_path


@pytest.fixture
def make_run(project_root: Path) -> RunFactory:
    """Return a builder of `RunSite`s: an untracked `self.agent.run` in `Writer.write`."""

    def build(line: int = 10, **changes: Any) -> RunSite:
        values: dict[str, Any] = {
            "path": project_root / "services" / "writer.py",
            "span": Span(line, 24, line, 50),
            "method": "run",
            "verdict": Verdict.AGENT_RUN,
            "tracked": False,
            "scope": Scope("Writer", "write", is_method=True, is_async=True),
            "receiver": "self.agent",
        }
        values.update(changes)
        return RunSite(**values)

    return build


@pytest.fixture
def make_entry_point(project_root: Path) -> Callable[..., EntryPointSite]:
    """Return a builder of `EntryPointSite`s: `agent.to_web()` at module level."""

    def build(**changes: Any) -> EntryPointSite:
        values: dict[str, Any] = {
            "path": project_root / "services" / "writer.py",
            "span": Span(5, 7, 5, 21),
            "name": "to_web",
            "scope": Scope(None, None),
        }
        values.update(changes)
        return EntryPointSite(**values)

    return build


@pytest.fixture
def make_class(project_root: Path) -> Callable[..., ClassFacts]:
    """Return a builder of `ClassFacts`: a slotted `Writer` that cannot hold context."""

    def build(**changes: Any) -> ClassFacts:
        values: dict[str, Any] = {
            "path": project_root / "services" / "writer.py",
            "name": "Writer",
            "span": Span(3, 1, 12, 1),
            "kind": "plain",
            "capability": ContextCapability.CANNOT_HOLD,
            "reason": "it defines __slots__",
        }
        values.update(changes)
        return ClassFacts(**values)

    return build
