"""The ACS courier passes the courier contract suite against the ACS simulator, held to the
capabilities it declares (no idempotent creation, so orphans are reported at the close)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from core.testing.courier_contract import (
    CourierHarness,
    Outcome,
    RemoteCourierContract,
    TransientFault,
)
from plugins.courier_acs import AcsCourier
from plugins.courier_acs.simulator.simulator import ACSSimulator, FaultKind
from tests.couriers.support import athens_today

pytestmark = pytest.mark.timeout(30)

FAULTS: dict[TransientFault, FaultKind] = {
    TransientFault.TIMEOUT: "timeout",
    TransientFault.SERVER_ERROR: "500",
    TransientFault.RATE_LIMITED: "406",
    TransientFault.MALFORMED: "malformed",
}


def script(sim: ACSSimulator) -> Callable[[str, Outcome], None]:
    def scripted(voucher: str, outcome: Outcome) -> None:
        if outcome is Outcome.DELIVERED:
            sim.set_status(voucher, 4)
        elif outcome is Outcome.FAILED_ABSENT:
            sim.set_status(voucher, 3, "ΑΣ1")
        elif outcome is Outcome.FAILED_ADDRESS:
            sim.set_status(voucher, 2, "ΛΣ3")
        elif outcome is Outcome.REFUSED:
            sim.set_status(voucher, 1, "ΑΠ3")
        else:  # refused at the door, then carried back
            sim.set_status(voucher, 1, "ΑΠ3")
            sim.set_status(voucher, 5, None, returned_flag=1)

    return scripted


class TestAcsCourierContract(RemoteCourierContract):
    @pytest.fixture
    async def courier_harness(
        self, acs: ACSSimulator, make_acs_courier: Callable[..., AcsCourier]
    ) -> AsyncIterator[CourierHarness]:
        yield CourierHarness(
            courier=make_acs_courier(acs),
            today=athens_today,
            vouchers_for=lambda shipment_id: len(acs.vouchers_for_reference(shipment_id, include_deleted=False)),
            script_status=script(acs),
            inject_unavailable=lambda fault: acs.inject_faults(FAULTS[fault]),
            inject_timeout_after_commit=lambda: acs.inject_faults("timeout_after_commit"),
        )


def test_acs_declares_what_the_suite_holds_it_to() -> None:
    """The flags the contract reads come from the plugin, not from this test: ACS has no
    idempotency key, so it must report unprinted vouchers at the daily close instead."""
    caps = AcsCourier.capabilities
    assert (caps.idempotent_create, caps.close_reports_unprinted) == (False, True)
    assert (caps.cod, caps.returns, caps.lockers, caps.in_store_pickup) == (True, True, False, False)
    assert caps.max_labels_per_call == 10
