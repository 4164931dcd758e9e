"""register_contact_channels and register_customer_facts: capabilities collected, stamped with
their plugin, duplicates refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.hookspecs import hookimpl
from core.hookspecs.contact import ContactChannel, DeliveryReceipt, OutboundReply
from core.hookspecs.customers import CustomerFactSource
from core.plugins import PluginError
from core.runtime import Runtime
from core.testing.fixtures import inline_plugin


class Pigeon:
    code, name = "pigeon", "Carrier pigeon"

    def __init__(self) -> None:
        self.sent: list[OutboundReply] = []

    async def send(self, reply: OutboundReply) -> DeliveryReceipt:
        self.sent.append(reply)
        return DeliveryReceipt(external_id=f"<{reply.message_id}@pigeon>")


class PigeonPlugin:
    def __init__(self) -> None:
        self.channel = Pigeon()

    @hookimpl
    def register_contact_channels(self, register: Callable[[ContactChannel], None]) -> None:
        register(self.channel)


class NotAChannelPlugin:
    @hookimpl
    def register_contact_channels(self, register: Callable[[object], None]) -> None:
        register(object())


async def test_hook_register_contact_channels(runtime: Runtime) -> None:
    assert "pigeon" not in runtime.host.contact_channels
    plugin = PigeonPlugin()
    with inline_plugin(runtime.host, plugin, name="inline-pigeon"):
        registered = runtime.host.contact_channels["pigeon"]
        assert registered.value is plugin.channel and registered.plugin == "inline-pigeon"
        with inline_plugin(runtime.host, PigeonPlugin(), name="inline-pigeon-2"), pytest.raises(PluginError):
            _ = runtime.host.contact_channels
    with inline_plugin(runtime.host, NotAChannelPlugin(), name="inline-bad"), pytest.raises(PluginError):
        _ = runtime.host.contact_channels
    assert "pigeon" not in runtime.host.contact_channels


async def facts(customer_id: str) -> set[str]:
    return {"gold_card"} if customer_id.endswith("7") else set()


class GoldCards:
    @hookimpl
    def register_customer_facts(self, register: Callable[[CustomerFactSource], None]) -> None:
        register(CustomerFactSource(name="gold", load=facts))


async def test_hook_register_customer_facts(runtime: Runtime) -> None:
    assert runtime.host.customer_facts["core"].plugin == "core.customers.plugin"
    with inline_plugin(runtime.host, GoldCards(), name="inline-gold"):
        source = runtime.host.customer_facts["gold"]
        assert source.plugin == "inline-gold" and await source.value.load("cus_7") == {"gold_card"}
        with inline_plugin(runtime.host, GoldCards(), name="inline-gold-2"), pytest.raises(PluginError, match="gold"):
            _ = runtime.host.customer_facts
    assert "gold" not in runtime.host.customer_facts
