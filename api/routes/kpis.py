"""KPIs for a period, one KPI grouped or as a series, and the definitions (kpis.md shapes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from litestar import Request, Response, get
from litestar.params import FromPath, QueryParameter

from api.auth import OPS
from api.deps import runtime_of
from core.domain.errors import InvalidInput
from core.hookspecs import hookimpl
from core.kpis.engine import KPIDefinitionOut, KPIEngine, definitions, period
from core.kpis.export import kpi_csv, kpis_csv

From = Annotated[
    str, QueryParameter(name="from", min_length=10, max_length=40, description="date or RFC 3339 UTC time")
]
To = Annotated[
    str, QueryParameter(name="to", min_length=10, max_length=40, description="date or RFC 3339 UTC time (exclusive)")
]
Filter = Annotated[str | None, QueryParameter(max_length=64)]


def _filters(
    channel: str | None, segment: str | None, location: str | None, customer_segment: str | None = None
) -> dict[str, str]:
    given = (("channel", channel), ("segment", segment), ("location", location), ("customer_segment", customer_segment))
    filters = {k: v for k, v in given if v}
    if segment and segment not in {"first_order", "returning", "reactivated"}:
        raise InvalidInput("segment must be first_order, returning or reactivated")
    return filters


@get("/v1/kpis", guards=[OPS], tags=["kpis"], summary="Every KPI for the period [from, to)")
async def all_kpis(
    request: Request[Any, Any, Any],
    start: From,
    end: To,
    channel: Annotated[str | None, QueryParameter(name="channel", max_length=64)] = None,
    segment: Annotated[str | None, QueryParameter(name="segment", max_length=64)] = None,
    location: Annotated[str | None, QueryParameter(name="location", max_length=64)] = None,
    customer_segment: Annotated[str | None, QueryParameter(name="customer_segment", max_length=64)] = None,
    output: Annotated[str | None, QueryParameter(name="format", max_length=10)] = None,
) -> Any:
    s, e = period(start, end)
    filters = _filters(channel, segment, location, customer_segment)
    values = await KPIEngine(runtime_of(request).host).all(s, e, filters)
    result = {"from": s, "to": e, "filters": filters, "kpis": values}
    if _wants_csv(request, output):
        names = {d.id: d.name for d in definitions(runtime_of(request).host)}
        return _csv(kpis_csv(result, names), f"kpis-{start}-{end}.csv")
    return result


@get("/v1/kpis/definitions", guards=[OPS], tags=["kpis"], summary="Every KPI's definition")
async def kpi_definitions(request: Request[Any, Any, Any]) -> list[KPIDefinitionOut]:
    return definitions(runtime_of(request).host)


@get(
    "/v1/kpis/{kpi_id:str}",
    guards=[OPS],
    tags=["kpis"],
    summary="One KPI: plain, grouped (group_by) or a series (granularity)",
)
async def one_kpi(
    request: Request[Any, Any, Any],
    kpi_id: FromPath[str],
    start: From,
    end: To,
    group_by: Annotated[str | None, QueryParameter(name="group_by", max_length=40)] = None,
    granularity: Annotated[str | None, QueryParameter(name="granularity", max_length=10)] = None,
    channel: Annotated[str | None, QueryParameter(name="channel", max_length=64)] = None,
    segment: Annotated[str | None, QueryParameter(name="segment", max_length=64)] = None,
    location: Annotated[str | None, QueryParameter(name="location", max_length=64)] = None,
    customer_segment: Annotated[str | None, QueryParameter(name="customer_segment", max_length=64)] = None,
    output: Annotated[str | None, QueryParameter(name="format", max_length=10)] = None,
) -> Any:
    s, e = period(start, end)
    filters = _filters(channel, segment, location, customer_segment)
    engine = KPIEngine(runtime_of(request).host)
    kpi = engine.definition(kpi_id)
    if group_by and granularity:
        raise InvalidInput("ask for group_by or granularity, not both")
    head = {"id": kpi.id, "from": s, "to": e, "filters": filters, "unit": kpi.unit}
    if group_by:
        result = {**head, "group_by": group_by, "groups": await engine.grouped(kpi, s, e, filters, group_by)}
    elif granularity:
        result = {**head, "granularity": granularity, "series": await engine.series(kpi, s, e, filters, granularity)}
    else:
        result = {**head, **(await engine.value(kpi, s, e, filters))}
    if _wants_csv(request, output):
        return _csv(kpi_csv(result), f"{kpi.id}-{start}-{end}.csv")
    return result


def _wants_csv(request: Request[Any, Any, Any], output: str | None) -> bool:
    if output is not None and output not in {"json", "csv"}:
        raise InvalidInput("format must be json or csv")
    return output == "csv" or (output is None and request.headers.get("accept", "").startswith("text/csv"))


def _csv(body: str, filename: str) -> Any:
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@hookimpl
def register_routes(register: Callable[[Any], None]) -> None:
    for handler in (all_kpis, kpi_definitions, one_kpi):
        register(handler)
