"""The PSP contract suite: what every payment-processor plugin must do, whatever its provider.

The core trusts a `PaymentProcessor` with money, so each plugin proves it behaves: idempotent
starts and captures, amounts the provider refuses to exceed, declines with their codes,
transient failures reported as `ProviderUnavailable` (so the worker retries instead of giving up
or charging twice), and webhooks whose signature, age and identity are checked.

How to run it against your plugin (pytest with pytest-asyncio, `asyncio_mode = "auto"`):
subclass `PSPContract` in a test module, name the subclass `Test…`, and give it a `psp_harness`
fixture returning a `PSPHarness` around your processor, pointed at your provider's sandbox or,
better, at a simulator you can make misbehave.

    import pytest
    from core.testing.psp_contract import PSPContract, PSPHarness
    from viva_plugin import VivaWallet

    class VivaHarness(PSPHarness):
        supports_webhooks = True
        authorized_event_type = "1796"

        def __init__(self, sandbox):
            super().__init__(VivaWallet(base_url=sandbox.url, client_id="x", client_secret="y"))
            self.sandbox = sandbox

        async def authorize(self, started):
            await self.sandbox.pay(started.psp_reference, card="4111111111111111")

        def signed_webhook(self, event_type, psp_reference):
            return self.sandbox.signed_event(event_type, psp_reference)

    class TestVivaContract(PSPContract):
        @pytest.fixture
        def psp_harness(self, viva_sandbox):  # your own fixture serving the sandbox
            return VivaHarness(viva_sandbox)

Then `pytest tests/test_viva_contract.py`. Nothing is skipped: when the harness says a
capability is absent (no webhooks, no declines at confirmation, no fault injection, no amount
checks at the provider) the matching test asserts the behaviour documented for that case
instead, e.g. that `verify_webhook` refuses everything with `WebhookSignatureInvalid` (answered
401). Emporio's own plugins run it in `tests/payments/test_psp_contract_*.py`.
"""

from __future__ import annotations

import abc
import inspect
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import msgspec
import pytest

from core.domain.errors import Conflict
from core.domain.ids import new_id
from core.domain.payments import Ledger, check_capture
from core.hookspecs.payments import (
    AttemptStatus,
    CaptureMoment,
    ExpiringPaymentLinks,
    LinkOutcome,
    MoneyMovement,
    MovementResult,
    PaymentDeclined,
    PaymentFlow,
    PaymentLinkLine,
    PaymentLinkRequest,
    PaymentLinks,
    PaymentProcessor,
    PaymentStarted,
    ProviderEvent,
    ProviderPayment,
    ProviderRejected,
    ProviderUnavailable,
    StartPayment,
    WebhookSignatureInvalid,
)

__all__ = ["PSPContract", "PSPHarness"]

STARTED_STATUSES: dict[PaymentFlow, frozenset[AttemptStatus]] = {
    # The customer still has to act: card form or hosted page.
    PaymentFlow.CLIENT_SECRET: frozenset({AttemptStatus.PENDING, AttemptStatus.REQUIRES_ACTION}),
    PaymentFlow.REDIRECT: frozenset({AttemptStatus.PENDING, AttemptStatus.REQUIRES_ACTION}),
    # Nothing to do: accepted at once (cash on delivery) or waiting for money (bank transfer).
    PaymentFlow.NONE: frozenset({AttemptStatus.PENDING, AttemptStatus.AUTHORIZED, AttemptStatus.SUCCEEDED}),
    PaymentFlow.COUNTER: frozenset({AttemptStatus.SUCCEEDED}),  # the money is in the till
}
WEBHOOK_TOLERANCE_S = 300


class PSPHarness(abc.ABC):
    """What the contract needs to drive one provider: the processor, the customer's side of a
    payment, and the provider's misbehaviour. Capabilities default to absent; set the flags your
    provider (or its simulator) has.

    Attributes:
        processor: the `PaymentProcessor` under test.
        supports_webhooks: the provider signs webhooks; `signed_webhook` builds one.
        authorized_event_type: the webhook the provider sends once a payment is authorized.
        supports_declines: `processor.confirm(ref, declining_payment_method, key)` raises
            `PaymentDeclined`. Without it, confirm must not raise `PaymentDeclined` at all
            (declines then arrive through webhooks and `retrieve`).
        declining_payment_method: a payment method the provider always declines.
        supports_fault_injection: `inject_unavailable(kind)` makes the provider's next API call
            fail as `kind`, for each kind in `fault_kinds`.
        provider_enforces_amounts: the provider refuses to capture more than it authorized
            (the core checks its own ledger first either way).
        amount, currency: what the contract's payments are for.
    """

    supports_webhooks: ClassVar[bool] = False
    authorized_event_type: ClassVar[str] = ""
    supports_declines: ClassVar[bool] = False
    declining_payment_method: ClassVar[str] = "pm_card_chargeDeclined"
    supports_fault_injection: ClassVar[bool] = False
    fault_kinds: ClassVar[tuple[str, ...]] = ()
    provider_enforces_amounts: ClassVar[bool] = False
    amount: ClassVar[int] = 2500
    currency: ClassVar[str] = "EUR"

    def __init__(self, processor: PaymentProcessor) -> None:
        self.processor = processor

    @abc.abstractmethod
    async def authorize(self, started: PaymentStarted) -> None:
        """Act as the customer completing the payment at the provider (card form, hosted page);
        do nothing when the start itself authorizes (cash on delivery)."""

    def signed_webhook(self, event_type: str, psp_reference: str) -> tuple[dict[str, str], bytes]:
        """Headers and raw body of a correctly signed, current webhook about `psp_reference`."""
        raise NotImplementedError(f"{type(self).__name__} sets supports_webhooks but cannot sign a webhook")

    def inject_unavailable(self, kind: str) -> None:
        """Make the provider's next API call fail as `kind` (timeout, 500, 429, malformed…)."""
        raise NotImplementedError(f"{type(self).__name__} sets supports_fault_injection but cannot inject {kind}")

    def captures_at_provider(self, psp_reference: str) -> int | None:
        """How many captures the provider holds for the payment; None when it cannot be counted."""
        return None


def _start_request(harness: PSPHarness, key: str | None = None) -> StartPayment:
    payment_id = new_id("pay")
    return StartPayment(
        payment_id=payment_id,
        order_id=new_id("ord"),
        amount=harness.amount,
        currency=harness.currency,
        idempotency_key=key or f"contract-{payment_id}-start",
        capture_at_authorization=False,
        customer_email="contract@example.gr",
        channel="web",
        metadata={"payment_id": payment_id},
    )


def _movement(request: StartPayment, started: PaymentStarted, amount: int, label: str) -> MoneyMovement:
    return MoneyMovement(
        payment_id=request.payment_id,
        psp_reference=started.psp_reference,
        amount=amount,
        currency=request.currency,
        idempotency_key=f"contract-{request.payment_id}-{label}-{new_id('key')}",
        reason="contract suite",
    )


async def _authorized(harness: PSPHarness) -> tuple[StartPayment, PaymentStarted]:
    request = _start_request(harness)
    started = await harness.processor.start(request)
    await harness.authorize(started)
    return request, started


def _same_result(first: MovementResult, second: MovementResult) -> bool:
    return (first.status, first.amount, first.provider_reference) == (
        second.status,
        second.amount,
        second.provider_reference,
    )


class PSPContract:
    """Subclass as `Test<Provider>Contract` and provide the `psp_harness` fixture."""

    @pytest.fixture
    def psp_harness(self) -> PSPHarness:
        raise NotImplementedError("override the psp_harness fixture in your PSPContract subclass")

    # -- the protocol ----------------------------------------------------------------------

    def test_satisfies_the_protocol(self, psp_harness: PSPHarness) -> None:
        processor = psp_harness.processor
        assert isinstance(processor, PaymentProcessor)
        assert isinstance(processor.name, str) and processor.name
        assert processor.name == processor.name.strip().lower(), "provider names are lower-case slugs"
        assert isinstance(processor.flow, PaymentFlow)
        assert isinstance(processor.capture_moment, CaptureMoment)
        for method in ("start", "retrieve", "confirm", "capture", "refund", "cancel"):
            assert inspect.iscoroutinefunction(getattr(processor, method)), f"{method} must be async"
        assert not inspect.iscoroutinefunction(processor.verify_webhook), "verify_webhook runs inline: sync"

    async def test_payment_links_when_offered(self, psp_harness: PSPHarness) -> None:
        """Payment links are optional. A processor offering them (`PaymentLinks`) returns a page
        that is still open, and the same page when asked again with the same idempotency key; one
        that does not must not half-offer them (a `create_payment_link` the core would not call).
        Expiring a page (`ExpiringPaymentLinks`, optional too) answers `EXPIRED`, and again when
        asked twice."""
        processor = psp_harness.processor
        if not isinstance(processor, PaymentLinks):
            assert not hasattr(processor, "create_payment_link"), "declare the whole PaymentLinks protocol"
            return
        assert inspect.iscoroutinefunction(processor.create_payment_link), "create_payment_link must be async"
        payment_id = new_id("pay")
        request = PaymentLinkRequest(
            payment_id=payment_id,
            order_id=new_id("ord"),
            amount=psp_harness.amount,
            currency=psp_harness.currency,
            lines=[PaymentLinkLine(sku="CONTRACT-1", name="Contract item", qty=1, unit_amount=psp_harness.amount)],
            idempotency_key=f"contract-{payment_id}-link",
            capture_at_authorization=False,
            success_url="https://shop.example/paid?ok=1",
            cancel_url="https://shop.example/paid?ok=0",
            metadata={"payment_id": payment_id},
        )
        first = await processor.create_payment_link(request)
        assert first.url.startswith(("https://", "http://")) and first.provider_ref
        assert first.expires_at.tzinfo is not None and first.expires_at > datetime.now(UTC)
        again = await processor.create_payment_link(request)
        assert (again.url, again.provider_ref) == (first.url, first.provider_ref), "a retry must not make a second page"
        other = await processor.create_payment_link(
            msgspec.structs.replace(request, idempotency_key=f"contract-{payment_id}-link-2")
        )
        assert other.provider_ref != first.provider_ref
        if not isinstance(processor, ExpiringPaymentLinks):
            assert not hasattr(processor, "expire_payment_link"), "declare the whole ExpiringPaymentLinks protocol"
            return
        assert await processor.expire_payment_link(first.provider_ref) is LinkOutcome.EXPIRED
        assert await processor.expire_payment_link(first.provider_ref) is LinkOutcome.EXPIRED, "expiring is idempotent"

    # -- starting --------------------------------------------------------------------------

    async def test_start_returns_a_reference_and_a_status_of_its_flow(self, psp_harness: PSPHarness) -> None:
        processor = psp_harness.processor
        started = await processor.start(_start_request(psp_harness))
        assert isinstance(started, PaymentStarted)
        assert isinstance(started.psp_reference, str) and started.psp_reference
        assert started.flow == processor.flow
        assert started.status in STARTED_STATUSES[processor.flow], (processor.flow, started.status)
        if processor.flow is PaymentFlow.CLIENT_SECRET:
            assert started.client_secret, "the storefront needs the client secret to show the card form"
        if processor.flow is PaymentFlow.REDIRECT:
            assert started.redirect_url, "the storefront needs the hosted page's URL"

    async def test_start_twice_with_one_key_is_one_payment(self, psp_harness: PSPHarness) -> None:
        request = _start_request(psp_harness)
        first = await psp_harness.processor.start(request)
        second = await psp_harness.processor.start(request)
        assert second.psp_reference == first.psp_reference
        assert second.status == first.status

    async def test_retrieve_reports_the_payment(self, psp_harness: PSPHarness) -> None:
        request, started = await _authorized(psp_harness)
        snapshot = await psp_harness.processor.retrieve(started.psp_reference)
        assert isinstance(snapshot, ProviderPayment)
        assert snapshot.psp_reference == started.psp_reference
        assert 0 <= snapshot.authorized <= request.amount
        assert snapshot.captured == snapshot.refunded == 0

    # -- moving money ----------------------------------------------------------------------

    async def test_capture_after_authorize_succeeds_with_the_amount(self, psp_harness: PSPHarness) -> None:
        request, started = await _authorized(psp_harness)
        result = await psp_harness.processor.capture(_movement(request, started, request.amount, "capture"))
        assert result.status is AttemptStatus.SUCCEEDED
        assert result.amount == request.amount
        if result.payment is not None:
            assert result.payment.captured == request.amount
        count = psp_harness.captures_at_provider(started.psp_reference)
        assert count in (None, 1)

    async def test_capture_twice_with_one_key_captures_once(self, psp_harness: PSPHarness) -> None:
        request, started = await _authorized(psp_harness)
        movement = _movement(request, started, request.amount - 500, "capture")
        first = await psp_harness.processor.capture(movement)
        second = await psp_harness.processor.capture(movement)
        assert _same_result(first, second), (first, second)
        assert first.status is AttemptStatus.SUCCEEDED
        count = psp_harness.captures_at_provider(started.psp_reference)
        assert count in (None, 1), f"{count} captures at the provider for one idempotency key"

    async def test_refund_up_to_the_captured_amount_succeeds(self, psp_harness: PSPHarness) -> None:
        request, started = await _authorized(psp_harness)
        processor = psp_harness.processor
        await processor.capture(_movement(request, started, request.amount, "capture"))
        partial = await processor.refund(_movement(request, started, 700, "refund"))
        assert partial.status is AttemptStatus.SUCCEEDED
        assert partial.amount == 700
        rest = await processor.refund(_movement(request, started, request.amount - 700, "refund"))
        assert rest.status is AttemptStatus.SUCCEEDED
        assert rest.amount == request.amount - 700
        assert partial.provider_reference != rest.provider_reference, "two refunds, two references"

    async def test_capture_beyond_authorized(self, psp_harness: PSPHarness) -> None:
        request, started = await _authorized(psp_harness)
        too_much = _movement(request, started, request.amount + 1, "capture")
        # The core never asks for it: its ledger refuses first.
        with pytest.raises(Conflict):
            check_capture(request.payment_id, Ledger(amount=request.amount, authorized=request.amount), too_much.amount)
        if psp_harness.provider_enforces_amounts:
            with pytest.raises(ProviderRejected):
                await psp_harness.processor.capture(too_much)
        else:
            # Documented: a provider that does not check amounts (cash) records what it is told.
            result = await psp_harness.processor.capture(too_much)
            assert result.status is AttemptStatus.SUCCEEDED

    async def test_cancel_after_authorize_releases_the_hold(self, psp_harness: PSPHarness) -> None:
        request, started = await _authorized(psp_harness)
        processor = psp_harness.processor
        result = await processor.cancel(_movement(request, started, request.amount, "cancel"))
        assert result.status in (AttemptStatus.CANCELED, AttemptStatus.SUCCEEDED)
        assert result.amount == request.amount
        if result.payment is not None:
            assert result.payment.canceled == request.amount
            assert result.payment.captured == 0
        if psp_harness.provider_enforces_amounts:
            with pytest.raises(ProviderRejected):
                await processor.capture(_movement(request, started, request.amount, "capture"))
        assert psp_harness.captures_at_provider(started.psp_reference) in (None, 0)

    # -- declines --------------------------------------------------------------------------

    async def test_declines_carry_their_code(self, psp_harness: PSPHarness) -> None:
        processor = psp_harness.processor
        started = await processor.start(_start_request(psp_harness))
        key = f"contract-{started.psp_reference}-decline"
        if psp_harness.supports_declines:
            with pytest.raises(PaymentDeclined) as declined:
                await processor.confirm(started.psp_reference, psp_harness.declining_payment_method, key)
            assert declined.value.decline_code, "a decline must say why (issuer's decline code)"
            assert str(declined.value), "and carry a message for the customer"
            # The core records a decline under its reference: a second try is a second attempt.
            with pytest.raises(PaymentDeclined) as again:
                await processor.confirm(started.psp_reference, psp_harness.declining_payment_method, key + "-2")
            if declined.value.psp_reference is not None:
                assert again.value.psp_reference != declined.value.psp_reference, "two tries, one reference"
        else:
            # Documented: confirmation is unsupported (ProviderRejected) or simply reports the
            # payment; a decline is never raised at this point.
            try:
                snapshot = await processor.confirm(started.psp_reference, psp_harness.declining_payment_method, key)
            except ProviderRejected:
                return
            assert isinstance(snapshot, ProviderPayment)

    # -- transient failures ----------------------------------------------------------------

    async def test_transient_faults_are_provider_unavailable(self, psp_harness: PSPHarness) -> None:
        processor = psp_harness.processor
        if not psp_harness.supports_fault_injection:
            # Documented: a provider with nothing remote to fail answers every call at once.
            request, started = await _authorized(psp_harness)
            movement = _movement(request, started, request.amount, "capture")
            for _ in range(3):
                assert (await processor.capture(movement)).status is AttemptStatus.SUCCEEDED
            return
        assert psp_harness.fault_kinds, "fault injection without fault kinds tests nothing"
        for kind in psp_harness.fault_kinds:
            request, started = await _authorized(psp_harness)
            capture = _movement(request, started, request.amount, "capture")
            psp_harness.inject_unavailable(kind)
            with pytest.raises(ProviderUnavailable):
                await processor.capture(capture)
            retried = await processor.capture(capture)  # the worker's retry: same key
            assert retried.status is AttemptStatus.SUCCEEDED, kind
            assert psp_harness.captures_at_provider(started.psp_reference) in (None, 1), (
                f"{kind}: a retried capture was executed twice"
            )
            refund = _movement(request, started, 500, "refund")
            psp_harness.inject_unavailable(kind)
            with pytest.raises(ProviderUnavailable):
                await processor.refund(refund)
            assert (await processor.refund(refund)).amount == 500, kind

    # -- webhooks --------------------------------------------------------------------------

    async def test_webhook_verifies_and_parses(self, psp_harness: PSPHarness) -> None:
        processor = psp_harness.processor
        now = datetime.now(UTC)
        if not psp_harness.supports_webhooks:
            # Documented: no webhooks, so nothing is ever accepted (the endpoint answers 401).
            for headers, body in (({}, b"{}"), ({"Webhook-Signature": "t=1,v1=00"}, b'{"id": "evt_1"}')):
                with pytest.raises(WebhookSignatureInvalid):
                    processor.verify_webhook(headers, body, now)
            return
        request, started = await _authorized(psp_harness)
        headers, body = psp_harness.signed_webhook(psp_harness.authorized_event_type, started.psp_reference)
        event = processor.verify_webhook(headers, body, now)
        assert isinstance(event, ProviderEvent)
        assert event.event_id
        assert event.event_type == psp_harness.authorized_event_type
        assert event.psp_reference == started.psp_reference
        assert event.merchant_reference in (None, request.payment_id)
        again = processor.verify_webhook(headers, body, now + timedelta(seconds=1))
        assert again.event_id == event.event_id, "redeliveries must deduplicate on event_id"

    async def test_webhook_with_a_forged_signature_is_refused(self, psp_harness: PSPHarness) -> None:
        processor = psp_harness.processor
        now = datetime.now(UTC)
        if not psp_harness.supports_webhooks:
            with pytest.raises(WebhookSignatureInvalid):
                processor.verify_webhook({}, b'{"forged": true}', now)
            return
        _, started = await _authorized(psp_harness)
        headers, body = psp_harness.signed_webhook(psp_harness.authorized_event_type, started.psp_reference)
        with pytest.raises(WebhookSignatureInvalid):
            processor.verify_webhook(headers, body + b" ", now)  # one byte changed after signing
        with pytest.raises(WebhookSignatureInvalid):
            processor.verify_webhook({}, body, now)  # no signature at all

    async def test_webhook_older_than_the_tolerance_is_refused(self, psp_harness: PSPHarness) -> None:
        processor = psp_harness.processor
        now = datetime.now(UTC)
        if not psp_harness.supports_webhooks:
            with pytest.raises(WebhookSignatureInvalid):
                processor.verify_webhook({}, b"{}", now + timedelta(seconds=WEBHOOK_TOLERANCE_S + 1))
            return
        _, started = await _authorized(psp_harness)
        headers, body = psp_harness.signed_webhook(psp_harness.authorized_event_type, started.psp_reference)
        processor.verify_webhook(headers, body, now + timedelta(seconds=WEBHOOK_TOLERANCE_S - 5))
        with pytest.raises(WebhookSignatureInvalid):
            processor.verify_webhook(headers, body, now + timedelta(seconds=WEBHOOK_TOLERANCE_S + 1))
