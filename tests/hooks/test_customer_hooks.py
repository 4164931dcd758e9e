"""register_contact_channels, register_customer_facts and register_customer_sections:
capabilities collected, stamped with their plugin, duplicates refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from core.customers.customers import resolve_customer
from core.domain.orders import CustomerRef
from core.hookspecs import hookimpl
from core.hookspecs.contact import ContactChannel, DeliveryReceipt, OutboundReply
from core.hookspecs.customers import CustomerFactSource, CustomerSection
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


async def cards(customer_id: str, limit: int) -> list[dict[str, Any]]:
    return [{"card": f"{customer_id}-{n}"} for n in range(min(limit, 3))]


class LoyaltyCards:
    def __init__(self, name: str = "loyalty_cards") -> None:
        self.name = name

    @hookimpl
    def register_customer_sections(self, register: Callable[[CustomerSection], None]) -> None:
        register(CustomerSection(name=self.name, load=cards))


async def test_hook_register_customer_sections(runtime: Runtime, api: Any) -> None:
    assert runtime.host.customer_sections["surveys"].plugin == "feedback"
    async with runtime.db.write():
        customer_id, _, _ = await resolve_customer(CustomerRef(email="maria@example.gr", name="Μαρία"))
    with inline_plugin(runtime.host, LoyaltyCards(), name="inline-cards"):
        assert runtime.host.customer_sections["loyalty_cards"].plugin == "inline-cards"
        context = (await api.get(f"/v1/customers/{customer_id}/context", as_="agent")).json()
        assert context["loyalty_cards"] == [{"card": f"{customer_id}-{n}"} for n in range(3)]
        assert context["surveys"] == [] and list(context)[-1] == "next_best_actions"
        with inline_plugin(runtime.host, LoyaltyCards(), name="inline-cards-2"), pytest.raises(PluginError):
            _ = runtime.host.customer_sections
    for taken in ("orders", "Cards", "next_best_actions"):
        with (
            inline_plugin(runtime.host, LoyaltyCards(taken), name="inline-bad"),
            pytest.raises(PluginError, match=taken),
        ):
            _ = runtime.host.customer_sections
    assert "loyalty_cards" not in runtime.host.customer_sections
