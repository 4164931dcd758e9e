"""KPI definitions: a fact source (the KPI's base records) and a reducer (how they become a value).

A KPI is computed for a period P = [start, end) from the facts its source loads; grouping and
series are the same reducer applied to subsets, so every KPI gets `group_by` and `granularity`
for free and they always agree with the plain value.
"""

from __future__ import annotations

import statistics
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from fractions import Fraction
from typing import Any

import msgspec

Fact = dict[str, Any]


class FactQuery(msgspec.Struct, frozen=True, kw_only=True):
    start: datetime
    end: datetime
    channel: str | None = None
    segment: str | None = None
    location: str | None = None
    customer_segment: str | None = None


FactLoader = Callable[[FactQuery], Awaitable[list[Fact]]]


class FactSource(msgspec.Struct, frozen=True, kw_only=True):
    """Loads the base records of one or more KPIs. Every fact has `at` (its attribution time).

    `filters` names the filters (channel, segment, location) the loader honours; for any other
    filter the KPI is returned unfiltered with `filter_not_applicable: true`.
    """

    id: str
    load: FactLoader
    filters: frozenset[str] = frozenset()
    # Facts that depend on the whole period (retention compares it with the one before): never
    # rolled up by day, and a series loads each bucket as a period of its own.
    whole_period: bool = False


class KPIValue(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    value: float | int | None
    numerator: float | int | None = None
    denominator: float | int | None = None
    n: int | None = None


class KPIDefinition(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    unit: str
    formula: str
    facts: FactSource
    reduce: Reducer
    dimensions: tuple[str, ...] = ()
    plugin: str = ""


# ---------------------------------------------------------------------------------------------
# Reducers
# ---------------------------------------------------------------------------------------------


class Reducer:
    """How facts become a KPI value, in three mergeable steps so daily rollups can be combined:
    `partial(facts)` → a JSON-able state, `merge(states)` → one state, `finish(state)` → value.
    Calling a reducer on facts is `finish(partial(facts))`. Sums are exact (integers, or
    fractions of floats), so a value merged from rollups equals the one computed from scratch."""

    def partial(self, facts: Sequence[Fact]) -> Any:
        raise NotImplementedError

    def merge(self, states: Iterable[Any]) -> Any:
        raise NotImplementedError

    def finish(self, state: Any) -> KPIValue:
        raise NotImplementedError

    def __call__(self, facts: Sequence[Fact]) -> KPIValue:
        return self.finish(self.partial(facts))


class GroupsReducer(Reducer):
    """A KPI answered only as groups, each with several figures (`top_performing_agents`: one per
    agent with resolved, FCR, FRT and CSAT). `groups(state)` lists them as `{key, …figures}` in the
    KPI's own order; the plain value is null. The engine answers with `groups` with or without
    `group_by`, and in every bucket of a series."""

    def groups(self, state: Any) -> list[dict[str, Any]]:
        raise NotImplementedError

    def finish(self, state: Any) -> KPIValue:
        return KPIValue(value=None)


def _exact(values: Iterable[Any]) -> Fraction:
    """The exact sum: integers added as integers (the common case, and ~20× faster than as
    fractions), anything else (floats) as the fraction it exactly is."""
    whole = 0
    rest = Fraction(0)
    for v in values:
        if isinstance(v, int):
            whole += v
        else:
            rest += Fraction(v)
    return rest + whole


def _enc(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"


def _dec(value: str) -> Fraction:
    return Fraction(value)


def _number(value: Fraction) -> int | float:
    return value.numerator if value.denominator == 1 else float(value)


def _quotient(num: Fraction, den: Fraction) -> float | None:
    return float(num / den) if den else None


class _Count(Reducer):
    def partial(self, facts: Sequence[Fact]) -> Any:
        return len(facts)

    def merge(self, states: Iterable[Any]) -> Any:
        return sum(states)

    def finish(self, state: Any) -> KPIValue:
        return KPIValue(value=int(state))


class _Ratio(Reducer):
    def __init__(self, flag: str) -> None:
        self.flag = flag

    def partial(self, facts: Sequence[Fact]) -> Any:
        return [sum(1 for f in facts if f[self.flag]), len(facts)]

    def merge(self, states: Iterable[Any]) -> Any:
        num = den = 0
        for n, d in states:
            num, den = num + n, den + d
        return [num, den]

    def finish(self, state: Any) -> KPIValue:
        num, den = state
        return KPIValue(value=num / den if den else None, numerator=num, denominator=den)


class _SumRatio(Reducer):
    def __init__(self, numerator: str, denominator: str) -> None:
        self.num, self.den = numerator, denominator

    def partial(self, facts: Sequence[Fact]) -> Any:
        return [_enc(_exact(f[self.num] for f in facts)), _enc(_exact(f[self.den] for f in facts))]

    def merge(self, states: Iterable[Any]) -> Any:
        num, den = Fraction(0), Fraction(0)
        for n, d in states:
            num, den = num + _dec(n), den + _dec(d)
        return [_enc(num), _enc(den)]

    def finish(self, state: Any) -> KPIValue:
        num, den = _dec(state[0]), _dec(state[1])
        return KPIValue(value=_quotient(num, den), numerator=_number(num), denominator=_number(den))


class _Mean(Reducer):
    def __init__(self, field: str) -> None:
        self.field = field

    def partial(self, facts: Sequence[Fact]) -> Any:
        values = [f[self.field] for f in facts if f[self.field] is not None]
        return [_enc(_exact(values)), len(values)]

    def merge(self, states: Iterable[Any]) -> Any:
        total, n = Fraction(0), 0
        for t, k in states:
            total, n = total + _dec(t), n + k
        return [_enc(total), n]

    def finish(self, state: Any) -> KPIValue:
        total, n = _dec(state[0]), state[1]
        return KPIValue(value=float(total / n) if n else None, n=n)


class _Median(Reducer):
    """Exact median: states keep the sorted values (a day's worth is small)."""

    def __init__(self, field: str) -> None:
        self.field = field

    def partial(self, facts: Sequence[Fact]) -> Any:
        return sorted(f[self.field] for f in facts if f[self.field] is not None)

    def merge(self, states: Iterable[Any]) -> Any:
        return sorted(v for state in states for v in state)

    def finish(self, state: Any) -> KPIValue:
        return KPIValue(value=statistics.median(state) if state else None, n=len(state))


class _SumPerDistinct(Reducer):
    def __init__(self, field: str, key: str) -> None:
        self.field, self.key = field, key

    def partial(self, facts: Sequence[Fact]) -> Any:
        return [_enc(_exact(f[self.field] for f in facts)), sorted({str(f[self.key]) for f in facts})]

    def merge(self, states: Iterable[Any]) -> Any:
        total, keys = Fraction(0), set()
        for t, k in states:
            total += _dec(t)
            keys.update(k)
        return [_enc(total), sorted(keys)]

    def finish(self, state: Any) -> KPIValue:
        num, den = _dec(state[0]), len(state[1])
        return KPIValue(value=float(num / den) if den else None, numerator=_number(num), denominator=den)


class _SumRatioDistinct(Reducer):
    def __init__(self, numerator: str, denominator: str, key: str) -> None:
        self.num, self.den, self.key = numerator, denominator, key

    def partial(self, facts: Sequence[Fact]) -> Any:
        return [_enc(_exact(f[self.num] for f in facts)), {str(f[self.key]): f[self.den] for f in facts}]

    def merge(self, states: Iterable[Any]) -> Any:
        total, per_key = Fraction(0), {}
        for t, k in states:
            total += _dec(t)
            per_key.update(k)
        return [_enc(total), per_key]

    def finish(self, state: Any) -> KPIValue:
        num, den = _dec(state[0]), _exact(state[1].values())
        return KPIValue(value=_quotient(num, den), numerator=_number(num), denominator=_number(den))


def count() -> Reducer:
    """The number of facts."""
    return _Count()


def ratio(flag: str) -> Reducer:
    """Facts whose `flag` is true ÷ all facts; null when there are none."""
    return _Ratio(flag)


def sum_ratio(numerator: str, denominator: str) -> Reducer:
    """Σ numerator ÷ Σ denominator over the facts; null when Σ denominator is 0."""
    return _SumRatio(numerator, denominator)


def mean(field: str) -> Reducer:
    """Mean of the non-null `field` values; `n` is how many."""
    return _Mean(field)


def median(field: str) -> Reducer:
    """Median; for an even count the mean of the two middle values (statistics.median does so)."""
    return _Median(field)


def sum_per_distinct(field: str, key: str) -> Reducer:
    """Σ field ÷ the number of distinct `key` values among the facts; null when there are none
    (e.g. shipping cost of shipments per distinct order among them)."""
    return _SumPerDistinct(field, key)


def sum_ratio_distinct(numerator: str, denominator: str, key: str) -> Reducer:
    """Σ numerator over the facts ÷ Σ denominator counted once per distinct `key` (e.g. shipping
    cost of shipments ÷ the merchandise value of their distinct orders); null when that Σ is 0."""
    return _SumRatioDistinct(numerator, denominator, key)
