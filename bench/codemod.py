"""Time `tokentrail codemod` stage by stage, next to libcst parsing the same files.

Run from the repository root:

    .venv/bin/python bench/codemod.py [--services 300] [--repeat 3]

Two workloads:

- a generated project of `--services` service modules, each holding agent runs in a plain
  class, a dataclass and module functions (every file gets rewritten), timed against
  `libcst.parse_module` over the same files, which is what a libcst codemod pays before it
  does anything (targets: at most 2.5x, stretch 1.5x);
- the Python standard library, which holds no agent runs (target: under 2 s wall on 2 cores),
  timed in a fresh interpreter so imports count, without writing anything or any cache.

Stages: `read` (file bytes, by the analysis and again by the rewrite), `prefilter` (the text
test that keeps files from the parser), `parse` (`ast`), `analysis` (the rest of the analysis:
file selection, summaries, resolution), `rewrite` (the codemod's own work on the files with
runs) and `write` (atomic replacement). Each is measured in-process by wrapping the function
that does it; figures are the best of `--repeat` runs on fresh copies with no index cache, and
the ratio is the median over runs that alternate the codemod with the libcst parse.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import libcst

import tokentrail_lint.analysis._index as index_module
from tokentrail_codemods import apply

_AGENTS = '''\
"""The project's agents."""

from pydantic_ai import Agent

writer = Agent("test", instructions="Write clearly.")
reviewer: Agent[None, str] = Agent("test", instructions="Review.")
'''

_SERVICE = '''\
"""Service {number}: drafts, reviews and streams documents."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from app.agents import reviewer, writer

logger = logging.getLogger(__name__)


@dataclass
class Request{number}:
    topic: str
    words: int = 200

    def quick_answer(self) -> str:
        return writer.run_sync(self.topic).output


class Service{number}:
    """Drafts and reviews documents about a topic."""

    def __init__(self, retries: int = 3) -> None:
        self.retries = retries
        self.agent = writer

    async def draft(self, request: Request{number}) -> str:
        logger.info("drafting %s", request.topic)
        result = await self.agent.run(f"Write {{request.words}} words on {{request.topic}}.")
        return result.output

    async def review(self, text: str) -> str:
        async with reviewer.run_stream(text) as stream:
            return await stream.get_output()

    async def both(self, first: str, second: str) -> list[str]:
        results = await asyncio.gather(
            writer.run(first),
            writer.run(second),
        )
        return [result.output for result in results]


def summarise(text: str) -> str:
    return writer.run_sync(f"Summarise: {{text}}").output
'''


def generate_project(directory: Path, services: int) -> list[Path]:
    """Write a project with `services` service modules; return their paths."""
    package = directory / "app"
    package.mkdir(parents=True)
    (directory / "pyproject.toml").write_text(
        "[tool.tokentrail]\n\n[tool.ruff]\nline-length = 100\n"
    )
    (package / "__init__.py").write_text("")
    (package / "agents.py").write_text(_AGENTS)
    paths = []
    for number in range(services):
        path = package / f"service_{number}.py"
        path.write_text(_SERVICE.format(number=number))
        paths.append(path)
    return paths


class StageClock:
    """Adds up the time spent inside wrapped functions, by stage."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def wrap(self, stage: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*arguments: Any, **keywords: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*arguments, **keywords)
            finally:
                self.seconds[stage] += time.perf_counter() - started

        return timed


_TIMED: list[tuple[object, str, str]] = [
    (index_module, "_read", "read"),
    (index_module, "parse", "parse"),
    (index_module.ProjectIndex, "_mark_candidates", "prefilter"),
]
"""(owner, attribute, stage): the analysis functions whose time is each stage's."""


@contextmanager
def instrumented() -> Iterator[StageClock]:
    """Wrap the analysis' read, prefilter and parse functions for the duration."""
    clock = StageClock()
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in _TIMED]
    for owner, name, stage in _TIMED:
        setattr(owner, name, clock.wrap(stage, getattr(owner, name)))
    try:
        yield clock
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)


def run_codemod(root: Path, *, write: bool) -> tuple[float, dict[str, float], int]:
    """Run the codemod in-process; return wall seconds, seconds by stage and files changed."""
    with instrumented() as clock:
        started = time.perf_counter()
        result = apply([root], write=write, root=root, use_cache=False, jobs=1)
        wall = time.perf_counter() - started
    timings = result.timings
    stages = {
        "read": clock.seconds["read"] + timings.get("read", 0.0),
        "prefilter": clock.seconds["prefilter"],
        "parse": clock.seconds["parse"],
        "analysis": timings["analysis"]
        - clock.seconds["read"]
        - clock.seconds["prefilter"]
        - clock.seconds["parse"],
        "rewrite": timings.get("rewrite", 0.0),
        "write": timings.get("write", 0.0),
    }
    return wall, stages, len(result.changed)


def libcst_parse(paths: list[Path]) -> float:
    """Seconds libcst needs to parse `paths`, reading included."""
    started = time.perf_counter()
    for path in paths:
        libcst.parse_module(path.read_bytes())
    return time.perf_counter() - started


def fresh_process_stdlib(stdlib: Path) -> float:
    """Wall seconds of a fresh interpreter running the codemod over the stdlib (check mode)."""
    script = (
        "from pathlib import Path\n"
        "from tokentrail_codemods import apply\n"
        f"root = Path({str(stdlib)!r})\n"
        "result = apply([root], write=False, root=root, use_cache=False)\n"
        "assert not result.changed\n"
    )
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", script], check=True)
    return time.perf_counter() - started


def report(title: str, wall: float, stages: dict[str, float]) -> None:
    print(title)
    accounted = sum(stages.values())
    for stage, seconds in stages.items():
        share = seconds / accounted if accounted else 0.0
        print(f"  {stage:<10} {seconds * 1000:9.1f} ms  {share:6.1%}")
    print(f"  {'wall':<10} {wall * 1000:9.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as temporary:
        template = Path(temporary) / "template"
        paths = generate_project(template, arguments.services)
        lines = sum(len(path.read_text().splitlines()) for path in paths)
        # Parse and codemod alternate, so both see the same load on a shared machine.
        parse_times: list[float] = []
        ratios: list[float] = []
        best: tuple[float, dict[str, float], int] | None = None
        for attempt in range(arguments.repeat):
            copy = Path(temporary) / f"run_{attempt}"
            shutil.copytree(template, copy)
            parse_times.append(libcst_parse(paths))
            outcome = run_codemod(copy, write=True)
            ratios.append(outcome[0] / parse_times[-1])
            if best is None or outcome[0] < best[0]:
                best = outcome
        assert best is not None
        wall, stages, changed = best

    report(
        f"generated project: {arguments.services} services, {changed} files rewritten", wall, stages
    )
    print(f"  libcst parse of the same {lines} lines {min(parse_times) * 1000:9.1f} ms")
    print(
        f"  codemod / libcst parse         {statistics.median(ratios):9.2f} x   (median of"
        f" {len(ratios)} paired runs; target <= 2.5, stretch 1.5)"
    )

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    stdlib_wall, stdlib_stages, stdlib_changed = min(
        (run_codemod(stdlib, write=False) for _ in range(arguments.repeat)),
        key=lambda item: item[0],
    )
    assert stdlib_changed == 0
    report(f"standard library ({stdlib}), in-process", stdlib_wall, stdlib_stages)
    fresh = min(fresh_process_stdlib(stdlib) for _ in range(arguments.repeat))
    print(f"  fresh process, imports included {fresh * 1000:8.1f} ms   target < 2000")


if __name__ == "__main__":
    main()
