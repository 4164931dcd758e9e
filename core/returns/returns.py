"""Returns (RMA): requests decided by the return policy, return labels, receiving with
inspection per line, restocking, and the resolution — refund through the payment ledger,
replacement or repair order, store credit — each carried out once."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import msgspec

from core.catalogue.inventory import movement
from core.catalogue.tables import Location, Product
from core.customers.tables import Customer
from core.db.database import utcnow
from core.domain.errors import Conflict, InvalidInput, NotFound
from core.domain.events import (
    ReturnApproved,
    ReturnDeclined,
    ReturnReceived,
    ReturnRequested,
)
from core.domain.ids import new_id
from core.domain.returns import (
    Disposition,
    ReceiveIn,
    Resolution,
    ReturnIn,
    ReturnLineOut,
    ReturnMethod,
    ReturnOut,
    ReturnStatus,
    check_return_transition,
)
from core.domain.time import as_utc
from core.fulfilment.tables import Shipment
from core.hookspecs.returns import ReturnDecision, ReturnLineRequest, ReturnRequestContext, ReturnVerdict
from core.jobs import outbox as events
from core.orders.tables import Order, OrderLine
from core.policies import policies
from core.returns.labels import make_return_label
from core.returns.resolution import received_to_sender as received_to_sender  # re-exported for callers
from core.returns.resolution import resolve, restock
from core.returns.tables import ReturnLine, ReturnRequest
from core.runtime import Runtime

OPEN = (ReturnStatus.REQUESTED, ReturnStatus.PENDING_REVIEW, ReturnStatus.APPROVED, ReturnStatus.IN_TRANSIT)


class ReturnRefused(InvalidInput):
    slug = "return-refused"
    title = "Return refused by the return policy"


def _json(value: Any) -> Any:
    return msgspec.json.decode(value) if isinstance(value, str | bytes) else value


async def returnable_units(order_id: str) -> dict[str, int]:
    """Per SKU: delivered, less already returned, less what open returns already claim."""
    lines = await OrderLine.select().where(OrderLine.order_id == order_id)
    claimed: dict[str, int] = defaultdict(int)
    rows = await ReturnLine.raw(
        "SELECT l.sku, l.qty, l.received_qty FROM return_lines l JOIN returns r ON r.id = l.return_id "
        "WHERE l.order_id = {} AND r.status IN ({}, {}, {}, {})",
        order_id,
        *[s.value for s in OPEN],
    )
    for r in rows:
        claimed[r["sku"]] += r["qty"] - r["received_qty"]
    return {ln["sku"]: max(0, ln["qty_delivered"] - ln["qty_returned"] - claimed[ln["sku"]]) for ln in lines}


async def get_return(return_id: str) -> ReturnOut:
    row = await ReturnRequest.select().where(ReturnRequest.id == return_id).first()
    if row is None:
        raise NotFound(f"no return with id {return_id}")
    lines = await ReturnLine.select().where(ReturnLine.return_id == return_id).order_by(ReturnLine.sku)
    label_url = None
    if row["shipment_id"]:
        shipment = await Shipment.select(Shipment.tracking_number).where(Shipment.id == row["shipment_id"]).first()
        if shipment and shipment["tracking_number"]:
            label_url = f"/v1/shipments/{row['shipment_id']}/label"
    return ReturnOut(
        id=row["id"],
        order_id=row["order_id"],
        customer_id=row["customer_id"],
        status=ReturnStatus(row["status"]),
        method=ReturnMethod(row["method"]),
        resolution=Resolution(row["resolution"]),
        origin=row["origin"],
        lines=[
            ReturnLineOut(
                sku=ln["sku"],
                qty=ln["qty"],
                reason=ln["reason"],
                resolution=Resolution(ln["resolution"]),
                unit_price=ln["unit_price"],
                received_qty=ln["received_qty"],
                condition=ln["condition"],
                disposition=Disposition(ln["disposition"]) if ln["disposition"] else None,
                repair_cost=ln["repair_cost"],
                replacement_cost=ln["replacement_cost"],
            )
            for ln in lines
        ],
        requested_at=row["requested_at"],
        decided_at=row["decided_at"],
        decision_reason=row["decision_reason"],
        policy_version=row["policy_version"],
        shop_pays_shipping=bool(row["shop_pays_shipping"]),
        restocking_fee=row["restocking_fee"],
        shipment_id=row["shipment_id"],
        return_label_url=label_url,
        receiving_location=row["receiving_location"],
        received_at=row["received_at"],
        completed_at=row["completed_at"],
        refund_amount=row["refund_amount"],
        replacement_order_id=row["replacement_order_id"],
        repair_order_id=row["repair_order_id"],
        store_credit_id=row["store_credit_id"],
        notes=row["notes"],
    )


async def context_for(order: dict[str, Any], data: ReturnIn, locale: str) -> ReturnRequestContext:
    lines = {ln["sku"]: ln for ln in await OrderLine.select().where(OrderLine.order_id == order["id"])}
    strangers = [
        {"field": f"lines[{i}].sku", "message": f"{ln.sku} is not in order {order['id']}"}
        for i, ln in enumerate(data.lines)
        if ln.sku not in lines
    ]
    if strangers:  # the dry run reaches here unchecked
        raise InvalidInput("; ".join(e["message"] for e in strangers), errors=strangers)
    products = {
        p["sku"]: p
        for p in await Product.select(Product.sku, Product.category).where(
            Product.sku.is_in([ln.sku for ln in data.lines])
        )
    }
    delivered = await Shipment.raw(
        "SELECT MAX(delivered_at) AS at FROM shipments WHERE order_id = {} AND is_return = {}", order["id"], False
    )

    return ReturnRequestContext(
        order_id=order["id"],
        delivered_at=as_utc(delivered[0]["at"]) if delivered else None,
        requested_at=utcnow(),
        method=data.method.value,
        locale=locale,
        lines=[
            ReturnLineRequest(
                sku=ln.sku,
                qty=ln.qty,
                reason=ln.reason,
                resolution=(ln.resolution or data.resolution).value,
                category=products.get(ln.sku, {}).get("category"),
                opened=ln.opened,
                unit_price=lines[ln.sku]["unit_price"],
            )
            for ln in data.lines
        ],
    )


async def evaluate(runtime: Runtime, context: ReturnRequestContext) -> tuple[ReturnDecision, int]:
    if "returns" not in runtime.host.policy_kinds:
        return ReturnDecision(verdict=ReturnVerdict.PENDING_REVIEW, reason="no return policy installed"), 0
    version, document = await policies.current(runtime.host, "returns")
    decision: ReturnDecision | None = runtime.host.pm.hook.evaluate_return_request(
        request=context, policy=document, policy_version=version.version
    )
    return decision or ReturnDecision(verdict=ReturnVerdict.PENDING_REVIEW, reason="no policy decided"), version.version


async def request_return(runtime: Runtime, data: ReturnIn) -> ReturnOut:
    """File a return. The policy decides: approved or pending review (201), or refused (422 with
    the policy's reason in the customer's language, and nothing recorded)."""
    async with runtime.unit_of_work():
        order = await Order.select().where(Order.id == data.order_id).first()
        if order is None:
            raise NotFound(f"no order with id {data.order_id}")
        available = await returnable_units(data.order_id)
        errors = []
        seen: set[str] = set()
        for i, line in enumerate(data.lines):
            if line.sku in seen:
                errors.append({"field": f"lines[{i}].sku", "message": f"{line.sku} appears twice"})
            seen.add(line.sku)
            if line.sku not in available:
                errors.append({"field": f"lines[{i}].sku", "message": f"{line.sku} is not in order {data.order_id}"})
            elif line.qty > available[line.sku]:
                errors.append(
                    {
                        "field": f"lines[{i}].qty",
                        "message": f"{line.sku}: {line.qty} asked, {available[line.sku]} "
                        "delivered and not already returned or in an open return",
                    }
                )
        if errors:
            raise InvalidInput(
                "the return does not match what was delivered: " + "; ".join(e["message"] for e in errors),
                errors=errors,
            )
        customer = await Customer.select(Customer.locale).where(Customer.id == order["customer_id"]).first()
        locale = data.locale or (customer or {}).get("locale") or "el"
        context = await context_for(order, data, locale)
        decision, version = await evaluate(runtime, context)
        if decision.verdict == ReturnVerdict.DECLINED:
            raise ReturnRefused(
                decision.reason or "the return policy does not allow this return",
                verdict="declined",
                policy_version=version,
            )
        receiving = data.receiving_location or await _origin_location(data.order_id)
        if receiving is not None and not await Location.exists().where(Location.code == receiving):
            raise InvalidInput(f"unknown receiving location {receiving}")
        now = utcnow()
        return_id = new_id("ret")
        status = ReturnStatus.APPROVED if decision.verdict == ReturnVerdict.APPROVED else ReturnStatus.PENDING_REVIEW
        await ReturnRequest.insert(
            ReturnRequest(
                id=return_id,
                order_id=data.order_id,
                customer_id=order["customer_id"],
                status=status.value,
                method=data.method.value,
                resolution=data.resolution.value,
                locale=locale,
                requested_at=now,
                decided_at=now if status == ReturnStatus.APPROVED else None,
                decision_reason=decision.reason,
                policy_version=version,
                shop_pays_shipping=decision.shop_pays_shipping,
                restocking_fee=decision.restocking_fee,
                receiving_location=receiving,
                created_at=now,
                updated_at=now,
            )
        )
        await ReturnLine.insert(
            *[
                ReturnLine(
                    id=f"{return_id}|{ln.sku}",
                    return_id=return_id,
                    order_id=data.order_id,
                    sku=ln.sku,
                    qty=ln.qty,
                    reason=ln.reason,
                    resolution=(ln.resolution or data.resolution).value,
                    opened=ln.opened,
                    unit_price=next(c.unit_price for c in context.lines if c.sku == ln.sku),
                )
                for ln in data.lines
            ]
        )
        await events.record(
            ReturnRequested(verdict=decision.verdict.value, reason=decision.reason),
            order_id=data.order_id,
            customer_id=order["customer_id"],
            subject_id=return_id,
        )
    if status == ReturnStatus.APPROVED:
        await make_return_label(runtime, return_id)
    return await get_return(return_id)


async def _origin_location(order_id: str) -> str | None:
    outbound = Shipment.is_return == False  # noqa: E712 - Piccolo builds SQL from ==
    row = await Shipment.select(Shipment.location).where((Shipment.order_id == order_id) & outbound).first()
    return row["location"] if row else None


async def decide(runtime: Runtime, return_id: str, approve: bool, reason: str | None, actor: str) -> ReturnOut:
    async with runtime.unit_of_work():
        rows = await runtime.db.fetch("SELECT * FROM returns WHERE id = {}" + runtime.db.for_update(), return_id)
        if not rows:
            raise NotFound(f"no return with id {return_id}")
        row = rows[0]
        target = ReturnStatus.APPROVED if approve else ReturnStatus.DECLINED
        current = ReturnStatus(row["status"])
        if current == ReturnStatus.REQUESTED or current == ReturnStatus.PENDING_REVIEW:
            check_return_transition(return_id, current, target)
        else:
            raise Conflict(f"return {return_id} is {current}; only requested or pending-review returns can be decided")
        now = utcnow()
        await ReturnRequest.update(
            {
                ReturnRequest.status: target.value,
                ReturnRequest.decided_at: now,
                ReturnRequest.decision_reason: reason or row["decision_reason"],
                ReturnRequest.updated_at: now,
            }
        ).where(ReturnRequest.id == return_id)
        await events.record(
            (ReturnApproved if approve else ReturnDeclined)(by=actor, reason=reason),
            order_id=row["order_id"],
            customer_id=row["customer_id"],
            subject_id=return_id,
        )
    if approve:
        await make_return_label(runtime, return_id)
    return await get_return(return_id)


async def receive(runtime: Runtime, return_id: str, data: ReceiveIn, actor: str) -> ReturnOut:
    """The parcel arrived: inspect each line, restock what can be resold, then carry out the
    resolution (refund / replacement / repair / store credit). A second receive is refused."""
    db = runtime.db
    async with runtime.unit_of_work():
        rows = await db.fetch("SELECT * FROM returns WHERE id = {}" + db.for_update(), return_id)
        if not rows:
            raise NotFound(f"no return with id {return_id}")
        row = rows[0]
        check_return_transition(return_id, ReturnStatus(row["status"]), ReturnStatus.RECEIVED)
        lines = {ln["sku"]: ln for ln in await ReturnLine.select().where(ReturnLine.return_id == return_id)}
        errors = [
            {"field": f"lines.{r.sku}", "message": f"{r.sku} is not in return {return_id}"}
            for r in data.lines
            if r.sku not in lines
        ]
        errors += [
            {"field": f"lines.{r.sku}", "message": f"{r.sku}: received {r.qty}, the return holds {lines[r.sku]['qty']}"}
            for r in data.lines
            if r.sku in lines and r.qty > lines[r.sku]["qty"]
        ]
        location = data.location or row["receiving_location"]
        if location is None or not await Location.exists().where(Location.code == location):
            errors.append({"field": "location", "message": f"unknown receiving location {location}"})
        if errors:
            raise InvalidInput(
                "the receipt does not match the return: " + "; ".join(e["message"] for e in errors), errors=errors
            )
        now = utcnow()
        for received in data.lines:
            line = lines[received.sku]
            await ReturnLine.update(
                {
                    ReturnLine.received_qty: received.qty,
                    ReturnLine.condition: received.condition,
                    ReturnLine.disposition: received.disposition.value,
                    ReturnLine.repair_cost: received.repair_cost,
                    ReturnLine.replacement_cost: received.replacement_cost,
                }
            ).where(ReturnLine.id == line["id"])
            if not received.qty:
                continue
            await OrderLine.update({OrderLine.qty_returned: OrderLine.qty_returned + received.qty}).where(
                (OrderLine.order_id == row["order_id"]) & (OrderLine.sku == received.sku)
            )
            if received.disposition == Disposition.RESELL:
                await restock(runtime, location, received.sku, received.qty, row["order_id"])
            else:
                await movement(
                    location,
                    received.sku,
                    reason=f"returned_{received.disposition.value}",
                    order_id=row["order_id"],
                    actor=actor,
                )
        await ReturnRequest.update(
            {
                ReturnRequest.status: ReturnStatus.RECEIVED.value,
                ReturnRequest.received_at: now,
                ReturnRequest.receiving_location: location,
                ReturnRequest.updated_at: now,
            }
        ).where(ReturnRequest.id == return_id)
        await events.record(
            ReturnReceived(lines={r.sku: r.qty for r in data.lines}, by=actor),
            order_id=row["order_id"],
            customer_id=row["customer_id"],
            subject_id=return_id,
        )
    await resolve(runtime, return_id)
    return await get_return(return_id)


__all__ = ["ReturnRefused", "decide", "get_return", "receive", "request_return", "resolve", "returnable_units"]
