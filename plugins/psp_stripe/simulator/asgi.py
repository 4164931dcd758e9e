"""The Stripe simulator's HTTP face: a small raw ASGI app speaking Stripe's v1 wire format.

Raw ASGI rather than a framework because the simulator must misbehave on purpose: hang until the
client gives up, answer 200 with a broken body, replay stored bytes verbatim.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import threading
from collections.abc import Awaitable, Callable
from typing import Any, Protocol
from urllib.parse import parse_qsl

from core.testing.asgi import Receive, Scope, Send, SimulatorApp, json_body, read_body, send_response
from plugins.psp_stripe.simulator import checkout, refunds
from plugins.psp_stripe.simulator import payment_intents as pis
from plugins.psp_stripe.simulator.gateway import (
    Fault,
    FaultPlan,
    IdempotencyStore,
    LoggedRequest,
    RequestLog,
    StoredResponse,
)
from plugins.psp_stripe.simulator.ledger import RequestContext, StripeLedger
from plugins.psp_stripe.simulator.wire import (
    Params,
    StripeAPIError,
    WireObject,
    canonical_params,
    decode_form,
    invalid_request,
    new_id,
)

Headers = list[tuple[str, str]]
ApiHandler = Callable[[StripeLedger, str, Params, RequestContext], WireObject]
ControlHandler = Callable[[Scope, bytes, Send], Awaitable[None]]

logger = logging.getLogger(__name__)


class SimulatorBackend(Protocol):
    """What the API side needs from `StripeSimulator` (abstract, to keep imports one-way)."""

    ledger: StripeLedger
    faults: FaultPlan
    idempotency: IdempotencyStore
    request_log: RequestLog
    api_key: str | None
    api_version: str
    timeout_fault_seconds: float
    slow_fault_seconds: float
    closing: threading.Event


_ID = r"(?P<id>[A-Za-z0-9_]+)"


def _route_of(method: str, pattern: str, handler: ApiHandler) -> tuple[str, re.Pattern[str], ApiHandler]:
    return method, re.compile(pattern), handler


_PI = "/v1/payment_intents"
_API_ROUTES = [
    _route_of("POST", _PI, lambda led, _, p, c: pis.create_payment_intent(led, p, c)),
    _route_of("GET", _PI, lambda led, _, p, c: pis.list_payment_intents(led, p)),
    _route_of("GET", f"{_PI}/{_ID}", lambda led, i, p, c: pis.retrieve_payment_intent(led, i, p)),
    _route_of("POST", f"{_PI}/{_ID}", lambda led, i, p, c: pis.update_payment_intent(led, i, p, c)),
    _route_of("POST", f"{_PI}/{_ID}/confirm", pis.confirm_payment_intent),
    _route_of("POST", f"{_PI}/{_ID}/capture", pis.capture_payment_intent),
    _route_of("POST", f"{_PI}/{_ID}/cancel", pis.cancel_payment_intent),
    _route_of("POST", "/v1/refunds", lambda led, _, p, c: refunds.create_refund(led, p, c)),
    _route_of("GET", "/v1/refunds", lambda led, _, p, c: refunds.list_refunds(led, p)),
    _route_of("GET", f"/v1/refunds/{_ID}", lambda led, i, p, c: refunds.retrieve_refund(led, i, p)),
    _route_of("POST", "/v1/checkout/sessions", lambda led, _, p, c: checkout.create_session(led, p, c)),
    _route_of("GET", f"/v1/checkout/sessions/{_ID}", lambda led, i, p, c: checkout.retrieve_session(led, i, p)),
    _route_of("POST", f"/v1/checkout/sessions/{_ID}/expire", checkout.expire_session),
    _route_of("GET", f"/v1/charges/{_ID}", lambda led, i, p, c: led.retrieve_charge(i, p)),
    _route_of("GET", f"/v1/payment_methods/{_ID}", lambda led, i, p, c: led.retrieve_payment_method(i, p)),
]
_BEFORE_FAULTS: dict[str, tuple[int, WireObject]] = {
    "500": (500, {"type": "api_error", "message": "An unknown error occurred (simulated)."}),
    "503": (
        503,
        {"type": "api_error", "message": "Stripe is temporarily unavailable (simulated)."},
    ),
    "429": (
        429,
        {
            "type": "invalid_request_error",
            "code": "rate_limit",
            "message": "Request rate limit exceeded. Learn more about rate limits here "
            "https://stripe.com/docs/rate-limits.",
        },
    ),
    "timeout": (504, {"type": "api_error", "message": "The request timed out (simulated)."}),
}
# Cut mid-object: the worst kind of broken body, one a lenient parser cannot half-read.
_MALFORMED_BODY = b'{\n  "id": "pi_3MalformedResp'


def encode_json(document: Any) -> bytes:
    # Stripe pretty-prints its JSON; clients must not depend on either form.
    return json_body(document, indent=2)


class StripeASGIApp(SimulatorApp):
    """`/v1/*` to the ledger behind faults, auth and idempotency; `/_simulator/*` to control."""

    def __init__(self, backend: SimulatorBackend, control: ControlHandler) -> None:
        self.backend = backend
        self.control = control

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await read_body(receive)
        if body is None:  # the client left before sending its whole request: nobody to answer
            return
        if scope["path"].startswith("/_simulator/"):
            await self.control(scope, body, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        await self._api(scope, headers, body, receive, send)

    async def _api(self, scope: Scope, headers: dict[str, str], body: bytes, receive: Receive, send: Send) -> None:
        backend = self.backend
        method, path = scope["method"], scope["path"]
        request_id = new_id("req")
        key = headers.get("idempotency-key") if method == "POST" else None
        entry = backend.request_log.add(LoggedRequest(request_id, method, path, key))
        out: Headers = [
            ("Request-Id", request_id),
            ("Stripe-Version", headers.get("stripe-version") or backend.api_version),
        ]
        if key is not None:
            out.append(("Idempotency-Key", key))
        fault = backend.faults.take(method, path)
        entry.fault = fault.kind if fault else None

        if fault is not None and fault.kind in ("timeout", "malformed", "500", "503", "429"):
            if fault.kind == "malformed":
                entry.status = 200
                await send_response(send, 200, _MALFORMED_BODY, headers=out)
                return
            if fault.kind == "timeout":
                delay = fault.delay_seconds or backend.timeout_fault_seconds
                if not await self._hang(receive, delay):
                    return  # the client gave up: nothing was done, nothing is answered
            status, error = _BEFORE_FAULTS[fault.kind]
            entry.status = status
            await send_response(send, status, encode_json({"error": error}), headers=out)
            return

        status, payload, replayed_from = await self._execute(scope, headers, body, fault, request_id)
        if replayed_from is not None:
            entry.replayed = True
            out += [("Idempotent-Replayed", "true"), ("Original-Request", replayed_from)]
        if fault is not None and fault.kind == "timeout_after_commit":
            # Done and remembered under the key, but the answer is lost on the way back.
            delay = fault.delay_seconds or backend.timeout_fault_seconds
            if not await self._hang(receive, delay):
                return
        entry.status = status
        await send_response(send, status, payload, headers=out)

    async def _execute(
        self,
        scope: Scope,
        headers: dict[str, str],
        body: bytes,
        fault: Fault | None,
        request_id: str,
    ) -> tuple[int, bytes, str | None]:
        """Run the request through auth, routing and idempotency: (status, body, replayed_from)."""
        backend = self.backend
        method, path = scope["method"], scope["path"]
        key = headers.get("idempotency-key") if method == "POST" else None
        try:
            api_key = self._authenticate(headers)
            handler, object_id = _route(method, path)
            query = scope.get("query_string", b"").decode("latin-1")
            raw = body.decode("utf-8", "replace") if method == "POST" else query
            params = decode_form(parse_qsl(raw, keep_blank_values=True))
            if key is not None:
                fingerprint = canonical_params(params)
                stored = backend.idempotency.begin(api_key, key, f"{method} {path}", fingerprint)
                if stored is not None:
                    return stored.status, stored.body, stored.request_id
        except StripeAPIError as error:
            return error.status, encode_json(error.body(request_id)), None

        host = headers.get("host", "127.0.0.1")
        ctx = RequestContext(request_id, key, f"http://{host}")
        try:
            if fault is not None and fault.kind == "slow":
                # Slow inside the idempotency window, so a concurrent retry meets the 409.
                await asyncio.sleep(fault.delay_seconds or backend.slow_fault_seconds)
            status, payload, saved = _call(handler, backend.ledger, object_id, params, ctx)
        except BaseException:
            if key is not None:
                backend.idempotency.finish(api_key, key, None)
            raise
        if key is not None:
            stored_response = StoredResponse(status, payload, request_id) if saved else None
            backend.idempotency.finish(api_key, key, stored_response)
        return status, payload, None

    def _authenticate(self, headers: dict[str, str]) -> str:
        """The caller's API key; checked only when the simulator was given one."""
        authorization = headers.get("authorization", "")
        scheme, _, credential = authorization.partition(" ")
        if scheme.lower() == "basic":  # Stripe also takes the key as the Basic-auth user name
            try:
                credential = base64.b64decode(credential + "==").decode("latin-1").partition(":")[0]
            except ValueError:  # binascii.Error is a ValueError: undecodable means no key
                credential = ""
        elif scheme.lower() != "bearer":
            credential = ""
        expected = self.backend.api_key
        if expected is None:
            return credential
        if not credential:
            raise invalid_request(
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details.",
                status=401,
            )
        if credential != expected:
            raise invalid_request(f"Invalid API Key provided: {_mask(credential)}", status=401)
        return credential

    async def _hang(self, receive: Receive, seconds: float) -> bool:
        """Sit on the request; True if the client is still waiting when time is up."""

        async def disconnected() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        watcher = asyncio.ensure_future(disconnected())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        try:
            while not self.backend.closing.is_set():
                left = deadline - loop.time()
                if left <= 0:
                    return True
                done, _ = await asyncio.wait({watcher}, timeout=min(left, 0.1))
                if done:
                    return False
            return True  # shutting down: answer now rather than hold the server open
        finally:
            watcher.cancel()


def _route(method: str, path: str) -> tuple[ApiHandler, str]:
    for route_method, pattern, handler in _API_ROUTES:
        match = pattern.fullmatch(path)
        if match and route_method == method:
            return handler, match.groupdict().get("id") or ""
    raise invalid_request(
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we "
        "can help at https://support.stripe.com/.",
        status=404,
    )


def _call(
    handler: ApiHandler, ledger: StripeLedger, object_id: str, params: Params, ctx: RequestContext
) -> tuple[int, bytes, bool]:
    """Run one handler: (status, body, whether the idempotency layer keeps the answer)."""
    try:
        return 200, encode_json(handler(ledger, object_id, params, ctx)), True
    except StripeAPIError as error:
        return error.status, encode_json(error.body(ctx.request_id)), error.saved
    except Exception:
        # A simulator bug: answer like Stripe's 500 but do not store it, and say so loudly.
        logger.exception("Stripe simulator failed on %s", ctx.request_id)
        crash = StripeAPIError(500, "api_error", "The Stripe simulator crashed; see its log.")
        return 500, encode_json(crash.body(ctx.request_id)), False


def _mask(key: str) -> str:
    return f"{key[:8]}{'*' * max(len(key) - 12, 0)}{key[-4:]}" if len(key) > 12 else "****"
