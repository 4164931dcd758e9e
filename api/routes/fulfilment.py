"""Fulfilment: allocation and routing, shipments (pick, pack, label, tracking), dispatch,
courier webhooks, policies, and the tasks failed deliveries leave for agents."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import AGENT_OR_OPS, OPS, STOREFRONT_OR_OPS, principal_of
from api.deps import runtime_of
from api.problems import problem
from core.db.database import utcnow
from core.db.pagination import Page
from core.domain.errors import InvalidInput, NotFound
from core.domain.fulfilment import AllocationOut, ManifestOut, PickIn, ShipmentOut
from core.domain.orders import OrderLineIn
from core.domain.policies import PolicyVersion
from core.fulfilment import delivery, routing, shipments
from core.fulfilment.tables import Task
from core.hookspecs import hookimpl
from core.hookspecs.couriers import CourierRejected, CourierUnavailable
from core.orders.tables import Order
from core.policies import policies


def _lines(mapping: dict[str, int]) -> list[dict[str, Any]]:
    return [{"sku": sku, "qty": qty} for sku, qty in sorted(mapping.items())]


def _plan(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"location": p["location"], "lines": _lines(p["lines"])} for p in parts]


@get(
    "/v1/orders/{order_id:str}/allocation",
    guards=[OPS],
    tags=["fulfilment"],
    summary="The chosen allocation plan, why, and the alternatives it beat",
)
async def allocation(order_id: FromPath[str]) -> dict[str, Any]:
    found = await routing.get_allocation(order_id)
    if found is None:
        if not await Order.exists().where(Order.id == order_id):
            raise NotFound(f"no order with id {order_id}")
        raise NotFound(f"order {order_id} has not been routed yet")
    return _allocation_out(found)


def _allocation_out(found: AllocationOut) -> dict[str, Any]:
    return {
        "order_id": found.order_id,
        "plan": _plan(found.plan),
        "reasons": found.reasons,
        "alternatives": [
            {"plan": _plan(a["parts"]), "deferred": _lines(a.get("deferred", {})), "score": a.get("score")}
            for a in found.alternatives
        ],
        "deferred": _lines(found.deferred),
        "strategy": found.strategy,
        "decided_at": found.decided_at,
        "version": found.version,
    }


@post(
    "/v1/orders/{order_id:str}/route",
    guards=[OPS],
    tags=["fulfilment"],
    status_code=200,
    summary="Route again (e.g. after a stock problem); only shipments not yet picked change",
)
async def reroute(request: Request[Any, Any, Any], order_id: FromPath[str]) -> dict[str, Any]:
    found = await routing.route_order(runtime_of(request), order_id, reroute=True)
    assert found is not None
    return _allocation_out(found)


@get("/v1/shipments", guards=[OPS], tags=["fulfilment"], summary="Shipments, newest first")
async def list_shipments(
    request: Request[Any, Any, Any],
    status: Annotated[str | None, QueryParameter(name="status", max_length=40)] = None,
    location: Annotated[str | None, QueryParameter(name="location", max_length=64)] = None,
    order_id: Annotated[str | None, QueryParameter(name="order_id", max_length=64)] = None,
    limit: Annotated[int, QueryParameter(name="limit", ge=1, le=200)] = 50,
    cursor: Annotated[str | None, QueryParameter(name="cursor", max_length=200)] = None,
) -> Page[ShipmentOut]:
    page: Page[ShipmentOut] = await shipments.list_shipments(
        runtime_of(request), status=status, location=location, order_id=order_id, limit=limit, cursor=cursor
    )
    return page


@get("/v1/shipments/{shipment_id:str}", guards=[STOREFRONT_OR_OPS], tags=["fulfilment"], summary="Read a shipment")
async def get_shipment(request: Request[Any, Any, Any], shipment_id: FromPath[str]) -> ShipmentOut:
    return await shipments.get_shipment(runtime_of(request), shipment_id)


@post(
    "/v1/shipments/{shipment_id:str}/pick",
    guards=[OPS],
    tags=["fulfilment"],
    status_code=200,
    summary="Record the pick (a short pick re-routes the missing units)",
)
async def pick(request: Request[Any, Any, Any], shipment_id: FromPath[str], data: JSONBody[PickIn]) -> ShipmentOut:
    return await shipments.pick(runtime_of(request), shipment_id, data)


@post(
    "/v1/shipments/{shipment_id:str}/pack",
    guards=[OPS],
    tags=["fulfilment"],
    status_code=200,
    summary="Apply the packaging plan and create the courier voucher",
)
async def pack(request: Request[Any, Any, Any], shipment_id: FromPath[str]) -> ShipmentOut:
    return await shipments.pack(runtime_of(request), shipment_id)


@get(
    "/v1/shipments/{shipment_id:str}/label",
    guards=[OPS],
    tags=["fulfilment"],
    summary="The courier label (PDF)",
    media_type="application/pdf",
)
async def label(request: Request[Any, Any, Any], shipment_id: FromPath[str]) -> Response[Any]:
    try:
        pdf = await shipments.label(runtime_of(request), shipment_id)
    except CourierUnavailable as exc:
        return problem(503, f"the courier did not answer: {exc}; try again shortly")
    except CourierRejected as exc:
        return problem(409, f"the courier refused to print the label: {exc}")
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="label-{shipment_id}.pdf"'},
    )


@get(
    "/v1/shipments/{shipment_id:str}/packing-slip",
    guards=[OPS],
    tags=["fulfilment"],
    summary="A printable packing slip (HTML) with the items, boxes and inserts",
    media_type="text/html",
)
async def packing_slip(request: Request[Any, Any, Any], shipment_id: FromPath[str]) -> Response[str]:
    shipment = await shipments.get_shipment(runtime_of(request), shipment_id)
    plan = shipment.packaging or {}
    esc = html.escape
    rows = "".join(
        f"<tr><td>{esc(ln.sku)}</td><td>{ln.picked_qty if ln.picked_qty is not None else ln.qty}</td></tr>"
        for ln in shipment.lines
    )
    boxes = "".join(
        f"<li>{esc(str(b.get('box')))}: {esc(', '.join(f'{k} × {v}' for k, v in b.get('items', {}).items()))}</li>"
        for b in plan.get("boxes", [])
    )
    inserts = "".join(
        f"<li>{esc(str(i.get('kind')))} — {esc(str(i.get('text') or i.get('code')))}</li>"
        for i in plan.get("inserts", [])
    )
    body = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Packing slip {esc(shipment_id)}</title></head>"
        f"<body><h1>Packing slip</h1><p>Order {esc(shipment.order_id)} · shipment {esc(shipment_id)} · "
        f"from {esc(shipment.location)}</p><table><tr><th>SKU</th><th>Qty</th></tr>{rows}</table>"
        f"<h2>Boxes</h2><ul>{boxes}</ul><h2>Inserts</h2><ul>{inserts}</ul></body></html>"
    )
    return Response(body, media_type="text/html")


@post(
    "/v1/shipments/{shipment_id:str}/refresh-tracking",
    guards=[OPS],
    tags=["fulfilment"],
    status_code=200,
    summary="Ask the courier now instead of waiting for the next poll",
)
async def refresh_tracking(request: Request[Any, Any, Any], shipment_id: FromPath[str]) -> Response[Any]:
    runtime = runtime_of(request)
    try:
        await delivery.refresh_tracking(runtime, shipment_id)
    except CourierUnavailable as exc:
        return problem(503, f"the courier did not answer: {exc}; the next poll will try again")
    except CourierRejected as exc:
        return problem(409, f"the courier refused: {exc}")
    return Response(await shipments.get_shipment(runtime, shipment_id))


@post(
    "/v1/shipments/{shipment_id:str}/collected",
    guards=[OPS],
    tags=["fulfilment"],
    status_code=200,
    summary="Click-and-collect: the customer took the parcel at the store",
)
async def collected(request: Request[Any, Any, Any], shipment_id: FromPath[str]) -> ShipmentOut:
    runtime = runtime_of(request)
    await delivery.mark_collected(runtime, shipment_id)
    return await shipments.get_shipment(runtime, shipment_id)


class CloseIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pickup_date: date | None = None


@post(
    "/v1/dispatch/{location:str}/close",
    guards=[OPS],
    tags=["fulfilment"],
    status_code=200,
    summary="Issue the courier pickup list / manifest for the location",
)
async def close_dispatch(
    request: Request[Any, Any, Any], location: FromPath[str], data: JSONBody[CloseIn | None] = None
) -> Response[Any]:
    try:
        out: ManifestOut = await delivery.close_dispatch(
            runtime_of(request), location, data.pickup_date if data else None
        )
    except CourierUnavailable as exc:
        return problem(503, f"the courier did not answer: {exc}; nothing was marked shipped, close again")
    except CourierRejected as exc:
        return problem(409, f"the courier refused the pickup list: {exc}")
    return Response(out)


@post(
    "/v1/webhooks/courier/{courier:str}",
    opt={"exclude_from_auth": True},
    tags=["webhooks"],
    status_code=200,
    summary="Tracking updates pushed by couriers that support it (verified by the courier's signature)",
)
async def courier_webhook(request: Request[Any, Any, Any], courier: FromPath[str]) -> Response[Any]:
    runtime = runtime_of(request)
    registered = runtime.host.couriers.get(courier)
    if registered is None:
        return problem(404, f"no courier {courier} is installed")
    try:
        snapshots = registered.value.parse_webhook(dict(request.headers), await request.body())
    except CourierRejected as exc:
        return problem(401, f"webhook rejected: {exc}", slug="webhook-signature")
    from core.fulfilment.tables import Shipment

    applied = 0
    for snapshot in snapshots:
        row = (
            await Shipment.select(Shipment.id)
            .where((Shipment.courier == courier) & (Shipment.tracking_number == snapshot.tracking_number))
            .first()
        )
        if row is not None:
            await delivery.apply_tracking(runtime, row["id"], snapshot)
            applied += 1
    return Response({"received": len(snapshots), "applied": applied})


# ---------------------------------------------------------------------------------------------
# Policies (packaging, delivery, returns…: whatever kinds plugins register)
# ---------------------------------------------------------------------------------------------


@get("/v1/policies/{kind:str}", guards=[OPS], tags=["policies"], summary="The current policy (version 0 = default)")
async def get_policy(request: Request[Any, Any, Any], kind: FromPath[str]) -> PolicyVersion:
    version, _ = await policies.current(runtime_of(request).host, kind)
    return version


@put(
    "/v1/policies/{kind:str}",
    guards=[OPS],
    tags=["policies"],
    summary="Save a new version (validated; the old versions stay)",
)
async def put_policy(
    request: Request[Any, Any, Any], kind: FromPath[str], data: JSONBody[dict[str, Any]]
) -> PolicyVersion:
    runtime = runtime_of(request)
    document = data.get("document", data) if isinstance(data, dict) else data
    async with runtime.unit_of_work():
        return await policies.save(runtime.host, kind, document, principal_of(request).name)


@get("/v1/policies/{kind:str}/history", guards=[OPS], tags=["policies"], summary="Every saved version, newest first")
async def policy_history(request: Request[Any, Any, Any], kind: FromPath[str]) -> list[PolicyVersion]:
    return await policies.history(runtime_of(request).host, kind)


class PackagingDraft(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Either an existing `order_id`, or a draft: lines, and optionally segment, locale, date."""

    order_id: str | None = None
    lines: list[OrderLineIn] | None = None
    customer_segment: str = "first_order"
    locale: str = "el"
    on_date: date | None = None
    policy: dict[str, Any] | None = None  # evaluate an unsaved policy document instead of the current one


@post(
    "/v1/policies/packaging/evaluate",
    guards=[OPS],
    tags=["policies"],
    status_code=200,
    summary="Dry run: the packaging plan for an order or a draft order",
)
async def evaluate_packaging(request: Request[Any, Any, Any], data: JSONBody[PackagingDraft]) -> dict[str, Any]:
    from core.catalogue.tables import Product
    from core.hookspecs.packaging import PackagingRequest, PackItem

    runtime = runtime_of(request)
    if data.order_id:
        order = await Order.select().where(Order.id == data.order_id).first()
        if order is None:
            raise NotFound(f"no order with id {data.order_id}")
        from core.orders.tables import OrderLine

        items = {ln["sku"]: ln["qty"] for ln in await OrderLine.select().where(OrderLine.order_id == data.order_id)}
        packaging_request = await shipments.packaging_request(order, None, items)
    elif data.lines:
        products = {p["sku"]: p for p in await Product.select().where(Product.sku.is_in([ln.sku for ln in data.lines]))}
        missing = [ln.sku for ln in data.lines if ln.sku not in products]
        if missing:
            raise InvalidInput(f"unknown product(s): {', '.join(missing)}")
        packaging_request = PackagingRequest(
            order_id="draft",
            shipment_id=None,
            items=[
                PackItem(
                    sku=ln.sku,
                    qty=ln.qty,
                    weight_g=products[ln.sku]["weight_g"],
                    length_mm=products[ln.sku]["length_mm"],
                    width_mm=products[ln.sku]["width_mm"],
                    height_mm=products[ln.sku]["height_mm"],
                    category=products[ln.sku]["category"],
                )
                for ln in data.lines
            ],
            order_value=sum(products[ln.sku]["price_amount"] * ln.qty for ln in data.lines),
            currency=next(iter(products.values()))["currency"],
            customer_segment=data.customer_segment,
            locale=data.locale,
            on_date=data.on_date or utcnow().date(),
        )
    else:
        raise InvalidInput("send an order_id, or draft lines")
    if data.policy is not None:
        kind = policies.kind_of(runtime.host, "packaging")
        document, version = msgspec.to_builtins(policies.validate(kind, data.policy)), -1
    else:
        current, parsed = await policies.current(runtime.host, "packaging")
        document, version = msgspec.to_builtins(parsed), current.version
    plan = runtime.host.pm.hook.evaluate_packaging(request=packaging_request, policy=document, policy_version=version)
    return {
        "policy_version": version,
        "request": msgspec.to_builtins(packaging_request),
        "plan": msgspec.to_builtins(plan) if plan is not None else None,
    }


# ---------------------------------------------------------------------------------------------
# Tasks
# ---------------------------------------------------------------------------------------------


@get("/v1/tasks", guards=[AGENT_OR_OPS], tags=["tasks"], summary="Tasks for agents (e.g. contact a customer)")
async def list_tasks(
    status: Annotated[str | None, QueryParameter(name="status", max_length=20)] = "open",
) -> list[dict[str, Any]]:
    query = Task.select().order_by(Task.id, ascending=False).limit(200)
    if status:
        query = query.where(Task.status == status)
    rows: list[dict[str, Any]] = await query
    return rows


@post("/v1/tasks/{task_id:str}/close", guards=[AGENT_OR_OPS], tags=["tasks"], status_code=200, summary="Close a task")
async def close_task(task_id: FromPath[str]) -> dict[str, Any]:
    row = await Task.select().where(Task.id == task_id).first()
    if row is None:
        raise NotFound(f"no task {task_id}")
    await Task.update({Task.status: "done", Task.closed_at: utcnow()}).where(Task.id == task_id)
    return {**row, "status": "done"}


@hookimpl
def register_routes(register: Callable[[Any], None]) -> None:
    for handler in (
        allocation,
        reroute,
        list_shipments,
        get_shipment,
        pick,
        pack,
        label,
        packing_slip,
        refresh_tracking,
        collected,
        close_dispatch,
        courier_webhook,
        get_policy,
        put_policy,
        policy_history,
        evaluate_packaging,
        list_tasks,
        close_task,
    ):
        register(handler)
