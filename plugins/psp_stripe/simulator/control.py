"""The Stripe simulator's own control API under `/_simulator/` (JSON in, JSON out, no auth).

It lets tests in another process, and the offline demo, do over HTTP what in-process tests do
with method calls: inject faults, read what happened, finish 3-D Secure, settle refunds; and the hosted Checkout page.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode

from core.testing.asgi import Scope, Send, send_response
from plugins.psp_stripe.simulator import checkout
from plugins.psp_stripe.simulator.asgi import SimulatorBackend, encode_json
from plugins.psp_stripe.simulator.confirmation import authenticate
from plugins.psp_stripe.simulator.refunds import settle_refund
from plugins.psp_stripe.simulator.webhooks import WebhookDelivery, delivery_report
from plugins.psp_stripe.simulator.wire import StripeAPIError, WireObject


class SimulatorControl(SimulatorBackend, Protocol):
    """The parts of `StripeSimulator` the control API drives."""

    @property
    def events(self) -> list[WireObject]: ...

    @property
    def sent_events(self) -> list[WebhookDelivery]: ...

    def flush_webhooks(self, timeout: float = 10.0) -> None: ...

    def reset(self) -> None: ...

    def send_webhook(self, event_type: str, data_object: WireObject) -> WireObject: ...

    def inject_faults(
        self,
        kind: str,
        count: int = 1,
        *,
        path_contains: str | None = None,
        method: str | None = None,
        delay_seconds: float | None = None,
    ) -> None: ...


class _BadControlRequest(Exception):
    """A control call the simulator cannot act on; answered 400 with the reason."""


_CHECKOUT = re.compile(r"/_simulator/checkout/(?P<id>[A-Za-z0-9_]+)(?P<pay>/pay)?")
_AUTHENTICATE = re.compile(r"/_simulator/payment_intents/(?P<id>[A-Za-z0-9_]+)/authenticate")
_SETTLE = re.compile(r"/_simulator/refunds/(?P<id>[A-Za-z0-9_]+)/settle")


async def handle_control(sim: SimulatorControl, scope: Scope, body: bytes, send: Send) -> None:
    method, path = scope["method"], scope["path"]
    query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
    if match := _CHECKOUT.fullmatch(path):
        await _checkout_page(sim, method, match["id"], bool(match["pay"]), body, send)
        return
    try:
        document = json.loads(body) if body.strip() else {}
        if not isinstance(document, dict):
            raise _BadControlRequest("the body must be a JSON object")
        status, answer = await _dispatch(sim, method, path, query, document)
    except (_BadControlRequest, ValueError, TypeError) as error:
        status, answer = 400, {"error": {"type": "simulator_error", "message": str(error)}}
    except StripeAPIError as error:
        status, answer = error.status, error.body("req_simulator")
    if status == 302:
        await send_response(send, 302, b"", content_type="text/plain", headers=[("Location", str(answer))])
        return
    await send_response(send, status, encode_json(answer))


async def _dispatch(
    sim: SimulatorControl, method: str, path: str, query: dict[str, str], document: dict[str, Any]
) -> tuple[int, Any]:
    route = (method, path)
    if route == ("GET", "/_simulator/payment_intents"):
        return 200, sim.ledger.report()
    if route == ("GET", "/_simulator/requests"):
        return 200, sim.request_log.report()
    if route == ("GET", "/_simulator/events"):
        return 200, sim.events
    if route == ("GET", "/_simulator/webhooks"):
        return 200, [delivery_report(d) for d in sim.sent_events]
    if route == ("POST", "/_simulator/webhooks"):
        event_type, data_object = document.get("type"), document.get("object")
        if not isinstance(event_type, str) or not isinstance(data_object, dict):
            raise _BadControlRequest('expected {"type": "<event type>", "object": {...}}')
        return 200, sim.send_webhook(event_type, data_object)
    if route == ("POST", "/_simulator/webhooks/flush"):
        await asyncio.to_thread(sim.flush_webhooks, float(document.get("timeout", 10.0)))
        return 200, [delivery_report(d) for d in sim.sent_events]
    if route == ("GET", "/_simulator/faults"):
        return 200, sim.faults.pending()
    if route == ("POST", "/_simulator/faults"):
        sim.inject_faults(
            str(document.get("kind")),
            int(document.get("count", 1)),
            path_contains=_optional_str(document, "path_contains"),
            method=_optional_str(document, "method"),
            delay_seconds=_optional_float(document, "delay_seconds"),
        )
        return 201, sim.faults.pending()
    if route == ("DELETE", "/_simulator/faults"):
        sim.faults.clear()
        return 200, []
    if route == ("POST", "/_simulator/reset"):
        sim.reset()
        return 200, {"reset": True}
    if method in ("GET", "POST") and (match := _AUTHENTICATE.fullmatch(path)):
        return _authenticate(sim, match["id"], query.get("outcome") or document.get("outcome"))
    if method == "POST" and (match := _SETTLE.fullmatch(path)):
        status = str(document.get("status", "succeeded"))
        reason = str(document.get("failure_reason", "unknown"))
        return 200, settle_refund(sim.ledger, match["id"], status, failure_reason=reason)
    return 404, {"error": {"type": "simulator_error", "message": f"no control route {method} {path}"}}


async def _checkout_page(
    sim: SimulatorControl, method: str, session_id: str, pay: bool, body: bytes, send: Send
) -> None:
    """The hosted payment page (GET) and its form (POST …/pay): paid, the browser goes on to the
    session's success_url, as Stripe sends it."""
    try:
        if pay and method == "POST":
            card = dict(parse_qsl(body.decode("latin-1"))).get("card") or "pm_card_visa"
            checkout.pay_session(sim.ledger, session_id, card)
            location = checkout.after_payment_url(sim.ledger, session_id)
            await send_response(send, 303, b"", content_type="text/plain", headers=[("Location", location)])
            return
        if not pay and method == "GET":
            page = checkout.hosted_page(sim.ledger, session_id).encode()
            await send_response(send, 200, page, content_type="text/html; charset=utf-8")
            return
        status, text = 405, f"{method} is not allowed here"
    except StripeAPIError as error:
        status, text = error.status, error.message
    page = f"<!doctype html><title>Checkout</title><p>{html.escape(text)}</p>".encode()
    await send_response(send, status, page, content_type="text/html; charset=utf-8")


def _authenticate(sim: SimulatorControl, pi_id: str, outcome: Any) -> tuple[int, Any]:
    """Complete 3-D Secure; a browser arriving from `next_action` is sent on to its return_url."""
    if outcome not in ("succeed", "fail"):
        raise _BadControlRequest('outcome must be "succeed" or "fail"')
    with sim.ledger.lock:
        next_action = sim.ledger.payment_intent(pi_id).next_action or {}
        pi = authenticate(sim.ledger, pi_id, succeed=outcome == "succeed")
    return_url = (next_action.get("redirect_to_url") or {}).get("return_url")
    if return_url is None:
        return 200, pi
    values = {
        "payment_intent": pi["id"],
        "payment_intent_client_secret": pi["client_secret"],
        "redirect_status": "succeeded" if outcome == "succeed" else "failed",
    }
    return 302, f"{return_url}{'&' if '?' in return_url else '?'}{urlencode(values)}"


def _optional_str(document: dict[str, Any], name: str) -> str | None:
    value = document.get(name)
    return None if value is None else str(value)


def _optional_float(document: dict[str, Any], name: str) -> float | None:
    value = document.get(name)
    return None if value is None else float(value)
