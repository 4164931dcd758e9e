"""A Stripe API simulator: a real HTTP server on localhost speaking Stripe's v1 wire format.

Used by tests (the `stripe_simulator` pytest fixture, through `run_stripe_simulator`) and by the
offline demo (`emporio simulate stripe`, through `serve`). It covers what a PSP plugin uses:
PaymentIntents (create, update, confirm, capture, cancel), refunds, charges, Checkout Sessions
with their hosted page, test cards,
idempotency keys, signed webhooks; and it misbehaves on request (timeouts, 5xx, 429, broken
bodies). All state is in memory: this is a test double, not a store.

    sim = StripeSimulator(webhook_url="http://127.0.0.1:8000/webhooks/stripe")
    with sim.running() as base_url:
        client = stripe.StripeClient("sk_test_x", base_addresses={"api": base_url})
        sim.inject_faults("500", 1, path_contains="/capture")
"""

from __future__ import annotations

import secrets
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

from core.testing.asgi import Scope, Send, serve_in_thread, uvicorn_server
from plugins.psp_stripe.simulator.asgi import StripeASGIApp
from plugins.psp_stripe.simulator.checkout import pay_session
from plugins.psp_stripe.simulator.confirmation import authenticate
from plugins.psp_stripe.simulator.control import handle_control
from plugins.psp_stripe.simulator.gateway import (
    FAULT_KINDS,
    FaultPlan,
    IdempotencyStore,
    RequestLog,
)
from plugins.psp_stripe.simulator.ledger import RequestContext, StripeLedger
from plugins.psp_stripe.simulator.refunds import settle_refund
from plugins.psp_stripe.simulator.webhooks import (
    WebhookDelivery,
    WebhookDispatcher,
    build_event,
    sign_payload,
)
from plugins.psp_stripe.simulator.wire import DEFAULT_API_VERSION, WireObject

__all__ = [
    "DEFAULT_PORT",
    "FAULT_KINDS",
    "RunningStripeSimulator",
    "StripeSimulator",
    "WebhookDelivery",
    "run_stripe_simulator",
    "serve",
    "sign_payload",
]

DEFAULT_PORT = 12111  # stripe-mock's port, so existing habits carry over
# h11 and the lifespan on, as before the real API; no access log (the request log is the simulator's).
_UVICORN_OPTIONS: Final[dict[str, Any]] = {"http": "h11", "lifespan": "on", "access_log": False}


class StripeSimulator:
    """All simulator state and controls; `running()` / `serve_forever()` put it on the network.

    Args:
        webhook_url: where to POST events; None records events without delivering them.
        webhook_secret: the endpoint's signing secret; a fresh `whsec_…` when not given.
        api_key: when set, requests must carry `Authorization: Bearer <api_key>`.
        api_version: reported in `Stripe-Version` (unless the client sends one) and in events.
        enabled_events: event types delivered to the webhook (`"*"` = all), like a Stripe
            webhook endpoint's `enabled_events`; every event is recorded in `events` regardless.
        timeout_fault_seconds: how long a `timeout` fault holds a request unless the client
            gives up first.
        slow_fault_seconds: how long a `slow` fault delays processing (key held in flight).
        refund_status: status of new refunds; `"pending"` lets a test `settle_refund` later.
        webhook_shuffle_seed: makes duplicated-and-shuffled delivery order reproducible.
    """

    def __init__(
        self,
        *,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        api_key: str | None = None,
        api_version: str = DEFAULT_API_VERSION,
        enabled_events: Iterable[str] = ("*",),
        timeout_fault_seconds: float = 30.0,
        slow_fault_seconds: float = 1.0,
        refund_status: str = "succeeded",
        webhook_shuffle_seed: int | None = None,
    ) -> None:
        self.api_key = api_key
        self.api_version = api_version
        self.enabled_events = frozenset(enabled_events)
        self.timeout_fault_seconds = timeout_fault_seconds
        self.slow_fault_seconds = slow_fault_seconds
        self.ledger = StripeLedger(self._publish, refund_status=refund_status)
        self.faults = FaultPlan()
        self.idempotency = IdempotencyStore()
        self.request_log = RequestLog()
        self.closing = threading.Event()
        self.base_url: str | None = None
        self._events: list[WireObject] = []
        self._events_lock = threading.Lock()
        self._webhooks = WebhookDispatcher(
            webhook_url,
            webhook_secret or f"whsec_{secrets.token_hex(16)}",
            seed=webhook_shuffle_seed,
        )
        self.app = StripeASGIApp(self, control=self._control)

    async def _control(self, scope: Scope, body: bytes, send: Send) -> None:
        await handle_control(self, scope, body, send)

    # -- webhooks --------------------------------------------------------------------------

    @property
    def webhook_url(self) -> str | None:
        return self._webhooks.url

    @webhook_url.setter
    def webhook_url(self, url: str | None) -> None:
        self._webhooks.url = url

    @property
    def webhook_secret(self) -> str:
        return self._webhooks.secret

    @webhook_secret.setter
    def webhook_secret(self, secret: str) -> None:
        self._webhooks.secret = secret

    @property
    def deliver_webhooks_duplicated_and_shuffled(self) -> bool:
        """Deliver every event three times, in shuffled order (for race and dedupe tests)."""
        return self._webhooks.duplicated_and_shuffled

    @deliver_webhooks_duplicated_and_shuffled.setter
    def deliver_webhooks_duplicated_and_shuffled(self, enabled: bool) -> None:
        self._webhooks.duplicated_and_shuffled = enabled

    @property
    def events(self) -> list[WireObject]:
        """Every event so far, oldest first, whether or not it was delivered: replay them."""
        with self._events_lock:
            return list(self._events)

    @property
    def sent_events(self) -> list[WebhookDelivery]:
        """Every webhook POST made so far, with the receiver's status code."""
        return self._webhooks.deliveries

    def send_webhook(self, event_type: str, data_object: WireObject) -> WireObject:
        """Record and deliver a hand-made event (any type), bypassing `enabled_events`."""
        event = build_event(event_type, data_object, api_version=self.api_version)
        with self._events_lock:
            self._events.append(event)
        if self.webhook_url is not None:
            self._webhooks.enqueue(event)
        return event

    def flush_webhooks(self, timeout: float = 10.0) -> None:
        """Wait until every event queued so far was POSTed; TimeoutError if not in time."""
        self._webhooks.flush(timeout)

    def signature_header(self, payload: bytes, timestamp: int | None = None) -> str:
        """A `Stripe-Signature` header for `payload` under this simulator's webhook secret."""
        return sign_payload(payload, self.webhook_secret, timestamp or int(time.time()))

    def _publish(self, event_type: str, data_object: WireObject, ctx: RequestContext | None) -> None:
        event = build_event(
            event_type,
            data_object,
            api_version=self.api_version,
            request_id=ctx.request_id if ctx else None,
            idempotency_key=ctx.idempotency_key if ctx else None,
        )
        with self._events_lock:
            self._events.append(event)
        wanted = "*" in self.enabled_events or event_type in self.enabled_events
        if self.webhook_url is not None and wanted:
            self._webhooks.enqueue(event)

    # -- faults and inspection -------------------------------------------------------------

    def inject_faults(
        self,
        kind: str,
        count: int = 1,
        *,
        path_contains: str | None = None,
        method: str | None = None,
        delay_seconds: float | None = None,
    ) -> None:
        """Make the next `count` matching API requests fail as `kind` (one of FAULT_KINDS).

        `timeout` holds the request unanswered before doing anything; `timeout_after_commit`
        does the work, stores it under the idempotency key, then holds the answer; `slow`
        delays processing while the key is in flight; `500`/`503`/`429` answer Stripe-shaped
        errors without doing anything; `malformed` answers 200 with a body that is not JSON.
        """
        self.faults.add(kind, count, path_contains=path_contains, method=method, delay_seconds=delay_seconds)

    def clear_faults(self) -> None:
        self.faults.clear()

    @property
    def payment_intents(self) -> list[WireObject]:
        """Every PaymentIntent with its captures and refunds (`GET /_simulator/payment_intents`)."""
        return self.ledger.report()

    @property
    def requests(self) -> list[WireObject]:
        """Every API request: method, path, idempotency key, status, fault, replayed."""
        return self.request_log.report()

    def authenticate(self, payment_intent_id: str, *, succeed: bool = True) -> WireObject:
        """Complete (or fail) the 3-D Secure step of a PaymentIntent in `requires_action`."""
        return authenticate(self.ledger, payment_intent_id, succeed=succeed)

    def pay_checkout_session(self, session_id: str, card: str = "pm_card_visa") -> WireObject:
        """Pay a Checkout Session on its hosted page with a test card (what the customer's click does)."""
        return pay_session(self.ledger, session_id, card)

    def settle_refund(
        self, refund_id: str, status: str = "succeeded", *, failure_reason: str = "unknown"
    ) -> WireObject:
        """Move a pending refund to succeeded/failed/canceled, emitting `refund.updated`."""
        return settle_refund(self.ledger, refund_id, status, failure_reason=failure_reason)

    def reset(self) -> None:
        """Forget every object, event, request, fault and idempotency key."""
        with self.ledger.lock:
            self.ledger.payment_intents.clear()
            self.ledger.charges.clear()
            self.ledger.refunds.clear()
            self.ledger.payment_methods.clear()
            self.ledger.checkout_sessions.clear()
        with self._events_lock:
            self._events.clear()
        self.faults.clear()
        self.idempotency.clear()
        self.request_log.clear()
        self._webhooks.forget()

    # -- serving ---------------------------------------------------------------------------

    @contextmanager
    def running(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Serve on a background thread (port 0 = any free port); yields the base URL."""
        if self.base_url is not None:
            raise RuntimeError(f"this StripeSimulator is already serving on {self.base_url}")
        try:
            # On the way out `closing` is set first: it releases requests held by timeout faults.
            with serve_in_thread(
                self.app, host=host, port=port, name="stripe-simulator", stopping=self.closing, **_UVICORN_OPTIONS
            ) as url:
                self.base_url = url
                yield url
        finally:
            self._webhooks.close()
            self.base_url = None

    async def serve_forever(self, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
        """Serve in the foreground on the current event loop until interrupted (Ctrl-C)."""
        self.closing.clear()
        self.base_url = f"http://{host}:{port}"
        print(
            f"Stripe simulator on {self.base_url} (API version {self.api_version}); "
            f"webhooks → {self.webhook_url or 'not delivered'}, secret {self.webhook_secret}",
            file=sys.stderr,
            flush=True,
        )
        try:
            await uvicorn_server(self.app, host, port, foreground=True, **_UVICORN_OPTIONS).serve()
        finally:
            self.closing.set()
            self._webhooks.close()
            self.base_url = None


async def serve(
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    webhook_url: str | None = None,
    webhook_secret: str | None = None,
    *,
    api_key: str | None = None,
) -> None:
    """Run a Stripe simulator in the foreground: the body of `emporio simulate stripe`."""
    simulator = StripeSimulator(webhook_url=webhook_url, webhook_secret=webhook_secret, api_key=api_key)
    await simulator.serve_forever(host, port)


@dataclass(frozen=True, slots=True)
class RunningStripeSimulator:
    """What the `stripe_simulator` fixture yields: the simulator and where it listens."""

    simulator: StripeSimulator
    base_url: str


@contextmanager
def run_stripe_simulator(
    simulator: StripeSimulator | None = None, *, host: str = "127.0.0.1"
) -> Iterator[RunningStripeSimulator]:
    """The logic behind the `stripe_simulator` pytest fixture: start, yield, stop."""
    simulator = simulator or StripeSimulator()
    with simulator.running(host) as base_url:
        yield RunningStripeSimulator(simulator, base_url)
