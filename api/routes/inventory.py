"""Inventory levels and cycle counts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from litestar import Request, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import OPS, principal_of
from api.deps import runtime_of
from core.catalogue import inventory
from core.domain.inventory import CycleCountIn, CycleCountOut, LevelOut, SetOnHand
from core.hookspecs import hookimpl


@put("/v1/inventory/{location:str}/{sku:str}", guards=[OPS], tags=["inventory"], summary="Set units on hand")
async def set_level(
    request: Request[Any, Any, Any], location: FromPath[str], sku: FromPath[str], data: JSONBody[SetOnHand]
) -> LevelOut:
    runtime = runtime_of(request)
    async with runtime.unit_of_work():
        return await inventory.set_on_hand(runtime.db, location, sku, data.on_hand, actor=principal_of(request).name)


@get("/v1/inventory", guards=[OPS], tags=["inventory"], summary="Levels per location")
async def list_levels(
    sku: Annotated[str | None, QueryParameter(name="sku", max_length=64)] = None,
    location: Annotated[str | None, QueryParameter(name="location", max_length=64)] = None,
) -> list[LevelOut]:
    return await inventory.levels(sku=sku, location=location)


@post("/v1/inventory/counts", guards=[OPS], tags=["inventory"], summary="Record a cycle count")
async def cycle_count(request: Request[Any, Any, Any], data: JSONBody[CycleCountIn]) -> CycleCountOut:
    runtime = runtime_of(request)
    async with runtime.unit_of_work():
        return await inventory.record_count(runtime.db, data, actor=principal_of(request).name)


@hookimpl
def register_routes(register: Callable[[Any], None]) -> None:
    for handler in (set_level, list_levels, cycle_count):
        register(handler)
