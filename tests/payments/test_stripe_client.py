"""The Stripe plugin speaks Stripe's wire format through the official SDK: form-encoded bodies in
bracket notation, the core's idempotency key on every money movement (the same one on the
core's retry, the SDK retrying nothing itself), the pinned Stripe-Version; Stripe's errors become
the PSP hook's errors with what a person needs to act on them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import msgspec
import pytest
import stripe

from core.hookspecs.payments import (
    MoneyMovement,
    PaymentDeclined,
    ProviderRejected,
    ProviderUnavailable,
    StartPayment,
)
from plugins.psp_stripe import StripeProcessor
from plugins.psp_stripe.client import API_VERSION, StripeApi
from plugins.psp_stripe.simulator.simulator import StripeSimulator

API_KEY = "sk_test_emporio_client"


class RecordingHTTPXClient(stripe.HTTPXClient):
    """The SDK's own httpx client, keeping what it hands to httpx: the request as sent."""

    def __init__(self) -> None:
        super().__init__(timeout=2.0)
        self.sent: list[tuple[str, str, dict[str, str], str]] = []

    async def request_async(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any = None
    ) -> tuple[bytes, int, Mapping[str, str]]:
        self.sent.append((method.upper(), url, {k.lower(): v for k, v in headers.items()}, post_data or ""))
        return await super().request_async(method, url, headers, post_data)


@pytest.fixture
def sim() -> Iterator[StripeSimulator]:
    simulator = StripeSimulator(api_key=API_KEY)
    with simulator.running():
        yield simulator


@pytest.fixture
async def recorder(sim: StripeSimulator) -> AsyncIterator[tuple[StripeProcessor, RecordingHTTPXClient]]:
    assert sim.base_url is not None
    processor = StripeProcessor(api_key=API_KEY, webhook_secret=None, api_base=sim.base_url, timeout_s=1.0)
    await processor.client.aclose()
    http = RecordingHTTPXClient()
    processor.client = StripeApi(API_KEY, sim.base_url, http_client=http)
    yield processor, http
    await processor.client.aclose()


def start_request(key: str = "pay_1:start") -> StartPayment:
    return StartPayment(
        payment_id="pay_1",
        order_id="ord_1",
        amount=2500,
        currency="EUR",
        idempotency_key=key,
        capture_at_authorization=False,
        customer_email="eleni@example.gr",
        metadata={"channel": "web"},
    )


def movement(reference: str, amount: int, key: str) -> MoneyMovement:
    return MoneyMovement(
        payment_id="pay_1", psp_reference=reference, amount=amount, currency="EUR", idempotency_key=key
    )


async def authorized(processor: StripeProcessor) -> str:
    started = await processor.start(start_request())
    await processor.confirm(started.psp_reference, "pm_card_visa", "pay_1:confirm")
    return started.psp_reference


async def test_requests_are_form_encoded_with_our_keys_and_the_pinned_version(
    sim: StripeSimulator, recorder: tuple[StripeProcessor, RecordingHTTPXClient]
) -> None:
    processor, http = recorder
    reference = await authorized(processor)
    await processor.capture(movement(reference, 2000, "pay_1:capture:mv_1"))
    await processor.refund(movement(reference, 500, "pay_1:refund:mv_2"))
    await processor.retrieve(reference)

    paths = [(method, urlsplit(url).path) for method, url, _, _ in http.sent]
    assert paths == [
        ("POST", "/v1/payment_intents"),
        ("POST", f"/v1/payment_intents/{reference}/confirm"),
        ("POST", f"/v1/payment_intents/{reference}/capture"),
        ("POST", "/v1/refunds"),
        ("GET", f"/v1/payment_intents/{reference}"),
    ]
    for method, _, headers, _ in http.sent:
        assert headers["stripe-version"] == API_VERSION == "2024-06-20"
        assert headers["authorization"] == f"Bearer {API_KEY}"
        if method == "POST":
            assert headers["content-type"] == "application/x-www-form-urlencoded"
    keys = [headers.get("idempotency-key") for _, _, headers, _ in http.sent]
    assert keys == ["pay_1:start", "pay_1:confirm", "pay_1:capture:mv_1", "pay_1:refund:mv_2", None]
    assert [r["idempotency_key"] for r in sim.requests] == keys  # and so they arrived

    create = parse_qsl(http.sent[0][3])
    assert ("amount", "2500") in create and ("currency", "eur") in create
    assert ("capture_method", "manual") in create and ("payment_method_types[0]", "card") in create
    assert {("metadata[payment_id]", "pay_1"), ("metadata[order_id]", "ord_1"), ("metadata[channel]", "web")} <= set(
        create
    )
    assert parse_qsl(http.sent[2][3]) == [("amount_to_capture", "2000"), ("expand[0]", "latest_charge")]
    assert ("metadata[emporio_payment_id]", "pay_1") in parse_qsl(http.sent[3][3])
    assert parse_qsl(urlsplit(http.sent[4][1]).query) == [("expand[0]", "latest_charge")]


async def test_the_sdk_retries_nothing_and_our_retry_sends_the_same_key(
    sim: StripeSimulator, recorder: tuple[StripeProcessor, RecordingHTTPXClient]
) -> None:
    processor, _ = recorder
    reference = await authorized(processor)
    capture = movement(reference, 2500, "pay_1:capture:mv_9")
    sim.inject_faults("timeout_after_commit", 1, path_contains="/capture", delay_seconds=3)
    with pytest.raises(ProviderUnavailable, match=f"Stripe timed out on POST /v1/payment_intents/{reference}/capture"):
        await processor.capture(capture)
    assert [r["idempotency_key"] for r in sim.requests if r["path"].endswith("/capture")] == ["pay_1:capture:mv_9"]

    retried = await processor.capture(capture)  # the worker's next try
    assert retried.amount == 2500
    tries = [r for r in sim.requests if r["path"].endswith("/capture")]
    assert [(r["idempotency_key"], r["replayed"]) for r in tries] == [
        ("pay_1:capture:mv_9", False),
        ("pay_1:capture:mv_9", True),
    ]
    [intent] = sim.payment_intents
    assert [c["amount"] for c in intent["captures"]] == [2500]  # captured once


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("500", "Stripe answered 500 on POST /v1/refunds: "),
        ("503", "Stripe answered 503 on POST /v1/refunds: "),
        ("429", "Stripe answered 429 on POST /v1/refunds: "),
        ("malformed", "Stripe sent an unreadable body (HTTP 200) on POST /v1/refunds"),
        ("timeout", "Stripe timed out on POST /v1/refunds"),
    ],
)
async def test_stripes_trouble_is_reported_unavailable_after_one_request(
    sim: StripeSimulator, recorder: tuple[StripeProcessor, RecordingHTTPXClient], fault: str, message: str
) -> None:
    processor, _ = recorder
    reference = await authorized(processor)
    await processor.capture(movement(reference, 2500, "pay_1:capture"))
    sim.inject_faults(fault, 1, path_contains="/v1/refunds", delay_seconds=3)
    with pytest.raises(ProviderUnavailable) as caught:
        await processor.refund(movement(reference, 700, "pay_1:refund"))
    assert str(caught.value).startswith(message)
    assert [r["fault"] for r in sim.requests if r["path"] == "/v1/refunds"] == [fault]  # no SDK retry
    assert (await processor.refund(movement(reference, 700, "pay_1:refund"))).amount == 700


async def test_declines_and_refusals_say_what_happened(
    sim: StripeSimulator, recorder: tuple[StripeProcessor, RecordingHTTPXClient]
) -> None:
    processor, _ = recorder
    started = await processor.start(start_request())
    with pytest.raises(PaymentDeclined) as declined:
        await processor.confirm(started.psp_reference, "pm_card_chargeDeclinedInsufficientFunds", "pay_1:confirm")
    assert declined.value.decline_code == "insufficient_funds"
    assert declined.value.psp_reference is not None and declined.value.psp_reference.startswith("ch_")
    assert str(declined.value) == "Your card has insufficient funds."

    await processor.confirm(started.psp_reference, "pm_card_visa", "pay_1:confirm-again")
    with pytest.raises(ProviderRejected) as too_much:
        await processor.capture(movement(started.psp_reference, 9999, "pay_1:capture"))
    assert "(400 invalid_request_error/amount_too_large, parameter amount_to_capture)" in str(too_much.value)
    with pytest.raises(ProviderRejected, match="idempotency_error"):
        await processor.start(msgspec.structs.replace(start_request(), amount=100))  # one key, other params

    assert sim.base_url is not None
    wrong = StripeProcessor(api_key="sk_test_not_ours_1234", webhook_secret=None, api_base=sim.base_url)
    with pytest.raises(ProviderRejected, match=r"refused the API key .* check EMPORIO_STRIPE_API_KEY"):
        await wrong.retrieve(started.psp_reference)
    await wrong.client.aclose()
    nowhere = StripeProcessor(api_key=API_KEY, webhook_secret=None, api_base="http://127.0.0.1:9", timeout_s=1.0)
    with pytest.raises(ProviderUnavailable, match="Stripe unreachable on GET /v1/payment_intents/"):
        await nowhere.retrieve(started.psp_reference)
    await nowhere.client.aclose()
