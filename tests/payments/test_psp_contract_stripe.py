"""The Stripe processor passes the PSP contract against the Stripe simulator, faults included."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar

import httpx
import pytest

from core.hookspecs.payments import PaymentStarted
from core.testing.psp_contract import PSPContract, PSPHarness
from plugins.psp_stripe import StripeProcessor
from plugins.psp_stripe.simulator.simulator import StripeSimulator

API_KEY = "sk_test_emporio_contract"
SECRET = "whsec_emporio_contract"


class StripeHarness(PSPHarness):
    """The processor with a 1 s timeout (so `timeout` faults cost little); the customer's side
    confirms at the provider with a test card, as Stripe.js does in the browser."""

    supports_webhooks = True
    authorized_event_type = "payment_intent.amount_capturable_updated"
    supports_declines = True
    declining_payment_method = "pm_card_chargeDeclinedInsufficientFunds"
    supports_fault_injection = True
    fault_kinds: ClassVar[tuple[str, ...]] = ("timeout", "timeout_after_commit", "500", "503", "429", "malformed")
    provider_enforces_amounts = True

    def __init__(self, sim: StripeSimulator, base_url: str) -> None:
        super().__init__(StripeProcessor(api_key=API_KEY, webhook_secret=SECRET, api_base=base_url, timeout_s=1.0))
        self.sim = sim
        self.browser = httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {API_KEY}"})

    async def authorize(self, started: PaymentStarted) -> None:
        confirmed = await self.browser.post(
            f"/v1/payment_intents/{started.psp_reference}/confirm", data={"payment_method": "pm_card_visa"}
        )
        assert confirmed.status_code == 200, confirmed.text
        assert confirmed.json()["status"] == "requires_capture", confirmed.text

    async def aclose(self) -> None:
        await self.browser.aclose()
        assert isinstance(self.processor, StripeProcessor)
        await self.processor.client.aclose()

    def signed_webhook(self, event_type: str, psp_reference: str) -> tuple[dict[str, str], bytes]:
        event = next(e for e in reversed(self.sim.events) if e["type"] == event_type and _about(e) == psp_reference)
        body = json.dumps(event).encode()
        return {"Stripe-Signature": self.sim.signature_header(body), "Content-Type": "application/json"}, body

    def inject_unavailable(self, kind: str) -> None:
        self.sim.inject_faults(kind, 1)

    def captures_at_provider(self, psp_reference: str) -> int | None:
        intent = next(pi for pi in self.sim.payment_intents if pi["id"] == psp_reference)
        return len(intent["captures"])


def _about(event: dict[str, Any]) -> str | None:
    obj = event["data"]["object"]
    reference = obj["id"] if obj.get("object") == "payment_intent" else obj.get("payment_intent")
    return str(reference) if reference else None


@pytest.fixture
def contract_sim() -> Iterator[StripeSimulator]:
    sim = StripeSimulator(webhook_secret=SECRET, api_key=API_KEY)
    with sim.running():
        yield sim


class TestStripeContract(PSPContract):
    @pytest.fixture
    async def psp_harness(self, contract_sim: StripeSimulator) -> AsyncIterator[PSPHarness]:
        assert contract_sim.base_url is not None
        harness = StripeHarness(contract_sim, contract_sim.base_url)
        yield harness
        await harness.aclose()
