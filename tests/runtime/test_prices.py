"""Custom prices on real runs: overrides, effective dates, aliases, and where prices come from.

Every record here comes from a real pydantic-ai run (a `FunctionModel` whose responses name
their model and provider) or from `tracker.track`, written to a real SQLite file and priced by
the tracker's background thread. Expected costs are worked out by hand from the prices given.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from pydantic_ai import Agent

from tokentrail import (
    CustomPrice,
    ModelAlias,
    PriceConfigError,
    PriceTable,
    UsageRecord,
    UsageTracker,
    _pricing,
    configure,
    run_agent_sync_with_tracking,
)

from .conftest import priced_model, read_rows


@pytest.fixture(autouse=True)
def fresh_prices(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No custom prices from an earlier test, and no configuration file unless a test writes one."""
    monkeypatch.setattr(_pricing, "_source", _pricing._PriceSource())
    monkeypatch.delenv("TOKENTRAIL_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)


def today() -> date:
    return datetime.now(UTC).date()


def genai_list_price(model: str, provider: str, input_tokens: int, output_tokens: int) -> Decimal:
    import genai_prices

    calculation = genai_prices.calc_price(
        genai_prices.Usage(input_tokens=input_tokens, output_tokens=output_tokens),
        model,
        provider_id=provider,
    )
    return Decimal(str(calculation.total_price))


def run_once(tracker: UsageTracker, model: str, provider: str) -> None:
    agent = Agent(priced_model(model_name=model, provider=provider))
    run_agent_sync_with_tracking(agent, "a tagline for our launch", tracker=tracker)


def test_a_custom_price_beats_the_cost_pydantic_ai_computed(
    tracker: UsageTracker, store_path: Path
) -> None:
    configure(
        prices={
            "models": [
                {"provider": "anthropic", "model": "claude-*", "input": "2", "output": "10"},
            ]
        }
    )

    run_once(tracker, "claude-sonnet-4-5", "anthropic")

    [row] = read_rows(tracker, store_path)
    # 1000 input tokens at $2/M plus 200 output tokens at $10/M.
    assert (Decimal(row["cost_usd"]), row["cost_source"]) == (Decimal("0.004"), "override")


def test_the_price_in_force_on_the_runs_day_applies(
    tracker: UsageTracker, store_path: Path
) -> None:
    configure(
        prices={
            "models": [
                {"model": "gpt-4o", "since": today() - timedelta(days=30), "input": 5, "output": 5},
                {"model": "gpt-4o", "since": today(), "input": 1, "output": 1},
                {"model": "gpt-4o", "since": today() + timedelta(days=1), "input": 9, "output": 9},
            ]
        }
    )

    run_once(tracker, "gpt-4o", "openai")

    [row] = read_rows(tracker, store_path)
    # Today's price: 1,200 tokens at $1/M. Yesterday's has been replaced, tomorrow's not begun.
    assert (Decimal(row["cost_usd"]), row["cost_source"]) == (Decimal("0.0012"), "override")


def test_records_made_on_earlier_days_get_the_price_of_their_day(
    tracker: UsageTracker, store_path: Path
) -> None:
    configure(
        prices=PriceTable(
            prices=(
                CustomPrice(
                    model="in-house-*", provider="acme", input=Decimal("1"), output=Decimal("0")
                ),
                CustomPrice(
                    model="in-house-*",
                    provider="acme",
                    since=date(2026, 6, 1),
                    input=Decimal("0.5"),
                    output=Decimal("0"),
                ),
            )
        )
    )
    for day in (date(2026, 5, 31), date(2026, 6, 1)):
        tracker.track(
            "user-1",
            "org-1",
            UsageRecord(
                created_at=datetime(day.year, day.month, day.day, 23, 59, tzinfo=UTC),
                provider="acme",
                model="in-house-large",
                input_tokens=2_000_000,
            ),
        )

    rows = read_rows(tracker, store_path)
    assert [(row["created_at"][:10], Decimal(row["cost_usd"])) for row in rows] == [
        ("2026-05-31", Decimal("2")),
        ("2026-06-01", Decimal("1")),
    ]


def test_an_alias_prices_a_deployment_as_its_model_by_genai_prices(
    tracker: UsageTracker, store_path: Path
) -> None:
    configure(prices={"aliases": {"prod-gpt4o": {"model": "gpt-4o", "provider": "openai"}}})

    run_once(tracker, "prod-gpt4o", "azure")

    [row] = read_rows(tracker, store_path)
    assert (row["provider"], row["model"]) == ("azure", "prod-gpt4o")
    assert row["cost_source"] == "genai-prices"
    assert Decimal(row["cost_usd"]) == genai_list_price("gpt-4o", "openai", 1000, 200)


def test_an_alias_uses_its_models_custom_price(tracker: UsageTracker, store_path: Path) -> None:
    configure(
        prices=PriceTable(
            prices=(CustomPrice(model="gpt-4o", input=Decimal("3"), output=Decimal("3")),),
            aliases={"prod-gpt4o": ModelAlias(model="gpt-4o")},
        )
    )

    run_once(tracker, "prod-gpt4o", "azure")

    [row] = read_rows(tracker, store_path)
    assert (Decimal(row["cost_usd"]), row["cost_source"]) == (Decimal("0.0036"), "override")


def test_without_custom_prices_the_list_price_stays(
    tracker: UsageTracker, store_path: Path
) -> None:
    configure(prices={"models": [{"model": "gpt-4o", "input": 1, "output": 1}]})

    run_once(tracker, "claude-sonnet-4-5", "anthropic")

    [row] = read_rows(tracker, store_path)
    assert row["cost_source"] in {"pydantic-ai", "genai-prices"}
    assert Decimal(row["cost_usd"]) == genai_list_price("claude-sonnet-4-5", "anthropic", 1000, 200)


def test_a_cost_given_to_track_is_kept(tracker: UsageTracker, store_path: Path) -> None:
    configure(prices={"models": [{"model": "*", "input": 1, "output": 1}]})

    # The older record shape services built themselves, with a cost they computed.
    legacy = SimpleNamespace(
        provider="openai",
        model="gpt-4o",
        tool_name="scripts",
        operation="generate",
        request_tokens=10,
        response_tokens=0,
        cost_usd=Decimal("7"),
        duration_ms=5,
        request_metadata=None,
    )
    tracker.track("user-1", "org-1", legacy)

    [row] = read_rows(tracker, store_path)
    assert (Decimal(row["cost_usd"]), row["cost_source"]) == (Decimal("7"), "override")


def test_an_unknown_model_is_announced_once(
    tracker: UsageTracker, store_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="tokentrail._pricing"):
        run_once(tracker, "in-house-llm", "acme-labs")
        tracker.flush()
        run_once(tracker, "in-house-llm", "acme-labs")
        rows = read_rows(tracker, store_path)

    assert [(row["cost_usd"], row["cost_source"]) for row in rows] == [(None, "none")] * 2
    warnings = [record.getMessage() for record in caplog.records if "no price" in record.message]
    assert len(warnings) == 1
    assert "'in-house-llm'" in warnings[0]
    assert "[tool.tokentrail.prices]" in warnings[0]


def test_configuring_a_price_later_prices_a_model_that_was_unknown(
    tracker: UsageTracker, store_path: Path
) -> None:
    run_once(tracker, "in-house-llm", "acme-labs")
    tracker.flush()
    configure(prices={"models": [{"model": "in-house-llm", "input": 1, "output": 1}]})

    run_once(tracker, "in-house-llm", "acme-labs")

    rows = read_rows(tracker, store_path)
    assert sorted((row["cost_source"], row["cost_usd"]) for row in rows) == [
        ("none", None),
        ("override", "0.0012"),
    ]


PYPROJECT = """
[project]
name = "content-studio"

[tool.tokentrail]
extend-exclude = ["scripts"]

[tool.tokentrail.prices.aliases]
prod-gpt4o = "gpt-4o"

[[tool.tokentrail.prices.models]]
provider = "azure"
model = "gpt-4o"
input = 2.5
output = "10"
"""


def test_prices_come_from_the_nearest_pyproject(
    tracker: UsageTracker, store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (tmp_path / "app" / "pages").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "app" / "pages")

    run_once(tracker, "prod-gpt4o", "azure")

    [row] = read_rows(tracker, store_path)
    # 1000 at $2.50/M plus 200 at $10/M.
    assert (Decimal(row["cost_usd"]), row["cost_source"]) == (Decimal("0.0045"), "override")


def test_tokentrail_config_names_the_file(
    tracker: UsageTracker, store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = tmp_path / "settings" / "billing.toml"
    settings.parent.mkdir()
    settings.write_text(PYPROJECT, encoding="utf-8")
    monkeypatch.setenv("TOKENTRAIL_CONFIG", str(settings))

    run_once(tracker, "gpt-4o", "azure")

    [row] = read_rows(tracker, store_path)
    assert (Decimal(row["cost_usd"]), row["cost_source"]) == (Decimal("0.0045"), "override")


def test_a_broken_price_file_warns_once_and_runs_go_on(
    tracker: UsageTracker,
    store_path: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = PYPROJECT.replace('output = "10"', 'output = "ten"')
    (tmp_path / "pyproject.toml").write_text(broken, encoding="utf-8")

    with caplog.at_level(logging.WARNING, logger="tokentrail._pricing"):
        run_once(tracker, "claude-sonnet-4-5", "anthropic")
        tracker.flush()
        run_once(tracker, "claude-sonnet-4-5", "anthropic")
        rows = read_rows(tracker, store_path)

    assert len(rows) == 2
    assert {row["cost_source"] for row in rows} <= {"pydantic-ai", "genai-prices"}
    messages = [record.getMessage() for record in caplog.records if "ignoring" in record.message]
    assert len(messages) == 1
    assert "tool.tokentrail.prices.models[0].output" in messages[0]
    assert str(tmp_path / "pyproject.toml") in messages[0]


def test_invalid_prices_fail_at_configure_and_change_nothing() -> None:
    configure(prices={"models": [{"model": "gpt-4o", "input": 1, "output": 1}]})

    with pytest.raises(PriceConfigError) as raised:
        configure(prices={"models": [{"model": "gpt-4o", "input": -1, "output": 1}]})

    assert raised.value.key == "prices.models[0].input"
    assert "non-negative" in str(raised.value)
    assert _pricing.custom_prices().price_for("openai", "gpt-4o", today()) is not None


def test_a_typed_table_is_checked_like_a_mapping() -> None:
    table = PriceTable(prices=(CustomPrice(model="", input=Decimal(1), output=Decimal(1)),))

    with pytest.raises(PriceConfigError, match=r"prices\.models\[0\]\.model"):
        configure(prices=table)


def test_prices_of_the_wrong_type_are_refused() -> None:
    with pytest.raises(TypeError, match="PriceTable or a mapping"):
        configure(prices=[("gpt-4o", 1)])  # type: ignore[arg-type]  # the mistake under test


def test_an_empty_table_switches_overrides_off() -> None:
    configure(prices={"models": [{"model": "gpt-4o", "input": 1, "output": 1}]})
    assert _pricing.may_override_costs()

    configure(prices={})

    assert not _pricing.may_override_costs()
    assert not _pricing.custom_prices()


def test_records_pricing_cannot_change_are_not_handed_to_the_background(
    tracker: UsageTracker, store_path: Path
) -> None:
    configure(prices={})
    assert not _pricing.may_price("openai", "gpt-4o", has_cost=True)
    assert _pricing.may_price("acme-labs", "in-house-llm", has_cost=False)

    run_once(tracker, "in-house-llm", "acme-labs")
    tracker.flush()  # the background thread learns that genai-prices does not know it
    assert not _pricing.may_price("acme-labs", "in-house-llm", has_cost=False)
    run_once(tracker, "in-house-llm", "acme-labs")
    assert [row["cost_source"] for row in read_rows(tracker, store_path)] == ["none", "none"]

    configure(prices={"aliases": {"in-house-llm": "gpt-4o"}})  # an alias may name it now
    assert _pricing.may_price("acme-labs", "in-house-llm", has_cost=False)
