"""Speed of `tokentrail check` where it is felt: pre-commit and CI.

Targets (issue 5), all for tokentrail's own process, measured as wall time of a subprocess:
- a commit touching five files of a 300-file project, warm index: <= 150 ms, whether or not the
  touched files hold agent runs;
- the same project cold (no index cache): <= 1 s;
- the Python standard library cold: at most 2x `ruff check --select F` on the same tree,
  measured in the same run;
- the same rule through Fixit (`fixit lint` with `tokentrail_lint.fixit_rule`), for comparison.

Run: `.venv/bin/python bench/check.py [--repeat N] [--skip-stdlib] [--skip-fixit]`.
Prints one line per measurement (median of N runs, and the fastest) and whether each target
is met; exits 1 when one is missed.
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
from collections.abc import Callable, Sequence
from pathlib import Path

BIN = Path(sys.executable).parent

_SERVICE = '''"""Service {index}: runs an agent."""

from pydantic_ai import Agent

from project.agents import shared_agent
from tokentrail import run_agent_with_tracking


class Service{index}:
    def __init__(self) -> None:
        self.agent = Agent("test", name="service_{index}")

    async def answer(self, question: str) -> str:
        result = await run_agent_with_tracking(self.agent, question)
        return result.output

    async def draft(self, topic: str) -> str:
        result = await {receiver}.run(topic)
        return result.output

    def summary(self, text: str) -> str:
        return shared_agent.run_sync(text).output  # noqa: TT001
'''

_PLAIN = '''"""Helper {index}: no agents here."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass


@dataclass
class Record{index}:
    name: str
    values: list[int]

    def to_json(self) -> str:
        return json.dumps({{"name": self.name, "values": self.values}})

    def matches(self, pattern: str) -> bool:
        return re.search(pattern, self.name) is not None


def total(records: list[Record{index}]) -> int:
    return sum(sum(record.values) for record in records)
'''


def make_project(root: Path, files: int = 300) -> tuple[list[Path], list[Path]]:
    """Write a project: a third of the modules run agents. Return (agent files, plain files)."""
    package = root / "project"
    package.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "project"\nversion = "0"\n\n[tool.tokentrail]\n', encoding="utf-8"
    )
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "agents.py").write_text(
        'from pydantic_ai import Agent\n\nshared_agent = Agent("test", name="shared")\n',
        encoding="utf-8",
    )
    agent_files: list[Path] = []
    plain_files: list[Path] = []
    for index in range(files - 2):
        if index % 3 == 0:
            path = package / f"service_{index}.py"
            receiver = "self.agent" if index % 2 else "shared_agent"
            path.write_text(_SERVICE.format(index=index, receiver=receiver), encoding="utf-8")
            agent_files.append(path)
        else:
            path = package / f"helper_{index}.py"
            path.write_text(_PLAIN.format(index=index), encoding="utf-8")
            plain_files.append(path)
    return agent_files, plain_files


def timed(
    command: Sequence[str | Path], cwd: Path, repeat: int, before: Callable[[], None] | None = None
) -> list[float]:
    """Return wall times in seconds of `repeat` runs; `before` (a callable) runs untimed first."""
    times = []
    for _ in range(repeat):
        if before is not None:
            before()
        start = time.perf_counter()
        subprocess.run([str(part) for part in command], cwd=cwd, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return times


def report(label: str, times: list[float], target: float | None = None) -> bool:
    median = statistics.median(times)
    verdict = ""
    met = True
    if target is not None:
        met = median <= target
        verdict = f"  target <= {target * 1000:.0f} ms: {'met' if met else 'MISSED'}"
    print(f"{label:<58} median {median * 1000:8.1f} ms  best {min(times) * 1000:8.1f} ms{verdict}")
    return met


def clear_cache(root: Path) -> None:
    shutil.rmtree(root / ".tokentrail", ignore_errors=True)


def bench_project(repeat: int, skip_fixit: bool) -> bool:
    tokentrail = BIN / "tokentrail"
    met = True
    with tempfile.TemporaryDirectory(prefix="tokentrail-bench-") as folder:
        root = Path(folder)
        agent_files, plain_files = make_project(root)
        count = len(list(root.rglob("*.py")))
        print(
            f"project: {count} files, {sum(len(p.read_text()) for p in root.rglob('*.py')):,} chars"
        )

        def cold() -> None:
            clear_cache(root)

        met &= report(
            "300 files, cold (no index cache)",
            timed([tokentrail, "check", "project"], root, repeat, before=cold),
            1.0,
        )
        subprocess.run([tokentrail, "check", "project"], cwd=root, capture_output=True, check=False)
        met &= report(
            "300 files, warm, 5 touched files with agent runs",
            timed([tokentrail, "check", *agent_files[:5]], root, repeat),
            0.150,
        )
        met &= report(
            "300 files, warm, 5 touched files without agent runs",
            timed([tokentrail, "check", *plain_files[:5]], root, repeat),
            0.150,
        )
        report(
            "300 files, warm, whole project", timed([tokentrail, "check", "project"], root, repeat)
        )
        report(
            "python -c pass (interpreter start, for reference)",
            timed([sys.executable, "-c", "pass"], root, repeat),
        )
        if not skip_fixit and (BIN / "fixit").exists():
            (root / "pyproject.toml").write_text(
                '[tool.tokentrail]\n\n[tool.fixit]\nroot = true\ndisable = ["fixit.rules"]\n'
                'enable = ["tokentrail_lint.fixit_rule"]\n',
                encoding="utf-8",
            )
            report(
                "fixit lint, same rule, 5 touched files",
                timed([BIN / "fixit", "lint", *agent_files[:5]], root, max(1, repeat // 3)),
            )
            report(
                "fixit lint, same rule, 300 files",
                timed([BIN / "fixit", "lint", "project"], root, 1),
            )
    return met


def bench_stdlib(repeat: int) -> bool:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    with tempfile.TemporaryDirectory(prefix="tokentrail-bench-stdlib-") as folder:
        tree = Path(folder) / "stdlib"
        shutil.copytree(
            stdlib,
            tree,
            ignore=shutil.ignore_patterns("site-packages", "__pycache__", "*.pyc", "*.so"),
        )
        files = list(tree.rglob("*.py"))
        lines = sum(path.read_bytes().count(b"\n") for path in files)
        print(f"stdlib copy: {len(files)} files, {lines:,} lines")
        root = Path(folder)

        def cold() -> None:
            clear_cache(root)

        ours = timed([BIN / "tokentrail", "check", "stdlib"], root, repeat, before=cold)
        ruff = timed(
            [
                BIN / "ruff",
                "check",
                "--select",
                "F",
                "--no-cache",
                "--exit-zero",
                "--quiet",
                "stdlib",
            ],
            root,
            repeat,
        )
        report("stdlib, tokentrail check, cold", ours)
        report("stdlib, ruff check --select F, no cache", ruff)
        ratio = statistics.median(ours) / statistics.median(ruff)
        met = ratio <= 2.0
        verdict = "met" if met else "MISSED"
        print(f"{'stdlib ratio tokentrail / ruff':<58} {ratio:.2f}x  target <= 2x: {verdict}")
        return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--skip-stdlib", action="store_true")
    parser.add_argument("--skip-fixit", action="store_true")
    arguments = parser.parse_args()
    met = bench_project(arguments.repeat, arguments.skip_fixit)
    if not arguments.skip_stdlib:
        met &= bench_stdlib(max(1, arguments.repeat // 2))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
