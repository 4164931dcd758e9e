"""Customers as a filtered list (segments, CSV), segment builds and sizes over time, and the
person's data under GDPR: export and erase (admin only)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, QueryParameter

from api.auth import ADMIN, AGENT_OR_OPS, OPS, principal_of
from api.deps import runtime_of
from core.customers import directory, privacy, segments
from core.db.database import utcnow
from core.db.pagination import Page
from core.domain.customers import CustomerOut
from core.domain.errors import InvalidInput
from core.hookspecs import hookimpl


@get("/v1/customers", guards=[AGENT_OR_OPS], tags=["customers"], summary="Customers by segment or email")
async def list_customers(
    request: Request[Any, Any, Any],
    segment: Annotated[str | None, QueryParameter(name="segment", max_length=60)] = None,
    email: Annotated[str | None, QueryParameter(name="email", max_length=320)] = None,
    limit: Annotated[int, QueryParameter(name="limit", ge=1, le=200)] = 50,
    cursor: Annotated[str | None, QueryParameter(name="cursor", max_length=200)] = None,
    format: Annotated[str | None, QueryParameter(name="format", max_length=10)] = None,
) -> Page[CustomerOut] | Response[str]:
    """`format=csv` (or `Accept: text/csv`) answers the page as CSV, with `next_cursor` in the
    `X-Next-Cursor` header."""
    page = await directory.list_customers(segment=segment, email=email, limit=limit, cursor=cursor)
    if format == "csv" or "text/csv" in request.headers.get("accept", ""):
        headers = {"X-Next-Cursor": page.next_cursor} if page.next_cursor else {}
        return Response(content=directory.as_csv(page.items), media_type="text/csv; charset=utf-8", headers=headers)
    if format not in (None, "json"):
        raise InvalidInput("format must be json or csv", errors=[{"field": "format"}])
    return page


@post("/v1/segments/build", guards=[OPS], tags=["customers"], status_code=200, summary="Rebuild segments now")
async def build_segments(request: Request[Any, Any, Any]) -> dict[str, Any]:
    runtime = runtime_of(request)
    async with runtime.unit_of_work():
        customers = await segments.build(runtime.host)
    return {"customers": customers}


@get("/v1/segments", guards=[OPS], tags=["customers"], summary="Segment sizes now and day by day")
async def segment_sizes(
    days: Annotated[int, QueryParameter(name="days", ge=1, le=366)] = 30,
) -> dict[str, Any]:
    now = utcnow()
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    instants = [today - timedelta(days=n) for n in range(days - 1, -1, -1)] + [now]
    series = await segments.sizes_over_time(instants)
    return {"now": series[-1]["sizes"], "series": series[:-1]}


@get("/v1/customers/{customer_id:str}/export", guards=[ADMIN], tags=["customers"], summary="GDPR: all data held")
async def export_customer(request: Request[Any, Any, Any], customer_id: FromPath[str]) -> dict[str, Any]:
    return await privacy.export(customer_id, runtime_of(request).db)


@post(
    "/v1/customers/{customer_id:str}/erase",
    guards=[ADMIN],
    tags=["customers"],
    status_code=200,
    summary="GDPR: erase the person's data; orders and payments stay countable",
)
async def erase_customer(request: Request[Any, Any, Any], customer_id: FromPath[str]) -> dict[str, Any]:
    runtime = runtime_of(request)
    async with runtime.unit_of_work():
        return await privacy.erase(runtime.db, customer_id, runtime.settings.data_dir, principal_of(request).name)


@hookimpl
def register_routes(register: Callable[[Any], None]) -> None:
    for handler in (list_customers, build_segments, segment_sizes, export_customer, erase_customer):
        register(handler)
