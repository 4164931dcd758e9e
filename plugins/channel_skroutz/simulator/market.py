"""The simulated Smart Cart: orders as Skroutz keeps them, the Merchants API's rules for
accepting, rejecting and marking them ready, and the levers a test or the control API pulls.

Thread-safe (the server runs on its own thread): every read and change holds `lock`. Times come
from `clock`, so a test pins them; an open order past its `expires_at` is expired when next read,
as Skroutz expires orders nobody answered.
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from core.hookspecs.channels import ChannelOrderState, NoticeKind
from plugins.channel_skroutz.simulator.orders import (
    ALREADY,
    HOURS_TO_ANSWER,
    LOCATIONS,
    REASONS,
    Line,
    SimOrder,
    Window,
)

State = ChannelOrderState
_ALPHABET: Final = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


class SkroutzError(Exception):
    """An API refusal, answered as `{"errors": [{"code", "messages"}]}` with `status`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class AnswerLost(Exception):
    """The call was carried out but its answer never reached the client (served as a 503)."""


@dataclass(frozen=True)
class Script:
    """What happens to the next call of one action: the order moves to `state` just before it
    arrives, it is refused with `error`, or it is done and its answer lost."""

    state: ChannelOrderState | None = None
    error: SkroutzError | None = None
    lose_answer: bool = False


@dataclass
class Call:
    """One Merchants API call as the marketplace received it (the tests count accepts)."""

    method: str
    path: str
    body: Any
    status: int = 0


@dataclass
class SmartCart:
    """Skroutz's side. `clock` gives the marketplace's now; `base_url` is set while serving."""

    token: str = "skroutz-test-token"
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC).replace(microsecond=0))
    webhook_url: str | None = None
    orders: dict[str, SimOrder] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)  # "503", "timeout" or "ok", for the next API calls
    scripts: dict[str, list[Script]] = field(default_factory=dict)  # by action: accept, reject, set_as_ready
    base_url: str = "http://127.0.0.1"
    lock: threading.RLock = field(default_factory=threading.RLock)
    # Codes never repeat across simulators (job ids and external refs derive from them).
    _numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1_000_000 + secrets.randbelow(8_000_000)))
    _line_ids: Iterator[int] = field(default_factory=lambda: itertools.count(7_654_321_000))

    # --- levers ---------------------------------------------------------------------------------

    def place_order(
        self,
        lines: Sequence[Any],
        *,
        windows: Sequence[tuple[int, datetime, datetime]] | None = None,
        locations: Sequence[dict[str, Any]] | None = None,
        parcels: Sequence[int] = (1, 2, 3),
        customer: dict[str, Any] | None = None,
    ) -> str:
        """Open an order for `lines` (anything with sku, qty and unit_price in cents); returns
        its code. Windows default to tomorrow afternoon and three the day after, earliest first."""
        with self.lock:
            now = self.clock()
            code = f"{now:%y%m%d}-{next(self._numbers):07d}"
            day = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0)
            offered = windows or [
                (1, day + timedelta(hours=13), day + timedelta(hours=16)),
                (2, day + timedelta(days=1, hours=8), day + timedelta(days=1, hours=10)),
                (3, day + timedelta(days=1, hours=10), day + timedelta(days=1, hours=13)),
                (4, day + timedelta(days=1, hours=13), day + timedelta(days=1, hours=16)),
            ]
            self.orders[code] = SimOrder(
                code=code,
                lines=[
                    {
                        "id": self._line_id(),
                        "shop_uid": line.sku,
                        "product_name": f"Προϊόν {line.sku}",
                        "quantity": line.qty,
                        "unit_price": Decimal(line.unit_price) / 100,
                    }
                    for line in lines
                ],
                created_at=now,
                expires_at=now + timedelta(hours=HOURS_TO_ANSWER),
                dispatch_until=now + timedelta(days=2),
                windows=[Window(i, s, e) for i, s, e in offered],
                locations=list(locations or LOCATIONS),
                parcels=list(parcels),
                customer=customer
                or {
                    "first_name": "Ελένη",
                    "last_name": "Νικολάου",
                    "address": {
                        "street_name": "Εγνατίας",
                        "street_number": "45",
                        "zip": "54630",
                        "city": "Θεσσαλονίκη",
                        "region": "Θεσσαλονίκη",
                    },
                },
                comments="Κουδούνι: Νικολάου, 2ος όροφος",
            )
            return code

    def webhook_for(self, code: str, kind: NoticeKind, *, tampered: bool = False) -> tuple[dict[str, str], bytes]:
        """The request Skroutz would POST about the order (unsigned; `tampered` forges its body)."""
        with self.lock:
            order = self._order(code)
            body: dict[str, Any] = {"event_type": kind.value, "event_time": self.clock().isoformat()}
            body["order"] = order.wire(base_url=self.base_url, tampered=tampered)
            if kind is NoticeKind.ORDER_UPDATED and order.previous is not None:
                body["changes"] = {"state": {"old": order.previous.value, "new": order.state.value}}
        headers = {"content-type": "application/json; charset=utf-8", "user-agent": "Skroutz OrderNotifier v1"}
        return headers, json.dumps(body, ensure_ascii=False).encode()

    def set_state(self, code: str, state: ChannelOrderState) -> None:
        """Skroutz moves the order (the customer cancelled, nobody answered in time, the courier came)."""
        with self.lock:
            self._order(code).move(ChannelOrderState(state))

    def view(self, code: str) -> dict[str, Any]:
        """What the marketplace recorded: state, the acceptance and rejection as sent, ready."""
        with self.lock:
            self._expire_due()
            order = self._order(code)
            return {
                "state": order.state,
                "acceptance": dict(order.acceptance) if order.acceptance else None,
                "rejection": json.loads(json.dumps(order.rejection)) if order.rejection else None,
                "ready": order.ready,
            }

    def fail_next(self, count: int = 1, kind: str = "503") -> None:
        """The next `count` API calls fail transiently: "503" (an HTML error page) or "timeout";
        "ok" lets a call through first (`fail_next(1, "ok"); fail_next()` fails the second)."""
        with self.lock:
            self.faults.extend([kind] * count)

    def script_next(
        self,
        action: str,
        *,
        state: ChannelOrderState | None = None,
        error: tuple[int, str, str] | None = None,
        lose_answer: bool = False,
    ) -> None:
        """Script the next `action` call (accept, reject, set_as_ready): the order moves to
        `state` just before it arrives (the customer cancelled meanwhile), or it is refused with
        `error` (status, code, message), or carried out with its answer lost."""
        with self.lock:
            refusal = SkroutzError(*error) if error else None
            self.scripts.setdefault(action, []).append(Script(state=state, error=refusal, lose_answer=lose_answer))

    def calls_to(self, action: str, code: str | None = None) -> list[Call]:
        """The API calls received for `action` ("accept", "reject", "set_as_ready", "GET")."""
        with self.lock:
            return [
                c
                for c in self.calls
                if (c.path.rsplit("/", 1)[-1] == action or (action == "GET" and c.method == "GET"))
                and (code is None or f"/{code}" in c.path)
            ]

    def reset(self) -> None:
        with self.lock:
            self.orders.clear()
            self.calls.clear()
            self.faults.clear()
            self.scripts.clear()

    # --- the Merchants API ------------------------------------------------------------------------

    def take_fault(self) -> str | None:
        with self.lock:
            return self.faults.pop(0) if self.faults else None

    def handle_api(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        """Answer one API call (status, JSON document), or raise SkroutzError; logged in `calls`."""
        with self.lock:
            call = Call(method, path, body)
            self.calls.append(call)
            try:
                call.status, answer = self._route(method, path, body)
            except SkroutzError as error:
                call.status = error.status
                raise
            except AnswerLost:
                call.status = 503
                raise
            return call.status, answer

    def _route(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if parts[:3] != ["merchants", "ecommerce", "orders"] or len(parts) not in (4, 5):
            raise SkroutzError(404, "not_found", f"No route matches {method} {path}")
        with self.lock:
            self._expire_due()
            order = self.orders.get(parts[3])
            if order is None:
                raise SkroutzError(404, "order_error", "Order not found")
            action = parts[4] if len(parts) == 5 else None
            if method == "GET" and action is None:
                return 200, {"order": order.wire(base_url=self.base_url)}
            if method == "POST" and action in ("accept", "reject", "set_as_ready"):
                script = self.scripts.get(action, []).pop(0) if self.scripts.get(action) else Script()
                if script.state is not None:  # it happened at Skroutz just before the call arrived
                    order.move(script.state)
                if script.error is not None:
                    raise script.error
                getattr(self, f"_{action}")(order, body if isinstance(body, dict) else {})
                if script.lose_answer:
                    raise AnswerLost(f"{action} of {order.code} done, its answer lost")
                return 200, {"success": True}
        raise SkroutzError(405, "method_not_allowed", f"{method} {path} is not allowed")

    @staticmethod
    def _still_open(order: SimOrder) -> None:
        if order.state is not State.OPEN:
            raise SkroutzError(422, "order_status", ALREADY.get(order.state, f"Order is {order.state.value}."))

    def _accept(self, order: SimOrder, body: dict[str, Any]) -> None:
        self._still_open(order)
        location, window, parcels = (
            body.get("pickup_location"),
            body.get("pickup_window"),
            body.get("number_of_parcels", 1),
        )
        if str(location) not in {str(o["id"]) for o in order.locations}:
            raise SkroutzError(422, "validation_error", "pickup_location is not one of the offered locations")
        chosen = next((w for w in order.windows if str(w.id) == str(window)), None)
        if chosen is None:
            raise SkroutzError(422, "validation_error", "pickup_window is not one of the offered windows")
        if parcels not in order.parcels:
            raise SkroutzError(422, "validation_error", f"number_of_parcels must be one of {order.parcels}")
        order.acceptance = {"pickup_location": str(location), "pickup_window": chosen.id, "number_of_parcels": parcels}
        order.move(State.ACCEPTED)

    def _reject(self, order: SimOrder, body: dict[str, Any]) -> None:
        self._still_open(order)
        other, items = body.get("rejection_reason_other"), body.get("line_items") or []
        if bool(other) == bool(items):
            raise SkroutzError(422, "validation_error", "Send line_items or rejection_reason_other")
        reasons = {str(r["id"]): r for r in REASONS}
        quantities = {line["id"]: line["quantity"] for line in order.lines}
        for item in items:
            reason = reasons.get(str(item.get("reason_id"))) if isinstance(item, dict) else None
            if reason is None or item.get("id") not in quantities:
                raise SkroutzError(422, "validation_error", f"Unknown line item or rejection reason in {item}")
            available = item.get("available_quantity")
            if reason["requires_available_quantity"] and not (
                isinstance(available, int) and 0 <= available < quantities[item["id"]]
            ):
                raise SkroutzError(
                    422, "validation_error", f"Reason {reason['id']} requires an available_quantity below the ordered"
                )
        order.rejection = {"rejection_reason_other": other} if other else {"line_items": items}
        order.move(State.REJECTED)

    @staticmethod
    def _set_as_ready(order: SimOrder, body: dict[str, Any]) -> None:
        if order.state is not State.ACCEPTED or order.ready:
            raise SkroutzError(422, "order_error", "Order is not eligible to be marked as ready")
        order.ready = True

    # --- inside -----------------------------------------------------------------------------------

    def _order(self, code: str) -> SimOrder:
        order = self.orders.get(code)
        if order is None:
            raise KeyError(f"the simulator has no order {code}")
        return order

    def _expire_due(self) -> None:
        now = self.clock()
        for order in self.orders.values():
            if order.state is State.OPEN and order.expires_at <= now:
                order.move(State.EXPIRED)

    def _line_id(self) -> str:
        number, text = next(self._line_ids), ""
        while number:
            number, digit = divmod(number, len(_ALPHABET))
            text = _ALPHABET[digit] + text
        return "l" + text.rjust(9, "q")


__all__ = ["AnswerLost", "Call", "Line", "Script", "SkroutzError", "SmartCart"]
