"""Soak: several processes record through the tracker while PostgreSQL restarts under them.

What it does, bounded in count and time and on the loopback interface only:
1. starts its own PostgreSQL (`tests/postgres_server.py`) in a temporary directory and
   creates `token_usage`;
2. starts `--processes` writer processes; each hands `--records` records to a
   `UsageTracker(postgresql://...)` with `tracker.track`, noting each id once the call returned,
   and the first writer also hands over one poisoned record (negative `output_tokens`, which the
   table's CHECK constraint refuses);
3. meanwhile stops PostgreSQL (`immediate`, as a crash would) and starts it again `--restarts`
   times;
4. when the writers are done, one more tracker on the same store delivers what they left behind
   (their journals and outboxes are adopted), and the script counts.

It holds when the table has every record handed over exactly once, nothing else, and the poisoned
record sits in an outbox's dead-letter table. Prints the figures; exits 1 when anything fails.

Run: `.venv/bin/python bench/soak.py [--processes 4] [--records 2000] [--restarts 3]
[--pause 0.005] [--time-limit 300]`.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from tests.postgres_server import PostgresServer

_WRITER = """
import sys, time
from tokentrail import UsageRecord, UsageTracker

url, count, pause, ids_path, poison = sys.argv[1:6]
tracker = UsageTracker(url)
with open(ids_path, "a", encoding="utf-8") as handed_over:
    for number in range(int(count)):
        record = UsageRecord(model="soak", operation=f"record-{number}", output_tokens=number)
        tracker.track("soak-user", "soak-org", record)
        handed_over.write(record.id + "\\n")
        handed_over.flush()
        if poison == "1" and number == int(count) // 2:
            poisoned = UsageRecord(model="soak-poisoned", output_tokens=-1)
            tracker.track("soak-user", "soak-org", poisoned)
            with open(ids_path + ".poisoned", "w", encoding="utf-8") as marker:
                marker.write(poisoned.id)
        time.sleep(float(pause))
tracker.close(2)
"""

_COLLECTOR = """
import sys, time
from tokentrail import UsageTracker

url, seconds = sys.argv[1], float(sys.argv[2])
deadline = time.monotonic() + seconds
tracker = UsageTracker(url)
while tracker.flush(max(1.0, deadline - time.monotonic())).pending and time.monotonic() < deadline:
    time.sleep(0.2)
tracker.close(5)
"""


@dataclass(frozen=True, slots=True)
class SoakFigures:
    """What one soak run handed over, stored and set aside."""

    processes: int
    restarts: int
    handed_over: int
    stored_rows: int
    stored_distinct: int
    missing: int
    unexpected: int
    poisoned_in_dead_letters: bool
    poisoned_in_table: bool
    seconds: float

    @property
    def held(self) -> bool:
        """Every record stored exactly once, nothing else, the poisoned one set aside."""
        return (
            self.stored_rows == self.stored_distinct == self.handed_over
            and self.missing == 0
            and self.unexpected == 0
            and self.poisoned_in_dead_letters
            and not self.poisoned_in_table
        )

    def lines(self) -> list[str]:
        return [
            f"processes: {self.processes}, PostgreSQL restarts: {self.restarts}",
            f"records handed over (besides the poisoned one): {self.handed_over}",
            f"rows stored: {self.stored_rows} ({self.stored_distinct} distinct ids)",
            f"missing: {self.missing}, unexpected: {self.unexpected}",
            f"poisoned record in the dead-letter table: {self.poisoned_in_dead_letters}, "
            f"in token_usage: {self.poisoned_in_table}",
            f"seconds: {self.seconds:.1f}",
            "held" if self.held else "FAILED",
        ]


def _dead_letter_ids(outbox_root: Path) -> set[str]:
    found: set[str] = set()
    for path in outbox_root.rglob("*.outbox"):
        connection = sqlite3.connect(path)
        try:
            found |= {row[0] for row in connection.execute("SELECT id FROM dead_letter")}
        finally:
            connection.close()
    return found


def run_soak(
    work: Path,
    *,
    processes: int,
    records: int,
    restarts: int,
    pause: float = 0.005,
    time_limit: float = 300.0,
) -> SoakFigures:
    """Run one soak with its files in `work` and return its figures (see the module docstring).

    Raises:
        RuntimeError: the writers finished before every restart was done.
        subprocess.TimeoutExpired: a writer or the final delivery overran `time_limit`.
    """
    from tests.postgres_server import PostgresServer

    started = time.monotonic()
    # The server gets a folder of its own: under root it runs as `postgres`, which must own it.
    with tempfile.TemporaryDirectory(prefix="tokentrail-soak-pg-") as server_root:
        server = PostgresServer(Path(server_root))
        server.initialize()
        server.start()
        try:
            return _soak(server, work, processes, records, restarts, pause, started + time_limit)
        finally:
            server.stop("immediate")


def _soak(
    server: PostgresServer,
    work: Path,
    processes: int,
    records: int,
    restarts: int,
    pause: float,
    deadline: float,
) -> SoakFigures:
    import psycopg

    from tokentrail.stores import schema

    started = time.monotonic()
    url = server.url + "?connect_timeout=2"
    with psycopg.connect(url, autocommit=True) as connection:
        for statement in schema.create_statements("postgres"):
            connection.execute(statement)

    environment = {**os.environ, "TOKENTRAIL_OUTBOX_DIR": str(work / "outbox")}
    id_files = [work / f"writer-{number}.ids" for number in range(processes)]
    writers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _WRITER,
                url,
                str(records),
                str(pause),
                str(path),
                "1" if number == 0 else "0",
            ],
            env=environment,
            stdout=subprocess.DEVNULL,
        )
        for number, path in enumerate(id_files)
    ]
    done_restarts = _restart_while_running(server, writers, restarts, deadline)
    for writer in writers:
        writer.wait(timeout=max(1.0, deadline - time.monotonic()))
    if done_restarts < restarts:
        raise RuntimeError("the writers finished before every restart was done: raise --records")

    # A fresh process on the same store adopts and delivers what the writers left behind.
    subprocess.run(
        [sys.executable, "-c", _COLLECTOR, url, str(deadline - time.monotonic())],
        env=environment,
        timeout=max(1.0, deadline - time.monotonic()) + 10,
        check=True,
    )

    handed_over = {line for path in id_files for line in path.read_text().split()}
    poisoned = (work / "writer-0.ids.poisoned").read_text().strip()
    with psycopg.connect(url) as connection:
        stored = [row[0] for row in connection.execute("SELECT id::text FROM token_usage")]
    return SoakFigures(
        processes=processes,
        restarts=done_restarts,
        handed_over=len(handed_over),
        stored_rows=len(stored),
        stored_distinct=len(set(stored)),
        missing=len(handed_over - set(stored)),
        unexpected=len(set(stored) - handed_over),
        poisoned_in_dead_letters=poisoned in _dead_letter_ids(work / "outbox"),
        poisoned_in_table=poisoned in set(stored),
        seconds=time.monotonic() - started,
    )


def _restart_while_running(
    server: PostgresServer, writers: list[subprocess.Popen[bytes]], restarts: int, deadline: float
) -> int:
    """Stop PostgreSQL as a crash would and start it again, `restarts` times, while writers run."""
    done = 0
    while done < restarts and time.monotonic() < deadline:
        time.sleep(0.4)
        if all(writer.poll() is not None for writer in writers):
            break
        server.stop("immediate")
        time.sleep(0.3)
        server.start()
        done += 1
    return done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--records", type=int, default=2000, help="records per process")
    parser.add_argument("--restarts", type=int, default=3)
    parser.add_argument("--pause", type=float, default=0.005, help="seconds between records")
    parser.add_argument("--time-limit", type=float, default=300.0, help="seconds, at most")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tokentrail-soak-") as folder:
        figures = run_soak(
            Path(folder),
            processes=arguments.processes,
            records=arguments.records,
            restarts=arguments.restarts,
            pause=arguments.pause,
            time_limit=arguments.time_limit,
        )
    print("\n".join(figures.lines()))
    return 0 if figures.held else 1


if __name__ == "__main__":
    sys.exit(main())
