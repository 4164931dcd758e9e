"""Fixtures for the courier plugins' tests: one ACS simulator per module, reset per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from plugins.courier_acs import AcsCourier
from plugins.courier_acs.simulator.simulator import ACSSimulator
from tests.couriers.support import acs_settings


@pytest.fixture(scope="module")
def acs_server() -> Iterator[ACSSimulator]:
    """An ACS simulator on a free port for the whole module (starting one costs ~50 ms)."""
    simulator = ACSSimulator(hang_seconds=5)
    with simulator.running():
        yield simulator


@pytest.fixture
def acs(acs_server: ACSSimulator) -> ACSSimulator:
    """The module's simulator with empty state and default options."""
    acs_server.reset()
    acs_server.print_shape = "object"
    acs_server.max_calls_per_second = 10
    return acs_server


@pytest.fixture
async def make_acs_courier() -> AsyncIterator[Callable[..., AcsCourier]]:
    """`make_acs_courier(sim, **settings)`: an AcsCourier for a simulator, closed after the test."""
    made: list[AcsCourier] = []

    def make(sim: ACSSimulator, **overrides: Any) -> AcsCourier:
        transport = overrides.pop("transport", None)
        courier = AcsCourier(acs_settings(sim, **overrides), transport=transport)
        made.append(courier)
        return courier

    yield make
    for courier in made:
        await courier.aclose()
