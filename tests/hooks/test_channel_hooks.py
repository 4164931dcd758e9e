"""register_sales_channels: a connector registered inline adds its channel code, which orders
may then carry once the channel registry is synced (`ensure_channels`, run at API start)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import msgspec
import pytest

from core.catalogue.catalogue import ensure_channels
from core.hookspecs import hookimpl
from core.hookspecs.channels import (
    Acceptance,
    ChannelNotice,
    ChannelOrder,
    ChannelOrderNotFound,
    ChannelOrderState,
    NoticeKind,
    Rejection,
    SalesChannelConnector,
)
from core.plugins import PluginError
from core.runtime import Runtime
from core.testing.fixtures import inline_plugin

ADDRESS = {"name": "Kostas", "line1": "Ermou 10", "city": "Patra", "postcode": "26221", "country": "GR"}


class Agora:
    """A marketplace connector that pushes orders by webhook and hears back."""

    code = "inline-agora"
    name = "Agora marketplace"

    def __init__(self) -> None:
        self.accepted: list[str] = []

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> ChannelNotice:
        if headers.get("x-agora-secret") != "s3cret":
            raise PermissionError("bad secret")
        return msgspec.json.decode(body, type=ChannelNotice)

    async def fetch_order(self, external_id: str) -> ChannelOrder:
        raise ChannelOrderNotFound(f"no order {external_id}", external_id=external_id, code="not_found")

    async def accept(self, external_id: str, acceptance: Acceptance) -> None:
        self.accepted.append(external_id)

    async def reject(self, external_id: str, rejection: Rejection) -> None:
        return None

    async def mark_ready(self, external_id: str) -> None:
        return None


class ChannelPlugin:
    def __init__(self, *connectors: object) -> None:
        self.connectors = connectors

    @hookimpl
    def register_sales_channels(self, register: Callable[[SalesChannelConnector], None]) -> None:
        for connector in self.connectors:
            register(connector)  # type: ignore[arg-type]  # the host checks the protocol itself


def order_body(channel: str) -> dict[str, Any]:
    return {
        "channel": channel,
        "customer": {"email": "kostas@example.gr", "name": "Kostas"},
        "lines": [{"sku": "LAMP-1", "qty": 1}],
        "shipping_address": ADDRESS,
    }


async def test_hook_register_sales_channels(api: Any, runtime: Runtime) -> None:
    product = {"sku": "LAMP-1", "name": "Lamp", "price": {"amount": 4200, "currency": "EUR"}}
    assert (await api.post("/v1/products", json=product, as_="ops")).status_code == 201
    location = {"code": "WH-1", "name": "Warehouse", "type": "warehouse"}
    assert (await api.post("/v1/locations", json=location, as_="ops")).status_code == 201
    assert (await api.put("/v1/inventory/WH-1/LAMP-1", json={"on_hand": 3}, as_="ops")).status_code == 200
    unknown = await api.post("/v1/orders", json=order_body("inline-agora"), as_="storefront")
    assert unknown.status_code == 422
    assert unknown.json()["errors"] == [{"field": "channel", "message": "unknown sales channel inline-agora"}]

    agora = Agora()
    with inline_plugin(runtime.host, ChannelPlugin(agora), name="inline-channels"):
        registered = runtime.host.channels["inline-agora"]
        assert (registered.value, registered.plugin) == (agora, "inline-channels")
        async with runtime.unit_of_work():
            await ensure_channels({code: r.value.name for code, r in runtime.host.channels.items()})
        channels = (await api.get("/v1/channels", as_="ops")).json()
        mine = [c for c in channels if c["code"] == "inline-agora"]
        assert [(c["name"], c["kind"]) for c in mine] == [("Agora marketplace", "connector")]
        assert {"web", "phone", "store"} <= {c["code"] for c in channels}  # built-ins need no connector
        placed = await api.post("/v1/orders", json=order_body("inline-agora"), as_="storefront")
        assert placed.status_code == 201, placed.text
        assert placed.json()["channel"] == "inline-agora"
        listed = (await api.get("/v1/orders", params={"channel": "inline-agora"}, as_="ops")).json()["items"]
        assert [o["id"] for o in listed] == [placed.json()["id"]]
        # the connector object is the one the core talks back to
        body = b'{"kind": "order_updated", "external_id": "AG-1", "state_change": {"old": "open", "new": "cancelled"}}'
        notice = runtime.host.channels["inline-agora"].value.parse_webhook({"x-agora-secret": "s3cret"}, body)
        assert (notice.kind, notice.external_id) == (NoticeKind.ORDER_UPDATED, "AG-1")
        assert notice.state_change is not None and notice.state_change.new is ChannelOrderState.CANCELLED
    assert "inline-agora" not in runtime.host.channels


class Stall:
    code = "inline-stall"
    name = "A stall"

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> ChannelNotice:
        raise PermissionError("no webhooks")


async def test_hook_register_sales_channels_refuses_incomplete_or_duplicate_connectors(runtime: Runtime) -> None:
    with (
        inline_plugin(runtime.host, ChannelPlugin(Stall()), name="inline-stalls"),
        pytest.raises(PluginError) as refused,
    ):
        runtime.host.channels  # noqa: B018 - the registry is built on first access
    assert "'inline-stalls'" in str(refused.value)
    assert "Stall does not satisfy SalesChannelConnector (missing: accept, fetch_order, mark_ready, reject)" in str(
        refused.value
    )
    with (
        inline_plugin(runtime.host, ChannelPlugin(Agora(), Agora()), name="inline-twice"),
        pytest.raises(PluginError, match=r"'inline-twice' registered 'inline-agora'.*'inline-twice' already did"),
    ):
        runtime.host.channels  # noqa: B018
