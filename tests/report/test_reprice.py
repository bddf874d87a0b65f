"""`tokentrail report --reprice` against stores holding the known rows.

The custom prices below cover every model in `known_rows.py`, and the expected costs were worked
out by hand from them (see the comment by each figure); none is computed by the code under test.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from tests.report.known_rows import KNOWN_ROWS

from tokentrail import UsageRecord, _pricing
from tokentrail._record import COLUMNS
from tokentrail.report.cli import main
from tokentrail.stores.schema import create_statements
from tokentrail.stores.sqlite import SQLiteStore

PRICES = """
[tool.tokentrail]

[[tool.tokentrail.prices.models]]
provider = "openai"
model = "gpt-4o-mini"
input = "0.15"
output = "0.60"
cache-write = "0.30"

[[tool.tokentrail.prices.models]]
provider = "openai"
model = "gpt-4o*"
input = "2"
output = "8"

[[tool.tokentrail.prices.models]]
provider = "openai"
model = "gpt-4o*"
since = 2026-12-02
input = "1"
output = "4"

[[tool.tokentrail.prices.models]]
provider = "anthropic"
model = "claude-*"
input = "3"
output = "15"
cache-read = "0.30"
"""

# Each known row at these prices, per million tokens:
#   run-1 gpt-4o 11-30    1000 in * 2 + 200 out * 8                       = 0.0036
#   run-2 claude 12-01    1800 plain * 3 + 1200 cached * 0.3 + 500 * 15   = 0.01326
#   run-2 gpt-4o 12-01     400 * 2 + 100 * 8                              = 0.0016
#   run-3 mini   12-02     400 plain * 0.15 + 100 written * 0.3 + 50 * 0.6 = 0.00012
#   run-4 gpt-4o 12-02    2000 * 1 + 300 * 4 (the price since 12-02)      = 0.0032
#   error gpt-4o 12-02     100 * 1                                        = 0.0001
#   run-5 mini   12-03     700 * 0.15 + 70 * 0.6                          = 0.000147


@pytest.fixture(autouse=True)
def price_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`PRICES` as the configuration file, and no price state left from other tests."""
    monkeypatch.setattr(_pricing, "_source", _pricing._PriceSource())
    path = tmp_path / "pyproject.toml"
    path.write_text(PRICES, encoding="utf-8")
    monkeypatch.setenv("TOKENTRAIL_CONFIG", str(path))
    return path


def repriced_json(capsys: pytest.CaptureFixture[str], *arguments: str) -> dict[str, Any]:
    assert main(["--reprice", "--format", "json", *arguments]) == 0
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return document


def costs(row: dict[str, Any]) -> tuple[Any, ...]:
    return (
        row["cost_usd"],
        row["repriced_cost_usd"],
        row["repriced_difference_usd"],
        row["repriced_unpriced_records"],
    )


def test_repriced_totals_by_organization(
    store_url: str, price_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = repriced_json(capsys, "--store", store_url, "--by", "organization")

    assert [costs(row) for row in document["rows"]] == [
        # 0.0036 + 0.01326 + 0.0016 + 0.00012; stored 0.023 left the mini row unpriced.
        ("0.023", "0.01858", "-0.00442", 0),
        # 0.0032 + 0.0001 against a stored 0.008.
        ("0.008", "0.0033", "-0.0047", 0),
        ("0.0001234567", "0.000147", "0.0000235433", 0),
    ]
    total = document["total"]
    assert costs(total) == ("0.0311234567", "0.022027", "-0.0090964567", 0)
    assert total["repriced_sources"] == {"override": 7}
    assert document["repriced_with"] == {"prices_file": str(price_file)}
    # The figures the plain report has are still there, unchanged.
    assert (total["runs"], total["input_tokens"], total["unpriced_records"]) == (6, 7700, 1)


def test_an_effective_date_splits_a_models_days(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    document = repriced_json(capsys, "--store", store_url, "--by", "model,day")

    gpt_4o = {
        row["day"]: row["repriced_cost_usd"] for row in document["rows"] if row["model"] == "gpt-4o"
    }
    assert gpt_4o == {"2026-11-30": "0.0036", "2026-12-01": "0.0016", "2026-12-02": "0.0033"}


def test_the_store_is_not_changed(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = Path(store_url.removeprefix("sqlite:///"))
    before = path.read_bytes()

    repriced_json(capsys, "--store", store_url)

    assert path.read_bytes() == before
    plain = json.loads(_plain_report(capsys, store_url))
    assert plain["total"]["cost_usd"] == "0.0311234567"
    assert "repriced_cost_usd" not in plain["total"]


def _plain_report(capsys: pytest.CaptureFixture[str], store_url: str) -> str:
    assert main(["--format", "json", "--store", store_url]) == 0
    return capsys.readouterr().out


def test_csv_appends_the_repriced_columns(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--reprice", "--format", "csv", "--store", store_url, "--by", "provider"]) == 0
    lines = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))

    assert [
        (
            line["provider"],
            line["cost_usd"],
            line["repriced_cost_usd"],
            line["repriced_difference_usd"],
        )
        for line in lines
    ] == [
        ("anthropic", "0.0165", "0.01326", "-0.00324"),
        # 0.0036 + 0.0016 + 0.00012 + 0.0032 + 0.0001 + 0.000147
        ("openai", "0.0146234567", "0.008767", "-0.0058564567"),
    ]


def test_the_table_shows_stored_and_repriced_side_by_side(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--reprice", "--store", store_url, "--by", "provider"]) == 0
    output = capsys.readouterr().out

    lines = output.splitlines()
    assert lines[0].split() == [
        "provider",
        "records",
        "input",
        "tokens",
        "output",
        "tokens",
        "stored",
        "(USD)",
        "repriced",
        "(USD)",
        "difference",
        "unpriced",
    ]
    assert lines[2].split() == [
        "anthropic",
        "1",
        "3,000",
        "500",
        "0.0165",
        "0.0133",
        "-0.0032",
        "0",
    ]
    assert lines[-2].split() == ["total", "7", "7,700", "1,220", "0.0311", "0.0220", "-0.0091", "0"]
    assert lines[-1].startswith("Repriced with custom prices from ")
    assert "records by source: override: 7" in lines[-1]
    assert lines[-1].endswith("The store is unchanged.")


def test_aliases_and_unknown_models_when_repricing(
    tmp_path: Path, price_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    price_file.write_text(
        PRICES + '\n[tool.tokentrail.prices.aliases]\nprod-gpt4o = "gpt-4o"\n', encoding="utf-8"
    )
    store = SQLiteStore(tmp_path / "deployments.db")
    at = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    store.append(
        [
            UsageRecord(created_at=at, provider="openai", model="prod-gpt4o", input_tokens=5000),
            UsageRecord(created_at=at, provider="acme", model="in-house-llm", input_tokens=10),
        ]
    )
    store.close()

    document = repriced_json(
        capsys, "--store", f"sqlite:///{tmp_path / 'deployments.db'}", "--by", "model"
    )

    rows = {row["model"]: row for row in document["rows"]}
    # 5,000 input tokens at the gpt-4o price of 1 December, $2/M.
    assert costs(rows["prod-gpt4o"]) == (None, "0.01", "0.01", 0)
    assert costs(rows["in-house-llm"]) == (None, None, None, 1)
    assert document["total"]["repriced_sources"] == {"none": 1, "override": 1}


def test_genai_prices_price_what_has_no_custom_price(
    store_url: str, price_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import genai_prices

    price_file.write_text("[tool.tokentrail]\n", encoding="utf-8")

    document = repriced_json(
        capsys,
        "--store",
        store_url,
        "--by",
        "model",
        "--organization",
        "org-acme",
        "--until",
        "2026-12-01",
    )

    [claude] = [row for row in document["rows"] if row["model"] == "claude-sonnet-4-5"]
    expected = genai_prices.calc_price(
        genai_prices.Usage(input_tokens=3000, output_tokens=500, cache_read_tokens=1200),
        "claude-sonnet-4-5",
        provider_id="anthropic",
        genai_request_timestamp=datetime(2026, 12, 1, tzinfo=UTC),
    ).total_price
    assert Decimal(claude["repriced_cost_usd"]) == Decimal(expected).quantize(Decimal("1e-10"))
    assert claude["repriced_sources"] == {"genai-prices": 1}
    assert document["repriced_with"] == {"prices_file": str(price_file)}


def test_without_a_configuration_file_genai_prices_alone_reprice(
    store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("TOKENTRAIL_CONFIG")
    monkeypatch.chdir(tmp_path / "..")
    (tmp_path / "pyproject.toml").unlink()

    assert main(["--reprice", "--store", store_url, "--by", ""]) == 0

    caption = capsys.readouterr().out.splitlines()[-1]
    assert caption.startswith("Repriced with genai-prices (no custom prices configured)")


def test_invalid_prices_stop_the_report_with_the_key(
    store_url: str, price_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    price_file.write_text(PRICES.replace('input = "0.15"', 'input = "0,15"'), encoding="utf-8")

    assert main(["--reprice", "--store", store_url]) == 2

    error = capsys.readouterr().err
    assert error.startswith("error: cannot reprice: ")
    assert "tool.tokentrail.prices.models[0].input" in error


def test_reprice_and_html_do_not_combine(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--reprice", "--html", str(tmp_path / "r.html"), "--store", store_url]) == 2
    assert "--reprice: cannot be combined with --html" in capsys.readouterr().err


def test_a_missing_store_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--reprice", "--store", f"sqlite:///{tmp_path / 'nowhere.db'}"]) == 2
    assert "no store at" in capsys.readouterr().err


def test_an_older_table_reprices_from_the_columns_it_has(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "legacy.db"
    with sqlite3.connect(path) as database:
        database.execute(
            "CREATE TABLE token_usage (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT, "
            "provider TEXT, model TEXT, tool_name TEXT, operation TEXT, input_tokens INTEGER, "
            "output_tokens INTEGER, user_id TEXT, organization_id TEXT, cost_usd TEXT, "
            "duration_ms INTEGER, request_metadata TEXT)"
        )
        database.execute(
            "INSERT INTO token_usage (created_at, provider, model, input_tokens, output_tokens, "
            "cost_usd) VALUES ('2026-12-02 10:00:00', 'openai', 'gpt-4o', 1000, 100, '0.01')"
        )
    database.close()

    document = repriced_json(capsys, "--store", f"sqlite:///{path}", "--by", "")

    # The price since 2 December: 1000 * 1 + 100 * 4 per million.
    assert costs(document["total"]) == ("0.01", "0.0014", "-0.0086", 0)


@pytest.mark.postgres
def test_postgres_reprices_like_sqlite(
    postgres_url: str, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        for statement in create_statements("postgres"):
            connection.execute(statement)
        for record in KNOWN_ROWS:
            # The known rows carry no request_metadata, so every value binds as it is.
            values = [getattr(record, column) for column in COLUMNS]
            names, marks = ", ".join(COLUMNS), ", ".join(["%s"] * len(COLUMNS))
            connection.execute(f"INSERT INTO token_usage ({names}) VALUES ({marks})", values)

    for group_by in ("organization,user", "day", "model,provider"):
        from_sqlite = repriced_json(capsys, "--store", store_url, "--by", group_by)
        from_postgres = repriced_json(capsys, "--store", postgres_url, "--by", group_by)
        assert from_postgres["rows"] == from_sqlite["rows"]
        assert from_postgres["total"] == from_sqlite["total"]
    assert from_postgres["total"]["repriced_cost_usd"] == "0.022027"


class Terminal(io.StringIO):
    """A text stream that says it is a terminal, so the table goes through rich."""

    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_table_goes_through_rich(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SQLiteStore(tmp_path / "usage.db")
    at = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    store.append(
        [
            UsageRecord(created_at=at, provider="openai", model="gpt-4o", input_tokens=5000),
            UsageRecord(created_at=at, provider="acme", model="in-house-llm", input_tokens=10),
        ]
    )
    store.close()
    terminal = Terminal()
    monkeypatch.setattr("sys.stdout", terminal)
    monkeypatch.setenv("COLUMNS", "200")

    assert (
        main(["--reprice", "--store", f"sqlite:///{tmp_path / 'usage.db'}", "--by", "model"]) == 0
    )

    output = terminal.getvalue()
    assert "┃" in output or "│" in output
    gpt_line = next(line for line in output.splitlines() if "gpt-4o" in line)
    assert "0.0100" in gpt_line
    unknown_line = next(line for line in output.splitlines() if "in-house-llm" in line)
    assert unknown_line.count("unknown") == 3
    assert "1 records still have no known price" in output
