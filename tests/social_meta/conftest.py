"""The engine on a real port and the Meta simulator beside it, wired to each other the way Meta
and a shop are: the simulator POSTs signed webhooks to the engine, the engine calls the
simulator's Graph API. Both clocks are pinned by the tests that need time."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
import uvicorn

from api.app import create_app
from core.runtime import Runtime
from plugins.social_meta.channel import MetaChannel
from plugins.social_meta.simulator.simulator import MetaSimulator

APP_SECRET = "test-app-secret-3f9a"
VERIFY_TOKEN = "test-verify-token-71c2"
PAGE_TOKEN = "EAAtestPageToken"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def engine(runtime: Runtime, api: Any) -> AsyncIterator[str]:
    """The engine served on a real port (uvicorn, on the test's loop) over the test's runtime."""
    port = free_port()
    served = uvicorn.Server(
        uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    task = asyncio.create_task(served.serve())
    for _ in range(500):  # uvicorn offers no event to await for "listening"
        if served.started:
            break
        await asyncio.sleep(0.02)
    assert served.started, "the test server did not start within 10 s"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        served.should_exit = True
        await task


class Meta:
    """The simulator and its control API, spoken over HTTP from the test's loop (the engine
    answers the simulator's webhooks on that same loop, so nothing here may block it)."""

    def __init__(self, simulator: MetaSimulator, base_url: str, client: httpx.AsyncClient) -> None:
        self.simulator = simulator
        self.base_url = base_url
        self.client = client

    async def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = await self.client.request(method, f"{self.base_url}/_simulator/{path}", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    async def person(self, user_id: str, platform: str = "messenger", **profile: str) -> None:
        await self.control("POST", "people", {"platform": platform, "user_id": user_id, **profile})

    async def writes(self, user_id: str, text: str | None = None, **options: Any) -> dict[str, Any]:
        """The person writes; the answer has the `mid` and the engine's answers to each delivery."""
        return await self.control("POST", "messages", {"user_id": user_id, "text": text, **options})  # type: ignore[no-any-return]

    async def event(self, user_id: str, kind: str, **options: Any) -> dict[str, Any]:
        return await self.control("POST", "events", {"user_id": user_id, "kind": kind, **options})  # type: ignore[no-any-return]

    async def sent(self) -> list[dict[str, Any]]:
        return (await self.control("GET", "sent"))["data"]  # type: ignore[no-any-return]

    async def requests(self) -> list[dict[str, Any]]:
        return (await self.control("GET", "requests"))["data"]  # type: ignore[no-any-return]

    async def fault(self, kind: str, count: int = 1) -> None:
        await self.control("POST", "faults", {"kind": kind, "count": count})

    async def clock(self, now: datetime) -> None:
        await self.control("POST", "clock", {"now": now.isoformat()})


@pytest.fixture
async def meta(engine: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Meta]:
    simulator = MetaSimulator(
        webhook_url=f"{engine}/v1/webhooks/meta",
        app_secret=APP_SECRET,
        verify_token=VERIFY_TOKEN,
        page_token=PAGE_TOKEN,
    )
    with simulator.running() as base_url:
        for name, value in simulator.settings().items():
            monkeypatch.setenv(name, value)
        async with httpx.AsyncClient(timeout=30) as client:
            yield Meta(simulator, base_url, client)


@pytest.fixture
def channel(runtime: Runtime) -> MetaChannel:
    registered = runtime.host.contact_channels["social"].value
    assert isinstance(registered, MetaChannel)
    return registered


@pytest.fixture
def clocks(meta: Meta, channel: MetaChannel, monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], Awaitable[None]]:
    """`await clocks(now)` pins "now" on both sides: the engine's channel and the simulator."""

    async def pin(now: datetime) -> None:
        monkeypatch.setattr(channel, "clock", lambda: now)
        await meta.clock(now)

    return pin
