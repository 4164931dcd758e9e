"""The core's webhook intake guards itself from every PSP plugin: whatever a plugin makes of a
verified event (a number where text belongs, a NUL, a naive time, an amount no BIGINT holds, an
id too long for an index) is stored dead-lettered with the reason and answered 200, never a 500
from the INSERT or the worker; and a queue that is down still gets the provider its 200."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from core.hookspecs.payments import (
    AttemptInfo,
    AttemptStatus,
    CaptureMoment,
    MoneyMovement,
    MovementResult,
    PaymentFlow,
    PaymentStarted,
    ProviderEvent,
    ProviderPayment,
    ProviderRejected,
    StartPayment,
    WebhookPayloadUnreadable,
    WebhookSignatureInvalid,
)
from core.jobs.tables import Event
from core.payments import psp_webhooks
from core.payments.tables import PspWebhookEvent
from core.runtime import Runtime
from core.testing.fixtures import inline_plugin
from tests.conftest import Api
from tests.payments.conftest import ProcessorPlugin

WHEN = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def sloppy_event(kind: str) -> ProviderEvent:
    """What a careless plugin might build (Structs check no types when built)."""
    fields: dict[str, Any] = {"event_id": f"acme_{kind}", "event_type": "payment.updated", "psp_reference": "ac_1"}
    if kind == "numeric-reference":
        fields["psp_reference"] = 12345
    elif kind == "nul-in-type":
        fields["event_type"] = "payment.\x00updated"
    elif kind == "naive-time":
        return ProviderEvent(**fields, occurred_at=datetime(2026, 3, 2, 9, 30))
    elif kind == "huge-amount":
        attempt = AttemptInfo(reference="try_1", status=AttemptStatus.FAILED, amount=2**64)
        return ProviderEvent(**fields, occurred_at=WHEN, attempt=attempt)
    elif kind == "long-id":
        fields["event_id"] = "acme_" + "x" * 400
    return ProviderEvent(**fields, occurred_at=WHEN)


class Acme:
    """A PSP whose webhooks say, in the `X-Acme-Kind` header, how the plugin mangles them."""

    name = "acme"
    flow = PaymentFlow.NONE
    capture_moment = CaptureMoment.ON_SHIPMENT

    async def start(self, request: StartPayment) -> PaymentStarted:
        return PaymentStarted(psp_reference=f"ac_{request.payment_id}", status=AttemptStatus.AUTHORIZED, flow=self.flow)

    async def retrieve(self, psp_reference: str) -> ProviderPayment:
        return ProviderPayment(psp_reference=psp_reference, status=AttemptStatus.PENDING)

    async def confirm(self, psp_reference: str, payment_method: str, idempotency_key: str) -> ProviderPayment:
        raise ProviderRejected("nothing to confirm")

    async def capture(self, movement: MoneyMovement) -> MovementResult:
        return MovementResult(status=AttemptStatus.SUCCEEDED, amount=movement.amount)

    async def refund(self, movement: MoneyMovement) -> MovementResult:
        return MovementResult(status=AttemptStatus.SUCCEEDED, amount=movement.amount)

    async def cancel(self, movement: MoneyMovement) -> MovementResult:
        return MovementResult(status=AttemptStatus.CANCELED, amount=movement.amount)

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, now: datetime) -> ProviderEvent:
        kind = {k.lower(): v for k, v in headers.items()}.get("x-acme-kind", "")
        if kind == "forged":
            raise WebhookSignatureInvalid("not signed by Acme")
        if kind == "unreadable":
            raise WebhookPayloadUnreadable("Acme sent a refund notice the plugin does not know")
        return sloppy_event(kind)


@pytest.fixture
def acme(runtime: Runtime, api: Api) -> Iterator[Acme]:
    processor = Acme()
    with inline_plugin(runtime.host, ProcessorPlugin(processor), "acme-under-test"):
        yield processor


async def post(api: Api, kind: str, body: bytes = b'{"ok": true}') -> Any:
    return await api.post("/v1/webhooks/psp/acme", content=body, headers={"X-Acme-Kind": kind}, as_=None)


@pytest.mark.usefixtures("acme")
async def test_what_a_plugin_cannot_store_is_dead_lettered_not_a_500(api: Api) -> None:
    events_before = await Event.count()
    expected = {
        "numeric-reference": ("acme_numeric-reference", "got `int` - at `$.psp_reference`"),
        "nul-in-type": ("acme_nul-in-type", "at `$.event_type`"),
        "naive-time": ("acme_naive-time", "Expected `datetime` with a timezone component - at `$.occurred_at`"),
        "huge-amount": ("acme_huge-amount", "<= 9223372036854775807 - at `$.attempt.amount`"),
        "long-id": ("unreadable-", "at `$.event_id`"),
        "unreadable": ("unreadable-", "Acme sent a refund notice the plugin does not know"),
    }
    for kind in expected:
        body = f'{{"kind": "{kind}"}}'.encode()
        for duplicate in (False, True):
            answer = await post(api, kind, body)
            assert (answer.status_code, answer.json()) == (200, {"received": True, "duplicate": duplicate}), kind

    rows = await PspWebhookEvent.select().where(PspWebhookEvent.provider == "acme")
    assert len(rows) == len(expected)
    for kind, (event_id, reason) in expected.items():
        [row] = [r for r in rows if r["payload"] == f'{{"kind": "{kind}"}}']
        assert row["event_id"].startswith(event_id), kind
        assert row["outcome"].startswith("dead-lettered: ") and reason in row["outcome"], (kind, row["outcome"])
        assert row["processed_at"] is not None, kind
    assert {r["event_type"] for r in rows} == {"payment.updated", "unreadable"}  # the NUL never stored
    assert await Event.count() == events_before

    forged = await post(api, "forged")
    assert forged.status_code == 401 and forged.headers["content-type"].startswith("application/problem+json")
    assert await PspWebhookEvent.count().where(PspWebhookEvent.provider == "acme") == len(expected)


@pytest.mark.usefixtures("acme")
async def test_a_queue_that_is_down_still_gets_the_provider_its_200(
    api: Api, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("Redis is restarting")

    assert runtime.queue is not None
    monkeypatch.setattr(runtime.queue, "enqueue", refuse)
    answer = await post(api, "fine")
    assert (answer.status_code, answer.json()) == (200, {"received": True, "duplicate": False})
    [row] = await PspWebhookEvent.select().where(PspWebhookEvent.event_id == "acme_fine")
    assert row["outcome"] is None and row["processed_at"] is None  # stored, for the sweeper to send
    waiting = await Event.select(Event.subject_id).where(Event.type == psp_webhooks.RECEIVED)
    assert [e["subject_id"] for e in waiting] == [row["id"]]
