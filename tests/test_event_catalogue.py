"""The event catalogue: one payload Struct per event type, the strings stored before it still
read, a use case cannot record one change twice, events are never recorded by name, plugins get
the narrow event context, and docs/events.md is generated from the Structs."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from core.domain.events import (
    CATALOGUE,
    AllocatedPart,
    ConfirmedBy,
    DomainEvent,
    EventPayload,
    EventType,
    OrderConfirmed,
    OrderPlaced,
    OrderRouted,
    OrderShipped,
    PaymentCaptureRequested,
    PspWebhookReceived,
    ReturnOrigin,
    ReturnReceived,
    ShipmentDelivered,
    ShipmentReturningToSender,
    UnknownEventType,
    decode_payload,
    encode_payload,
    payload_type,
)
from core.domain.events.reference import render
from core.domain.fulfilment import FailureReason
from core.domain.ids import new_id
from core.hookspecs.app import EventContext
from core.jobs import outbox
from core.jobs.outbox import DuplicateEvent, OutboxEventContext, runtime_of
from core.jobs.tables import Event
from core.runtime import Runtime

ROOT = Path(__file__).resolve().parents[1]

# Every payload the engine wrote before the catalogue, one or more per type, as stored: rows in
# existing databases must keep reading (timelines, redelivered events).
STORED_BEFORE: list[tuple[str, dict[str, Any]]] = [
    ("product.created", {}),
    ("location.created", {}),
    ("inventory.adjusted", {"location": "WH-1", "sku": "TEE", "on_hand": 5, "delta": 5}),
    ("inventory.shortfall", {"location": "WH-1", "sku": "TEE", "shortfall": 2, "shipment_id": "shp_1"}),
    ("inventory.shortfall", {"location": "WH-1", "sku": "TEE", "shortfall": 3, "count_id": "cnt_1"}),
    ("customer.created", {}),
    ("checkout.started", {}),
    ("checkout.completed", {}),
    ("order.placed", {"channel": "web", "total": 2900, "currency": "EUR", "status": "pending_payment", "deferred": {}}),
    ("order.confirmed", {"by": "payment"}),
    ("order.confirmed", {"by": "return", "replacement_of": "ord_1"}),
    ("order.confirmed", {}),  # the second, bare one a replacement order used to get
    ("order.cancelled", {"reason": None, "released_units": 5, "by": "ops"}),
    ("order.routed", {"plan": [{"location": "WH-1", "lines": {"TEE": 2}}], "reasons": ["nearest"], "deferred": {}}),
    ("order.rerouted", {"plan": [], "reasons": ["short pick"], "deferred": {"TEE": 1}}),
    ("order.partially_shipped", {}),
    ("order.shipped", {"reason": "refused"}),  # every step of a return to sender carried the reason
    ("order.delivered", {}),
    ("order.returned_to_sender", {"reason": "refused"}),
    ("payment.started", {"provider": "cod", "amount": 2900}),
    ("payment.attempt_succeeded", {"decline_code": None, "card_brand": "visa"}),
    ("payment.attempt_failed", {"decline_code": "card_declined", "card_brand": "visa"}),
    ("payment.authorized", {"amount": 2900, "previous": 0, "status": "authorized"}),
    ("payment.captured", {"amount": 2900, "previous": 0, "status": "captured"}),
    ("payment.refunded", {"amount": 400, "previous": 0, "status": "partially_refunded"}),
    ("payment.canceled", {"amount": 2900, "previous": 0, "status": "canceled"}),
    *[
        (f"payment.{kind}_requested", {"movement_id": "mvt_1", "amount": 100, "reason": None})
        for kind in ("capture", "refund", "cancel")
    ],
    *[
        (f"payment.{kind}_{outcome}", {"movement_id": "mvt_1", "amount": 100, "error": None})
        for kind in ("capture", "refund", "cancel")
        for outcome in ("succeeded", "failed")
    ],
    *[
        (f"payment.{kind}_dead_lettered", {"movement_id": "mvt_1", "amount": 100, "tries": 3, "reason": "down"})
        for kind in ("capture", "refund", "cancel")
    ],
    ("payment.cod_mismatch", {"remitted": 100, "expected": 200}),
    ("psp.webhook_received", {"provider": "stripe", "event_type": "payment_intent.succeeded"}),
    ("shipment.created", {"location": "WH-1", "lines": {"TEE": 1}}),
    ("shipment.cancelled", {"reason": "re-routed"}),
    ("shipment.picked", {"picker": "maria", "short": {"TEE": 1}}),
    ("shipment.packed", {"boxes": None}),
    ("shipment.label_created", {"courier": "acs", "tracking_number": "7200000001"}),
    ("shipment.voucher_rejected", {"courier": "acs", "reason": "no such postcode"}),
    ("shipment.voucher_dead_lettered", {"courier": "acs", "tries": 5, "reason": "acs unreachable"}),
    ("shipment.shipped", {"manifest_id": "man_1", "courier": "acs"}),
    ("shipment.in_transit", {}),
    ("shipment.out_for_delivery", {}),
    ("shipment.delivery_failed", {"attempt": 1, "reason": "recipient_absent", "action": "reattempt"}),
    (
        "shipment.reattempt_scheduled",
        {"failure_reason": "recipient_absent", "next_attempt_on": "2025-03-04T10:00:00+00:00"},
    ),
    (
        "shipment.delivered",
        {"delivered_at": "2025-03-03T10:00:00+00:00", "failure_reason": None, "next_attempt_on": None},
    ),
    ("shipment.return_to_sender_decided", {"why": "refused: refused"}),
    ("shipment.returning_to_sender", {"failure_reason": "refused", "next_attempt_on": None}),
    ("shipment.returning_to_sender", {}),  # the courier turned it back on its own
    ("shipment.returned_to_sender", {"returned_at": "2025-03-05T09:00:00+00:00"}),
    ("task.created", {"kind": "contact_customer"}),
    ("return.requested", {"verdict": "approved", "reason": "within 14 days"}),
    ("return.approved", {"by": "ops", "reason": None}),
    ("return.declined", {"by": "ops", "reason": "worn"}),
    ("return.label_requested", {"shipment_id": "shp_2"}),
    ("return.in_transit", {}),
    ("return.received", {"lines": {"TEE": 1}, "by": "ops"}),
    ("return.received", {"origin": "failed_delivery"}),
    ("return.resolution_pending", {"refund": 0, "store_credit": 0, "notes": ["replacement order not created yet"]}),
    ("return.completed", {"refund": 1000, "store_credit": 0, "notes": []}),
]


# ---------------------------------------------------------------------------------------------
# The catalogue
# ---------------------------------------------------------------------------------------------


def test_every_event_type_has_exactly_one_payload_struct_of_its_own() -> None:
    assert set(CATALOGUE) == set(EventType)
    for event_type, kind in CATALOGUE.items():
        assert kind.event_type is event_type and issubclass(kind, EventPayload)
        assert kind.__struct_config__.frozen, f"{kind.__name__} must be frozen"
    assert len(set(CATALOGUE.values())) == len(CATALOGUE)


def test_the_strings_stored_before_the_catalogue_are_its_event_types() -> None:
    assert {t for t, _ in STORED_BEFORE} <= {t.value for t in EventType}
    assert payload_type("order.placed") is OrderPlaced
    with pytest.raises(UnknownEventType, match=re.escape("'order.teleported' is not in the event catalogue")):
        payload_type("order.teleported")


@pytest.mark.parametrize(("event_type", "stored"), STORED_BEFORE, ids=[t for t, _ in STORED_BEFORE])
def test_a_payload_stored_before_the_catalogue_still_reads(event_type: str, stored: dict[str, Any]) -> None:
    as_text = decode_payload(event_type, msgspec.json.encode(stored))  # SQLite's TEXT column
    as_json = decode_payload(event_type, stored)  # PostgreSQL's jsonb, decoded by the driver
    assert as_text == as_json
    assert type(as_text) is CATALOGUE[EventType(event_type)]


def test_old_payloads_read_into_typed_fields() -> None:
    confirmed = decode_payload("order.confirmed", {"by": "return", "replacement_of": "ord_1"})
    assert confirmed == OrderConfirmed(by=ConfirmedBy.RETURN, replacement_of="ord_1")
    assert decode_payload("order.confirmed", {}) == OrderConfirmed(by=None)
    routed = decode_payload("order.routed", {"plan": [{"location": "WH-1", "lines": {"TEE": 2}}], "reasons": []})
    assert routed == OrderRouted(plan=[AllocatedPart(location="WH-1", lines={"TEE": 2})], reasons=[])
    delivered = decode_payload("shipment.delivered", {"delivered_at": "2025-03-03T10:00:00+00:00"})
    assert delivered == ShipmentDelivered(delivered_at=datetime(2025, 3, 3, 10, tzinfo=UTC))
    returning = decode_payload("shipment.returning_to_sender", {"failure_reason": "refused"})
    assert returning == ShipmentReturningToSender(failure_reason=FailureReason.REFUSED)
    received = decode_payload("return.received", {"origin": "failed_delivery"})
    assert received == ReturnReceived(origin=ReturnOrigin.FAILED_DELIVERY)
    webhook = decode_payload("psp.webhook_received", {"provider": "stripe", "event_type": "charge.refunded"})
    assert webhook == PspWebhookReceived(provider="stripe", provider_event_type="charge.refunded")
    assert encode_payload(webhook) == '{"provider":"stripe","event_type":"charge.refunded"}'


def test_a_payload_that_does_not_fit_its_type_is_refused() -> None:
    with pytest.raises(msgspec.ValidationError, match=re.escape("Expected `int`, got `str` - at `$.total`")):
        decode_payload("order.placed", {"channel": "web", "total": "29", "currency": "EUR", "status": "confirmed"})
    with pytest.raises(msgspec.ValidationError, match="Invalid enum value 'teleported'"):
        decode_payload("order.placed", {"channel": "web", "total": 1, "currency": "EUR", "status": "teleported"})


def test_a_domain_event_hands_its_payload_over_typed() -> None:
    event = DomainEvent(
        id="evt_1",
        type=EventType.ORDER_SHIPPED,
        occurred_at=datetime(2025, 3, 3, tzinfo=UTC),
        data=OrderShipped(),
    )
    assert event.data_as(OrderShipped) == OrderShipped()
    with pytest.raises(TypeError, match=re.escape("event evt_1 is order.shipped, its payload is not a OrderPlaced")):
        event.data_as(OrderPlaced)


# ---------------------------------------------------------------------------------------------
# Recording
# ---------------------------------------------------------------------------------------------


async def test_record_takes_a_catalogue_struct_only() -> None:
    with pytest.raises(TypeError, match="dict is not a payload of the event catalogue"):
        await outbox.record({"channel": "web"}, subject_id="ord_1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="EventPayload is not a payload of the event catalogue"):
        await outbox.record(EventPayload(), subject_id="ord_1")


async def test_record_writes_the_type_and_subject_its_struct_declares(api: Any, runtime: Runtime) -> None:
    subject = new_id("ord")
    async with runtime.unit_of_work():
        event_id = await outbox.record(OrderShipped(), subject_id=subject)
    [row] = await Event.select().where(Event.id == event_id)
    assert (row["type"], row["subject_type"], row["subject_id"]) == ("order.shipped", "order", subject)
    event = outbox.to_domain(row)
    assert event.type is EventType.ORDER_SHIPPED and event.data == OrderShipped()


async def test_one_change_recorded_twice_in_a_unit_of_work_is_refused_and_rolled_back(
    api: Any, runtime: Runtime
) -> None:
    subject = new_id("ord")
    with pytest.raises(DuplicateEvent) as refused:
        async with runtime.unit_of_work():
            await outbox.record(OrderShipped(), subject_id=subject)
            await outbox.record(OrderShipped(), subject_id=subject)
    message = str(refused.value)
    assert f"order.shipped was already recorded for order {subject} in this unit of work" in message
    assert "declare OrderShipped repeatable" in message  # what to do
    assert await Event.count().where(Event.subject_id == subject) == 0  # the unit of work rolled back

    # A nested unit of work is the same unit: the outer one dispatches, and refuses the repeat.
    with pytest.raises(DuplicateEvent):
        async with runtime.unit_of_work():
            await outbox.record(OrderShipped(), subject_id=subject)
            async with runtime.unit_of_work():
                await outbox.record(OrderShipped(), subject_id=subject)
    assert await Event.count().where(Event.subject_id == subject) == 0


async def test_what_is_not_the_same_change_is_recorded(api: Any, runtime: Runtime) -> None:
    first, second = new_id("ord"), new_id("ord")
    async with runtime.unit_of_work():
        await outbox.record(OrderShipped(), subject_id=first)
        await outbox.record(OrderShipped(), subject_id=second)  # another subject
        await outbox.record(OrderConfirmed(by=ConfirmedBy.PAYMENT), subject_id=first)  # another type
    async with runtime.unit_of_work():
        await outbox.record(OrderShipped(), subject_id=first)  # another unit of work
    payment = new_id("pay")
    assert PaymentCaptureRequested.repeatable  # two partial captures of one payment are two changes
    async with runtime.unit_of_work():
        for movement in ("mvt_1", "mvt_2"):
            await outbox.record(PaymentCaptureRequested(movement_id=movement, amount=100), subject_id=payment)
    assert await Event.count().where(Event.subject_id == first) == 3
    assert await Event.count().where(Event.subject_id == payment) == 2


def test_no_event_is_recorded_by_its_name() -> None:
    """`record("order.placed", payload={...})` is gone: a call whose first argument is a string
    (or an f-string) would bypass the catalogue."""
    by_name = []
    for package in ("core", "api", "plugins"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute | ast.Name)
                    and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id) == "record"
                    and node.args
                    and isinstance(node.args[0], ast.Constant | ast.JoinedStr)
                ):
                    by_name.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert by_name == []


# ---------------------------------------------------------------------------------------------
# The context on_event gets
# ---------------------------------------------------------------------------------------------


async def test_the_event_context_offers_the_narrow_contract(api: Any, runtime: Runtime) -> None:
    context = OutboxEventContext(runtime)
    assert isinstance(context, EventContext)
    assert context.settings is runtime.settings
    assert not any(hasattr(context, name) for name in ("db", "host", "queue", "state"))
    assert runtime_of(context) is runtime  # for the core's own domains only

    class Imitation:
        settings = runtime.settings

    with pytest.raises(TypeError, match="Imitation is not the outbox's event context"):
        runtime_of(Imitation())  # type: ignore[arg-type]


def test_plugins_do_not_reach_for_the_engine_behind_the_event_context() -> None:
    """`core.jobs.outbox.runtime_of(context)` is for the core's own domains; a plugin reacts
    through `EventContext` and enqueues a job of its own for more (api.deps.runtime_of, which
    route handlers use, is another function)."""
    reaching = []
    for path in (ROOT / "plugins").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases = {"core.jobs.outbox"}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "core.jobs.outbox":
                if any(alias.name == "runtime_of" for alias in node.names):
                    reaching.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            elif isinstance(node, ast.ImportFrom) and node.module == "core.jobs":
                aliases |= {alias.asname or alias.name for alias in node.names if alias.name == "outbox"}
            elif isinstance(node, ast.Import):
                aliases |= {alias.asname or alias.name for alias in node.names if alias.name == "core.jobs.outbox"}
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "runtime_of" and ast.unparse(node.value) in aliases:
                reaching.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert reaching == []


# ---------------------------------------------------------------------------------------------
# The reference
# ---------------------------------------------------------------------------------------------


def test_the_event_reference_is_up_to_date() -> None:
    generated = render()
    assert (ROOT / "docs" / "events.md").read_text(encoding="utf-8") == generated, (
        "docs/events.md is stale: run `python -m core.domain.events.reference > docs/events.md`"
    )
    for event_type in EventType:
        assert f"### {event_type.value}\n" in generated
    assert "| `replacement_of` | str \\| null | default `null`; the returned order, when `by` is return |" in generated
