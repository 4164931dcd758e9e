"""Chat over a real WebSocket (service.md §1): a customer's message becomes a case and is
acknowledged only once stored; the agent's answer is pushed back; a reconnect with `?after=`
replays what was missed; internal notes never reach the customer; bad frames and tokens get clear
refusals; the widget is served without a CDN."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
import uvicorn
import websockets

from api.app import create_app
from core.runtime import Runtime
from core.service import delivery
from core.service.tables import Case, CaseMessage

CUSTOMER = {"email": "nikos@example.gr", "name": "Νίκος"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def server(runtime: Runtime, api: Any) -> AsyncIterator[str]:
    """The engine served on a real port (uvicorn) over the test's runtime."""
    port = free_port()
    app = create_app(runtime)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning", ws="websockets")
    served = uvicorn.Server(config)
    task = asyncio.create_task(served.serve())
    for _ in range(500):  # uvicorn offers no event to await for "listening"
        if served.started:
            break
        await asyncio.sleep(0.02)
    assert served.started, "the test server did not start within 10 s"
    try:
        yield f"127.0.0.1:{port}"
    finally:
        served.should_exit = True
        await task


async def session(api: Any) -> dict[str, Any]:
    opened = await api.post("/v1/chat/sessions", json={"customer": CUSTOMER, "locale": "el"}, as_="storefront")
    assert opened.status_code == 201, opened.text
    return opened.json()  # type: ignore[no-any-return]


async def next_frame(ws: Any, kind: str) -> dict[str, Any]:
    while True:
        frame = msgspec.json.decode(await asyncio.wait_for(ws.recv(), timeout=10))
        if frame["type"] == kind:
            return frame  # type: ignore[no-any-return]


async def test_a_chat_message_becomes_a_case_and_the_answer_is_pushed_back(
    api: Any, runtime: Runtime, server: str
) -> None:
    chat = await session(api)
    async with websockets.connect(f"ws://{server}/v1/chat/ws?token={chat['token']}") as ws:
        await ws.send(
            msgspec.json.encode({"type": "message", "body": "Πού είναι η παραγγελία μου;", "client_id": "c1"})
        )
        ack = await next_frame(ws, "ack")
        stored = await CaseMessage.select().where(CaseMessage.id == ack["id"]).first()
        assert stored is not None and stored["channel"] == "chat"  # stored before the ack
        case = await Case.select().where(Case.id == stored["case_id"]).first()
        assert case is not None and case["topic"] == "delivery" and case["channel"] == "chat"
        mine = await next_frame(ws, "message")
        assert (mine["id"], mine["direction"]) == (ack["id"], "in")
        # the same client id again (a resend after a lost ack) is one message
        await ws.send(
            msgspec.json.encode({"type": "message", "body": "Πού είναι η παραγγελία μου;", "client_id": "c1"})
        )
        assert (await next_frame(ws, "ack"))["id"] == ack["id"]
        assert await CaseMessage.count().where(CaseMessage.case_id == case["id"]) == 1

        note = {"body": "εσωτερικό: έλεγξε το voucher", "internal": True}
        assert (await api.post(f"/v1/cases/{case['id']}/messages", json=note, as_="agent")).status_code == 201
        reply = await api.post(f"/v1/cases/{case['id']}/messages", json={"body": "Έρχεται αύριο!"}, as_="agent")
        out = next(m for m in reply.json()["messages"] if m["body"] == "Έρχεται αύριο!")
        assert await delivery.deliver_reply(runtime, out["id"]) == "sent"
        pushed = await next_frame(ws, "message")
        assert (pushed["id"], pushed["direction"], pushed["body"]) == (out["id"], "out", "Έρχεται αύριο!")

    async with websockets.connect(f"ws://{server}/v1/chat/ws?token={chat['token']}&after={ack['id']}") as ws:
        replayed = await next_frame(ws, "message")
        assert replayed["id"] == out["id"]  # what was missed, and never the internal note
    async with websockets.connect(f"ws://{server}/v1/chat/ws?token={chat['token']}") as ws:
        bodies = [(await next_frame(ws, "message"))["body"] for _ in range(2)]
        assert bodies == ["Πού είναι η παραγγελία μου;", "Έρχεται αύριο!"]


async def test_bad_frames_and_tokens_are_refused_and_change_nothing(api: Any, server: str) -> None:
    chat = await session(api)
    before = await CaseMessage.count()
    async with websockets.connect(f"ws://{server}/v1/chat/ws?token={chat['token']}") as ws:
        bad = (
            b"not json",
            b'{"type": "message", "body": ""}',
            b'{"type": "dance"}',
            b'{"type": "message", "body": "x\\u0000y"}',
            msgspec.json.encode({"type": "message", "body": "x" * 20_000}),
        )
        for raw in bad:
            await ws.send(raw)
            assert (await next_frame(ws, "error"))["detail"]
    assert await CaseMessage.count() == before
    with pytest.raises(websockets.exceptions.InvalidStatus):
        async with websockets.connect(f"ws://{server}/v1/chat/ws?token=nope"):
            pass


async def test_the_widget_and_the_status(api: Any) -> None:
    widget = await api.get("/chat/widget.js", as_=None)
    assert widget.status_code == 200 and widget.headers["content-type"].startswith("application/javascript")
    assert "/v1/chat/ws" in widget.text and "Γράψτε το μήνυμά σας" in widget.text and "Type your message" in widget.text
    assert set(re.findall(r"https?://([^/\"']+)", widget.text)) <= {"shop.example"}  # nothing loaded from elsewhere
    status = (await api.get("/v1/chat/status", as_=None)).json()
    assert status == {"agents_online": 0, "offer_email": True}
    assert (await api.post("/v1/chat/presence", as_="agent")).status_code == 200
    assert (await api.get("/v1/chat/status", as_=None)).json()["agents_online"] == 1
    assert (await api.get("/v1/chat/suggestions", params={"token": "nope", "q": "δέμα"}, as_=None)).status_code == 401
