"""The report's figures against hand sums of the known rows, in every format.

The expected numbers below were added up by hand from `known_rows.py`; none is computed by the
code under test.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tokentrail.report.cli import main


def report_json(capsys: pytest.CaptureFixture[str], *arguments: str) -> dict[str, Any]:
    assert main(["--format", "json", *arguments]) == 0
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return document


def figures(row: dict[str, Any], *names: str) -> tuple[Any, ...]:
    return tuple(row[name] for name in names)


def test_totals_by_organization_match_hand_sums(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    document = report_json(capsys, "--store", store_url, "--by", "organization")
    names = ("organization", "runs", "records", "requests", "input_tokens", "output_tokens")
    assert [figures(row, *names) for row in document["rows"]] == [
        # run-2 is served by two models: two records, one run.
        ("org-acme", 3, 4, 5, 4900, 850),
        # The failed call has no run id: it counts as a run of its own.
        ("org-northwind", 2, 2, 1, 2100, 300),
        (None, 1, 1, 1, 700, 70),
    ]
    acme, northwind, unattributed = document["rows"]
    assert figures(acme, "cache_read_tokens", "cache_write_tokens", "tool_calls") == (1200, 100, 2)
    # The SEO row has no known price: it is counted, not guessed.
    assert (acme["cost_usd"], acme["unpriced_records"]) == ("0.023", 1)
    assert (northwind["cost_usd"], northwind["unpriced_records"]) == ("0.008", 0)
    assert unattributed["cost_usd"] == "0.0001234567"

    total = document["total"]
    assert figures(total, "runs", "records", "requests", "input_tokens", "output_tokens") == (
        6,
        7,
        7,
        7700,
        1220,
    )
    assert Decimal(total["cost_usd"]) == Decimal("0.0311234567")
    assert total["unpriced_records"] == 1


def test_two_keys_group_by_both(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    document = report_json(capsys, "--store", store_url, "--by", "organization,user")
    assert [
        figures(row, "organization", "user", "runs", "input_tokens") for row in document["rows"]
    ] == [
        ("org-acme", "user-ana", 2, 4400),
        ("org-acme", "user-cleo", 1, 500),
        ("org-northwind", "user-ben", 2, 2100),
        (None, None, 1, 700),
    ]


def test_a_run_served_by_two_models_counts_once_per_model(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    document = report_json(capsys, "--store", store_url, "--by", "model,provider")
    rows = {row["model"]: row for row in document["rows"]}
    assert figures(rows["gpt-4o"], "provider", "runs", "records", "input_tokens") == (
        "openai",
        4,
        4,
        3500,
    )
    assert rows["gpt-4o"]["cost_usd"] == "0.0145"
    assert figures(rows["claude-sonnet-4-5"], "runs", "cost_usd") == (1, "0.0165")
    mini = rows["gpt-4o-mini"]
    assert figures(mini, "runs", "input_tokens", "cost_usd", "unpriced_records") == (
        2,
        1200,
        "0.0001234567",
        1,
    )


def test_days_are_utc_days(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    document = report_json(capsys, "--store", store_url, "--by", "day")
    assert [
        figures(row, "day", "runs", "input_tokens", "cost_usd") for row in document["rows"]
    ] == [
        ("2026-11-30", 1, 1000, "0.0045"),
        ("2026-12-01", 1, 3400, "0.0185"),
        # The SEO run at 23:30 UTC-2 belongs to 2 December in UTC.
        ("2026-12-02", 3, 2600, "0.008"),
        ("2026-12-03", 1, 700, "0.0001234567"),
    ]


def test_tool_and_operation(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    document = report_json(capsys, "--store", store_url, "--by", "tool,operation")
    assert [
        figures(row, "tool", "operation", "runs", "output_tokens") for row in document["rows"]
    ] == [
        ("campaign_service", "plan", 1, 600),
        ("digest", "<module>", 1, 70),
        ("headline_service", "suggest", 3, 500),
        ("seo_service", "meta_description", 1, 50),
    ]


def test_no_grouping_gives_only_the_total(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    document = report_json(capsys, "--store", store_url, "--by", "")
    assert document["group_by"] == []
    assert len(document["rows"]) == 1
    assert document["rows"][0]["runs"] == document["total"]["runs"] == 6


def test_time_window_includes_the_whole_until_day(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    document = report_json(
        capsys, "--store", store_url, "--since", "2026-12-01", "--until", "2026-12-02"
    )
    assert figures(document["total"], "runs", "records", "input_tokens") == (4, 5, 6000)
    assert document["since"] == "2026-12-01T00:00:00+00:00"
    assert document["until"] == "2026-12-03T00:00:00+00:00"


def test_a_time_bound_is_exclusive_and_honours_its_offset(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # 2026-12-02T13:05+01:00 is 12:05 UTC: the failed call at 12:05 is left out.
    document = report_json(
        capsys,
        "--store",
        store_url,
        "--since",
        "2026-12-02T00:00",
        "--until",
        "2026-12-02T13:05+01:00",
    )
    assert figures(document["total"], "records", "input_tokens") == (2, 2500)


def test_organization_filter(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    document = report_json(
        capsys, "--store", store_url, "--by", "user", "--organization", "org-northwind"
    )
    assert [figures(row, "user", "runs", "input_tokens") for row in document["rows"]] == [
        ("user-ben", 2, 2100)
    ]
    both = report_json(
        capsys,
        "--store",
        store_url,
        "--organization",
        "org-northwind",
        "--organization",
        "org-acme",
    )
    assert both["total"]["input_tokens"] == 7000


def test_csv_has_one_line_per_group_and_exact_costs(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--store", store_url, "--by", "organization", "--format", "csv"]) == 0
    lines = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [line["organization"] for line in lines] == ["org-acme", "org-northwind", ""]
    assert [line["input_tokens"] for line in lines] == ["4900", "2100", "700"]
    assert [line["cost_usd"] for line in lines] == ["0.023", "0.008", "0.0001234567"]
    assert sum(Decimal(line["cost_usd"]) for line in lines) == Decimal("0.0311234567")
    assert lines[0]["unpriced_records"] == "1"


def test_plain_table_when_not_a_terminal(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--store", store_url, "--by", "organization,user"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "organization",
        "user",
        "runs",
        "requests",
        "input",
        "tokens",
        "output",
        "tokens",
        "cost",
        "(USD)",
        "unpriced",
    ]
    assert lines[2].split() == ["org-acme", "user-ana", "2", "4", "4,400", "800", "0.0230", "0"]
    assert lines[5].split() == ["(none)", "(none)", "1", "1", "700", "70", "0.0001", "0"]
    assert lines[7].split() == ["total", "6", "7", "7,700", "1,220", "0.0311", "1"]
    assert "1 records have no known price" in lines[8]
    assert "\x1b[" not in "\n".join(lines)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_rich_table_on_a_terminal_keeps_ids_whole(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tokentrail.report._query import ReportQuery
    from tokentrail.report._render import write_table
    from tokentrail.report._source import read_report

    monkeypatch.setenv("COLUMNS", "40")
    terminal = _Terminal()
    report = read_report(store_url, ReportQuery(group_by=("organization", "user", "model")))
    write_table(report, terminal)
    text = terminal.getvalue()
    assert "┃" in text
    for whole in ("org-northwind", "user-cleo", "claude-sonnet-4-5", "7,700", "0.0311"):
        assert whole in text


def test_time_bounds_keep_fractions_of_a_second(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tokentrail import UsageRecord
    from tokentrail.stores.sqlite import SQLiteStore

    store = SQLiteStore(tmp_path / "usage.db")
    store.append(
        [
            UsageRecord(created_at=datetime(2026, 12, 1, 9, 0, 0, 400_000, UTC), input_tokens=1),
            UsageRecord(created_at=datetime(2026, 12, 1, 9, 0, 0, 600_000, UTC), input_tokens=10),
        ]
    )
    store.close()
    url = f"sqlite:///{tmp_path / 'usage.db'}"
    before = report_json(capsys, "--store", url, "--until", "2026-12-01T09:00:00.500+00:00")
    after = report_json(capsys, "--store", url, "--since", "2026-12-01T09:00:00.500")
    assert (before["total"]["input_tokens"], after["total"]["input_tokens"]) == (1, 10)


def test_the_table_never_shows_a_small_cost_as_free(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tokentrail import UsageRecord
    from tokentrail.stores.sqlite import SQLiteStore

    store = SQLiteStore(tmp_path / "usage.db")
    store.append(
        [
            UsageRecord(organization_id="cheap", cost_usd=Decimal("0.00003")),
            UsageRecord(organization_id="free", cost_usd=Decimal("0")),
            UsageRecord(organization_id="unknown", cost_usd=None),
        ]
    )
    store.close()
    assert main(["--store", f"sqlite:///{tmp_path / 'usage.db'}"]) == 0
    lines = capsys.readouterr().out.splitlines()
    costs = {line.split()[0]: line.split()[-2] for line in lines[2:5]}
    assert costs == {"cheap": "<0.0001", "free": "0.0000", "unknown": "unknown"}
