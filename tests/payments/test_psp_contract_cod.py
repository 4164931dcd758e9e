"""Cash on delivery passes the PSP contract (no webhooks, no declines, nothing remote to fail)."""

from __future__ import annotations

import pytest

from core.hookspecs.payments import PaymentStarted
from core.testing.psp_contract import PSPContract, PSPHarness
from plugins.psp_cod import CashOnDelivery


class CashOnDeliveryHarness(PSPHarness):
    """The customer promises to pay at the door: starting the payment authorizes it."""

    def __init__(self) -> None:
        super().__init__(CashOnDelivery())

    async def authorize(self, started: PaymentStarted) -> None:
        return None


class TestCashOnDeliveryContract(PSPContract):
    @pytest.fixture
    def psp_harness(self) -> PSPHarness:
        return CashOnDeliveryHarness()
