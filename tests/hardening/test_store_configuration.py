"""Mistyped store URLs fail when configured; a password never reaches a log line or a message."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic_ai import Agent

from tokentrail import UsageTracker, configure, run_agent_sync_with_tracking
from tokentrail.stores import StoreConfigurationError
from tokentrail.stores._errors import DeliveryError
from tokentrail.stores.postgres import PostgresStore

SECRET = "Pa55-w0rd-never-shown"


def _closed_port() -> int:
    """A loopback port that nothing listens on (bound, read, released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


MISTYPED = [
    (f"postgresql://app:{SECRET}@127.0.0.1:54x2/usage", "Port could not be cast"),
    (f"postgresql://app:{SECRET}@127.0.0.1:99999/usage", "Port out of range"),
    (f"postgresql://app:{SECRET}@[::1/usage", "IPv6"),
    (f"postgresql://app:{SECRET}@127.0.0.1/usage?sslmod=require", 'query parameter: "sslmod"'),
    (f"postgresql://app:{SECRET}@127.0.0.1/usage?connect_timeout=ten", "connect_timeout"),
    (f"postgresql:/app:{SECRET}@127.0.0.1/usage", "unknown store URL scheme 'postgresql'"),
    (f"postgres//app:{SECRET}@127.0.0.1/usage", "unknown store URL scheme 'postgres'"),
    (f"postgresql+psycopg://app:{SECRET}@127.0.0.1/usage", "unknown store URL scheme"),
    (f" postgresql://app:{SECRET}@127.0.0.1/usage", "unknown store URL scheme ' postgresql'"),
    (f"POSTGRESQL://app:{SECRET}@127.0.0.1/usage", "unknown store URL scheme 'POSTGRESQL'"),
    ("sqlite:/usage.db", "unknown store URL scheme 'sqlite'"),
    ("sqlite://usage.db", "needs a file"),
    ("sqlite:///", "needs a file"),
    ("sqlite:///data/", "names a folder"),
    ("sqlite:////", "needs a file"),
    (f"sqlite:///{Path(__file__).parent}", "names a folder"),
    ("", "unknown store URL scheme ''"),
]


@pytest.fixture(autouse=True)
def private_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKENTRAIL_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.mark.parametrize(("url", "message"), MISTYPED, ids=[url[:24] for url, _ in MISTYPED])
def test_a_mistyped_url_fails_when_configured_without_showing_the_password(
    url: str, message: str
) -> None:
    for configure_store in (UsageTracker, UsageTracker.from_url, _configure):
        with pytest.raises(StoreConfigurationError) as raised:
            configure_store(url)
        shown = "".join(traceback.format_exception(raised.value))
        assert message in str(raised.value)
        assert SECRET not in shown


def _configure(url: str) -> None:
    configure(store=url)


@pytest.fixture
def all_log_lines() -> Iterator[list[str]]:
    """Every log line any logger emits at any level while the test runs, formatted."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Keep(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield lines
    root.removeHandler(handler)
    root.setLevel(level)


def test_a_password_is_in_no_log_line_result_or_error(all_log_lines: list[str]) -> None:
    url = f"postgresql://app:{SECRET}@127.0.0.1:{_closed_port()}/usage?connect_timeout=1"
    tracker = UsageTracker(url)

    result = run_agent_sync_with_tracking(Agent("test"), "hi", tracker=tracker, user_id="u")
    flushed = tracker.flush(2)
    closed = tracker.close(1)
    with pytest.raises(DeliveryError) as raised:
        PostgresStore(url, connect_timeout=1).write_payloads(["{}"])

    assert result.output  # the agent's answer is untouched by the failing store
    assert flushed.pending == 1
    assert closed.pending == 1
    shown = [
        *all_log_lines,
        repr(tracker),
        repr(flushed),
        "".join(traceback.format_exception(raised.value)),
    ]
    assert any("127.0.0.1" in line for line in shown), "the failure is reported"
    assert not [line for line in shown if SECRET in line]


@pytest.mark.parametrize(
    "arguments",
    [
        ["store", "init", "{url}"],
        ["store", "migrate", "{url}"],
        ["report", "--store", "{url}"],
        ["outbox", "status"],
        ["outbox", "export"],
        ["doctor", "--store", "{url}"],
        ["doctor", "--store", "{url}", "--format", "json"],
        ["doctor"],
    ],
    ids=[
        "store-init",
        "store-migrate",
        "report",
        "outbox-status",
        "outbox-export",
        "doctor",
        "doctor-json",
        "doctor-from-environment",
    ],
)
def test_a_password_is_in_no_command_output(arguments: list[str], tmp_path: Path) -> None:
    url = f"postgresql://app:{SECRET}@127.0.0.1:{_closed_port()}/usage?connect_timeout=1"
    leave_a_record = (
        "import tokentrail; t = tokentrail.UsageTracker(__import__('sys').argv[1]); "
        "t.track('u', 'o', tokentrail.UsageRecord(model='m')); t.close(0.5)"
    )
    environment = {
        **os.environ,
        "TOKENTRAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
        "TOKENTRAIL_STORE": url,
    }
    subprocess.run(
        [sys.executable, "-c", leave_a_record, url], env=environment, timeout=60, check=True
    )

    completed = subprocess.run(
        [sys.executable, "-m", "tokentrail", *(part.format(url=url) for part in arguments)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert "Traceback" not in completed.stderr, completed.stderr
    assert SECRET not in completed.stdout + completed.stderr
    if arguments[0] != "outbox":
        assert completed.returncode != 0
        assert "127.0.0.1" in completed.stdout + completed.stderr
