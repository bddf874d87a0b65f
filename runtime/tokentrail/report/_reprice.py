"""`tokentrail report --reprice`: what the tokens cost with today's price table.

A stored cost is the price known when the run ended. After a contract changes, a custom price is
added late, or genai-prices learns a model, a billing team wants the same tokens priced with the
table as it stands now: custom prices and aliases first, then genai-prices, each at the price in
force on the record's own day.

The store still does the adding up. One query sums tokens per requested group and per
(provider, model, UTC day); each of those sums is priced here in Python and the results are
added into the requested groups. Pricing a sum is exact for custom prices: they are linear in
tokens and change only at the start of a UTC day, so every record of one (provider, model, day)
has the same rates and the cost of the sum is the sum of the costs. Prices that depend on a
request's size (genai-prices' tiers for a few long-context models) are the exception: a day's
sum reaches a tier no single request did. Give such a model a custom price to bill it exactly.

Nothing is written back: billing data is append-only (the Supabase migration revokes UPDATE),
so repricing changes the report, never the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Final

from tokentrail._prices import PriceTable, TokenCounts
from tokentrail._prices_config import PriceConfigError, find_config_file, load_price_file
from tokentrail._pricing import price_tokens
from tokentrail.report._query import ReportQuery
from tokentrail.report._source import Report, ReportError, ReportRow, read_report

_PRICING_KEYS: Final = ("provider", "model", "day")
_STORE_SCALE: Final = Decimal("1e-10")
"""The precision of the store's cost column; repriced costs are rounded to it per group."""


@dataclass(frozen=True)
class RepricedFigures:
    """One report row's cost as stored and as priced now.

    Attributes:
        stored_cost_usd: the sum of the stored costs (`None`: none was known).
        repriced_cost_usd: the sum of the costs with today's table (`None`: none is known).
        difference_usd: repriced minus stored, an unknown side counting as zero
            (`None` when both are unknown).
        unpriced_records: records that still have no known price.
        sources: how many records each source priced (`override`, `genai-prices`, `none`).
    """

    stored_cost_usd: Decimal | None
    repriced_cost_usd: Decimal | None
    difference_usd: Decimal | None
    unpriced_records: int
    sources: Mapping[str, int]


@dataclass(frozen=True)
class RepricedReport:
    """A report with, for each row and the total, its cost priced with today's table."""

    report: Report
    rows: list[RepricedFigures]
    total: RepricedFigures
    prices_file: Path | None
    """The file the custom prices came from, `None` when there was none."""


@dataclass
class _Sums:
    cost: Decimal | None = None
    unpriced: int = 0
    sources: dict[str, int] = field(default_factory=dict)

    def add(self, cost: Decimal | None, source: str, records: int) -> None:
        self.sources[source] = self.sources.get(source, 0) + records
        if cost is None:
            self.unpriced += records
        else:
            self.cost = cost if self.cost is None else self.cost + cost

    def figures(self, stored: Decimal | None) -> RepricedFigures:
        difference = None
        if stored is not None or self.cost is not None:
            difference = (self.cost or Decimal(0)) - (stored or Decimal(0))
        return RepricedFigures(
            stored_cost_usd=stored,
            repriced_cost_usd=self.cost,
            difference_usd=difference,
            unpriced_records=self.unpriced,
            sources=dict(sorted(self.sources.items())),
        )


def price_table_for_report() -> tuple[PriceTable, Path | None]:
    """Today's custom prices, from the same file the runtime reads.

    Raises:
        ReportError: the file's prices are invalid; the message names the key.
    """
    path = find_config_file()
    if path is None:
        return PriceTable(), None
    try:
        return load_price_file(path), path
    except PriceConfigError as error:
        raise ReportError(f"cannot reprice: {error}") from None


def reprice(
    url: str, query: ReportQuery, table: PriceTable, prices_file: Path | None = None
) -> RepricedReport:
    """The report `query` asks for, with every cost recomputed from tokens with `table`.

    Raises:
        ReportError: the store cannot be read.
    """
    report = read_report(url, query)
    pricing_query = ReportQuery(
        group_by=query.group_by + tuple(key for key in _PRICING_KEYS if key not in query.group_by),
        since=query.since,
        until=query.until,
        organizations=query.organizations,
    )
    by_group: dict[tuple[str | None, ...], _Sums] = {}
    total = _Sums()
    for row in read_report(url, pricing_query).rows:
        keys = dict(zip(pricing_query.group_by, row.keys, strict=True))
        cost, source = _price_group(keys, row, table)
        group = tuple(keys[key] for key in query.group_by)
        by_group.setdefault(group, _Sums()).add(cost, source, row.records)
        total.add(cost, source, row.records)
    return RepricedReport(
        report=report,
        rows=[by_group.get(row.keys, _Sums()).figures(row.cost_usd) for row in report.rows],
        total=total.figures(report.total.cost_usd),
        prices_file=prices_file,
    )


def _price_group(
    keys: Mapping[str, str | None], row: ReportRow, table: PriceTable
) -> tuple[Decimal | None, str]:
    day_text = keys["day"]
    if day_text is None:  # no created_at: the day, and so the price, is unknown
        return None, "none"
    provider, model = table.resolve(keys["provider"] or "unknown", keys["model"] or "unknown")
    tokens = TokenCounts(
        input_tokens=row.input_tokens,
        output_tokens=row.output_tokens,
        cache_read_tokens=row.cache_read_tokens,
        cache_write_tokens=row.cache_write_tokens,
        requests=row.requests,
    )
    cost, source = price_tokens(provider, model, date.fromisoformat(day_text), tokens, table=table)
    if cost is None:
        return None, source
    return cost.quantize(_STORE_SCALE, rounding=ROUND_HALF_EVEN), source


def sources_text(sources: Mapping[str, int]) -> str:
    """`sources` as `override: 3, genai-prices: 2` for captions."""
    return ", ".join(f"{source}: {count:,}" for source, count in sources.items())
