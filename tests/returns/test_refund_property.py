"""Refund arithmetic after returns, as a property: hypothesis drives random sequences of partial
captures, partial returns (request + receive), manual refunds and replays through the services,
on an order paid cash on delivery or through a fake card PSP, and after every step checks that

- on every payment, refunded ≤ captured and captured + canceled ≤ authorized;
- per SKU, the units in received returns never exceed the delivered units, and the order line's
  `qty_returned` is exactly that sum;
- the refunds recorded on returns equal the ledger's refund movements keyed `return-*`;
- the money reconciles: captured − refunded is what the customer paid net (the model's captures
  less every refund), and what is still capturable is the order less what returns gave back.

The model predicts each return's money: the value received (less the restocking fee) is refunded
from what was captured, then released from what is only authorized, and any rest is store credit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.domain.errors import Conflict, InvalidInput
from core.domain.orders import CustomerRef, OrderLineIn, PaymentIn, PlaceOrder, ShippingAddress
from core.domain.payments import MovementKind, MovementStatus
from core.domain.returns import ReceiveIn, ReturnIn
from core.hookspecs import hookimpl
from core.hookspecs.payments import (
    AttemptStatus,
    CaptureMoment,
    MovementResult,
    PaymentFlow,
    PaymentProcessor,
    PaymentStarted,
    ProviderEvent,
    ProviderPayment,
    StartPayment,
    WebhookSignatureInvalid,
)
from core.hookspecs.payments import MoneyMovement as MovementRequest
from core.orders import orders
from core.orders.tables import OrderLine
from core.payments import payments
from core.payments.tables import MoneyMovement, Payment
from core.policies import policies
from core.returns import returns
from core.returns.tables import ReturnLine, ReturnRequest, StoreCredit
from core.runtime import Runtime
from core.testing.fixtures import inline_plugin
from plugins.returns_default import DEFAULT_POLICY, RestockingFee
from tests.conftest import Api
from tests.returns.conftest import ADDRESS, PRODUCTS, WAREHOUSE, Store

LINES = {"TEE-BLK-M": 3, "OLIVE-OIL-1L": 2}
PRICES = {sku: PRODUCTS[sku][1] for sku in LINES}
TOTAL = sum(qty * PRICES[sku] for sku, qty in LINES.items())  # 3 × 2000 + 2 × 1300 = 8600
FEE = RestockingFee(percent_bp=1000, fixed=50)
DEFECTS = set(DEFAULT_POLICY.defect_reasons)


# ---------------------------------------------------------------------------------------------
# A fake card PSP: authorizes at start, reports cumulative amounts with every movement
# ---------------------------------------------------------------------------------------------


class FakePSP:
    """Keeps its own books per payment and answers every movement with a full snapshot, so the
    ledger's merge-by-max path is exercised (cash on delivery answers without snapshots)."""

    name = "fakepsp"
    flow = PaymentFlow.NONE
    capture_moment = CaptureMoment.ON_SHIPMENT

    def __init__(self) -> None:
        self.books: dict[str, dict[str, int]] = {}
        self.seen: dict[str, MovementResult] = {}

    async def start(self, request: StartPayment) -> PaymentStarted:
        reference = f"fake_{request.payment_id}"
        self.books.setdefault(reference, {"authorized": request.amount, "captured": 0, "refunded": 0, "canceled": 0})
        return PaymentStarted(psp_reference=reference, status=AttemptStatus.AUTHORIZED, flow=self.flow)

    def snapshot(self, reference: str) -> ProviderPayment:
        books = self.books[reference]
        return ProviderPayment(
            psp_reference=reference,
            status=AttemptStatus.AUTHORIZED,
            authorized=books["authorized"],
            captured=books["captured"],
            refunded=books["refunded"],
            canceled=books["canceled"],
        )

    async def retrieve(self, psp_reference: str) -> ProviderPayment:
        return self.snapshot(psp_reference)

    async def confirm(self, psp_reference: str, payment_method: str, idempotency_key: str) -> ProviderPayment:
        return self.snapshot(psp_reference)

    async def _move(self, movement: MovementRequest, field_name: str) -> MovementResult:
        if movement.idempotency_key in self.seen:  # a replay answers the first result
            return self.seen[movement.idempotency_key]
        books = self.books[movement.psp_reference]
        books[field_name] += movement.amount
        assert books["refunded"] <= books["captured"]
        assert books["captured"] + books["canceled"] <= books["authorized"]
        result = MovementResult(
            status=AttemptStatus.SUCCEEDED,
            amount=movement.amount,
            provider_reference=f"{field_name}:{movement.idempotency_key}",
            payment=self.snapshot(movement.psp_reference),
        )
        self.seen[movement.idempotency_key] = result
        return result

    async def capture(self, movement: MovementRequest) -> MovementResult:
        return await self._move(movement, "captured")

    async def refund(self, movement: MovementRequest) -> MovementResult:
        return await self._move(movement, "refunded")

    async def cancel(self, movement: MovementRequest) -> MovementResult:
        return await self._move(movement, "canceled")

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, now: datetime) -> ProviderEvent:
        raise WebhookSignatureInvalid("the fake PSP sends no webhooks")


class FakePSPPlugin:
    def __init__(self, processor: FakePSP) -> None:
        self.processor = processor

    @hookimpl
    def register_payment_processors(self, register: Callable[[PaymentProcessor], None]) -> None:
        register(self.processor)


@pytest.fixture
async def shop(api: Api, store: Store, runtime: Runtime) -> AsyncIterator[Store]:
    """The shop with plenty of stock, the fake PSP, and a return policy with a restocking fee."""
    for sku in LINES:
        ok = await api.put(f"/v1/inventory/{WAREHOUSE}/{sku}", json={"on_hand": 100_000}, as_="ops")
        assert ok.status_code == 200, ok.text
    async with runtime.unit_of_work():
        await policies.save(runtime.host, "returns", msgspec.to_builtins(policy_with_fee()), "test")
    with inline_plugin(runtime.host, FakePSPPlugin(FakePSP()), "fake-psp"):
        yield store


def policy_with_fee() -> Any:
    return msgspec.structs.replace(DEFAULT_POLICY, restocking_fee=FEE)


# ---------------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------------


@dataclass
class Model:
    captured: int = 0
    refunded: int = 0  # manual refunds and returns' refunds
    released: int = 0  # authorization released by returns instead of refunded
    returned: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    open_claims: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    return_ids: list[str] = field(default_factory=list)

    @property
    def capturable(self) -> int:
        return TOTAL - self.captured - self.released

    @property
    def refundable(self) -> int:
        return self.captured - self.refunded

    def returnable(self, sku: str) -> int:
        return LINES[sku] - self.returned[sku] - self.open_claims[sku]


def fee_of(lines: list[tuple[str, int, str]]) -> int:
    base = sum(qty * PRICES[sku] for sku, qty, reason in lines if reason not in DEFECTS)
    if not base:
        return 0
    return min(base, (base * FEE.percent_bp + 5_000) // 10_000 + FEE.fixed)


# ---------------------------------------------------------------------------------------------
# Steps
# ---------------------------------------------------------------------------------------------

return_lines = st.lists(
    st.tuples(
        st.sampled_from(sorted(LINES)),
        st.integers(1, 4),  # may ask more than is returnable: then the request is refused
        st.sampled_from(["changed_mind", "wrong_size", "defective"]),
        st.integers(0, 4),  # units received (capped at the units asked)
        st.sampled_from(["resell", "recycle"]),
    ),
    min_size=1,
    max_size=2,
    unique_by=lambda line: line[0],
)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("capture"), st.integers(1, TOTAL)),
        st.tuples(st.just("refund"), st.integers(1, TOTAL)),
        st.tuples(st.just("return"), return_lines, st.sampled_from(["refund", "store_credit"]), st.booleans()),
        st.tuples(st.just("replay")),
    ),
    min_size=1,
    max_size=8,
)


async def place_delivered_order(shop: Store, runtime: Runtime, provider: str) -> str:
    async with runtime.unit_of_work():
        order = await orders.place_order(
            runtime.db,
            runtime.host,
            runtime.settings,
            PlaceOrder(
                channel="web",
                customer=CustomerRef(email="prop@example.gr", name="Prop"),
                lines=[OrderLineIn(sku, qty) for sku, qty in LINES.items()],
                shipping_address=msgspec.convert(ADDRESS, ShippingAddress),
                payment=PaymentIn(provider=provider),
            ),
        )
    payment = await payments.start_payment(runtime, order.id, provider)
    assert payment.authorized == TOTAL
    await shop.deliver(order.id)
    return order.id


async def payment_of(order_id: str) -> dict[str, Any]:
    rows = await Payment.select().where(Payment.order_id == order_id)
    assert len(rows) == 1
    row: dict[str, Any] = rows[0]
    return row


async def check_invariants(order_id: str, model: Model) -> None:
    for p in await Payment.select().where(Payment.order_id == order_id):
        assert 0 <= p["refunded"] <= p["captured"] <= p["authorized"], p
        assert p["captured"] + p["canceled"] <= p["authorized"], p
    lines = {ln["sku"]: ln for ln in await OrderLine.select().where(OrderLine.order_id == order_id)}
    received: dict[str, int] = defaultdict(int)
    for rl in await ReturnLine.raw(
        "SELECT l.sku, l.received_qty FROM return_lines l JOIN returns r ON r.id = l.return_id "
        "WHERE l.order_id = {} AND r.received_at IS NOT NULL",
        order_id,
    ):
        received[rl["sku"]] += rl["received_qty"]
    for sku, line in lines.items():
        assert received[sku] <= line["qty_delivered"] == LINES[sku]
        assert line["qty_returned"] == received[sku] == model.returned[sku]
    recorded = sum(r["refund_amount"] for r in await ReturnRequest.select().where(ReturnRequest.order_id == order_id))
    payment = await payment_of(order_id)
    movements = await MoneyMovement.select().where(MoneyMovement.payment_id == payment["id"])
    assert all(m["status"] == MovementStatus.SUCCEEDED.value for m in movements)
    by_returns = sum(
        m["amount"]
        for m in movements
        if m["kind"] == MovementKind.REFUND.value and m["idempotency_key"].startswith("return-")
    )
    assert recorded == by_returns
    assert payment["captured"] - payment["refunded"] == model.captured - model.refunded
    assert payment["canceled"] == model.released
    assert payment["authorized"] - payment["captured"] - payment["canceled"] == model.capturable


async def file_and_receive(
    runtime: Runtime,
    order_id: str,
    model: Model,
    wanted: list[tuple[str, int, str, int, str]],
    resolution: str,
    retry: bool,
) -> None:
    asks_too_much = any(qty > model.returnable(sku) for sku, qty, *_ in wanted)
    request = msgspec.convert(
        {
            "order_id": order_id,
            "lines": [{"sku": sku, "qty": qty, "reason": reason} for sku, qty, reason, _, _ in wanted],
            "method": "store",
            "resolution": resolution,
        },
        ReturnIn,
    )
    if asks_too_much:
        with pytest.raises(InvalidInput) as refused:
            await returns.request_return(runtime, request)
        assert "delivered and not already returned or in an open return" in refused.value.detail
        return
    created = await returns.request_return(runtime, request)
    assert created.status.value == "approved"
    fee = fee_of([(sku, qty, reason) for sku, qty, reason, _, _ in wanted])
    assert created.restocking_fee == fee
    model.return_ids.append(created.id)
    for sku, qty, *_ in wanted:
        model.open_claims[sku] += qty
    await check_invariants(order_id, model)  # filed, not received: no money moved

    got = {sku: min(qty, received) for sku, qty, _, received, _ in wanted}
    receipt = msgspec.convert(
        {
            "lines": [
                {"sku": sku, "qty": got[sku], "condition": "inspected", "disposition": disposition}
                for sku, _, _, _, disposition in wanted
            ]
        },
        ReceiveIn,
    )
    # What the model says the return gives back: refunded from what was captured, then released
    # from what is only authorized, and the rest as store credit.
    value = sum(got[sku] * PRICES[sku] for sku in got)
    money = max(0, value - fee) if resolution == "refund" and value else 0
    refund = min(money, model.refundable)
    release = min(money - refund, model.capturable)
    credit = (money - refund - release) if resolution == "refund" else value
    done = await returns.receive(runtime, created.id, receipt, "prop")
    if retry:
        await returns.resolve(runtime, created.id)
        with pytest.raises(Conflict):
            await returns.receive(runtime, created.id, receipt, "prop")
    for sku, qty, *_ in wanted:
        model.open_claims[sku] -= qty
        model.returned[sku] += got[sku]
    model.refunded += refund
    model.released += release
    assert done.status.value == "completed", done.notes
    assert done.refund_amount == refund
    released = await MoneyMovement.select(MoneyMovement.amount).where(
        (MoneyMovement.kind == MovementKind.CANCEL.value) & (MoneyMovement.idempotency_key == f"return-{created.id}")
    )
    assert sum(m["amount"] for m in released) == release
    credits = await StoreCredit.select(StoreCredit.amount).where(StoreCredit.source == f"return:{created.id}")
    assert sum(c["amount"] for c in credits) == credit


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(provider=st.sampled_from(["cod", "fakepsp"]), plan=steps)
async def test_refunds_after_returns_always_reconcile(
    shop: Store, runtime: Runtime, provider: str, plan: list[tuple[Any, ...]]
) -> None:
    order_id = await place_delivered_order(shop, runtime, provider)
    model = Model()
    await check_invariants(order_id, model)
    for n, step in enumerate(plan):
        payment = await payment_of(order_id)
        if step[0] == "capture":
            amount = min(step[1], model.capturable)
            if amount:
                await payments.move_money(runtime, payment["id"], MovementKind.CAPTURE, amount, f"capture-{n}")
                model.captured += amount
        elif step[0] == "refund":
            amount = min(step[1], model.refundable)
            if amount:
                await payments.move_money(runtime, payment["id"], MovementKind.REFUND, amount, f"goodwill-{n}")
                model.refunded += amount
        elif step[0] == "return":
            await file_and_receive(runtime, order_id, model, step[1], step[2], step[3])
        else:  # replay: resolving every return again moves no money
            for return_id in model.return_ids:
                await returns.resolve(runtime, return_id)
        await check_invariants(order_id, model)
