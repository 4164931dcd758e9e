"""Products and locations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import OPS
from api.deps import runtime_of
from core.catalogue import catalogue
from core.db.pagination import Page
from core.domain.catalogue import LocationIn, LocationOut, ProductIn, ProductOut
from core.hookspecs import hookimpl

Limit = Annotated[int, QueryParameter(name="limit", ge=1, le=200)]
Cursor = Annotated[str | None, QueryParameter(name="cursor", max_length=200)]


@post("/v1/products", guards=[OPS], tags=["catalogue"], summary="Create a product")
async def create_product(request: Request[Any, Any, Any], data: JSONBody[ProductIn]) -> ProductOut:
    async with runtime_of(request).unit_of_work():
        return await catalogue.create_product(data)


@get("/v1/products", guards=[OPS], tags=["catalogue"], summary="List products")
async def list_products(
    limit: Limit = 50,
    cursor: Cursor = None,
    category: Annotated[str | None, QueryParameter(name="category", max_length=100)] = None,
) -> Page[ProductOut]:
    return await catalogue.list_products(limit, cursor, category)


@get("/v1/products/{sku:str}", guards=[OPS], tags=["catalogue"], summary="Read a product")
async def get_product(sku: FromPath[str]) -> ProductOut:
    return await catalogue.get_product(sku)


@post("/v1/locations", guards=[OPS], tags=["catalogue"], summary="Create a warehouse or store")
async def create_location(request: Request[Any, Any, Any], data: JSONBody[LocationIn]) -> LocationOut:
    async with runtime_of(request).unit_of_work():
        return await catalogue.create_location(data)


@get("/v1/locations", guards=[OPS], tags=["catalogue"], summary="List locations")
async def list_locations() -> list[LocationOut]:
    return await catalogue.list_locations()


@get("/v1/locations/{code:str}", guards=[OPS], tags=["catalogue"], summary="Read a location")
async def get_location(code: FromPath[str]) -> LocationOut:
    return await catalogue.get_location(code)


@hookimpl
def register_routes(register: Callable[[Any], None]) -> None:
    for handler in (create_product, list_products, get_product, create_location, list_locations, get_location):
        register(handler)
