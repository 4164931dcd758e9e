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
    ReturnCompleted,
    ReturnDeclined,
    ReturnLabelRequested,
    ReturnOrigin,
    ReturnReceived,
    ReturnRequested,
    ReturnResolutionPending,
)
from core.domain.fulfilment import VoucherState
from core.domain.ids import new_id
from core.domain.orders import CustomerRef, DeliveryIn, DeliveryMethod, OrderLineIn, PlaceOrder, ShippingAddress
from core.domain.payments import MovementKind
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
from core.fulfilment import shipments
from core.fulfilment.routing import default_courier
from core.fulfilment.tables import Shipment, ShipmentLine
from core.hookspecs.couriers import ShipmentStatus
from core.hookspecs.returns import ReturnDecision, ReturnLineRequest, ReturnRequestContext, ReturnVerdict
from core.jobs import outbox as events
from core.orders.orders import place_order
from core.orders.tables import Order, OrderLine
from core.payments import payments
from core.payments.tables import MoneyMovement, Payment
from core.policies import policies
from core.returns.tables import ReturnLine, ReturnRequest, StoreCredit
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
        await _after_approval(runtime, return_id)
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
        await _after_approval(runtime, return_id)
    return await get_return(return_id)


async def _after_approval(runtime: Runtime, return_id: str) -> None:
    """Courier returns get a return shipment and voucher; store drop-offs wait for the parcel."""
    row = await ReturnRequest.select().where(ReturnRequest.id == return_id).first()
    assert row is not None
    if row["method"] != ReturnMethod.COURIER.value or row["shipment_id"]:
        return
    shipment_id = new_id("shp")
    now = utcnow()
    order = await Order.select(Order.shipping_address).where(Order.id == row["order_id"]).first()
    collected_in = (_json((order or {}).get("shipping_address")) or {}).get("country")
    async with runtime.unit_of_work():
        lines = await ReturnLine.select().where(ReturnLine.return_id == return_id)
        await Shipment.insert(
            Shipment(
                id=shipment_id,
                order_id=row["order_id"],
                location=row["receiving_location"] or "",
                status=ShipmentStatus.PACKED.value,
                courier=default_courier(runtime, for_return=True, country=collected_in),
                is_return=True,
                packed_at=now,
                created_at=now,
                updated_at=now,
            )
        )
        await ShipmentLine.insert(
            *[
                ShipmentLine(
                    id=f"{shipment_id}|{ln['sku']}",
                    shipment_id=shipment_id,
                    order_id=row["order_id"],
                    sku=ln["sku"],
                    qty=ln["qty"],
                )
                for ln in lines
            ]
        )
        await ReturnRequest.update({ReturnRequest.shipment_id: shipment_id}).where(ReturnRequest.id == return_id)
        await events.record(
            ReturnLabelRequested(shipment_id=shipment_id),
            order_id=row["order_id"],
            customer_id=row["customer_id"],
            subject_id=return_id,
        )
    # The voucher is a reverse pickup: collected at the order's address, delivered to the
    # receiving location (core/fulfilment/vouchers.py); never on the location's pickup list.
    try:
        state = await shipments.ensure_voucher(runtime, shipment_id)
    except Exception as exc:  # the label can be created later (pack the return shipment again)
        await ReturnRequest.update({ReturnRequest.notes: f"return label pending: {exc}"}).where(
            ReturnRequest.id == return_id
        )
        return
    if state == VoucherState.FAILED:  # a task for ops was opened with the courier's reason
        shipment = await Shipment.select(Shipment.last_error).where(Shipment.id == shipment_id).first()
        await ReturnRequest.update(
            {ReturnRequest.notes: f"return label refused: {(shipment or {}).get('last_error')}"}
        ).where(ReturnRequest.id == return_id)


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


async def restock(runtime: Runtime, location: str, sku: str, qty: int, order_id: str) -> None:
    """Resellable units go back into available stock at the receiving location."""
    db = runtime.db
    now = utcnow()
    updated = await db.fetch(
        "UPDATE inventory_levels SET on_hand = on_hand + {}, updated_at = {} WHERE id = {} RETURNING id",
        qty,
        now,
        f"{location}|{sku}",
    )
    if not updated:
        await db.fetch(
            "INSERT INTO inventory_levels (id, location, sku, on_hand, reserved, updated_at) "
            "VALUES ({}, {}, {}, {}, 0, {})",
            f"{location}|{sku}",
            location,
            sku,
            qty,
            now,
        )
    await movement(location, sku, on_hand_delta=qty, reason="returned_resell", order_id=order_id)


async def resolve(runtime: Runtime, return_id: str) -> None:
    """Carry out the resolution of every received line, each step keyed so a retry is a no-op."""
    row = await ReturnRequest.select().where(ReturnRequest.id == return_id).first()
    assert row is not None
    if row["status"] != ReturnStatus.RECEIVED.value:
        return
    lines = await ReturnLine.select().where(ReturnLine.return_id == return_id)
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for ln in lines:
        if ln["received_qty"]:
            by[ln["resolution"]].append(ln)
    order = await Order.select().where(Order.id == row["order_id"]).first()
    assert order is not None
    notes: list[str] = []
    refund = sum(ln["received_qty"] * ln["unit_price"] for ln in by[Resolution.REFUND.value])
    refund = max(0, refund - row["restocking_fee"]) if refund else 0
    credit = sum(ln["received_qty"] * ln["unit_price"] for ln in by[Resolution.STORE_CREDIT.value])
    updates: dict[Any, Any] = {}
    if refund:
        refunded, released = await _give_back(runtime, row["order_id"], return_id, refund)
        if refunded:
            updates[ReturnRequest.refund_amount] = refunded
        if released:
            notes.append(f"{released} not captured yet: released from the authorization instead of refunded")
        if refund - refunded - released:
            # Nothing (more) paid or held to give back through (e.g. an unpaid call-centre order): store credit.
            credit += refund - refunded - released
            notes.append("no captured payment: refund issued as store credit")
    if credit:
        credit_id = f"crd_{return_id}"
        await StoreCredit.raw(
            "INSERT INTO store_credits (id, customer_id, amount, currency, source, created_at) "
            "VALUES ({}, {}, {}, {}, {}, {}) ON CONFLICT DO NOTHING",
            credit_id,
            order["customer_id"],
            credit,
            order["currency"],
            f"return:{return_id}",
            utcnow(),
        )
        updates[ReturnRequest.store_credit_id] = credit_id
    for resolution, column in (
        (Resolution.REPLACEMENT, ReturnRequest.replacement_order_id),
        (Resolution.REPAIR, ReturnRequest.repair_order_id),
    ):
        wanted = by[resolution.value]
        if wanted and not row[column._meta.name]:
            try:
                updates[column] = await _free_order(runtime, order, wanted, return_id)
            except Conflict as exc:
                notes.append(f"{resolution.value} order not created yet: {exc.detail}")
    async with runtime.unit_of_work():
        done = not any(n.endswith("not created yet") for n in notes) if notes else True
        if done:
            updates[ReturnRequest.status] = ReturnStatus.COMPLETED.value
            updates[ReturnRequest.completed_at] = utcnow()
        if notes:
            updates[ReturnRequest.notes] = "; ".join(notes)
        updates[ReturnRequest.updated_at] = utcnow()
        await ReturnRequest.update(updates).where(ReturnRequest.id == return_id)
        await events.record(
            (ReturnCompleted if done else ReturnResolutionPending)(refund=refund, store_credit=credit, notes=notes),
            order_id=row["order_id"],
            customer_id=row["customer_id"],
            subject_id=return_id,
        )


async def _give_back(runtime: Runtime, order_id: str, return_id: str, amount: int) -> tuple[int, int]:
    """Give `amount` back through the order's payments: refund what was captured, then release
    what is only authorized (so a later capture never charges for returned units); returns
    (refunded, released). Every movement is keyed `return-<id>`: a retry repeats the amounts
    first moved instead of recomputing them from a ledger that has moved on since."""
    key = f"return-{return_id}"
    moved = {MovementKind.REFUND: 0, MovementKind.CANCEL: 0}
    left = amount
    for kind in (MovementKind.REFUND, MovementKind.CANCEL):
        for payment in await Payment.select().where(Payment.order_id == order_id).order_by(Payment.id):
            first = (
                await MoneyMovement.select(MoneyMovement.amount)
                .where(
                    (MoneyMovement.payment_id == payment["id"])
                    & (MoneyMovement.kind == kind.value)
                    & (MoneyMovement.idempotency_key == key)
                )
                .first()
            )
            if first is not None:
                take = int(first["amount"])
            else:
                ledger = await payments.ledger_of(payment)
                take = min(left, ledger.refundable if kind is MovementKind.REFUND else ledger.capturable)
            if take <= 0:
                continue
            await payments.move_money(runtime, payment["id"], kind, take, key, f"return {return_id}")
            moved[kind] += take
            left -= take
    return moved[MovementKind.REFUND], moved[MovementKind.CANCEL]


async def _free_order(runtime: Runtime, order: dict[str, Any], lines: list[dict[str, Any]], return_id: str) -> str:
    address = _json(order["shipping_address"])
    async with runtime.unit_of_work():
        new = await place_order(
            runtime.db,
            runtime.host,
            runtime.settings,
            PlaceOrder(
                channel=order["channel"],
                customer=CustomerRef(id=order["customer_id"]),
                lines=[OrderLineIn(ln["sku"], ln["received_qty"]) for ln in lines],
                shipping_address=msgspec.convert(address, ShippingAddress) if address else None,
                delivery=DeliveryIn(
                    method=DeliveryMethod(order["delivery_method"]), pickup_location=order["pickup_location"]
                ),
                external_ref=f"{return_id}:{lines[0]['resolution']}",
            ),
            free_of=order["id"],
        )
    return new.id


async def received_to_sender(runtime: Runtime, shipment_id: str) -> str | None:
    """A parcel back at the sender after failed deliveries enters the returns model, already
    received and resold (delivery restocked it on arrival); the payment was unwound separately."""
    shipment = await Shipment.select().where(Shipment.id == shipment_id).first()
    if shipment is None:
        return None
    return_id = f"ret_rts_{shipment_id}"
    if await ReturnRequest.exists().where(ReturnRequest.id == return_id):
        return return_id
    order = (
        await Order.select(Order.customer_id, Order.locale if hasattr(Order, "locale") else Order.id)
        .where(Order.id == shipment["order_id"])
        .first()
    )
    now = utcnow()
    lines = await ShipmentLine.select().where(ShipmentLine.shipment_id == shipment_id)
    prices = {
        ln["sku"]: ln["unit_price"] for ln in await OrderLine.select().where(OrderLine.order_id == shipment["order_id"])
    }
    async with runtime.unit_of_work():
        await ReturnRequest.insert(
            ReturnRequest(
                id=return_id,
                order_id=shipment["order_id"],
                customer_id=(order or {}).get("customer_id"),
                status=ReturnStatus.COMPLETED.value,
                method=ReturnMethod.COURIER.value,
                resolution=Resolution.REFUND.value,
                origin="failed_delivery",
                requested_at=now,
                decided_at=now,
                decision_reason=shipment["failure_reason"],
                shipment_id=shipment_id,
                receiving_location=shipment["location"],
                received_at=now,
                completed_at=now,
                notes="returned to sender after failed delivery; payment canceled or refunded with the order",
                created_at=now,
                updated_at=now,
            )
        )
        await ReturnLine.insert(
            *[
                ReturnLine(
                    id=f"{return_id}|{ln['sku']}",
                    return_id=return_id,
                    order_id=shipment["order_id"],
                    sku=ln["sku"],
                    qty=ln["picked_qty"] or ln["qty"],
                    reason=shipment["failure_reason"] or "failed_delivery",
                    resolution=Resolution.REFUND.value,
                    unit_price=prices.get(ln["sku"], 0),
                    received_qty=ln["picked_qty"] or ln["qty"],
                    condition="unopened",
                    disposition=Disposition.RESELL.value,
                )
                for ln in lines
                if (ln["picked_qty"] or ln["qty"])
            ]
        )
        received = ReturnReceived(
            lines={ln["sku"]: ln["picked_qty"] or ln["qty"] for ln in lines if (ln["picked_qty"] or ln["qty"])},
            origin=ReturnOrigin.FAILED_DELIVERY,
        )
        await events.record(received, order_id=shipment["order_id"], subject_id=return_id)
    return return_id


__all__ = ["ReturnRefused", "decide", "get_return", "receive", "request_return", "resolve", "returnable_units"]
