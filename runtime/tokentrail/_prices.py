"""Custom prices: per-million-token rates by provider and model pattern, with effective dates.

A billing team often pays something other than the list price (a negotiated discount, a
deployment whose name no public price table knows). A `PriceTable` says what a token costs for
such models, from which day on, and which deployment names stand for which known model. This
module only holds the table and does the arithmetic: it imports nothing outside the standard
library, so the checker and the report can use it without loading pydantic-ai or genai-prices.

All money is `Decimal`; a float never touches a price.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Final

_PER_MILLION: Final = Decimal(1_000_000)
_ZERO: Final = Decimal(0)


@dataclass(frozen=True, kw_only=True, slots=True)
class CustomPrice:
    """What one provider's models matching `model` cost from `since` on, in USD.

    Token rates are per million tokens. `cache_read` and `cache_write` default to the `input`
    rate (no discount), because pydantic-ai counts cache tokens inside `input_tokens`;
    `per_request` is charged once per model request.

    Attributes:
        model: a glob over the model name as responses report it (`gpt-4o*`, `claude-*`).
        provider: a glob over the provider name (`openai`, `azure`); `*` matches any.
        since: the first UTC day this price applies; `None` means from the beginning.
    """

    model: str
    provider: str = "*"
    since: date | None = None
    input: Decimal
    output: Decimal
    cache_read: Decimal | None = None
    cache_write: Decimal | None = None
    per_request: Decimal = _ZERO

    def matches(self, provider: str, model: str) -> bool:
        """Whether this price's patterns cover `provider` and `model` (case-sensitive)."""
        return fnmatch.fnmatchcase(provider, self.provider) and fnmatch.fnmatchcase(
            model, self.model
        )

    def in_force_on(self, day: date) -> bool:
        """Whether this price has started by `day`."""
        return self.since is None or self.since <= day


@dataclass(frozen=True, slots=True)
class TokenCounts:
    """Token and request counts to price: one record's, or the sum over many."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    requests: int = 0


def cost_of(price: CustomPrice, tokens: TokenCounts) -> Decimal:
    """The cost of `tokens` at `price`, exact.

    `input_tokens` includes the cache tokens (pydantic-ai's convention), so only the rest is
    charged at the `input` rate. The cost is linear in every count: the cost of a sum of
    records is the sum of their costs, which is what lets a report price summed groups.
    """
    cache_read_rate = price.input if price.cache_read is None else price.cache_read
    cache_write_rate = price.input if price.cache_write is None else price.cache_write
    plain_input = max(tokens.input_tokens - tokens.cache_read_tokens - tokens.cache_write_tokens, 0)
    per_million = (
        plain_input * price.input
        + tokens.output_tokens * price.output
        + tokens.cache_read_tokens * cache_read_rate
        + tokens.cache_write_tokens * cache_write_rate
    )
    return per_million / _PER_MILLION + tokens.requests * price.per_request


@dataclass(frozen=True, kw_only=True, slots=True)
class ModelAlias:
    """A deployment name standing for a known model.

    Attributes:
        model: the model the deployment serves, as price tables name it (`gpt-4o`).
        provider: the provider whose prices apply; `None` keeps the record's own provider.
    """

    model: str
    provider: str | None = None


def _no_aliases() -> Mapping[str, ModelAlias]:
    return MappingProxyType({})


@dataclass(frozen=True, kw_only=True, slots=True)
class PriceTable:
    """Custom prices and model aliases, as `configure(prices=...)` takes them.

    Where several prices cover a model, the first pattern (in the order given) that has a price
    in force on the record's day wins, and among the prices written for that same pattern the
    one with the latest `since` that has started. List specific patterns before broad ones.

    Attributes:
        prices: the custom prices.
        aliases: the model name records carry (a deployment name such as `prod-gpt4o`) ->
            the known model it stands for. An aliased record is priced as that model: by its
            custom price if one is configured, else by genai-prices.
    """

    prices: tuple[CustomPrice, ...] = ()
    aliases: Mapping[str, ModelAlias] = field(default_factory=_no_aliases)

    def __bool__(self) -> bool:
        return bool(self.prices or self.aliases)

    def resolve(self, provider: str, model: str) -> tuple[str, str]:
        """The (provider, model) a record's names stand for, after aliases."""
        alias = self.aliases.get(model)
        if alias is None:
            return provider, model
        return alias.provider or provider, alias.model

    def price_for(self, provider: str, model: str, at: datetime | date) -> CustomPrice | None:
        """The custom price for an already resolved model at moment `at`, if any.

        A datetime is taken on its UTC day (a naive one is taken as UTC), because prices start
        on whole UTC days.
        """
        day = _utc_day(at)
        tried: set[tuple[str, str]] = set()
        for candidate in self.prices:
            pattern = (candidate.provider, candidate.model)
            if pattern in tried or not candidate.matches(provider, model):
                continue
            tried.add(pattern)
            in_force = [
                price
                for price in self.prices
                if (price.provider, price.model) == pattern and price.in_force_on(day)
            ]
            if in_force:
                return max(in_force, key=lambda price: price.since or date.min)
        return None


def _utc_day(moment: datetime | date) -> date:
    if not isinstance(moment, datetime):
        return moment
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(UTC).date()
