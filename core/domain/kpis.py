"""KPI definitions: a fact source (the KPI's base records) and a reducer (how they become a value).

A KPI is computed for a period P = [start, end) from the facts its source loads; grouping and
series are the same reducer applied to subsets, so every KPI gets `group_by` and `granularity`
for free and they always agree with the plain value.
"""

from __future__ import annotations

import statistics
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

import msgspec

Fact = dict[str, Any]


class FactQuery(msgspec.Struct, frozen=True, kw_only=True):
    start: datetime
    end: datetime
    channel: str | None = None
    segment: str | None = None
    location: str | None = None


FactLoader = Callable[[FactQuery], Awaitable[list[Fact]]]


class FactSource(msgspec.Struct, frozen=True, kw_only=True):
    """Loads the base records of one or more KPIs. Every fact has `at` (its attribution time).

    `filters` names the filters (channel, segment, location) the loader honours; for any other
    filter the KPI is returned unfiltered with `filter_not_applicable: true`.
    """

    id: str
    load: FactLoader
    filters: frozenset[str] = frozenset()


class KPIValue(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    value: float | int | None
    numerator: float | int | None = None
    denominator: float | int | None = None
    n: int | None = None


Reducer = Callable[[Sequence[Fact]], KPIValue]


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


def count() -> Reducer:
    def reduce(facts: Sequence[Fact]) -> KPIValue:
        return KPIValue(value=len(facts))

    return reduce


def ratio(flag: str) -> Reducer:
    """Facts whose `flag` is true ÷ all facts; null when there are none."""

    def reduce(facts: Sequence[Fact]) -> KPIValue:
        den = len(facts)
        num = sum(1 for f in facts if f[flag])
        return KPIValue(value=num / den if den else None, numerator=num, denominator=den)

    return reduce


def sum_ratio(numerator: str, denominator: str) -> Reducer:
    """Σ numerator ÷ Σ denominator over the facts; null when Σ denominator is 0."""

    def reduce(facts: Sequence[Fact]) -> KPIValue:
        num = sum(f[numerator] for f in facts)
        den = sum(f[denominator] for f in facts)
        return KPIValue(value=num / den if den else None, numerator=num, denominator=den)

    return reduce


def mean(field: str) -> Reducer:
    def reduce(facts: Sequence[Fact]) -> KPIValue:
        values = [f[field] for f in facts if f[field] is not None]
        return KPIValue(value=sum(values) / len(values) if values else None, n=len(values))

    return reduce


def median(field: str) -> Reducer:
    """Median; for an even count the mean of the two middle values (statistics.median does so)."""

    def reduce(facts: Sequence[Fact]) -> KPIValue:
        values = [f[field] for f in facts if f[field] is not None]
        return KPIValue(value=statistics.median(values) if values else None, n=len(values))

    return reduce
