"""Customers and their timeline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import AGENT, OPS, STOREFRONT_OR_OPS
from api.deps import runtime_of
from core.customers import customers
from core.db.pagination import Page
from core.domain.customers import CustomerIn, CustomerOut
from core.hookspecs import hookimpl
from core.jobs import outbox as events


@post("/v1/customers", guards=[STOREFRONT_OR_OPS], tags=["customers"], summary="Create a customer")
async def create_customer(request: Request[Any, Any, Any], data: JSONBody[CustomerIn]) -> CustomerOut:
    async with runtime_of(request).unit_of_work():
        return await customers.create_customer(data)


@get("/v1/customers/{customer_id:str}", guards=[OPS], tags=["customers"], summary="Read a customer")
async def get_customer(customer_id: FromPath[str]) -> CustomerOut:
    return await customers.get_customer(customer_id)


@get(
    "/v1/customers/{customer_id:str}/timeline",
    guards=[AGENT],
    tags=["customers"],
    summary="Every event touching the customer, newest first",
)
async def customer_timeline(
    customer_id: FromPath[str],
    limit: Annotated[int, QueryParameter(name="limit", ge=1, le=200)] = 100,
    cursor: Annotated[str | None, QueryParameter(name="cursor", max_length=200)] = None,
) -> Page[dict[str, Any]]:
    await customers.get_customer(customer_id)
    return await events.timeline_page(customer_id=customer_id, limit=limit, cursor=cursor)


@hookimpl
def register_routes(register: Callable[[Any], None]) -> None:
    for handler in (create_customer, get_customer, customer_timeline):
        register(handler)
