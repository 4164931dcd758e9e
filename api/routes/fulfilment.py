"""Fulfilment over HTTP: allocation and routing, shipments (pick, pack, label, packing slip,
tracking, collection at the store), dispatch, courier webhooks, policies and their dry runs,
and the tasks failed deliveries leave for agents. Every handler calls one use case."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post, put
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import AGENT_OR_OPS, OPS, STOREFRONT_OPS_OR_CUSTOMER, hide_unless_own, principal_of
from api.deps import runtime_of
from api.problems import courier_problem
from core.db.pagination import Page
from core.domain.auth import Scope
from core.domain.customers import Locale
from core.domain.errors import NotFound
from core.domain.fulfilment import AllocationOut, ManifestOut, PickIn, ShipmentOut
from core.domain.policies import PolicyVersion
from core.fulfilment import courier_webhooks, cutoffs, delivery, packing, routing, shipment_views, shipments, tasks
from core.fulfilment.collection import CollectIn, collect
from core.fulfilment.courier_webhooks import CourierWebhookOut
from core.fulfilment.packing import PackagingDraft, PackagingDryRun
from core.fulfilment.tasks import CloseTaskIn, TaskOut
from core.hookspecs import hookimpl
from core.hookspecs.app import RouteContribution
from core.hookspecs.couriers import CourierRejected, CourierUnavailable
from core.orders import views
from core.orders.tables import Order
from core.policies import policies


def _lines(mapping: dict[str, int]) -> list[dict[str, Any]]:
    return [{"sku": sku, "qty": qty} for sku, qty in sorted(mapping.items())]


def _plan(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"location": p["location"], "lines": _lines(p["lines"])} for p in parts]


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


@get(
    "/v1/orders/{order_id:str}/allocation",
    guards=[OPS],
    tags=["fulfilment"],
    summary="The chosen allocation plan, why, and the alternatives it beat",
)
async def allocation(order_id: FromPath[str]) -> dict[str, Any]:
    found = await routing.get_allocation(order_id)
    if found is None:
        await views.get_order(order_id)  # 404 when there is no such order
        raise NotFound(f"order {order_id} has not been routed yet")
    return _allocation_out(found)


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
    return await shipment_views.list_shipments(
        runtime_of(request), status=status, location=location, order_id=order_id, limit=limit, cursor=cursor
    )


async def _shown_to(request: Request[Any, Any, Any], shipment_id: str, *, label: bool = False) -> None:
    """Ops see every shipment. A storefront key and a customer token see return parcels' labels
    (the customer prints them) and, for a customer token, only its own orders' shipments (404 for
    another's, as for an unknown id); outbound labels are the warehouse's."""
    principal = principal_of(request)
    if principal.allows((Scope.OPS,)):
        return
    row = await shipment_views.shipment_row(runtime_of(request), shipment_id)
    order = await Order.select(Order.customer_id).where(Order.id == row["order_id"]).first()
    hide_unless_own(request, (order or {}).get("customer_id"), f"no shipment with id {shipment_id}")
    if label and not row["is_return"]:
        raise PermissionDeniedException(
            f"shipment {shipment_id} is outbound: its label is printed by the warehouse (a key with the ops scope); "
            "customers open the labels of their returns"
        )


@get(
    "/v1/shipments/{shipment_id:str}",
    guards=[STOREFRONT_OPS_OR_CUSTOMER],
    tags=["fulfilment"],
    summary="Read a shipment and its tracking (a customer token: its own orders' only)",
)
async def get_shipment(request: Request[Any, Any, Any], shipment_id: FromPath[str]) -> ShipmentOut:
    await _shown_to(request, shipment_id)
    return await shipment_views.get_shipment(runtime_of(request), shipment_id)


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
    summary="Apply the packaging plan and create the courier voucher (502/503 when the courier is misconfigured)",
)
async def pack(request: Request[Any, Any, Any], shipment_id: FromPath[str]) -> ShipmentOut:
    return await shipments.pack(runtime_of(request), shipment_id)


@get(
    "/v1/shipments/{shipment_id:str}/label",
    guards=[STOREFRONT_OPS_OR_CUSTOMER],
    tags=["fulfilment"],
    summary="The courier label (PDF); a return's label also for the storefront and the customer who asked for it",
    media_type="application/pdf",
)
async def label(request: Request[Any, Any, Any], shipment_id: FromPath[str]) -> Response[Any]:
    await _shown_to(request, shipment_id, label=True)
    try:
        pdf = await shipments.label(runtime_of(request), shipment_id)
    except (CourierUnavailable, CourierRejected) as exc:
        courier = (await shipment_views.shipment_row(runtime_of(request), shipment_id))["courier"]
        return courier_problem(
            exc, courier, unavailable="try again shortly", refused="the courier refused to print the label"
        )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="label-{shipment_id}.pdf"'},
    )


@get(
    "/v1/shipments/{shipment_id:str}/packing-slip",
    guards=[OPS],
    tags=["fulfilment"],
    summary="A printable packing slip (HTML): items, boxes and inserts, in the customer's language or `lang`",
    media_type="text/html",
)
async def packing_slip(
    request: Request[Any, Any, Any],
    shipment_id: FromPath[str],
    lang: Annotated[Locale | None, QueryParameter(name="lang", pattern=r"^[a-z]{2}$")] = None,
) -> Response[str]:
    page = await packing.packing_slip(runtime_of(request), shipment_id, lang)
    return Response(page, media_type="text/html")


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
    except (CourierUnavailable, CourierRejected) as exc:
        courier = (await shipment_views.shipment_row(runtime, shipment_id))["courier"]
        return courier_problem(exc, courier, unavailable="the next poll will try again", refused="the courier refused")
    return Response(await shipment_views.get_shipment(runtime, shipment_id))


@post(
    "/v1/shipments/{shipment_id:str}/collected",
    guards=[OPS],
    tags=["fulfilment"],
    status_code=200,
    summary="Click-and-collect: the customer took the parcel at the store, showing its pickup code",
)
async def collected(
    request: Request[Any, Any, Any], shipment_id: FromPath[str], data: JSONBody[CollectIn]
) -> ShipmentOut:
    return await collect(runtime_of(request), shipment_id, data.code)


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
    except (CourierUnavailable, CourierRejected) as exc:
        return courier_problem(
            exc,
            None,
            unavailable="nothing was marked shipped, close again",
            refused="the courier refused the pickup list",
        )
    return Response(out)


@get(
    "/v1/dispatch",
    guards=[OPS],
    tags=["fulfilment"],
    summary="Each location's next courier cut-off and the parcels that will be on it",
    description="Parcels packed after a day's last dispatch time go on the next working day's first "
    "(weekends and the location's public holidays skipped). Return parcels are never on a pickup list.",
)
async def dispatch_board(request: Request[Any, Any, Any]) -> list[cutoffs.LocationDispatch]:
    return await cutoffs.dispatch_board(runtime_of(request))


@get(
    "/v1/dispatch/{location:str}",
    guards=[OPS],
    tags=["fulfilment"],
    summary="One location's next courier cut-off and the parcels that will be on it",
)
async def location_dispatch(request: Request[Any, Any, Any], location: FromPath[str]) -> cutoffs.LocationDispatch:
    [board] = await cutoffs.dispatch_board(runtime_of(request), location)
    return board


@post(
    "/v1/webhooks/courier/{courier:str}",
    opt={"exclude_from_auth": True},
    tags=["webhooks"],
    status_code=200,
    summary="Tracking updates pushed by couriers that support it (verified by the courier's signature)",
)
async def courier_webhook(request: Request[Any, Any, Any], courier: FromPath[str]) -> CourierWebhookOut:
    return await courier_webhooks.receive(runtime_of(request), courier, dict(request.headers), await request.body())


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
    document = data.get("document", data)  # the document itself, or wrapped as {"document": …}
    async with runtime.unit_of_work():
        return await policies.save(runtime.host, kind, document, principal_of(request).name)


@get("/v1/policies/{kind:str}/history", guards=[OPS], tags=["policies"], summary="Every saved version, newest first")
async def policy_history(request: Request[Any, Any, Any], kind: FromPath[str]) -> list[PolicyVersion]:
    return await policies.history(runtime_of(request).host, kind)


@post(
    "/v1/policies/packaging/evaluate",
    guards=[OPS],
    tags=["policies"],
    status_code=200,
    summary="Dry run: the packaging plan for an order or a draft order (nothing is saved)",
)
async def evaluate_packaging(request: Request[Any, Any, Any], data: JSONBody[PackagingDraft]) -> PackagingDryRun:
    return await packing.dry_run(runtime_of(request), data)


# ---------------------------------------------------------------------------------------------
# Tasks
# ---------------------------------------------------------------------------------------------


@get("/v1/tasks", guards=[AGENT_OR_OPS], tags=["tasks"], summary="Tasks for agents (e.g. contact a customer)")
async def list_tasks(
    status: Annotated[str | None, QueryParameter(name="status", max_length=20)] = "open",
) -> list[TaskOut]:
    return await tasks.list_tasks(status)


@post(
    "/v1/tasks/{task_id:str}/close",
    guards=[AGENT_OR_OPS],
    tags=["tasks"],
    status_code=200,
    summary="Close a task (recorded as task.closed in the order's and the customer's timelines)",
)
async def close_task(
    request: Request[Any, Any, Any], task_id: FromPath[str], data: JSONBody[CloseTaskIn | None] = None
) -> TaskOut:
    note = data.note if data else None
    return await tasks.close_task(runtime_of(request), task_id, principal_of(request).name, note)


@hookimpl
def register_routes(register: Callable[[RouteContribution], None]) -> None:
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
        dispatch_board,
        location_dispatch,
        courier_webhook,
        get_policy,
        put_policy,
        policy_history,
        evaluate_packaging,
        list_tasks,
        close_task,
    ):
        register(handler)
