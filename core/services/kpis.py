"""The KPI engine: period parsing, filters, group_by and series over registered KPIs.

Facts are loaded once per source per request and shared by every KPI reading that source.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec

from core.domain.errors import InvalidInput, NotFound
from core.domain.kpis import Fact, FactQuery, KPIDefinition, KPIValue
from core.plugins import PluginHost

FILTERS = ("channel", "segment", "location")
GRANULARITIES = ("day", "week", "month")


class KPIDefinitionOut(msgspec.Struct, frozen=True):
    id: str
    name: str
    unit: str
    formula: str
    dimensions: list[str]
    filters: list[str]
    plugin: str


def parse_instant(value: str, field: str) -> datetime:
    """A date (midnight UTC) or an RFC 3339 time with an offset, as UTC."""
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{field} must be a date (2026-03-01) or an RFC 3339 time (2026-03-01T00:00:00Z)") from None
    if parsed.tzinfo is None:
        raise InvalidInput(f"{field} needs a UTC offset (…Z or …+00:00)")
    return parsed.astimezone(UTC)


def period(start: str, end: str) -> tuple[datetime, datetime]:
    s, e = parse_instant(start, "from"), parse_instant(end, "to")
    if s >= e:
        raise InvalidInput("from must be before to (the period is [from, to))")
    if (e - s).days > 3660:
        raise InvalidInput("the period may span at most ten years")
    return s, e


def definitions(host: PluginHost) -> list[KPIDefinitionOut]:
    return [
        KPIDefinitionOut(d.id, d.name, d.unit, d.formula, list(d.dimensions), sorted(d.facts.filters), r.plugin)
        for r in host.kpis.values()
        for d in [r.value]
    ]


def _apply_filters(facts: Sequence[Fact], filters: dict[str, str]) -> list[Fact]:
    return [f for f in facts if all(f.get(k) == v for k, v in filters.items())]


def _out(kpi: KPIDefinition, value: KPIValue, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"value": value.value, "unit": kpi.unit}
    for k in ("numerator", "denominator", "n"):
        v = getattr(value, k)
        if v is not None:
            out[k] = v
    if extra:
        out.update(extra)
    return out


class KPIEngine:
    def __init__(self, host: PluginHost) -> None:
        self.host = host
        self._facts: dict[str, list[Fact]] = {}

    def definition(self, kpi_id: str) -> KPIDefinition:
        registered = self.host.kpis.get(kpi_id)
        if registered is None:
            raise NotFound(f"no KPI {kpi_id}; see /v1/kpis/definitions")
        kpi: KPIDefinition = registered.value
        return kpi

    async def _facts_for(
        self, kpi: KPIDefinition, start: datetime, end: datetime, filters: dict[str, str]
    ) -> tuple[list[Fact], bool]:
        key = kpi.facts.id
        if key not in self._facts:
            self._facts[key] = await kpi.facts.load(FactQuery(start=start, end=end))
        applicable = {k: v for k, v in filters.items() if k in kpi.facts.filters}
        return _apply_filters(self._facts[key], applicable), len(applicable) < len(filters)

    async def value(
        self, kpi: KPIDefinition, start: datetime, end: datetime, filters: dict[str, str]
    ) -> dict[str, Any]:
        facts, not_applicable = await self._facts_for(kpi, start, end, filters)
        return _out(kpi, kpi.reduce(facts), {"filter_not_applicable": True} if not_applicable else None)

    async def all(self, start: datetime, end: datetime, filters: dict[str, str]) -> dict[str, Any]:
        return {
            kpi_id: await self.value(self.definition(kpi_id), start, end, filters) for kpi_id in sorted(self.host.kpis)
        }

    async def grouped(
        self, kpi: KPIDefinition, start: datetime, end: datetime, filters: dict[str, str], dimension: str
    ) -> list[dict[str, Any]]:
        if dimension not in kpi.dimensions:
            choices = ", ".join(kpi.dimensions) or "none"
            raise InvalidInput(f"{kpi.id} cannot be grouped by {dimension}; dimensions: {choices}")
        facts, _ = await self._facts_for(kpi, start, end, filters)
        groups: dict[Any, list[Fact]] = defaultdict(list)
        for fact in facts:
            groups[fact.get(dimension)].append(fact)
        return [
            {"key": key, **{k: v for k, v in _out(kpi, kpi.reduce(group)).items() if k != "unit"}}
            for key, group in sorted(groups.items(), key=lambda kv: (kv[0] is None, str(kv[0])))
        ]

    async def series(
        self, kpi: KPIDefinition, start: datetime, end: datetime, filters: dict[str, str], granularity: str
    ) -> list[dict[str, Any]]:
        if granularity not in GRANULARITIES:
            raise InvalidInput(f"granularity must be one of {', '.join(GRANULARITIES)}")
        facts, _ = await self._facts_for(kpi, start, end, filters)
        buckets: dict[datetime, list[Fact]] = defaultdict(list)
        for fact in facts:
            buckets[bucket_start(fact["at"], granularity)].append(fact)
        out = []
        current = bucket_start(start, granularity)
        while current < end:
            value = kpi.reduce(buckets.get(current, []))
            out.append({"period_start": current, **{k: v for k, v in _out(kpi, value).items() if k != "unit"}})
            current = next_bucket(current, granularity)
        return out


def bucket_start(at: datetime, granularity: str) -> datetime:
    day = datetime(at.year, at.month, at.day, tzinfo=UTC)
    if granularity == "day":
        return day
    if granularity == "week":
        return day - timedelta(days=day.weekday())
    return datetime(at.year, at.month, 1, tzinfo=UTC)


def next_bucket(at: datetime, granularity: str) -> datetime:
    if granularity == "day":
        return at + timedelta(days=1)
    if granularity == "week":
        return at + timedelta(days=7)
    return datetime(at.year + at.month // 12, at.month % 12 + 1, 1, tzinfo=UTC)


def as_utc(value: Any) -> datetime | None:
    """Timestamps from aggregate SQL come back as text on SQLite; normalise to aware UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
