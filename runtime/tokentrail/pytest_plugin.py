"""A pytest guard that fails any test in which an agent ran outside a tokentrail wrapper.

Static analysis cannot see every run: agents built by a factory, passed through a dictionary or
called by a library. The guard watches the runs a test suite really makes. Enable it with
`pytest --tokentrail-guard` or `tokentrail_guard = true` in the pytest ini options; a test that
means to run an agent untracked says so with `@pytest.mark.tokentrail_untracked`.

How it knows: each tokentrail wrapper sets `tokentrail._guard.tracked_run_starting` just before
it calls the agent. When enabled, the guard patches pydantic-ai's `Agent.iter`, which every way of
running an agent goes through, to read that mark and clear it. Clearing matters: a child agent
run started from a tool of a tracked parent then sees no mark and is judged on its own.

Installed but not enabled, this module imports nothing but pytest and the standard library.
"""

from __future__ import annotations

import functools
import traceback
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, Final

import pytest

_OPTION: Final = "--tokentrail-guard"
_INI: Final = "tokentrail_guard"
_MARKER: Final = "tokentrail_untracked"
_PLUGIN_NAME: Final = "tokentrail-guard"
_LIBRARY_PATH_PARTS: Final = (
    "/pydantic_ai/",
    "/pydantic_graph/",
    "/asyncio/",
    "/anyio/",
    "/concurrent/",
    "/threading.py",
    "/contextlib.py",
    "/tokentrail/",
)
"""Frames skipped when naming where an untracked run started: the libraries between the
caller and `Agent.iter`, and tokentrail itself."""


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the option and the ini setting that enable the guard."""
    group = parser.getgroup("tokentrail")
    group.addoption(
        _OPTION,
        action="store_true",
        default=None,
        help="fail tests in which a pydantic-ai agent runs outside a tokentrail wrapper",
    )
    parser.addini(
        _INI,
        type="bool",
        default=False,
        help="enable the tokentrail guard (same as --tokentrail-guard)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker and, when enabled, start the guard."""
    config.addinivalue_line(
        "markers", f"{_MARKER}: this test runs agents without tokentrail on purpose"
    )
    enabled = config.getoption(_OPTION)
    if enabled is None:
        enabled = config.getini(_INI)
    if enabled:
        guard = _Guard()
        guard.install()
        config.pluginmanager.register(guard, _PLUGIN_NAME)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Undo the patch, so a pytest run inside a process leaves pydantic-ai as it found it."""
    guard = config.pluginmanager.get_plugin(_PLUGIN_NAME)
    if isinstance(guard, _Guard):
        guard.uninstall()
        config.pluginmanager.unregister(guard, _PLUGIN_NAME)


def _where_the_run_started() -> str:
    """Return `file:line in function` of the innermost frame outside the libraries."""
    for frame in reversed(traceback.extract_stack()[:-2]):
        filename = frame.filename.replace("\\", "/")
        if not any(part in filename for part in _LIBRARY_PATH_PARTS):
            return f"{frame.filename}:{frame.lineno} in {frame.name}"
    return "an unknown place"


@dataclass
class _Guard:
    """The patch on `Agent.iter` and the untracked runs seen during the current test."""

    untracked_runs: list[str] = field(default_factory=list)
    _original_iter: Callable[..., Any] | None = None

    def install(self) -> None:
        """Patch `Agent.iter`; imports pydantic-ai now, since the user asked for the guard."""
        from pydantic_ai import Agent

        from tokentrail._guard import tracked_run_starting

        original_iter: Callable[..., Any] = Agent.iter
        untracked_runs = self.untracked_runs

        @functools.wraps(original_iter)
        def guarded_iter(agent: Any, *args: Any, **kwargs: Any) -> Any:
            if tracked_run_starting.get():
                tracked_run_starting.set(False)
            else:
                name = getattr(agent, "name", None) or type(agent).__name__
                untracked_runs.append(f"agent {name!r} ran untracked at {_where_the_run_started()}")
            return original_iter(agent, *args, **kwargs)

        self._original_iter = original_iter
        Agent.iter = guarded_iter  # type: ignore[method-assign, assignment]  # patching is the point

    def uninstall(self) -> None:
        """Put the original `Agent.iter` back."""
        if self._original_iter is None:
            return
        from pydantic_ai import Agent

        Agent.iter = self._original_iter  # type: ignore[method-assign]  # restoring the original
        self._original_iter = None

    def _judge(self, item: pytest.Item, phase: str) -> Generator[None, None, None]:
        self.untracked_runs.clear()
        yield
        runs, self.untracked_runs[:] = list(self.untracked_runs), []
        if runs and item.get_closest_marker(_MARKER) is None:
            listing = "\n".join(f"  - {run}" for run in runs)
            pytest.fail(
                f"tokentrail guard: {len(runs)} agent run(s) outside a tokentrail wrapper "
                f"during {phase}:\n{listing}\nWrap them (run `tokentrail codemod`) or mark the "
                f"test with @pytest.mark.{_MARKER}.",
                pytrace=False,
            )

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, None, None]:
        """Judge the runs made by fixtures while setting up the test."""
        return (yield from self._judge(item, "setup"))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        """Judge the runs made by the test itself."""
        return (yield from self._judge(item, "the test"))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Generator[None, None, None]:
        """Judge the runs made by fixtures while tearing down."""
        return (yield from self._judge(item, "teardown"))
