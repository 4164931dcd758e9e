"""Shop floor fixtures: the ACS simulator (its account's premises are the Athens warehouse) with
an ACS courier pointed at it, registered in the engine for one test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from core.runtime import Runtime
from core.testing.fixtures import inline_plugin
from plugins.courier_acs import AcsCourier
from plugins.courier_acs.simulator.simulator import ACSSimulator
from tests.couriers.support import acs_settings
from tests.shopfloor.support import WAREHOUSE, CourierPlugin


@pytest.fixture(scope="module")
def acs_sim() -> Iterator[ACSSimulator]:
    simulator = ACSSimulator(hang_seconds=3, account_zipcodes=[WAREHOUSE["postcode"]])
    with simulator.running():
        yield simulator


@pytest.fixture
async def acs(acs_sim: ACSSimulator, runtime: Runtime) -> AsyncIterator[ACSSimulator]:
    """The simulator, reset, with an ACS courier pointed at it registered in the engine."""
    acs_sim.reset()
    courier = AcsCourier(acs_settings(acs_sim, timeout_s=5.0))
    with inline_plugin(runtime.host, CourierPlugin(courier), "acs-shopfloor"):
        yield acs_sim
    await courier.aclose()
