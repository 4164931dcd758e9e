"""Packaging outside the pack itself: the dry run ops use to try a policy on an order or a draft
(`POST /v1/policies/packaging/evaluate`), and the packing slip, rendered by whichever packaging
plugin answers `resolve_packing_slip`."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec

from core.catalogue.tables import Product
from core.customers.tables import Customer
from core.db.database import utcnow
from core.domain.customers import Locale
from core.domain.errors import InvalidInput, NotFound
from core.domain.orders import OrderLineIn
from core.domain.time import local_today
from core.fulfilment import shipments
from core.hookspecs.packaging import PackagingPlan, PackagingRequest, PackingSlip, SlipLine
from core.orders.kpis import segment_of
from core.orders.tables import Order, OrderLine
from core.policies.drafts import draft_or_current
from core.runtime import Runtime
from core.settings import shop_zone

DEFAULT_LOCALE = "el"


class PackagingDraft(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Either an existing `order_id`, or draft `lines` (optionally for a `customer_id`, whose
    segment and language then apply). `customer_segment`, `locale` and `on_date` override what
    the order or the customer would give; `policy` evaluates an unsaved document."""

    order_id: str | None = None
    lines: list[OrderLineIn] | None = None
    customer_id: str | None = None
    customer_segment: str | None = None  # first_order, returning or reactivated
    locale: Locale | None = None
    on_date: date | None = None
    policy: dict[str, Any] | None = None


class PackagingDryRun(msgspec.Struct, frozen=True, kw_only=True):
    policy_version: int  # -1 for an unsaved draft policy
    request: PackagingRequest
    plan: PackagingPlan | None  # None when no installed plugin decides under that policy


async def dry_run(runtime: Runtime, draft: PackagingDraft) -> PackagingDryRun:
    """The plan the packaging policy would give, changing nothing."""
    if draft.order_id:
        request = await _order_request(draft.order_id)
    elif draft.lines:
        request = await _draft_request(draft.lines, draft.customer_id)
    else:
        raise InvalidInput("send an order_id, or draft lines", errors=[{"field": "lines", "message": "missing"}])
    overrides = {
        "customer_segment": draft.customer_segment,
        "locale": draft.locale,
        "on_date": draft.on_date,
    }
    request = msgspec.structs.replace(request, **{k: v for k, v in overrides.items() if v is not None})
    document, version = await draft_or_current(runtime.host, "packaging", draft.policy)
    plan: PackagingPlan | None = runtime.host.pm.hook.evaluate_packaging(
        request=request, policy=document, policy_version=version
    )
    return PackagingDryRun(policy_version=version, request=request, plan=plan)


async def _order_request(order_id: str) -> PackagingRequest:
    order = await Order.select().where(Order.id == order_id).first()
    if order is None:
        raise NotFound(f"no order with id {order_id}")
    lines = await OrderLine.select(OrderLine.sku, OrderLine.qty).where(OrderLine.order_id == order_id)
    return await shipments.packaging_request(order, None, {ln["sku"]: ln["qty"] for ln in lines})


async def _draft_request(lines: list[OrderLineIn], customer_id: str | None) -> PackagingRequest:
    """A draft is packed like the order it would become: priced in its products' one currency
    (as intake insists), for the customer's next order when a customer is named."""
    units: dict[str, int] = {}
    for line in lines:
        units[line.sku] = units.get(line.sku, 0) + line.qty
    products = {p["sku"]: p for p in await Product.select().where(Product.sku.is_in(sorted(units) or [""]))}
    errors = [
        {"field": f"lines[{i}].sku", "message": f"unknown product {line.sku}"}
        for i, line in enumerate(lines)
        if line.sku not in products
    ]
    currencies = sorted({p["currency"] for p in products.values()})
    if len(currencies) > 1:
        errors.append(
            {"field": "lines", "message": f"products are priced in several currencies ({', '.join(currencies)})"}
        )
    if errors:
        raise InvalidInput("the draft cannot be packed: " + "; ".join(e["message"] for e in errors), errors=errors)
    segment, locale = "first_order", DEFAULT_LOCALE
    if customer_id is not None:
        customer = await Customer.select(Customer.locale).where(Customer.id == customer_id).first()
        if customer is None:
            raise NotFound(f"no customer with id {customer_id}")
        previous = await Order.raw(
            "SELECT MAX(placed_at) AS previous_at FROM orders WHERE customer_id = {} AND cancelled_at IS NULL",
            customer_id,
        )
        segment = segment_of(utcnow(), previous[0]["previous_at"] if previous else None)
        locale = customer["locale"] or DEFAULT_LOCALE
    return PackagingRequest(
        order_id="draft",
        shipment_id=None,
        items=[shipments.pack_item(products[sku], qty) for sku, qty in sorted(units.items())],
        order_value=sum(products[sku]["price_amount"] * qty for sku, qty in units.items()),
        currency=currencies[0],
        customer_segment=segment,
        locale=locale,
        on_date=local_today(shop_zone()),
    )


async def packing_slip(runtime: Runtime, shipment_id: str, locale: str | None = None) -> str:
    """The shipment's packing slip (HTML) in `locale`, else in its customer's language. A shipment
    not packed yet shows the plan it would get now, so the slip can guide the packing."""
    shipment = await shipments.get_shipment(runtime, shipment_id)
    order = await Order.select().where(Order.id == shipment.order_id).first()
    if order is None:  # pragma: no cover - a shipment always belongs to an order
        raise NotFound(f"no order with id {shipment.order_id}")
    units = {ln.sku: ln.picked_qty if ln.picked_qty is not None else ln.qty for ln in shipment.lines}
    names = {
        p["sku"]: p["name"]
        for p in await Product.select(Product.sku, Product.name).where(Product.sku.is_in(sorted(units) or [""]))
    }
    if shipment.packaging is not None:
        plan: PackagingPlan | None = msgspec.convert(shipment.packaging, PackagingPlan)
    else:
        request = await shipments.packaging_request(order, shipment_id, {k: v for k, v in units.items() if v})
        plan = await shipments.plan_packaging(runtime, request)
    if locale is None:
        customer = await Customer.select(Customer.locale).where(Customer.id == order["customer_id"]).first()
        locale = (customer or {}).get("locale") or DEFAULT_LOCALE
    slip = PackingSlip(
        order_id=shipment.order_id,
        shipment_id=shipment_id,
        lines=[SlipLine(sku=sku, name=names.get(sku, sku), qty=qty) for sku, qty in sorted(units.items())],
        plan=plan or PackagingPlan(boxes=()),
        locale=locale,
    )
    page: str | None = runtime.host.pm.hook.resolve_packing_slip(slip=slip)
    if page is None:
        raise NotFound("no installed plugin renders packing slips (resolve_packing_slip)")
    return page
