"""Whole flows over HTTP with the courier simulator: the ACS courier registered inline."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest

from core.hookspecs import hookimpl
from core.runtime import Runtime
from core.testing.fixtures import inline_plugin
from plugins.courier_acs import AcsCourier
from plugins.courier_acs.simulator.simulator import ACSSimulator
from tests.couriers.support import acs_settings


@pytest.fixture(scope="module")
def acs_sim() -> Iterator[ACSSimulator]:
    simulator = ACSSimulator(hang_seconds=3)
    with simulator.running():
        yield simulator


@pytest.fixture
async def acs(acs_sim: ACSSimulator, runtime: Runtime) -> AsyncIterator[ACSSimulator]:
    """The simulator, reset, with an ACS courier pointed at it registered in the engine."""
    acs_sim.reset()
    acs_sim.max_calls_per_second = 10
    courier = AcsCourier(acs_settings(acs_sim, timeout_s=5.0))

    class AcsForTests:
        @hookimpl
        def register_couriers(self, register: Callable[[Any], None]) -> None:
            register(courier)

    with inline_plugin(runtime.host, AcsForTests(), "acs-e2e"):
        yield acs_sim
    await courier.aclose()


async def eventually(check: Callable[[], Awaitable[Any]], *, within: float = 20.0, what: str = "condition") -> Any:
    """Poll `check` until it returns something truthy (the worker runs in the background)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)
