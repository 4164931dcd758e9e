"""The Skroutz tests' hands: the Smart Cart simulator on 127.0.0.1 with a pinned clock, the
connector pointed at it and installed as channel `skroutz`, and a small shop selling what the
simulator's orders ask for."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.catalogue.catalogue import ensure_channels
from core.hookspecs import hookimpl
from core.hookspecs.channels import SalesChannelConnector
from core.runtime import Runtime
from core.testing.fixtures import inline_plugin
from plugins.channel_skroutz import SkroutzSmartCart
from plugins.channel_skroutz.simulator import SkroutzSimulator, SmartCart
from tests.clock import pin_clock
from tests.conftest import Api

START = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)  # a Monday morning, Athens 10:30
ENGINE_START = START - timedelta(minutes=5)  # the engine's clock: just before the marketplace's


@pytest.fixture(autouse=True)
def engine_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine's clock pinned beside the marketplace's (its expiries, pickup days and
    cut-offs are read against it), so no test depends on the day it runs."""
    pin_clock(monkeypatch, ENGINE_START)


@dataclass
class Clock:
    """The marketplace's clock, pinned; a test moves it."""

    now: datetime = START
    moves: list[timedelta] = field(default_factory=list)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture(scope="module")
def skroutz_server() -> Iterator[SkroutzSimulator]:
    simulator = SkroutzSimulator(SmartCart(clock=Clock()))
    with simulator.running():
        yield simulator


@pytest.fixture
def skroutz(skroutz_server: SkroutzSimulator) -> SkroutzSimulator:
    skroutz_server.market.reset()
    skroutz_server.market.clock = Clock()
    return skroutz_server


class ChannelPlugin:
    def __init__(self, connector: SalesChannelConnector) -> None:
        self.connector = connector

    @hookimpl
    def register_sales_channels(self, register: Callable[[SalesChannelConnector], None]) -> None:
        register(self.connector)


@pytest.fixture
async def skroutz_channel(api: Api, runtime: Runtime, skroutz: SkroutzSimulator) -> AsyncIterator[SkroutzSmartCart]:
    """Channel `skroutz` installed as the plugin would install it, against the simulator."""
    assert skroutz.base_url is not None
    connector = SkroutzSmartCart(api_base=skroutz.base_url, token=skroutz.token, timeout_s=2.0)
    with inline_plugin(runtime.host, ChannelPlugin(connector), name="channel-skroutz-under-test"):
        async with runtime.unit_of_work():
            await ensure_channels({connector.code: connector.name})
        yield connector
    await connector.aclose()


PRODUCTS = (("MUG-BLUE", "Κούπα μπλε", 1250), ("TEA-GREEN-100G", "Πράσινο τσάι 100 g", 890))
LOCATIONS = (
    ("WH-ATH", "warehouse", {"line1": "Πανεπιστημίου 2", "city": "Αθήνα", "postcode": "105 64", "country": "GR"}, 10),
    ("ST-CHQ", "store", {"line1": "Κρήτης 50", "city": "Χανιά", "postcode": "73100", "country": "GR"}, 20),
)


async def seed(api: Api, stock: dict[tuple[str, str], int]) -> None:
    """The two products, an Athens warehouse and a Chania store (both ship), and `stock` by
    (location, SKU)."""
    for sku, name, price in PRODUCTS:
        product = {"sku": sku, "name": name, "price": {"amount": price, "currency": "EUR"}, "weight_g": 400}
        r = await api.post("/v1/products", json={**product, "dims_mm": {"l": 120, "w": 100, "h": 110}}, as_="ops")
        assert r.status_code == 201, r.text
    for code, kind, address, priority in LOCATIONS:
        body: dict[str, Any] = {"code": code, "name": code, "type": kind, "address": address, "priority": priority}
        r = await api.post("/v1/locations", json=body, as_="ops")
        assert r.status_code == 201, r.text
    for (location, sku), units in stock.items():
        r = await api.put(f"/v1/inventory/{location}/{sku}", json={"on_hand": units}, as_="ops")
        assert r.status_code == 200, r.text


async def eventually(check: Callable[[], Any], *, timeout_s: float = 20.0) -> Any:
    """Poll `check` (sync or async) until it returns something truthy (the worker's pace)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still not so after {timeout_s} s: {check}")
        await asyncio.sleep(0.1)
