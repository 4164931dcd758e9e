"""Orders as the simulated Smart Cart keeps them, and how the Merchants API shows them
(`{"order": {…}}`: euros as JSON doubles, string location ids, integer window and reason ids,
`accept_options` / `reject_options` only while open)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from core.hookspecs.channels import ChannelOrderState
from plugins.channel_skroutz.wire import window_label

State = ChannelOrderState
LOCATIONS: Final = (
    {"id": "YlpD0KROym", "label": "Πανεπιστημίου 2, Τ.Κ. 10564, Αθήνα, Αττική"},
    {"id": "onpL6DXG4l", "label": "Σταδίου 1, Τ.Κ. 10562, Αθήνα, Αττική"},
    {"id": "wgO1N22OaQ", "label": "Κρήτης 50, Τ.Κ. 73100, Χανιά, Χανιά"},
)
REASONS: Final = (
    {"id": 1, "label": "Εκτός αποθέματος στο κατάστημα ή στον προμηθευτή", "requires_available_quantity": False},
    {"id": 2, "label": "Λάθος καταχωρημένη τιμή(ες)", "requires_available_quantity": False},
    {"id": 4, "label": "Περιορισμένα τεμάχια", "requires_available_quantity": True},
    {"id": 5, "label": "To προϊόν καταργήθηκε", "requires_available_quantity": False},
)
ALREADY: Final = {
    State.ACCEPTED: "Order already accepted.",
    State.REJECTED: "Order already rejected.",
    State.CANCELLED: "Order is cancelled.",
    State.EXPIRED: "Order has expired.",
}
HOURS_TO_ANSWER: Final = 6


@dataclass(frozen=True)
class Line:
    """What a test asks the marketplace to sell: our SKU, units, and the price in cents."""

    sku: str
    qty: int
    unit_price: int


@dataclass
class Window:
    id: int
    starts: datetime
    ends: datetime

    def wire(self) -> dict[str, Any]:
        return {"id": self.id, "label": window_label(self.starts, self.ends)}


@dataclass
class SimOrder:
    code: str
    lines: list[dict[str, Any]]  # Skroutz's line items, unit_price a Decimal of euros
    created_at: datetime
    expires_at: datetime
    dispatch_until: datetime
    windows: list[Window]
    locations: list[dict[str, Any]]
    parcels: list[int]
    customer: dict[str, Any]
    comments: str = ""
    state: State = State.OPEN
    previous: State | None = None
    acceptance: dict[str, Any] | None = None
    rejection: dict[str, Any] | None = None
    ready: bool = False

    def move(self, state: State) -> None:
        self.previous, self.state = self.state, state

    def wire(self, *, base_url: str, tampered: bool = False) -> dict[str, Any]:
        """The order as the API shows it; `tampered` is a forged webhook body (quantities × 3,
        prices ÷ 3) that the connector must never believe."""
        is_open = self.state is State.OPEN
        factor = 3 if tampered else 1
        chosen = next((w for w in self.windows if self.acceptance and w.id == self.acceptance["pickup_window"]), None)
        order: dict[str, Any] = {
            "code": self.code,
            "state": self.state.value,
            "customer": self.customer,
            "invoice": False,
            "comments": self.comments,
            "courier": "Skroutz Last Mile" if self.acceptance else None,
            "courier_voucher": f"{base_url}/vouchers/{self.code}.pdf" if self.acceptance else None,
            "line_items": [
                {
                    **line,
                    "quantity": line["quantity"] * factor,
                    "unit_price": float(round(line["unit_price"] / factor, 2)),
                    "total_price": float(round(line["unit_price"] * line["quantity"], 2)),
                }
                for line in self.lines
            ],
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "dispatch_until": self.dispatch_until.isoformat(),
            "set_as_ready_required": True,
            "is_ready_for_dispatch": self.ready,
        }
        if chosen is not None:
            order["pickup_window"] = {"from": chosen.starts.isoformat(), "to": chosen.ends.isoformat()}
        if is_open:
            order["accept_options"] = {
                "number_of_parcels": list(self.parcels),
                "pickup_location": list(self.locations),
                "pickup_window": [w.wire() for w in self.windows],
            }
            order["reject_options"] = {"line_item_rejection_reasons": list(REASONS)}
        return order


__all__ = ["ALREADY", "HOURS_TO_ANSWER", "LOCATIONS", "REASONS", "Line", "SimOrder", "Window"]
