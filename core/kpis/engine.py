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
from core.domain.kpis import Fact, FactQuery, FactSource, GroupsReducer, KPIDefinition, KPIValue
from core.kpis import rollups as kpi_rollups
from core.kpis.segments import customer_segment_members
from core.plugins import PluginHost
from core.settings import KPI_ROLLUPS, read

FILTERS = ("channel", "segment", "location", "customer_segment")
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


def _whole_days(start: datetime, end: datetime, before: date) -> list[date]:
    first = (
        start.date()
        if start == datetime(start.year, start.month, start.day, tzinfo=UTC)
        else start.date() + timedelta(1)
    )
    days = []
    day = first
    while datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1) <= end and day < before:
        days.append(day)
        day += timedelta(days=1)
    return days


class KPIEngine:
    """Computes KPIs for one request (one period). With rollups (the default;
    EMPORIO_KPI_ROLLUPS=0 turns them off) closed clean days come from rollups and the rest from
    raw facts; either way the same reducers give the same answer."""

    def __init__(self, host: PluginHost, *, use_rollups: bool | None = None) -> None:
        self.host = host
        if use_rollups is None:
            use_rollups = read(KPI_ROLLUPS)
        self.plans = kpi_rollups.plans(host) if use_rollups else {}
        self._period: tuple[datetime, datetime] | None = None
        self._usable: dict[str, set[date]] = {}  # source id → days read from rollups
        self._facts: dict[str, list[Fact]] = {}  # source id → raw facts of every other part of the period
        self._rows: dict[tuple[str, str], list[kpi_rollups.Row]] = {}  # (source id, cut) → rollup rows
        self._pending: set[date] | None = None
        self._segment_members: dict[str, set[str]] = {}

    def definition(self, kpi_id: str) -> KPIDefinition:
        registered = self.host.kpis.get(kpi_id)
        if registered is None:
            raise NotFound(f"no KPI {kpi_id}; see /v1/kpis/definitions")
        kpi: KPIDefinition = registered.value
        return kpi

    @staticmethod
    def _cut(kpi: KPIDefinition, filters: dict[str, str], grouped: bool) -> str:
        """The coarsest rollup cut that answers: every dimension to group by, the filters'
        dimensions to filter on, else one pre-merged row per day."""
        if grouped:
            return "all"
        return "filters" if any(k in kpi.facts.filters for k in filters) else "total"

    async def _prepare(self, wanted: list[tuple[FactSource, str]], start: datetime, end: datetime) -> None:
        """Load what the (source, cut) pairs need and is not loaded yet: the usable days of all
        their sources (two queries), the raw facts of everything else, then the rollup rows of
        every pair in one query."""
        if self._period != (start, end):
            self._period = (start, end)
            self._usable, self._facts, self._rows = {}, {}, {}
        sources = {source.id: source for source, _ in wanted}
        fresh = [sid for sid in sources if sid not in self._facts]
        if fresh:
            self._usable.update(await self._usable_days(fresh, start, end))
            for sid in fresh:
                self._facts[sid] = await self._raw(sources[sid], start, end, self._usable[sid])
        missing = sorted({(source.id, cut) for source, cut in wanted if (source.id, cut) not in self._rows})
        keys = {pair: self.plans[pair[0]].cut_key(pair[1]) for pair in missing if pair[0] in self.plans}
        rows = await kpi_rollups.rollup_rows_of({key: self._usable[pair[0]] for pair, key in keys.items()})
        for pair in missing:
            self._rows[pair] = rows[keys[pair]] if pair in keys else []

    async def _usable_days(self, source_ids: list[str], start: datetime, end: datetime) -> dict[str, set[date]]:
        usable: dict[str, set[date]] = {sid: set() for sid in source_ids}
        keyed = {self.plans[sid].key: sid for sid in source_ids if sid in self.plans}
        days = _whole_days(start, end, datetime.now(UTC).date())
        if not keyed or not days:
            return usable
        built = await kpi_rollups.usable_days_of(list(keyed), days[0], days[-1] + timedelta(days=1))
        if any(built.values()) and self._pending is None:
            self._pending = await kpi_rollups.pending_days()
        for key, sid in keyed.items():
            usable[sid] = built[key] - (self._pending or set())
        return usable

    @staticmethod
    async def _raw(source: FactSource, start: datetime, end: datetime, usable: set[date]) -> list[Fact]:
        """Raw facts for the gaps between usable days."""
        facts: list[Fact] = []
        cursor = start
        for day in sorted(usable):
            day_start = kpi_rollups.day_start(day)
            if cursor < day_start:
                facts.extend(await source.load(FactQuery(start=cursor, end=day_start)))
            cursor = day_start + timedelta(days=1)
        if cursor < end:
            facts.extend(await source.load(FactQuery(start=cursor, end=end)))
        return facts

    async def _members(self, segment: str) -> set[str]:
        if segment not in self._segment_members:
            self._segment_members[segment] = await customer_segment_members(segment)
        return self._segment_members[segment]

    async def _parts(
        self, kpi: KPIDefinition, start: datetime, end: datetime, filters: dict[str, str], grouped: bool = False
    ) -> tuple[list[Fact], list[tuple[date, dict[str, Any], Any]], bool]:
        segment = filters.get("customer_segment")
        if segment is not None and "customer_segment" in kpi.facts.filters:
            # The customer's segments now: rollups keep no customer, so read the period raw.
            members = await self._members(segment)
            others = {k: v for k, v in filters.items() if k in kpi.facts.filters and k != "customer_segment"}
            facts = [
                f
                for f in _apply_filters(await kpi.facts.load(FactQuery(start=start, end=end)), others)
                if f.get("customer_id") in members
            ]
            return facts, [], len(others) + 1 < len(filters)
        cut = self._cut(kpi, filters, grouped)
        await self._prepare([(kpi.facts, cut)], start, end)
        applicable = {k: v for k, v in filters.items() if k in kpi.facts.filters}
        facts = _apply_filters(self._facts[kpi.facts.id], applicable)
        rows = [
            (day, dims, states[kpi.id])
            for day, dims, states in self._rows[(kpi.facts.id, cut)]
            if kpi.id in states and all(dims.get(k) == v for k, v in applicable.items())
        ]
        return facts, rows, len(applicable) < len(filters)

    @staticmethod
    def _reduce(kpi: KPIDefinition, facts: Sequence[Fact], states: list[Any]) -> KPIValue:
        if not states:
            return kpi.reduce(facts)
        reducer = kpi.reduce
        return reducer.finish(reducer.merge([reducer.partial(facts), *states]))

    @staticmethod
    def _groups(kpi: KPIDefinition, facts: Sequence[Fact], states: list[Any]) -> dict[str, Any]:
        """`{"groups": […]}` for a groups-only KPI (GroupsReducer), else nothing."""
        reducer = kpi.reduce
        if not isinstance(reducer, GroupsReducer):
            return {}
        return {"groups": reducer.groups(reducer.merge([reducer.partial(facts), *states]))}

    async def value(
        self, kpi: KPIDefinition, start: datetime, end: datetime, filters: dict[str, str]
    ) -> dict[str, Any]:
        facts, rows, not_applicable = await self._parts(kpi, start, end, filters)
        states = [state for _, _, state in rows]
        value = self._reduce(kpi, facts, states)
        extra = {"filter_not_applicable": True} if not_applicable else {}
        return _out(kpi, value, {**extra, **self._groups(kpi, facts, states)} or None)

    async def all(self, start: datetime, end: datetime, filters: dict[str, str]) -> dict[str, Any]:
        kpis = [self.definition(kpi_id) for kpi_id in sorted(self.host.kpis)]
        await self._prepare([(kpi.facts, self._cut(kpi, filters, grouped=False)) for kpi in kpis], start, end)
        return {kpi.id: await self.value(kpi, start, end, filters) for kpi in kpis}

    async def grouped(
        self, kpi: KPIDefinition, start: datetime, end: datetime, filters: dict[str, str], dimension: str
    ) -> list[dict[str, Any]]:
        if dimension not in kpi.dimensions:
            choices = ", ".join(kpi.dimensions) or "none"
            raise InvalidInput(f"{kpi.id} cannot be grouped by {dimension}; dimensions: {choices}")
        facts, rows, _ = await self._parts(kpi, start, end, filters, grouped=True)
        if isinstance(kpi.reduce, GroupsReducer):  # its groups are the answer, whatever the dimension
            return list(self._groups(kpi, facts, [state for _, _, state in rows])["groups"])
        groups: dict[Any, list[Fact]] = defaultdict(list)
        states: dict[Any, list[Any]] = defaultdict(list)
        for fact in facts:
            groups[fact.get(dimension)].append(fact)
        for _, dims, state in rows:
            states[dims.get(dimension)].append(state)
        keys = set(groups) | set(states)
        return [
            {
                "key": key,
                **{
                    k: v
                    for k, v in _out(kpi, self._reduce(kpi, groups.get(key, []), states.get(key, []))).items()
                    if k != "unit"
                },
            }
            for key in sorted(keys, key=lambda k: (k is None, str(k)))
        ]

    async def series(
        self, kpi: KPIDefinition, start: datetime, end: datetime, filters: dict[str, str], granularity: str
    ) -> list[dict[str, Any]]:
        if granularity not in GRANULARITIES:
            raise InvalidInput(f"granularity must be one of {', '.join(GRANULARITIES)}")
        if kpi.facts.whole_period:
            return await self._whole_period_series(kpi, start, end, filters, granularity)
        facts, rows, _ = await self._parts(kpi, start, end, filters)
        buckets: dict[datetime, list[Fact]] = defaultdict(list)
        states: dict[datetime, list[Any]] = defaultdict(list)
        for fact in facts:
            buckets[bucket_start(fact["at"], granularity)].append(fact)
        for day, _, state in rows:
            states[bucket_start(kpi_rollups.day_start(day), granularity)].append(state)
        out = []
        current = bucket_start(start, granularity)
        while current < end:
            value = self._reduce(kpi, buckets.get(current, []), states.get(current, []))
            groups = self._groups(kpi, buckets.get(current, []), states.get(current, []))
            out.append(
                {"period_start": current, **{k: v for k, v in _out(kpi, value).items() if k != "unit"}, **groups}
            )
            current = next_bucket(current, granularity)
        return out

    async def _whole_period_series(
        self, kpi: KPIDefinition, start: datetime, end: datetime, filters: dict[str, str], granularity: str
    ) -> list[dict[str, Any]]:
        """Each bucket is a period of its own (clipped to [start, end)), as if asked alone."""
        out = []
        current = bucket_start(start, granularity)
        while current < end:
            part_start, part_end = max(current, start), min(next_bucket(current, granularity), end)
            facts, _, _ = await self._parts(kpi, part_start, part_end, filters)
            value = kpi.reduce(facts)
            groups = self._groups(kpi, facts, [])
            out.append(
                {"period_start": current, **{k: v for k, v in _out(kpi, value).items() if k != "unit"}, **groups}
            )
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
