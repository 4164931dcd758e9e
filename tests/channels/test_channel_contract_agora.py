"""The reference connector passes the channel contract suite against the Agora marketplace
simulator on 127.0.0.1 — the run a real connector (Skroutz) repeats against its own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from core.hookspecs.channels import ChannelRejected
from core.testing.channel_contract import ChannelContract, ChannelHarness
from tests.channels.connector import AgoraConnector, cents
from tests.channels.marketplace import Marketplace

pytestmark = pytest.mark.timeout(30)


@pytest.fixture(scope="module")
def agora_server() -> Iterator[Marketplace]:
    marketplace = Marketplace()
    with marketplace.running():
        yield marketplace


@pytest.fixture
def agora(agora_server: Marketplace) -> Marketplace:
    agora_server.listings.clear()
    agora_server.faults = 0
    return agora_server


class TestAgoraContract(ChannelContract):
    @pytest.fixture
    async def channel_harness(self, agora: Marketplace) -> AsyncIterator[ChannelHarness]:
        assert agora.base_url is not None
        connector = AgoraConnector(api_base=agora.base_url, token=agora.token, timeout_s=2.0)
        yield ChannelHarness(
            connector=connector,
            place_order=agora.place_order,
            webhook=agora.webhook_for,
            withdraw=agora.withdraw,
            view=agora.view,
            inject_unavailable=agora.fail_next,
        )
        await connector.aclose()


async def test_a_wrong_token_is_refused_not_retried(agora: Marketplace) -> None:
    """A misconfigured token is the shop's to fix: refused with the marketplace's code, never
    reported as an outage the worker would retry for days."""
    assert agora.base_url is not None
    code = agora.place_order([])
    connector = AgoraConnector(api_base=agora.base_url, token="stale")
    try:
        with pytest.raises(ChannelRejected) as refused:
            await connector.fetch_order(code)
    finally:
        await connector.aclose()
    assert (refused.value.code, refused.value.messages) == ("unauthorized", ("Invalid or missing API token",))


def test_euro_amounts_become_exact_cents() -> None:
    assert [cents(12.5), cents(8.9), cents(0.1 + 0.2 - 0.3 + 19.99)] == [1250, 890, 1999]
