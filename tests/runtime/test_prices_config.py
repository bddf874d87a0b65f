"""The price table's shape: TOML parsing, every error naming its key, lookup order, arithmetic.

Both the runtime and the checker read `[tool.tokentrail.prices]`; the checker's half is tested
here too, because both must accept and refuse exactly the same tables.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tokentrail._prices import CustomPrice, PriceTable, TokenCounts, cost_of
from tokentrail._prices_config import (
    PriceConfigError,
    find_config_file,
    load_price_file,
    parse_price_table,
)
from tokentrail_lint.config import ConfigError, load_config

BILLING_TOML = """
[tool.tokentrail]

[tool.tokentrail.prices.aliases]
prod-gpt4o = "gpt-4o"
eu-claude = { model = "claude-sonnet-4-5", provider = "anthropic" }

[[tool.tokentrail.prices.models]]
provider = "openai"
model = "gpt-4o-mini"
input = 0.15
output = "0.60"

[[tool.tokentrail.prices.models]]
provider = "openai"
model = "gpt-4o*"
input = "2.50"
output = "10"
cache_read = "1.25"

[[tool.tokentrail.prices.models]]
provider = "openai"
model = "gpt-4o*"
since = 2026-07-01
input = "2.00"
output = "8"
cache-read = "1.00"
per-request = "0.001"
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_billing_table_reads_as_written(tmp_path: Path) -> None:
    table = load_price_file(write(tmp_path / "pyproject.toml", BILLING_TOML))

    assert [(price.model, price.since, price.input, price.output) for price in table.prices] == [
        ("gpt-4o-mini", None, Decimal("0.15"), Decimal("0.60")),
        ("gpt-4o*", None, Decimal("2.50"), Decimal("10")),
        ("gpt-4o*", date(2026, 7, 1), Decimal("2.00"), Decimal("8")),
    ]
    assert table.prices[2].per_request == Decimal("0.001")
    assert table.resolve("azure", "prod-gpt4o") == ("azure", "gpt-4o")
    assert table.resolve("bedrock", "eu-claude") == ("anthropic", "claude-sonnet-4-5")
    assert table.resolve("openai", "gpt-4o") == ("openai", "gpt-4o")


def test_the_first_matching_pattern_wins_and_its_latest_started_price(tmp_path: Path) -> None:
    table = load_price_file(write(tmp_path / "pyproject.toml", BILLING_TOML))
    june = datetime(2026, 6, 30, 23, 59, tzinfo=UTC)
    # 00:30 on 1 July in UTC+2 is still 30 June in UTC.
    june_abroad = datetime(2026, 7, 1, 0, 30, tzinfo=timezone(timedelta(hours=2)))
    july = date(2026, 7, 1)

    def rate(model: str, at: datetime | date) -> Decimal | None:
        price = table.price_for("openai", model, at)
        return None if price is None else price.input

    assert rate("gpt-4o-mini", july) == Decimal("0.15")
    assert rate("gpt-4o", june) == Decimal("2.50")
    assert rate("gpt-4o", june_abroad) == Decimal("2.50")
    assert rate("gpt-4o", july) == Decimal("2.00")
    assert rate("gpt-4o-2024-08-06", datetime(2026, 7, 1, 0, 0)) == Decimal("2.00")
    assert table.price_for("anthropic", "gpt-4o", july) is None
    assert rate("o3", july) is None


def test_a_pattern_not_yet_in_force_falls_through_to_the_next() -> None:
    table = parse_price_table(
        {
            "models": [
                {"model": "gpt-4o", "since": "2027-01-01", "input": 1, "output": 1},
                {"model": "gpt-*", "input": 5, "output": 5},
            ]
        }
    )

    price = table.price_for("openai", "gpt-4o", date(2026, 12, 31))

    assert price is not None
    assert price.input == Decimal(5)


def test_cost_counts_cache_tokens_once_at_their_own_rates() -> None:
    price = CustomPrice(
        model="m",
        input=Decimal("2"),
        output=Decimal("8"),
        cache_read=Decimal("0.5"),
        cache_write=Decimal("2.5"),
        per_request=Decimal("0.01"),
    )
    tokens = TokenCounts(
        input_tokens=10_000,
        output_tokens=1_000,
        cache_read_tokens=4_000,
        cache_write_tokens=1_000,
        requests=3,
    )
    # 5,000 plain input at $2/M = 0.01; 4,000 cache reads at $0.5/M = 0.002; 1,000 cache writes
    # at $2.5/M = 0.0025; 1,000 output at $8/M = 0.008; 3 requests at $0.01 = 0.03.
    assert cost_of(price, tokens) == Decimal("0.0525")


def test_cache_tokens_cost_the_input_rate_unless_told() -> None:
    price = CustomPrice(model="m", input=Decimal("3"), output=Decimal("15"))
    tokens = TokenCounts(input_tokens=1_000, cache_read_tokens=600, cache_write_tokens=400)

    assert cost_of(price, tokens) == Decimal("0.003")


def test_cost_is_linear_so_sums_price_like_their_parts() -> None:
    price = CustomPrice(
        model="m", input=Decimal("1.1"), output=Decimal("4.4"), per_request=Decimal("0.002")
    )
    first = TokenCounts(input_tokens=1234, output_tokens=56, requests=1)
    second = TokenCounts(input_tokens=789, output_tokens=1011, requests=2)
    both = TokenCounts(input_tokens=1234 + 789, output_tokens=56 + 1011, requests=3)

    assert cost_of(price, both) == cost_of(price, first) + cost_of(price, second)


BAD_TABLES: list[tuple[Any, str, str]] = [
    ("gpt-4o", "prices", "must be a table"),
    ({"model": "gpt-4o"}, "prices.model", "not a known key; known keys: models, aliases"),
    ({"models": {"model": "x"}}, "prices.models", "must be a list of tables"),
    ({"models": ["gpt-4o"]}, "prices.models[0]", "must be a table"),
    ({"models": [{"input": 1, "output": 1}]}, "prices.models[0].model", "is required"),
    ({"models": [{"model": "m", "output": 1}]}, "prices.models[0].input", "is required"),
    ({"models": [{"model": "m", "input": 1}]}, "prices.models[0].output", "is required"),
    (
        {"models": [{"model": "m", "input": 1, "output": 1, "price": 2}]},
        "prices.models[0].price",
        "not a known key",
    ),
    (
        {"models": [{"model": "m", "input": "cheap", "output": 1}]},
        "prices.models[0].input",
        "must be a number of US dollars",
    ),
    (
        {"models": [{"model": "m", "input": True, "output": 1}]},
        "prices.models[0].input",
        "must be a number",
    ),
    (
        {"models": [{"model": "m", "input": 1, "output": "-0.5"}]},
        "prices.models[0].output",
        "non-negative",
    ),
    (
        {"models": [{"model": "m", "input": "NaN", "output": 1}]},
        "prices.models[0].input",
        "non-negative",
    ),
    (
        {"models": [{"model": "m", "input": 1, "output": 1, "cache-read": 1, "cache_read": 2}]},
        "prices.models[0].cache_read",
        "given twice",
    ),
    (
        {"models": [{"model": "m", "input": 1, "output": 1, "since": "July"}]},
        "prices.models[0].since",
        "must be a date such as 2026-01-01",
    ),
    (
        {"models": [{"model": "m", "input": 1, "output": 1, "since": datetime(2026, 1, 1)}]},
        "prices.models[0].since",
        "not the time 2026-01-01T00:00:00",
    ),
    (
        {"models": [{"model": "m", "input": 1, "output": 1, "since": 20260101}]},
        "prices.models[0].since",
        "must be a date",
    ),
    (
        {"models": [{"model": "m", "provider": 3, "input": 1, "output": 1}]},
        "prices.models[0].provider",
        "must be a non-empty string",
    ),
    (
        {
            "models": [
                {"model": "m", "input": 1, "output": 1, "since": "2026-01-01"},
                {"model": "n", "input": 1, "output": 1},
                {"model": "m", "input": 2, "output": 2, "since": date(2026, 1, 1)},
            ]
        },
        "prices.models[2]",
        "repeats models[0] (provider '*', model 'm', since 2026-01-01)",
    ),
    ({"aliases": ["prod-gpt4o"]}, "prices.aliases", "must be a table"),
    ({"aliases": {"prod": 4}}, "prices.aliases.prod", 'a model name or a table {model = "..."}'),
    ({"aliases": {"prod": {"provider": "openai"}}}, "prices.aliases.prod.model", "is required"),
    ({"aliases": {"prod": {"model": "m", "region": "eu"}}}, "prices.aliases.prod.region", "known"),
    ({"aliases": {"prod": ""}}, "prices.aliases.prod", "non-empty string"),
    (
        {"aliases": {"prod": "staging", "staging": "gpt-4o"}},
        "prices.aliases.prod",
        "points to 'staging', which is itself an alias",
    ),
]


@pytest.mark.parametrize(("data", "key", "problem"), BAD_TABLES)
def test_every_mistake_names_its_key(data: Any, key: str, problem: str) -> None:
    with pytest.raises(PriceConfigError) as raised:
        parse_price_table(data)

    assert raised.value.key == key
    assert problem in str(raised.value)


def test_file_errors_name_the_file_and_the_key(tmp_path: Path) -> None:
    broken = write(tmp_path / "pyproject.toml", BILLING_TOML.replace('"2.00"', '"2,00"'))
    with pytest.raises(PriceConfigError) as raised:
        load_price_file(broken)
    assert raised.value.key == f"{broken}: tool.tokentrail.prices.models[2].input"

    not_toml = write(tmp_path / "bad.toml", "[tool.tokentrail\n")
    with pytest.raises(PriceConfigError, match="is not valid TOML"):
        load_price_file(not_toml)

    with pytest.raises(PriceConfigError, match="cannot be read"):
        load_price_file(tmp_path / "missing.toml")


def test_a_file_without_prices_has_an_empty_table(tmp_path: Path) -> None:
    assert not load_price_file(write(tmp_path / "a.toml", "[tool.tokentrail]\nwrappers = []\n"))
    assert not load_price_file(write(tmp_path / "b.toml", "tool = 3\n"))
    assert not PriceTable()


def test_the_nearest_declaring_pyproject_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TOKENTRAIL_CONFIG", raising=False)
    write(tmp_path / "pyproject.toml", "[tool.tokentrail]\n")
    inner = tmp_path / "services" / "pyproject.toml"
    inner.parent.mkdir()
    # A pyproject.toml without the table is passed over, as the checker does.
    write(inner, "[project]\nname = 'services'\n")
    (tmp_path / "services" / "deep").mkdir()

    assert find_config_file(tmp_path / "services" / "deep") == tmp_path / "pyproject.toml"

    monkeypatch.setenv("TOKENTRAIL_CONFIG", str(inner))
    assert find_config_file(tmp_path) == inner


def test_no_configuration_file_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOKENTRAIL_CONFIG", raising=False)
    assert find_config_file(tmp_path) is None


def test_the_checker_accepts_the_prices_table(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", BILLING_TOML)

    config = load_config(tmp_path)

    assert [model["model"] for model in config.prices["models"]] == [
        "gpt-4o-mini",
        "gpt-4o*",
        "gpt-4o*",
    ]


def test_the_checker_names_the_bad_price_key(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", BILLING_TOML.replace("per-request", "per-call"))

    with pytest.raises(ConfigError) as raised:
        load_config(tmp_path)

    assert raised.value.key == "tool.tokentrail.prices.models[2].per-call"
    assert str(raised.value).startswith(f"{tmp_path / 'pyproject.toml'}: ")
    assert "not a known key" in str(raised.value)
