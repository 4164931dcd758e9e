"""The money ledger: its pure rules (Ledger, status_of, the capture/refund checks), and a property
test driving random sequences of captures, refunds and cancels through the service layer
against the cash-on-delivery processor."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.domain.errors import Conflict, IdempotencyMismatch
from core.domain.orders import CustomerRef, OrderLineIn, PaymentIn, PlaceOrder, ShippingAddress
from core.domain.payments import (
    Ledger,
    MovementKind,
    MovementStatus,
    PaymentStatus,
    check_capture,
    check_refund,
    status_of,
)
from core.orders import orders
from core.payments import payments
from core.payments.tables import MoneyMovement
from core.runtime import Runtime
from tests.payments.conftest import ADDRESS, PRICE, SKU, Shop

# ---------------------------------------------------------------------------------------------
# Pure rules
# ---------------------------------------------------------------------------------------------


def test_capturable_and_refundable_leave_out_what_is_pending() -> None:
    ledger = Ledger(amount=1000, authorized=1000, captured=300, canceled=100, pending_capture=200, pending_cancel=50)
    assert ledger.capturable == 1000 - 300 - 100 - 200 - 50
    assert Ledger(amount=1000, authorized=1000, captured=600, refunded=100, pending_refund=200).refundable == 300
    assert Ledger(amount=1000).capturable == 0
    assert Ledger(amount=1000, authorized=100, captured=100, pending_capture=50).capturable == 0  # never negative
    assert Ledger(amount=1000, captured=100, refunded=100, pending_refund=20).refundable == 0


@pytest.mark.parametrize(
    ("ledger", "flags", "expected"),
    [
        (Ledger(amount=1000), {}, PaymentStatus.PENDING),
        (Ledger(amount=1000), {"requires_action": True}, PaymentStatus.REQUIRES_ACTION),
        (Ledger(amount=1000), {"failed": True}, PaymentStatus.FAILED),
        (Ledger(amount=1000, authorized=1000), {}, PaymentStatus.AUTHORIZED),
        (Ledger(amount=1000, authorized=1000), {"failed": True}, PaymentStatus.AUTHORIZED),
        (Ledger(amount=1000, authorized=1000, captured=400), {}, PaymentStatus.PARTIALLY_CAPTURED),
        (Ledger(amount=1000, authorized=1000, captured=400, canceled=600), {}, PaymentStatus.CAPTURED),
        (Ledger(amount=1000, authorized=1000, captured=1000), {}, PaymentStatus.CAPTURED),
        (Ledger(amount=1000, authorized=1000, canceled=1000), {}, PaymentStatus.CANCELED),
        (Ledger(amount=1000, authorized=1000, canceled=300), {}, PaymentStatus.AUTHORIZED),
        (Ledger(amount=1000, authorized=1000, captured=1000, refunded=1), {}, PaymentStatus.PARTIALLY_REFUNDED),
        (Ledger(amount=1000, authorized=1000, captured=400, refunded=400), {}, PaymentStatus.REFUNDED),
    ],
)
def test_status_follows_from_the_amounts(ledger: Ledger, flags: dict[str, bool], expected: PaymentStatus) -> None:
    assert status_of(ledger, **flags) is expected


def test_capture_and_refund_checks_say_what_is_left() -> None:
    ledger = Ledger(amount=1000, authorized=1000, captured=600, refunded=100, pending_capture=100)
    check_capture("pay_1", ledger, 300)
    with pytest.raises(Conflict) as too_much:
        check_capture("pay_1", ledger, 301)
    assert too_much.value.extra == {"capturable": 300}
    assert "pay_1" in too_much.value.detail and "300 is capturable" in too_much.value.detail
    check_refund("pay_1", ledger, 500)
    with pytest.raises(Conflict) as over:
        check_refund("pay_1", ledger, 501)
    assert over.value.extra == {"refundable": 500}


amounts = st.integers(min_value=0, max_value=10_000)


@given(authorized=amounts, captured=amounts, refunded=amounts, canceled=amounts)
def test_status_is_consistent_with_any_reachable_amounts(
    authorized: int, captured: int, refunded: int, canceled: int
) -> None:
    captured = min(captured, authorized)
    canceled = min(canceled, authorized - captured)
    refunded = min(refunded, captured)
    status = status_of(
        Ledger(amount=authorized, authorized=authorized, captured=captured, refunded=refunded, canceled=canceled)
    )
    if refunded:
        assert status in (PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)
        assert (status is PaymentStatus.REFUNDED) == (refunded == captured)
    elif captured:
        assert (status is PaymentStatus.CAPTURED) == (captured + canceled == authorized)
        assert status in (PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_CAPTURED)
    elif authorized:
        assert status is (PaymentStatus.CANCELED if canceled == authorized else PaymentStatus.AUTHORIZED)
    else:
        assert status is PaymentStatus.PENDING


# ---------------------------------------------------------------------------------------------
# The service layer against cash on delivery: random sequences of requests
# ---------------------------------------------------------------------------------------------

QTY = 2
TOTAL = QTY * PRICE


@dataclass
class Model:
    """What the ledger must say after the requests so far."""

    authorized: int = TOTAL
    captured: int = 0
    refunded: int = 0
    canceled: int = 0

    @property
    def capturable(self) -> int:
        return self.authorized - self.captured - self.canceled

    @property
    def refundable(self) -> int:
        return self.captured - self.refunded


requests = st.lists(
    st.one_of(
        st.tuples(st.just(MovementKind.CAPTURE), st.none() | st.integers(1, TOTAL + 300)),
        st.tuples(st.just(MovementKind.REFUND), st.integers(1, TOTAL + 300)),
        st.tuples(st.just(MovementKind.CANCEL), st.none()),
        st.tuples(st.just("replay"), st.integers(0, 50)),  # an earlier request again, same key
    ),
    max_size=10,
)


async def _cod_payment(runtime: Runtime) -> str:
    async with runtime.unit_of_work():
        order = await orders.place_order(
            runtime.db,
            runtime.host,
            runtime.settings,
            PlaceOrder(
                channel="web",
                customer=CustomerRef(email="prop@example.gr", name="Prop"),
                lines=[OrderLineIn(SKU, QTY)],
                shipping_address=msgspec.convert(ADDRESS, ShippingAddress),
                payment=PaymentIn(provider="cod"),
            ),
        )
    payment = await payments.start_payment(runtime, order.id, "cod")
    assert payment.status is PaymentStatus.AUTHORIZED and payment.authorized == TOTAL
    return payment.id


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=requests)
async def test_any_sequence_of_requests_keeps_the_ledger_whole(
    shop: Shop, runtime: Runtime, steps: list[tuple[MovementKind | str, int | None]]
) -> None:
    payment_id = await _cod_payment(runtime)
    model = Model()
    done: list[tuple[MovementKind, int | None, str]] = []  # requests the ledger accepted
    for n, (kind, amount) in enumerate(steps):
        if kind == "replay":
            if not done or amount is None:
                continue
            kind, amount, key = done[amount % len(done)]
            before = await payments.get_payment(runtime.db, payment_id)
            await payments.move_money(runtime, payment_id, kind, amount, key)
            after = await payments.get_payment(runtime.db, payment_id)
            assert len(after.movements) == len(before.movements), "a replayed key moved money again"
            assert (after.captured, after.refunded, after.canceled) == (
                before.captured,
                before.refunded,
                before.canceled,
            )
            if amount is not None:
                with pytest.raises(IdempotencyMismatch):
                    await payments.move_money(runtime, payment_id, kind, amount + 1, key)
            continue
        assert isinstance(kind, MovementKind)
        key = f"prop-{n}"
        if kind is MovementKind.REFUND:
            allowed = amount is not None and amount <= model.refundable
        else:
            wanted = model.capturable if amount is None else amount
            allowed = 0 < wanted <= model.capturable
        if not allowed:
            with pytest.raises(Conflict):
                await payments.move_money(runtime, payment_id, kind, amount, key)
            continue
        out = await payments.move_money(runtime, payment_id, kind, amount, key)
        moved = out.movements[-1]
        assert moved.status is MovementStatus.SUCCEEDED and moved.idempotency_key == key
        if kind is MovementKind.CAPTURE:
            model.captured += moved.amount
        elif kind is MovementKind.REFUND:
            model.refunded += moved.amount
        else:
            model.canceled += moved.amount
        done.append((kind, amount, key))

    payment = await payments.get_payment(runtime.db, payment_id)
    assert (payment.authorized, payment.captured, payment.refunded, payment.canceled) == (
        model.authorized,
        model.captured,
        model.refunded,
        model.canceled,
    )
    assert payment.captured + payment.canceled <= payment.authorized
    assert payment.refunded <= payment.captured
    assert payment.pending == {"capture": 0, "refund": 0, "cancel": 0}
    ledger = Ledger(
        amount=payment.amount,
        authorized=payment.authorized,
        captured=payment.captured,
        refunded=payment.refunded,
        canceled=payment.canceled,
    )
    assert payment.status is status_of(ledger)
    sums = {kind: 0 for kind in MovementKind}
    for row in await MoneyMovement.select().where(MoneyMovement.payment_id == payment_id):
        assert row["status"] == MovementStatus.SUCCEEDED.value
        sums[MovementKind(row["kind"])] += row["amount"]
    assert sums == {
        MovementKind.CAPTURE: payment.captured,
        MovementKind.REFUND: payment.refunded,
        MovementKind.CANCEL: payment.canceled,
    }
