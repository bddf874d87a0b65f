"""Time the analysis on a generated 300-file project and on the Python standard library.

Run from the repository root:

    .venv/bin/python bench/analysis.py [--files 300] [--repeat 5]

Each figure is the best of `--repeat` runs of a fresh process (`python -c` importing the analysis
and analysing), so start-up and imports are included, as a pre-commit hook would pay them (from
compiled bytecode, as an installed package runs):

- cold: no index cache;
- warm: the whole project with the cache from a previous run;
- five files: five touched files (two of them holding agent runs) with a warm cache;
- stdlib cold: the standard library (no agent runs), next to `ruff check --select F` on it.

`generate_project()` is importable so that other benchmarks can build on the same project.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

_AGENT_MODULE = '''\
"""Agents for area {area}."""

from pydantic_ai import Agent

summarizer = Agent("test", name="summarizer_{area}")
classifier: Agent[None, str] = Agent("test", name="classifier_{area}")


def make_writer(style: str) -> Agent[None, str]:
    return Agent("test", system_prompt=f"Write in a {{style}} style.")
'''

_SERVICE_MODULE = '''\
"""Service {index}: summarises and classifies documents for area {area}."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from {package}.agents_{area} import classifier, make_writer, summarizer
from {package}.util_{util} import normalise

logger = logging.getLogger(__name__)


@dataclass
class Document{index}:
    title: str
    body: str


class Service{index}:
    def __init__(self) -> None:
        self.writer = make_writer("plain")
        self.retries = 3

    async def summarise(self, document: Document{index}) -> str:
        text = normalise(document.body)
        result = await summarizer.run(text)
        return result.output

    def classify(self, document: Document{index}) -> str:
        return classifier.run_sync(document.title).output

    async def rewrite(self, text: str) -> str:
        async with self.writer.run_stream(text) as stream:
            return await stream.get_output()

    async def many(self, texts: list[str]) -> list[str]:
        results = await asyncio.gather(*(summarizer.run(text) for text in texts))
        return [result.output for result in results]
'''

_UTIL_MODULE = '''\
"""Utilities without agents ({index})."""

import re
import subprocess

_SPACES = re.compile(r"\\s+")


def normalise(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def shell(command: list[str]) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


class Runner{index}:
    def run(self) -> None:
        logging_level = {index}
        del logging_level
'''


# Installed packages run from compiled bytecode, so the measured processes do too: allowed to
# write it (even where PYTHONDONTWRITEBYTECODE is set), into a folder of their own.
_ENVIRONMENT = {
    **{key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"},
    "PYTHONPYCACHEPREFIX": str(Path(tempfile.gettempdir()) / "tokentrail-bench-pycache"),
}


def generate_project(directory: Path, files: int = 300) -> list[Path]:
    """Write a project of `files` modules; return the paths of five files a commit touches."""
    package = directory / "app"
    package.mkdir(parents=True)
    (directory / "pyproject.toml").write_text("[tool.tokentrail]\n[tool.ruff]\nline-length = 100\n")
    (package / "__init__.py").write_text("")
    areas = max(files // 15, 1)
    utilities = max(files // 4, 1)
    services = files - areas - utilities - 1
    for area in range(areas):
        (package / f"agents_{area}.py").write_text(_AGENT_MODULE.format(area=area))
    for index in range(utilities):
        (package / f"util_{index}.py").write_text(_UTIL_MODULE.format(index=index))
    for index in range(services):
        text = _SERVICE_MODULE.format(
            index=index, area=index % areas, util=index % utilities, package="app"
        )
        (package / f"service_{index}.py").write_text(text)
    return [
        package / "service_0.py",
        package / "service_1.py",
        package / "util_0.py",
        package / "util_1.py",
        package / "agents_0.py",
    ]


def _run_analysis(paths: list[Path], root: Path, *, use_cache: bool) -> float:
    """Analyse in a fresh interpreter and return its wall time in seconds."""
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from tokentrail_lint.analysis import analyze
        result = analyze([Path(p) for p in {[str(path) for path in paths]!r}],
                         root=Path({str(root)!r}), use_cache={use_cache!r})
        assert result.files is not None
        """
    )
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", script], check=True, env=_ENVIRONMENT)
    return time.perf_counter() - started


def _import_only() -> float:
    """Wall time of a fresh interpreter that only imports the analysis."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "import tokentrail_lint.analysis"], check=True, env=_ENVIRONMENT
    )
    return time.perf_counter() - started


def _best(repeat: int, measure: Callable[[], float]) -> float:
    return min(measure() for _ in range(repeat))


def _ruff(path: Path) -> float:
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    started = time.perf_counter()
    subprocess.run(
        [ruff, "check", "--select", "F", "--no-cache", "--exit-zero", "--quiet", str(path)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    arguments = parser.parse_args()
    repeat = arguments.repeat

    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        touched = generate_project(root, arguments.files)
        cache = root / ".tokentrail"

        def cold() -> float:
            shutil.rmtree(cache, ignore_errors=True)
            return _run_analysis([root], root, use_cache=True)

        startup = _best(repeat, _import_only)
        cold_time = _best(repeat, cold)
        _run_analysis([root], root, use_cache=True)
        warm_time = _best(repeat, lambda: _run_analysis([root], root, use_cache=True))
        five_time = _best(repeat, lambda: _run_analysis(touched, root, use_cache=True))

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    stdlib_time = _best(repeat, lambda: _run_analysis([stdlib], stdlib, use_cache=False))
    ruff_time = _best(repeat, lambda: _ruff(stdlib))

    print(f"project: {arguments.files} files, best of {repeat} fresh processes")
    print(f"  interpreter + imports only        {startup * 1000:8.1f} ms")
    print(f"  cold (no cache)                   {cold_time * 1000:8.1f} ms   target <= 1000")
    print(f"  warm, whole project               {warm_time * 1000:8.1f} ms")
    print(f"  warm, five touched files          {five_time * 1000:8.1f} ms   target <= 150")
    print(f"stdlib ({stdlib})")
    print(f"  analysis cold                     {stdlib_time * 1000:8.1f} ms")
    print(f"  ruff check --select F             {ruff_time * 1000:8.1f} ms")
    print(f"  ratio                             {stdlib_time / ruff_time:8.2f} x   target <= 2")


if __name__ == "__main__":
    main()
