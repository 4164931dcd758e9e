"""Agents' live updates over a real WebSocket (`/v1/service/live`): a customer's chat message, the
case it makes and an agent claiming it reach an agent's socket as they happen, announced through
Redis by the process that committed them (no worker needed); only agent keys (or the dashboard's
session from a page of this site) may listen."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import msgspec
import pytest
import websockets
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from api.auth import OPS_SESSION_COOKIE
from core.runtime import Runtime
from core.service import live
from tests.conftest import Api
from tests.contact_chat.test_chat import next_frame, server, session

__all__ = ["server"]  # the fixture: a real uvicorn over the test's runtime


async def frames_until(ws: Any, want: set[str], case_id: str | None = None) -> dict[str, dict[str, Any]]:
    """Frames until one of each type in `want` came (for `case_id` when given), by type."""
    seen: dict[str, dict[str, Any]] = {}
    while not want <= set(seen):
        frame = msgspec.json.decode(await asyncio.wait_for(ws.recv(), timeout=20))
        if case_id is None or frame.get("case_id") == case_id:
            seen.setdefault(frame["type"], frame)
    return seen


def agent_socket(server: str, key: str, **headers: str) -> Any:
    return websockets.connect(
        f"ws://{server}/v1/service/live", additional_headers={"Authorization": f"Bearer {key}", **headers}
    )


async def test_a_chat_message_and_its_claim_reach_the_agents_socket(api: Api, runtime: Runtime, server: str) -> None:
    """No worker runs: the process that committed the change announces it."""
    async with agent_socket(server, api.keys["agent"]) as agent:
        assert msgspec.json.decode(await asyncio.wait_for(agent.recv(), timeout=10)) == {"type": "ready"}
        chat = await session(api)
        async with websockets.connect(f"ws://{server}/v1/chat/ws?token={chat['token']}") as customer:
            body = {"type": "message", "body": "Πού είναι η παραγγελία μου;", "client_id": "c1"}
            await customer.send(msgspec.json.encode(body))
            ack = await next_frame(customer, "ack")
        heard = await frames_until(agent, {"case.created", "case.message_received"})
        message = heard["case.message_received"]
        assert (message["message_id"], message["channel"]) == (ack["id"], "chat")
        case_id = message["case_id"]
        assert heard["case.created"]["case_id"] == case_id and message["number"] >= 10001
        assert message["event_id"].startswith("evt_") and message["at"].endswith("Z")

        claimed = await api.post(f"/v1/cases/{case_id}/claim", as_="agent")
        assert claimed.status_code == 200, claimed.text
        assert (await frames_until(agent, {"case.assigned"}, case_id))["case.assigned"]["number"] == message["number"]


async def test_only_agents_listen(api: Api, server: str) -> None:
    for headers in ({}, {"Authorization": f"Bearer {api.keys['storefront']}"}, {"Authorization": "Bearer nope"}):
        with pytest.raises(InvalidStatus) as refused:
            async with websockets.connect(f"ws://{server}/v1/service/live", additional_headers=headers):
                pass
        assert refused.value.response.status_code == 403, headers  # uvicorn's answer to a refused handshake
    async with agent_socket(server, api.keys["admin"]) as admin:  # admin may do anything an agent may
        assert msgspec.json.decode(await asyncio.wait_for(admin.recv(), timeout=10)) == {"type": "ready"}


async def test_the_dashboard_listens_with_its_session_from_its_own_pages_only(api: Api, server: str) -> None:
    async with httpx.AsyncClient(base_url=f"http://{server}") as browser:
        signed_in = await browser.post("/ops/session", json={"key": api.keys["agent"]})
    assert signed_in.status_code == 201, signed_in.text
    cookie = f"{OPS_SESSION_COOKIE}={signed_in.cookies[OPS_SESSION_COOKIE]}"
    url = f"ws://{server}/v1/service/live"
    async with websockets.connect(
        url, additional_headers={"Cookie": cookie}, origin=Origin(f"http://{server}")
    ) as ours:
        assert msgspec.json.decode(await asyncio.wait_for(ours.recv(), timeout=10)) == {"type": "ready"}
    for origin in ("https://evil.example", f"http://{server}.evil.example"):
        with pytest.raises(InvalidStatus) as refused:
            async with websockets.connect(url, additional_headers={"Cookie": cookie}, origin=Origin(origin)):
                pass
        assert refused.value.response.status_code == 403, origin  # the handshake refused


def test_only_case_events_make_frames() -> None:
    from datetime import UTC, datetime

    from core.domain.events import DomainEvent, EventType, SubjectType
    from core.domain.events.catalogue import ProductCreated
    from core.domain.events.service import CaseMessageReceived

    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    message = DomainEvent(
        id="evt_1",
        type=EventType.CASE_MESSAGE_RECEIVED,
        occurred_at=at,
        subject_type=SubjectType.CASE,
        subject_id="cas_1",
        data=CaseMessageReceived(number=10007, message_id="msg_1", channel="email"),
    )
    product = DomainEvent(
        id="evt_2", type=EventType.PRODUCT_CREATED, occurred_at=at, subject_id="SKU", data=ProductCreated()
    )
    assert live.frame_of(message) == live.LiveFrame(
        type="case.message_received",
        case_id="cas_1",
        number=10007,
        event_id="evt_1",
        at=at,
        message_id="msg_1",
        channel="email",
    )
    assert live.frame_of(product) is None
