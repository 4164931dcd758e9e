"""Orders: intake with atomic reservation, reading, listing, cancelling, timeline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import msgspec
from litestar import Request, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import (
    AGENT_OR_OPS,
    OPS,
    STOREFRONT,
    STOREFRONT_OPS_OR_CUSTOMER,
    STOREFRONT_OR_OPS,
    hide_unless_own,
    principal_of,
)
from api.deps import runtime_of
from api.routes.payments import start_payment_for
from core.db.pagination import Page
from core.domain.errors import InvalidInput
from core.domain.orders import CancelOrder, OrderOut, PlaceOrder, ShippingAddress
from core.fulfilment import addresses, routing
from core.hookspecs import hookimpl
from core.jobs import outbox as events
from core.orders import cancellation, counter, orders, views


@post(
    "/v1/orders",
    guards=[STOREFRONT],
    tags=["orders"],
    summary="Place an order (stock reserved atomically)",
    description="409 when any line cannot be reserved anywhere (nothing is reserved then). A `store` "
    "channel order (point of sale) names its store in `location`: stock is taken there, it is paid at the "
    "counter (`payment.provider`: a counter method such as cash or card_present) and delivered at once.",
)
async def place_order(request: Request[Any, Any, Any], data: JSONBody[PlaceOrder]) -> OrderOut:
    runtime = runtime_of(request)
    if await counter.is_store_channel(data):
        return await counter.place_store_order(runtime, data)
    counter.check_not_counter(data)
    address = msgspec.to_builtins(data.shipping_address) if data.shipping_address else None
    problem = routing.delivery_problem(runtime.host.couriers, data.delivery.method.value, address)
    if problem is not None:  # refused here; orders arriving another way are held for ops (routing.hold)
        raise InvalidInput(problem["message"], errors=[problem])
    async with runtime.unit_of_work():
        order = await orders.place_order(runtime.db, runtime.host, runtime.settings, data)
    return await start_payment_for(request, order, data.payment.provider if data.payment else None)


@get("/v1/orders/{order_id:str}", guards=[STOREFRONT_OPS_OR_CUSTOMER], tags=["orders"], summary="Read an order")
async def get_order(request: Request[Any, Any, Any], order_id: FromPath[str]) -> OrderOut:
    order = await views.get_order(order_id)
    hide_unless_own(request, order.customer_id, f"no order with id {order_id}")  # a customer token: its own only
    return order


@get("/v1/orders", guards=[OPS], tags=["orders"], summary="List orders, newest first")
async def list_orders(
    status: Annotated[str | None, QueryParameter(name="status", max_length=40)] = None,
    channel: Annotated[str | None, QueryParameter(name="channel", max_length=64)] = None,
    customer: Annotated[str | None, QueryParameter(name="customer", max_length=64)] = None,
    limit: Annotated[int, QueryParameter(name="limit", ge=1, le=200)] = 50,
    cursor: Annotated[str | None, QueryParameter(name="cursor", max_length=200)] = None,
) -> Page[OrderOut]:
    return await views.list_orders(limit=limit, cursor=cursor, status=status, channel=channel, customer=customer)


@post(
    "/v1/orders/{order_id:str}/cancel",
    guards=[STOREFRONT_OR_OPS],
    tags=["orders"],
    status_code=200,
    summary="Cancel an order and release its stock (409 once shipped)",
)
async def cancel_order(
    request: Request[Any, Any, Any], order_id: FromPath[str], data: JSONBody[CancelOrder | None] = None
) -> OrderOut:
    runtime = runtime_of(request)
    async with runtime.unit_of_work():
        return await cancellation.cancel_order(
            runtime.db, order_id, data.reason if data else None, principal_of(request).name
        )


@patch(
    "/v1/orders/{order_id:str}/shipping-address",
    guards=[AGENT_OR_OPS],
    tags=["orders"],
    summary="Correct the shipping address before a label exists; the order is routed for it",
    description="409 once a courier label exists or the order shipped; 422 when no installed courier "
    "delivers to the new address. Recorded in the order's timeline (who changed which fields).",
)
async def correct_shipping_address(
    request: Request[Any, Any, Any], order_id: FromPath[str], data: JSONBody[ShippingAddress]
) -> OrderOut:
    return await addresses.change_shipping_address(runtime_of(request), order_id, data, principal_of(request).name)


@get(
    "/v1/orders/{order_id:str}/timeline",
    guards=[AGENT_OR_OPS],
    tags=["orders"],
    summary="The order's events, newest first",
)
async def order_timeline(
    order_id: FromPath[str],
    limit: Annotated[int, QueryParameter(name="limit", ge=1, le=200)] = 100,
    cursor: Annotated[str | None, QueryParameter(name="cursor", max_length=200)] = None,
) -> Page[dict[str, Any]]:
    await views.get_order(order_id)
    return await events.timeline_page(order_id=order_id, limit=limit, cursor=cursor)


@hookimpl
def register_routes(register: Callable[[Any], None]) -> None:
    for handler in (place_order, get_order, list_orders, cancel_order, correct_shipping_address, order_timeline):
        register(handler)
