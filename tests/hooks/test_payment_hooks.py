"""register_payment_processors: an inline processor becomes a provider orders can name, and the
host refuses objects that do not satisfy the PaymentProcessor protocol or reuse a name."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import pytest

from core.hookspecs import hookimpl
from core.hookspecs.payments import (
    AttemptStatus,
    CaptureMoment,
    MoneyMovement,
    MovementResult,
    PaymentFlow,
    PaymentProcessor,
    PaymentStarted,
    ProviderEvent,
    ProviderPayment,
    ProviderRejected,
    StartPayment,
    WebhookSignatureInvalid,
)
from core.plugins import PluginError
from core.runtime import Runtime
from core.testing.fixtures import inline_plugin

ADDRESS = {"name": "Maria", "line1": "Patision 76", "city": "Athens", "postcode": "10434", "country": "GR"}


class BankTransfer:
    """A processor with nothing to do at checkout (like cash on delivery): flow NONE."""

    name = "inline-bank-transfer"
    flow = PaymentFlow.NONE
    capture_moment = CaptureMoment.ON_SHIPMENT

    def __init__(self) -> None:
        self.started: list[StartPayment] = []

    async def start(self, request: StartPayment) -> PaymentStarted:
        self.started.append(request)
        return PaymentStarted(psp_reference=f"bt_{request.payment_id}", status=AttemptStatus.AUTHORIZED, flow=self.flow)

    async def retrieve(self, psp_reference: str) -> ProviderPayment:
        return ProviderPayment(psp_reference=psp_reference, status=AttemptStatus.PENDING)

    async def confirm(self, psp_reference: str, payment_method: str, idempotency_key: str) -> ProviderPayment:
        raise ProviderRejected("a bank transfer needs no confirmation")

    async def capture(self, movement: MoneyMovement) -> MovementResult:
        return MovementResult(status=AttemptStatus.SUCCEEDED, amount=movement.amount)

    async def refund(self, movement: MoneyMovement) -> MovementResult:
        return MovementResult(status=AttemptStatus.SUCCEEDED, amount=movement.amount)

    async def cancel(self, movement: MoneyMovement) -> MovementResult:
        return MovementResult(status=AttemptStatus.CANCELED, amount=movement.amount)

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, now: datetime) -> ProviderEvent:
        raise WebhookSignatureInvalid("bank transfers have no webhooks")


class ProcessorPlugin:
    def __init__(self, processor: object) -> None:
        self.processor = processor

    @hookimpl
    def register_payment_processors(self, register: Callable[[PaymentProcessor], None]) -> None:
        register(self.processor)  # type: ignore[arg-type]  # the host checks the protocol itself


async def seed(api: Any) -> None:
    product = {"sku": "MUG-1", "name": "Mug", "price": {"amount": 1250, "currency": "EUR"}}
    assert (await api.post("/v1/products", json=product, as_="ops")).status_code == 201
    location = {"code": "WH-1", "name": "Warehouse", "type": "warehouse"}
    assert (await api.post("/v1/locations", json=location, as_="ops")).status_code == 201
    assert (await api.put("/v1/inventory/WH-1/MUG-1", json={"on_hand": 5}, as_="ops")).status_code == 200


def order_body(provider: str) -> dict[str, Any]:
    return {
        "channel": "web",
        "customer": {"email": "nikos@example.gr", "name": "Nikos"},
        "lines": [{"sku": "MUG-1", "qty": 2}],
        "shipping_address": ADDRESS,
        "payment": {"provider": provider},
    }


async def test_hook_register_payment_processors(api: Any, runtime: Runtime) -> None:
    await seed(api)
    unknown = await api.post("/v1/orders", json=order_body("inline-bank-transfer"), as_="storefront")
    assert unknown.status_code == 422
    assert [e["field"] for e in unknown.json()["errors"]] == ["payment.provider"]

    processor = BankTransfer()
    with inline_plugin(runtime.host, ProcessorPlugin(processor), name="inline-payments"):
        registered = runtime.host.payment_processors["inline-bank-transfer"]
        assert registered.value is processor
        assert registered.plugin == "inline-payments"
        placed = await api.post("/v1/orders", json=order_body("inline-bank-transfer"), as_="storefront")
        assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["status"] == "confirmed"  # flow NONE: nothing for the customer to do, so confirmed now
    assert [(p["provider"], p["status"]) for p in order["payments"]] == [("inline-bank-transfer", "authorized")]
    assert len(processor.started) == 1
    started = processor.started[0]
    assert (started.order_id, started.amount, started.currency) == (order["id"], 2500, "EUR")
    assert started.idempotency_key  # every call to a provider carries one
    assert "inline-bank-transfer" not in runtime.host.payment_processors


class HalfAProcessor:
    name = "inline-half"
    flow = PaymentFlow.REDIRECT

    async def start(self, request: StartPayment) -> PaymentStarted:
        raise NotImplementedError


async def test_hook_register_payment_processors_refuses_what_breaks_the_protocol(runtime: Runtime) -> None:
    with (
        inline_plugin(runtime.host, ProcessorPlugin(HalfAProcessor()), name="inline-half-processor"),
        pytest.raises(PluginError) as refused,
    ):
        runtime.host.payment_processors  # noqa: B018 - the registry is built on first access
    message = str(refused.value)
    assert "'inline-half-processor'" in message
    assert "HalfAProcessor does not satisfy PaymentProcessor" in message
    assert "missing: cancel, capture, capture_moment, confirm, refund, retrieve, verify_webhook" in message

    class WithoutFlow:
        name = "inline-without-flow"
        capture_moment = CaptureMoment.ON_SHIPMENT
        start = BankTransfer.start
        retrieve = BankTransfer.retrieve
        confirm = BankTransfer.confirm
        capture = BankTransfer.capture
        refund = BankTransfer.refund
        cancel = BankTransfer.cancel
        verify_webhook = BankTransfer.verify_webhook

    with (
        inline_plugin(runtime.host, ProcessorPlugin(WithoutFlow()), name="inline-flowless"),
        pytest.raises(PluginError, match=r"missing: flow\)"),
    ):
        runtime.host.payment_processors  # noqa: B018


async def test_hook_register_payment_processors_refuses_a_second_processor_with_one_name(runtime: Runtime) -> None:
    with (
        inline_plugin(runtime.host, ProcessorPlugin(BankTransfer()), name="inline-first"),
        inline_plugin(runtime.host, ProcessorPlugin(BankTransfer()), name="inline-second"),
        pytest.raises(PluginError) as refused,
    ):
        runtime.host.payment_processors  # noqa: B018
    message = str(refused.value)
    assert "'inline-second' registered 'inline-bank-transfer'" in message
    assert "plugin 'inline-first' already did" in message
    assert "inline-bank-transfer" not in runtime.host.payment_processors
