"""A courier declaring idempotent creation, lockers and lost parcels passes the contract suite,
so the suite's branches ACS and store pickup never take are exercised as well."""

from __future__ import annotations

from datetime import date

import pytest

from core.hookspecs.couriers import CourierRejected, Destination, DestinationKind
from core.testing.courier_contract import CourierHarness, Outcome, RemoteCourierContract, sample_request
from tests.couriers.locker_network import LockerCourier, LockerNetwork

PICKUP_DAY = date(2026, 6, 10)  # a Wednesday: the refusal must come from the destination, whatever the day


class TestLockerCourierContract(RemoteCourierContract):
    outcomes = tuple(Outcome)

    @pytest.fixture
    def network(self) -> LockerNetwork:
        return LockerNetwork()

    @pytest.fixture
    def courier_harness(self, network: LockerNetwork) -> CourierHarness:
        return CourierHarness(
            courier=LockerCourier(network),
            vouchers_for=lambda shipment_id: len(network.live(shipment_id)),
            destination_for=network.locker_of,
            script_status=network.script,
            inject_unavailable=network.fail_next,
            inject_timeout_after_commit=lambda: network.fail_next("timeout_after_commit"),
        )


def test_the_suite_runs_lost_only_for_carriers_that_report_it() -> None:
    assert Outcome.LOST in TestLockerCourierContract.outcomes
    assert Outcome.LOST not in RemoteCourierContract.outcomes


async def test_an_unknown_locker_is_refused() -> None:
    courier = LockerCourier(LockerNetwork())
    nowhere = Destination(kind=DestinationKind.LOCKER, id="999")
    with pytest.raises(CourierRejected, match="no locker 999"):
        await courier.create_voucher(sample_request("shp_1", PICKUP_DAY, destination=nowhere))
    assert courier.network.parcels == {}
