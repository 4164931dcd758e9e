"""Stripe events and their signed delivery from the simulator to a webhook endpoint.

Delivery runs on a background thread so an API request never waits for the receiver; tests call
`flush()` to wait. The "duplicated and shuffled" mode sends every event three times in random
order, the way a retrying, reordering network can (reliability requirement R5).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import queue
import random
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx

from plugins.psp_stripe.simulator.wire import WireObject, new_id, now


def sign_payload(payload: bytes, secret: str, timestamp: int) -> str:
    """The `Stripe-Signature` header: `t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<payload>")>`."""
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def build_event(
    event_type: str,
    data_object: WireObject,
    *,
    api_version: str,
    request_id: str | None = None,
    idempotency_key: str | None = None,
) -> WireObject:
    """A Stripe Event wrapping a snapshot of the object as it is now."""
    return {
        "id": new_id("evt"),
        "object": "event",
        "api_version": api_version,
        "created": now(),
        "data": {"object": copy.deepcopy(data_object)},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": request_id, "idempotency_key": idempotency_key},
        "type": event_type,
    }


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One POST of one event to the endpoint, and how the endpoint answered."""

    event_id: str
    event_type: str
    copy: int  # 1 normally; 1..3 in duplicated-and-shuffled mode
    status_code: int | None  # None when the endpoint could not be reached
    error: str | None
    at: float


class WebhookDispatcher:
    """Queue of events to POST, signed, to one URL; a daemon thread does the sending."""

    def __init__(
        self,
        url: str | None,
        secret: str,
        *,
        duplicated_and_shuffled: bool = False,
        shuffle_window_seconds: float = 0.2,
        seed: int | None = None,
        timeout_seconds: float = 5.0,
    ) -> None:
        self.url = url
        self.secret = secret
        self.duplicated_and_shuffled = duplicated_and_shuffled
        self.shuffle_window_seconds = shuffle_window_seconds
        self.timeout_seconds = timeout_seconds
        self._random = random.Random(seed)
        self._queue: queue.Queue[WireObject | None] = queue.Queue()
        self._pending = 0
        self._idle = threading.Condition()
        self._flush_now = threading.Event()
        self._thread: threading.Thread | None = None
        self._deliveries: list[WebhookDelivery] = []

    @property
    def deliveries(self) -> list[WebhookDelivery]:
        with self._idle:
            return list(self._deliveries)

    def enqueue(self, event: WireObject) -> None:
        with self._idle:
            self._pending += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="stripe-simulator-webhooks", daemon=True)
                self._thread.start()
        self._queue.put(event)

    def flush(self, timeout: float = 10.0) -> None:
        """Block until every queued event was POSTed (answered or failed)."""
        self._flush_now.set()
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{self._pending} webhook event(s) still undelivered")
                self._idle.wait(left)
        self._flush_now.clear()

    def forget(self) -> None:
        """Drop the delivery history (a simulator reset); queued events still go out."""
        with self._idle:
            self._deliveries.clear()

    def close(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=self.timeout_seconds + 1)
        self._thread = None

    # -- the delivery thread ---------------------------------------------------------------

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout_seconds) as client:
            while True:
                first = self._queue.get()
                if first is None:
                    return
                batch = [first]
                stop = False
                if self.duplicated_and_shuffled:
                    stop = self._gather(batch)
                copies = [(event, 1) for event in batch]
                if self.duplicated_and_shuffled:
                    copies = [(event, n) for event in batch for n in (1, 2, 3)]
                    self._random.shuffle(copies)
                for event, number in copies:
                    self._post(client, event, number)
                with self._idle:
                    self._pending -= len(batch)
                    self._idle.notify_all()
                if stop:
                    return

    def _gather(self, batch: list[WireObject]) -> bool:
        """Collect events for a short window, so there is something to shuffle."""
        deadline = time.monotonic() + self.shuffle_window_seconds
        while time.monotonic() < deadline and not self._flush_now.is_set():
            try:
                event = self._queue.get(timeout=0.02)
            except queue.Empty:
                continue
            if event is None:
                return True
            batch.append(event)
        while True:  # a flush takes everything already queued
            try:
                event = self._queue.get_nowait()
            except queue.Empty:
                return False
            if event is None:
                return True
            batch.append(event)

    def _post(self, client: httpx.Client, event: WireObject, number: int) -> None:
        status: int | None = None
        error: str | None = None
        url = self.url
        if url is None:
            error = "no webhook_url configured"
        else:
            # Stripe sends pretty-printed JSON; receivers must verify the raw bytes, not a re-dump.
            payload = json.dumps(event, indent=2).encode()
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                "Stripe-Signature": sign_payload(payload, self.secret, now()),
            }
            try:
                status = client.post(url, content=payload, headers=headers).status_code
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
        record = WebhookDelivery(
            event_id=str(event["id"]),
            event_type=str(event["type"]),
            copy=number,
            status_code=status,
            error=error,
            at=time.time(),
        )
        with self._idle:
            self._deliveries.append(record)


def delivery_report(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "copy": delivery.copy,
        "status_code": delivery.status_code,
        "error": delivery.error,
        "at": delivery.at,
    }
