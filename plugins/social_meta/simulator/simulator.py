"""A Meta (Messenger Platform) simulator: a real HTTP server on localhost speaking the Graph API's
Send, Conversations and User Profile endpoints, and playing the people who write to the Page —
their messages reach the engine as webhooks signed with `X-Hub-Signature-256`.

Used by tests (`MetaSimulator(...).running()`), by `emporio simulate meta` and by the offline demo.
All state is in memory: a test double, not a store.

    sim = MetaSimulator(webhook_url="http://127.0.0.1:8000/v1/webhooks/meta", app_secret="s3cret")
    with sim.running() as base_url:
        # EMPORIO_META_GRAPH_BASE = base_url + "/v25.0", EMPORIO_META_PAGE_TOKEN = sim.page_token
        httpx.post(base_url + "/_simulator/messages", json={"user_id": "psid-1", "text": "Γεια σας"})
"""

from __future__ import annotations

import secrets
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

from core.testing.asgi import serve_in_thread, uvicorn_server
from plugins.social_meta.simulator.app import MetaApp
from plugins.social_meta.simulator.state import FAULT_KINDS, MetaState

__all__ = ["DEFAULT_PORT", "FAULT_KINDS", "GRAPH_VERSION", "MetaSimulator", "serve"]

DEFAULT_PORT = 12112
GRAPH_VERSION = "v25.0"
# No access log: the simulator keeps its own record of Send API calls (GET /_simulator/requests).
_UVICORN_OPTIONS: Final[dict[str, Any]] = {"http": "h11", "lifespan": "on", "access_log": False}


class MetaSimulator:
    """All simulator state and settings; `running()` / `serve_forever()` put it on the network.

    Args:
        webhook_url: the engine's `POST /v1/webhooks/meta` (None: set it later through
            `POST /_simulator/config`).
        app_secret: signs webhooks and checks `appsecret_proof`.
        verify_token: what the subscription handshake sends as `hub.verify_token`.
        page_token: the Page access token the Graph endpoints accept.
        page_id / instagram_id: the Page and its linked Instagram professional account.
    """

    def __init__(
        self,
        *,
        webhook_url: str | None = None,
        app_secret: str | None = None,
        verify_token: str | None = None,
        page_token: str | None = None,
        page_id: str = "100000000000001",
        instagram_id: str = "17841400000000001",
    ) -> None:
        self.webhook_url = webhook_url
        self.app_secret = app_secret or secrets.token_hex(16)
        self.verify_token = verify_token or secrets.token_urlsafe(12)
        self.page_token = page_token or "EAA" + secrets.token_urlsafe(32)
        self.state = MetaState(
            page_id=page_id, instagram_id=instagram_id, page_token=self.page_token, app_secret=self.app_secret
        )
        self.closing = threading.Event()
        self.base_url: str | None = None
        self.app = MetaApp(self)

    def describe(self) -> dict[str, Any]:
        """What `GET /_simulator/state` shows (never the secrets)."""
        return {
            "page_id": self.state.page_id,
            "instagram_id": self.state.instagram_id,
            "graph_base": f"{self.base_url}/{GRAPH_VERSION}" if self.base_url else None,
            "webhook_url": self.webhook_url,
            "clock_ms": self.state.clock_ms,
        }

    def settings(self) -> dict[str, str]:
        """The engine's settings that point the `social_meta` plugin at this simulator."""
        if self.base_url is None:
            raise RuntimeError("the simulator is not running; enter running() first")
        return {
            "EMPORIO_META_APP_SECRET": self.app_secret,
            "EMPORIO_META_VERIFY_TOKEN": self.verify_token,
            "EMPORIO_META_PAGE_TOKEN": self.page_token,
            "EMPORIO_META_GRAPH_BASE": f"{self.base_url}/{GRAPH_VERSION}",
        }

    @contextmanager
    def running(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Serve on a background thread (port 0 = any free port); yields the base URL."""
        if self.base_url is not None:
            raise RuntimeError(f"this MetaSimulator is already serving on {self.base_url}")
        try:
            with serve_in_thread(
                self.app, host=host, port=port, name="meta-simulator", stopping=self.closing, **_UVICORN_OPTIONS
            ) as url:
                self.base_url = url
                yield url
        finally:
            self.base_url = None

    async def serve_forever(self, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
        """Serve in the foreground on the current event loop until interrupted (Ctrl-C)."""
        self.base_url = f"http://{host}:{port}"
        print(
            f"Meta simulator on {self.base_url} (Graph {GRAPH_VERSION}); webhooks → "
            f"{self.webhook_url or 'not delivered'}",
            file=sys.stderr,
            flush=True,
        )
        try:
            await uvicorn_server(self.app, host, port, foreground=True, **_UVICORN_OPTIONS).serve()
        finally:
            self.closing.set()
            self.base_url = None


async def serve(
    host: str,
    port: int,
    *,
    webhook_url: str | None,
    app_secret: str | None,
    verify_token: str | None,
    page_token: str | None,
) -> None:
    """The body of `emporio simulate meta`."""
    simulator = MetaSimulator(
        webhook_url=webhook_url, app_secret=app_secret, verify_token=verify_token, page_token=page_token
    )
    await simulator.serve_forever(host, port)
