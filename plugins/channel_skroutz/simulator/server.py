"""Skroutz Smart Cart simulator: a real HTTP server speaking the Merchants API v3 and sending the
order webhook, for tests and the offline demo (Skroutz has no sandbox host; its DEMO-* order
codes on production cannot be scripted).

Usage::

    skroutz = SkroutzSimulator()                        # token "skroutz-test-token"
    with skroutz.running() as base_url:                 # free port on 127.0.0.1
        code = skroutz.market.place_order([Line("MUG-BLUE", 2, 1250)])
        headers, body = skroutz.market.webhook_for(code, NoticeKind.NEW_ORDER)
        skroutz.market.set_state(code, ChannelOrderState.CANCELLED)

The API (Bearer token, else 401; `Accept: application/vnd.skroutz+json; version=3.0`, else
406): `GET /merchants/ecommerce/orders/{code}`, `POST …/accept`, `…/reject`, `…/set_as_ready`,
with the rules and error bodies of `market.SmartCart`.

Control API (JSON, no token, never faulted), for `emporio simulate skroutz` and the demo:

* `POST /_simulator/orders` `{"lines": [{"sku", "qty", "unit_price"}], "deliver": true}` →
  `{"code"}`; with a webhook URL the `new_order` webhook is POSTed to it.
* `POST /_simulator/orders/{code}/state` `{"state": "cancelled"|"expired"|…}` → the
  `order_updated` webhook with `changes.state`, as Skroutz sends it.
* `POST /_simulator/orders/{code}/webhook` `{"event_type"}` → delivers it again (Skroutz's
  "resend" button); `GET /_simulator/orders/{code}` → what was recorded.
* `POST /_simulator/faults` `{"count": n, "kind": "503"|"timeout"}`; `GET /_simulator/calls`.

Webhooks are delivered like Skroutz does: `Content-Type: application/json; charset=utf-8`,
`User-Agent: Skroutz OrderNotifier v1`, retried (up to 3 requests in all) on anything but 200.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Iterator
from typing import Any, Final

import httpx

from core.hookspecs.channels import ChannelOrderState, NoticeKind
from core.testing.asgi import (
    Receive,
    Scope,
    Send,
    SimulatorApp,
    json_body,
    read_body,
    send_response,
    serve_in_thread,
    uvicorn_server,
)
from plugins.channel_skroutz.simulator.market import AnswerLost, Line, SkroutzError, SmartCart
from plugins.channel_skroutz.wire import MEDIA_TYPE

CONTROL: Final = "/_simulator"
WEBHOOK_ATTEMPTS: Final = 3


class SkroutzSimulator(SimulatorApp):
    def __init__(
        self, market: SmartCart | None = None, *, webhook_url: str | None = None, retry_delay_s: float = 1.0
    ) -> None:
        self.market = market or SmartCart()
        self.market.webhook_url = webhook_url or self.market.webhook_url
        self.retry_delay_s = retry_delay_s
        self.stopping = threading.Event()
        self.base_url: str | None = None
        self.deliveries: list[tuple[str, int | None]] = []  # (event type, status or None) per attempt

    @property
    def token(self) -> str:
        return self.market.token

    # --- serving --------------------------------------------------------------------------------

    @contextlib.contextmanager
    def running(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        with serve_in_thread(self, host=host, port=port, name="skroutz-simulator", stopping=self.stopping) as url:
            self.base_url, self.market.base_url = url, url
            try:
                yield url
            finally:
                self.base_url = None

    async def serve(self, host: str, port: int) -> None:
        """Serve in the foreground until interrupted (`emporio simulate skroutz`)."""
        self.base_url = self.market.base_url = f"http://{host}:{port}"
        await uvicorn_server(self, host, port, foreground=True).serve()

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await read_body(receive, limit=1 << 20)
        if body is None:
            return
        path: str = scope["path"]
        try:
            document = json.loads(body) if body.strip() else None
        except ValueError:
            await _answer(send, 400, "bad_request", "The body is not JSON")
            return
        if path.startswith(CONTROL + "/"):
            status, answer = await self._control(scope["method"], path.removeprefix(CONTROL), document)
            await send_response(send, status, json_body(answer))
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if headers.get("authorization") != f"Bearer {self.token}":
            await _answer(send, 401, "unauthorized", "Invalid or missing API token")
            return
        if headers.get("accept") != MEDIA_TYPE:
            await _answer(send, 406, "not_acceptable", f"Accept must be {MEDIA_TYPE}")
            return
        fault = self.market.take_fault()
        if fault == "ok":
            fault = None
        if fault == "timeout":  # hold the request until the client gives up (or the server stops)
            await asyncio.to_thread(self.stopping.wait, 30)
            return
        if fault is not None:
            page = b"<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>"
            await send_response(send, 503, page, content_type="text/html")
            return
        try:
            status, answer = self.market.handle_api(scope["method"], path, document)
        except SkroutzError as error:
            await _answer(send, error.status, error.code, error.message)
            return
        except AnswerLost:
            await send_response(
                send, 503, b"<html><body>503 Service Unavailable</body></html>", content_type="text/html"
            )
            return
        await send_response(send, status, json_body(answer), content_type="application/json; charset=utf-8")

    # --- the control API and webhook delivery --------------------------------------------------

    async def _control(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        data = body if isinstance(body, dict) else {}
        try:
            if (method, parts) == ("POST", ["orders"]):
                lines = [Line(str(x["sku"]), int(x["qty"]), int(x["unit_price"])) for x in data.get("lines", [])]
                if not lines:
                    return 400, {"error": "give lines: [{sku, qty, unit_price (cents)}]"}
                code = self.market.place_order(lines)
                if data.get("deliver", True):
                    await self.deliver(code, NoticeKind.NEW_ORDER)
                return 201, {"code": code}
            if method == "GET" and parts == ["calls"]:
                return 200, [vars(c) for c in self.market.calls]
            if method == "POST" and parts == ["faults"]:
                self.market.fail_next(int(data.get("count", 1)), str(data.get("kind", "503")))
                return 200, {"faults": list(self.market.faults)}
            if len(parts) >= 2 and parts[0] == "orders":
                return await self._control_order(method, parts[1], parts[2:], data)
        except (KeyError, ValueError, TypeError) as exc:
            return 400 if not isinstance(exc, KeyError) else 404, {"error": str(exc)}
        return 404, {"error": f"no control route {method} {CONTROL}{path}"}

    async def _control_order(self, method: str, code: str, rest: list[str], data: dict[str, Any]) -> tuple[int, Any]:
        if method == "GET" and not rest:
            return 200, self.market.view(code)
        if method == "POST" and rest == ["state"]:
            self.market.set_state(code, ChannelOrderState(data["state"]))
            await self.deliver(code, NoticeKind.ORDER_UPDATED)
            return 200, self.market.view(code)
        if method == "POST" and rest == ["webhook"]:
            status = await self.deliver(code, NoticeKind(data.get("event_type", "new_order")))
            return 200, {"delivered": status}
        return 404, {"error": f"no control route {method} orders/{code}/{'/'.join(rest)}"}

    async def deliver(self, code: str, kind: NoticeKind) -> int | None:
        """POST the webhook to `webhook_url`, retried like Skroutz; returns the last status."""
        if not self.market.webhook_url:
            return None
        headers, body = self.market.webhook_for(code, kind)
        status: int | None = None
        async with httpx.AsyncClient(timeout=10) as client:
            for attempt in range(WEBHOOK_ATTEMPTS):
                try:
                    status = (await client.post(self.market.webhook_url, content=body, headers=headers)).status_code
                except httpx.HTTPError:
                    status = None
                self.deliveries.append((kind.value, status))
                if status == 200:
                    break
                if attempt + 1 < WEBHOOK_ATTEMPTS:
                    await asyncio.sleep(self.retry_delay_s)
        return status


async def _answer(send: Send, status: int, code: str, message: str) -> None:
    body = json_body({"errors": [{"code": code, "messages": [message]}]})
    await send_response(send, status, body, content_type="application/json; charset=utf-8")


async def serve(host: str = "127.0.0.1", port: int = 8788, webhook_url: str | None = None) -> None:
    await SkroutzSimulator(webhook_url=webhook_url).serve(host, port)


__all__ = ["SkroutzSimulator", "serve"]
