"""What calls cost, from a price table the user sets: no prices are bundled (they would go stale).

The config file (``hookwire config path`` shows where it is) holds one table per provider and
model, prices per million tokens unless ``per`` says otherwise, in a named currency::

    [prices.siliconflow."Qwen/Qwen3-8B"]
    currency = "CNY"
    input = 0.5            # prompt tokens
    output = 2.0           # completion tokens
    cached_input = 0.1     # prompt tokens the provider served from its cache (default: input)
    reasoning = 2.0        # reasoning tokens (default: output, as providers bill them)

    [prices.openai."*"]    # any model of that provider without its own table
    currency = "USD"
    input = 2.5
    output = 10.0

or in code: ``LLM(..., prices={"openai": {"gpt-4o": {"input": 2.5, "output": 10, "currency":
"USD"}}})`` or a :class:`PriceTable`. Then ``result.cost`` is a :class:`Cost` (``None`` for a
model without a price), ``llm.cost`` / ``conversation.cost`` the sum so far (a router's is the
sum over its deployments); ``llm.costs`` keeps one total per currency.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hookwire.errors import ConfigError
from hookwire.llm.types import Usage

__all__ = ["Cost", "CostTotals", "Price", "PriceTable"]

_PRICE_KEYS = frozenset({"input", "output", "cached_input", "reasoning", "per", "currency"})


@dataclass(frozen=True, slots=True)
class Price:
    """Prices of one model, per ``per`` tokens (default a million), in ``currency``."""

    input: float
    output: float
    currency: str
    cached_input: float | None = None
    reasoning: float | None = None
    per: int = 1_000_000

    @classmethod
    def of(cls, data: Mapping[str, Any], where: str) -> Price:
        unknown = set(data) - _PRICE_KEYS
        if unknown:
            raise ConfigError(f"{where}: unknown price keys {sorted(unknown)} "
                              f"(known: {sorted(_PRICE_KEYS)})")
        currency = data.get("currency")
        if not isinstance(currency, str) or not currency.strip():
            raise ConfigError(f"{where}: name the currency, e.g. currency = \"USD\"")
        values: dict[str, float | None] = {}
        for key in ("input", "output", "cached_input", "reasoning"):
            value = data.get(key)
            required = key in ("input", "output")
            if value is None and not required:
                values[key] = None
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                math.isfinite(value) and value >= 0
            ):
                raise ConfigError(f"{where}: {key} must be a price >= 0, not {value!r}")
            values[key] = float(value)
        per = data.get("per", 1_000_000)
        if isinstance(per, bool) or not isinstance(per, int) or per < 1:
            raise ConfigError(f"{where}: per must be a token count >= 1, not {per!r}")
        return cls(values["input"] or 0.0, values["output"] or 0.0, currency.strip(),
                   values["cached_input"], values["reasoning"], per)

    def cost(self, usage: Usage) -> Cost:
        """What ``usage`` costs at these prices."""
        cached = min(usage.cached_tokens or 0, usage.prompt_tokens)
        reasoning = min(usage.reasoning_tokens or 0, usage.completion_tokens)
        cached_rate = self.input if self.cached_input is None else self.cached_input
        reasoning_rate = self.output if self.reasoning is None else self.reasoning
        per = self.per
        parts = (
            (usage.prompt_tokens - cached) * self.input / per,
            cached * cached_rate / per,
            (usage.completion_tokens - reasoning) * self.output / per,
            reasoning * reasoning_rate / per,
        )
        return Cost(sum(parts), self.currency, *parts)


@dataclass(frozen=True, slots=True)
class Cost:
    """An amount in a currency, with its parts: input, cached input, output, reasoning."""

    amount: float
    currency: str
    input: float = 0.0
    cached_input: float = 0.0
    output: float = 0.0
    reasoning: float = 0.0

    def __add__(self, other: Cost) -> Cost:
        if not isinstance(other, Cost):
            return NotImplemented
        if other.currency != self.currency:
            raise ValueError(
                f"cannot add {other.currency} to {self.currency}: keep totals per currency "
                "(llm.costs)"
            )
        return Cost(self.amount + other.amount, self.currency, self.input + other.input,
                    self.cached_input + other.cached_input, self.output + other.output,
                    self.reasoning + other.reasoning)

    def __str__(self) -> str:
        return f"{self.amount:.6g} {self.currency}"


class PriceTable:
    """``{provider: {model: Price}}``; a model ``"*"`` prices every model of its provider."""

    def __init__(self, prices: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self._prices: dict[tuple[str, str], Price] = {}
        if not prices:
            return
        if not isinstance(prices, Mapping):
            raise ConfigError(f"prices must be a table of providers, not {type(prices).__name__}")
        for provider, models in prices.items():
            if not isinstance(models, Mapping):
                raise ConfigError(f"prices.{provider} must be a table of models")
            for model, price in models.items():
                where = f"prices.{provider}.{model!r}"
                if isinstance(price, Price):
                    self._prices[(str(provider), str(model))] = price
                elif isinstance(price, Mapping):
                    self._prices[(str(provider), str(model))] = Price.of(price, where)
                else:
                    raise ConfigError(f"{where} must be a table of prices")

    def __bool__(self) -> bool:
        return bool(self._prices)

    def price(self, provider: str, model: str) -> Price | None:
        """The price of ``model`` on ``provider`` (its own, else the provider's ``"*"``)."""
        found = self._prices.get((provider, model))
        return found if found is not None else self._prices.get((provider, "*"))

    def cost(self, provider: str, model: str, usage: Usage | None) -> Cost | None:
        if usage is None:
            return None
        price = self.price(provider, model)
        return None if price is None else price.cost(usage)


class CostTotals:
    """Running totals, one per currency, safe to add to from threads and tasks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_currency: dict[str, Cost] = {}

    def add(self, cost: Cost | None) -> None:
        if cost is None:
            return
        with self._lock:
            now = self.by_currency.get(cost.currency)
            self.by_currency[cost.currency] = cost if now is None else now + cost

    def total(self) -> Cost | None:
        """The total, or None when nothing was priced; a ValueError when currencies mix."""
        with self._lock:
            totals = list(self.by_currency.values())
        if len(totals) > 1:
            names = ", ".join(sorted(self.by_currency))
            raise ValueError(f"the costs are in several currencies ({names}): read .costs")
        return totals[0] if totals else None
