"""Agora, a small marketplace served on 127.0.0.1: the reference the channel contract suite runs
against until a real connector (Skroutz) brings its own simulator.

Its wire format follows Skroutz Smart Cart's (integrations.md): Bearer token plus a vendor
`Accept` header; `GET /merchants/orders/{code}` with `accept_options` and `reject_options`
while open; `POST …/accept` {pickup_location, pickup_window, number_of_parcels}, `…/reject`
{line_items: [{id, reason_id, available_quantity}]} or {rejection_reason_other},
`…/set_as_ready`; errors as `{"errors": [{"code", "messages"}]}` (422 `order_status` when the
order moved on); prices in euros; unsigned webhooks whose body carries the order. Raw ASGI on
the shared plumbing, so a test can make the next call fail.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from core.hookspecs.channels import Acceptance, ChannelOrderState, LineRejection, NoticeKind, Rejection
from core.testing.asgi import Receive, Scope, Send, SimulatorApp, json_body, read_body, send_response, serve_in_thread
from core.testing.channel_contract import MarketplaceView, SampleLine

MEDIA_TYPE: Final = "application/vnd.agora+json; version=1"
LOCATIONS: Final = ({"id": 1034, "label": "Λ. Κηφισίας 10, Μαρούσι"}, {"id": 2211, "label": "Πειραιώς 120, Αθήνα"})
WINDOWS: Final = ({"id": 7, "label": "Αύριο 09:00-12:00"}, {"id": 8, "label": "Αύριο 15:00-18:00"})
REASONS: Final = (
    {"id": 1, "label": "Δεν υπάρχει απόθεμα", "requires_available_quantity": False},
    {"id": 4, "label": "Υπάρχει μικρότερη ποσότητα", "requires_available_quantity": True},
)
ALREADY: Final = {
    ChannelOrderState.ACCEPTED: "Order already accepted.",
    ChannelOrderState.REJECTED: "Order already rejected.",
    ChannelOrderState.CANCELLED: "Order is cancelled.",
    ChannelOrderState.EXPIRED: "Order has expired.",
}


class MarketplaceError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Listing:
    """One order as the marketplace keeps it."""

    code: str
    lines: list[dict[str, Any]]
    created_at: datetime
    state: ChannelOrderState = ChannelOrderState.OPEN
    previous: ChannelOrderState | None = None
    acceptance: Acceptance | None = None
    rejection: Rejection | None = None
    ready: bool = False

    def move(self, state: ChannelOrderState) -> None:
        self.previous, self.state = self.state, state

    def wire(self, *, lie: bool = False) -> dict[str, Any]:
        """The order as the API (or, with `lie`, a tampered webhook body) shows it."""
        is_open = self.state is ChannelOrderState.OPEN
        factor = 3 if lie else 1
        return {
            "code": self.code,
            "state": self.state.value,
            "customer": {
                "first_name": "Ελένη",
                "last_name": "Νικολάου",
                "address": {"street_name": "Εγνατία", "street_number": "45", "zip": "54630", "city": "Θεσσαλονίκη"},
            },
            "comments": "Παρακαλώ κουδούνι 2ος όροφος",
            "courier_voucher": f"https://agora.test/vouchers/{self.code}.pdf" if self.acceptance else None,
            "line_items": [
                {**line, "quantity": line["quantity"] * factor, "unit_price": line["unit_price"] / factor}
                for line in self.lines
            ],
            "created_at": self.created_at.isoformat(),
            "expires_at": (self.created_at + timedelta(hours=4)).isoformat(),
            "dispatch_until": (self.created_at + timedelta(days=2)).isoformat(),
            "accept_options": (
                {"number_of_parcels": [1, 2, 3], "pickup_location": list(LOCATIONS), "pickup_window": list(WINDOWS)}
                if is_open
                else None
            ),
            "reject_options": {"line_item_rejection_reasons": list(REASONS)} if is_open else None,
            "is_ready_for_dispatch": self.ready,
        }


@dataclass
class Marketplace(SimulatorApp):
    """The marketplace's state and its levers; the ASGI app and the tests share it (a lock
    guards it: the server runs on its own thread)."""

    token: str = "agora-test-token"
    listings: dict[str, Listing] = field(default_factory=dict)
    faults: int = 0
    base_url: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    _numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1234567))

    # --- levers -------------------------------------------------------------------------------

    def place_order(self, lines: Sequence[SampleLine]) -> str:
        with self.lock:
            code = f"250601-{next(self._numbers)}"
            self.listings[code] = Listing(
                code=code,
                lines=[
                    {
                        "id": f"li{code[-4:]}{i}",
                        "shop_uid": line.sku,
                        "product_name": f"Προϊόν {line.sku}",
                        "quantity": line.qty,
                        "unit_price": float(Decimal(line.unit_price) / 100),
                        "total_price": float(Decimal(line.unit_price * line.qty) / 100),
                    }
                    for i, line in enumerate(lines, 1)
                ],
                created_at=datetime.now(UTC).replace(microsecond=0),
            )
            return code

    def webhook_for(self, code: str, kind: NoticeKind) -> tuple[dict[str, str], bytes]:
        """The unsigned POST Agora would send, its order tampered with (quantities × 3)."""
        with self.lock:
            listing = self.listings[code]
            body: dict[str, Any] = {"event_type": kind.value, "event_time": datetime.now(UTC).isoformat()}
            if kind is NoticeKind.ORDER_UPDATED and listing.previous is not None:
                body["changes"] = {"state": {"old": listing.previous.value, "new": listing.state.value}}
            body["order"] = listing.wire(lie=True)
        headers = {"content-type": "application/json; charset=utf-8", "user-agent": "Agora OrderNotifier v1"}
        return headers, json.dumps(body, ensure_ascii=False).encode()

    def withdraw(self, code: str, state: ChannelOrderState) -> None:
        with self.lock:
            self.listings[code].move(state)

    def view(self, code: str) -> MarketplaceView:
        with self.lock:
            listing = self.listings[code]
            return MarketplaceView(
                state=listing.state, acceptance=listing.acceptance, rejection=listing.rejection, ready=listing.ready
            )

    def fail_next(self) -> None:
        with self.lock:
            self.faults += 1

    # --- the API --------------------------------------------------------------------------------

    def handle_api(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if parts[:2] != ["merchants", "orders"] or len(parts) not in (3, 4):
            raise MarketplaceError(404, "not_found", f"no route {method} {path}")
        with self.lock:
            listing = self.listings.get(parts[2])
            if listing is None:
                raise MarketplaceError(404, "not_found", "Order not found")
            action = parts[3] if len(parts) == 4 else None
            if method == "GET" and action is None:
                return 200, {"order": listing.wire()}
            if method == "POST" and action in ("accept", "reject", "set_as_ready"):
                getattr(self, f"_{action}")(listing, body if isinstance(body, dict) else {})
                return 200, {"success": True}
        raise MarketplaceError(405, "method_not_allowed", f"{method} {path}")

    @staticmethod
    def _still_open(listing: Listing) -> None:
        if listing.state is not ChannelOrderState.OPEN:
            raise MarketplaceError(422, "order_status", ALREADY.get(listing.state, f"Order is {listing.state}."))

    def _accept(self, listing: Listing, body: dict[str, Any]) -> None:
        self._still_open(listing)
        location, window = body.get("pickup_location"), body.get("pickup_window")
        parcels = body.get("number_of_parcels", 1)
        if location not in [o["id"] for o in LOCATIONS] or window not in [o["id"] for o in WINDOWS]:
            raise MarketplaceError(422, "invalid_params", "pickup_location and pickup_window must be offered ids")
        if parcels not in (1, 2, 3):
            raise MarketplaceError(422, "invalid_params", "number_of_parcels must be offered")
        listing.acceptance = Acceptance(pickup_location=str(location), pickup_window=str(window), parcels=parcels)
        listing.move(ChannelOrderState.ACCEPTED)

    def _reject(self, listing: Listing, body: dict[str, Any]) -> None:
        self._still_open(listing)
        other = body.get("rejection_reason_other")
        items = body.get("line_items") or []
        if bool(other) == bool(items):
            raise MarketplaceError(422, "invalid_params", "send line_items or rejection_reason_other")
        reasons = {r["id"]: r for r in REASONS}
        ids = {line["id"] for line in listing.lines}
        lines = []
        for item in items:
            reason = reasons.get(item.get("reason_id"))
            if item.get("id") not in ids or reason is None:
                raise MarketplaceError(422, "invalid_params", f"unknown line item or reason in {item}")
            available = item.get("available_quantity")
            if reason["requires_available_quantity"] and not isinstance(available, int):
                raise MarketplaceError(422, "invalid_params", f"reason {reason['id']} requires available_quantity")
            lines.append(
                LineRejection(external_line_id=item["id"], reason_id=str(reason["id"]), available_qty=available)
            )
        listing.rejection = Rejection(lines=lines, other_reason=other or None)
        listing.move(ChannelOrderState.REJECTED)

    @staticmethod
    def _set_as_ready(listing: Listing, body: dict[str, Any]) -> None:
        if listing.state is not ChannelOrderState.ACCEPTED or listing.ready:
            raise MarketplaceError(422, "order_error", "Order is not eligible to be marked as ready")
        listing.ready = True

    # --- serving --------------------------------------------------------------------------------

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await read_body(receive, limit=1 << 16)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            if headers.get("authorization") != f"Bearer {self.token}":
                raise MarketplaceError(401, "unauthorized", "Invalid or missing API token")
            if headers.get("accept") != MEDIA_TYPE:
                raise MarketplaceError(406, "not_acceptable", f"Accept must be {MEDIA_TYPE}")
            with self.lock:
                faulted, self.faults = self.faults > 0, max(0, self.faults - 1)
            if faulted:
                page = b"<html><body>503 Service Unavailable</body></html>"
                await send_response(send, 503, page, content_type="text/html")
                return
            status, answer = self.handle_api(scope["method"], scope["path"], json.loads(body) if body else None)
        except MarketplaceError as error:
            status, answer = error.status, {"errors": [{"code": error.code, "messages": [error.message]}]}
        except ValueError:
            status, answer = 400, {"errors": [{"code": "bad_request", "messages": ["The body is not JSON"]}]}
        await send_response(send, status, json_body(answer))

    @contextmanager
    def running(self, host: str = "127.0.0.1") -> Iterator[str]:
        """Serve on a background thread on a free port; yields the base URL."""
        with serve_in_thread(self, host=host, name="agora", stopping=self.stopping) as url:
            self.base_url = url
            try:
                yield url
            finally:
                self.base_url = None
