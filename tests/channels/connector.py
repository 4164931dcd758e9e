"""The reference connector for the Agora marketplace (tests/channels/marketplace.py): what a
channel plugin looks like — wire Structs, one place that turns HTTP answers into
ChannelRejected / ChannelUnavailable, and a webhook read for its order code only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

import httpx
import msgspec

from core.hookspecs.channels import (
    Acceptance,
    AcceptOptions,
    ChannelCustomer,
    ChannelNotice,
    ChannelOrder,
    ChannelOrderLine,
    ChannelOrderNotFound,
    ChannelOrderState,
    ChannelRejected,
    ChannelUnavailable,
    ChannelWebhookInvalid,
    NoticeKind,
    PickupLocation,
    PickupWindow,
    Rejection,
    RejectionReason,
    RejectOptions,
    StateChange,
)
from core.hookspecs.couriers import Address

MEDIA_TYPE: Final = "application/vnd.agora+json; version=1"


# --- the wire -------------------------------------------------------------------------------------


class WireOption(msgspec.Struct, frozen=True):
    id: int | str
    label: str


class WireReason(msgspec.Struct, frozen=True):
    id: int | str
    label: str
    requires_available_quantity: bool = False


class WireAcceptOptions(msgspec.Struct, frozen=True):
    number_of_parcels: list[int]
    pickup_location: list[WireOption]
    pickup_window: list[WireOption]


class WireRejectOptions(msgspec.Struct, frozen=True):
    line_item_rejection_reasons: list[WireReason]


class WireAddress(msgspec.Struct, frozen=True):
    street_name: str
    street_number: str | None = None
    zip: str = ""
    city: str = ""


class WireCustomer(msgspec.Struct, frozen=True):
    first_name: str
    last_name: str
    address: WireAddress | None = None


class WireLine(msgspec.Struct, frozen=True):
    id: str
    shop_uid: str
    product_name: str
    quantity: int
    unit_price: float


class WireOrder(msgspec.Struct, frozen=True):
    code: str
    state: ChannelOrderState
    customer: WireCustomer
    line_items: list[WireLine]
    created_at: datetime
    expires_at: datetime | None = None
    dispatch_until: datetime | None = None
    comments: str | None = None
    courier_voucher: str | None = None
    accept_options: WireAcceptOptions | None = None
    reject_options: WireRejectOptions | None = None
    is_ready_for_dispatch: bool = False


class WireEnvelope(msgspec.Struct, frozen=True):
    order: WireOrder


class WireError(msgspec.Struct, frozen=True):
    code: str
    messages: list[str] = []


class WireErrors(msgspec.Struct, frozen=True):
    errors: list[WireError]


class WireStateChange(msgspec.Struct, frozen=True):
    old: ChannelOrderState | None
    new: ChannelOrderState


class WireChanges(msgspec.Struct, frozen=True):
    state: WireStateChange | None = None


class WireWebhookOrder(msgspec.Struct, frozen=True):
    code: str


class WireWebhook(msgspec.Struct, frozen=True):
    event_type: NoticeKind
    order: WireWebhookOrder
    changes: WireChanges | None = None


# --- the connector --------------------------------------------------------------------------------


def cents(euros: float) -> int:
    """Agora's euro amounts (JSON numbers) in cents, exactly; a fraction of a cent is unreadable."""
    try:
        amount = Decimal(str(euros)) * 100
    except InvalidOperation as exc:
        raise ChannelUnavailable(f"Agora sent an unreadable amount {euros!r}") from exc
    if amount != amount.to_integral_value():
        raise ChannelUnavailable(f"Agora sent {euros!r} €, which is not a whole number of cents")
    return int(amount)


def _wire_id(value: str) -> int | str:
    return int(value) if value.isdigit() else value


class AgoraConnector:
    """Sales channel `agora`: orders come by (unsigned) webhook, everything else over the API."""

    code = "agora"
    name = "Agora marketplace"

    def __init__(self, *, api_base: str, token: str, timeout_s: float = 5.0) -> None:
        headers = {"Authorization": f"Bearer {token}", "Accept": MEDIA_TYPE}
        self._http = httpx.AsyncClient(base_url=api_base, headers=headers, timeout=timeout_s)

    async def aclose(self) -> None:
        await self._http.aclose()

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> ChannelNotice:
        try:
            hook = msgspec.json.decode(body, type=WireWebhook)
        except msgspec.DecodeError as exc:
            raise ChannelWebhookInvalid(f"not an Agora webhook: {exc}") from None
        change = hook.changes.state if hook.changes else None
        return ChannelNotice(
            kind=hook.event_type,
            external_id=hook.order.code,
            state_change=StateChange(old=change.old, new=change.new) if change else None,
        )

    async def fetch_order(self, external_id: str) -> ChannelOrder:
        answer = await self._call("GET", external_id)
        try:
            wire = msgspec.json.decode(answer.content, type=WireEnvelope).order
        except msgspec.DecodeError as exc:
            raise ChannelUnavailable(f"Agora answered order {external_id} unreadably: {exc}") from None
        return self._order(wire)

    async def accept(self, external_id: str, acceptance: Acceptance) -> None:
        body = {
            "pickup_location": _wire_id(acceptance.pickup_location),
            "pickup_window": _wire_id(acceptance.pickup_window),
            "number_of_parcels": acceptance.parcels,
        }
        await self._call("POST", external_id, "accept", body)

    async def reject(self, external_id: str, rejection: Rejection) -> None:
        body: dict[str, Any]
        if rejection.other_reason:
            body = {"rejection_reason_other": rejection.other_reason}
        else:
            body = {"line_items": [self._rejected_line(line) for line in rejection.lines]}
        await self._call("POST", external_id, "reject", body)

    async def mark_ready(self, external_id: str) -> None:
        await self._call("POST", external_id, "set_as_ready")

    # --- the one place HTTP becomes the contract's errors ---------------------------------------

    async def _call(self, method: str, code: str, action: str | None = None, body: Any = None) -> httpx.Response:
        path = f"/merchants/orders/{code}" + (f"/{action}" if action else "")
        try:
            answer = await self._http.request(method, path, json=body)
        except httpx.HTTPError as exc:  # timeouts, refused connections, broken answers
            raise ChannelUnavailable(f"Agora did not answer {method} {path}: {exc!r}") from exc
        if answer.status_code < 400:
            return answer
        if answer.status_code == 429 or answer.status_code >= 500:
            raise ChannelUnavailable(f"Agora answered {answer.status_code} to {method} {path}; retry later")
        try:
            errors = msgspec.json.decode(answer.content, type=WireErrors).errors
        except msgspec.DecodeError:
            errors = []
        first = errors[0] if errors else WireError(code=f"http_{answer.status_code}")
        messages = [m for error in errors for m in error.messages]
        kind = ChannelOrderNotFound if answer.status_code == 404 else ChannelRejected
        raise kind(
            f"Agora refused {method} {path} ({answer.status_code} {first.code}): {'; '.join(messages) or 'no detail'}",
            external_id=code,
            code=first.code,
            messages=messages,
        )

    # --- mapping --------------------------------------------------------------------------------

    @staticmethod
    def _rejected_line(line: Any) -> dict[str, Any]:
        item: dict[str, Any] = {"id": line.external_line_id, "reason_id": _wire_id(line.reason_id)}
        if line.available_qty is not None:
            item["available_quantity"] = line.available_qty
        return item

    def _order(self, wire: WireOrder) -> ChannelOrder:
        customer = wire.customer
        name = f"{customer.first_name} {customer.last_name}".strip()
        address = customer.address
        return ChannelOrder(
            channel=self.code,
            external_id=wire.code,
            state=wire.state,
            placed_at=wire.created_at,
            currency="EUR",  # Agora, like Skroutz, sells in euros only
            customer=ChannelCustomer(name=name),
            lines=[
                ChannelOrderLine(
                    external_line_id=line.id,
                    sku=line.shop_uid,
                    name=line.product_name,
                    qty=line.quantity,
                    unit_price=cents(line.unit_price),
                )
                for line in wire.line_items
            ],
            shipping_address=Address(
                name=name,
                line1=" ".join(p for p in (address.street_name, address.street_number) if p),
                city=address.city,
                postcode=address.zip,
                country="GR",
            )
            if address
            else None,
            accept_by=wire.expires_at,
            dispatch_by=wire.dispatch_until,
            accept_options=_accept_options(wire.accept_options),
            reject_options=_reject_options(wire.reject_options),
            ready_for_dispatch=wire.is_ready_for_dispatch,
            courier_voucher_url=wire.courier_voucher,
            notes=wire.comments,
        )


def _accept_options(wire: WireAcceptOptions | None) -> AcceptOptions | None:
    if wire is None:
        return None
    return AcceptOptions(
        pickup_locations=_options(wire.pickup_location, PickupLocation),
        pickup_windows=_options(wire.pickup_window, PickupWindow),
        parcel_counts=tuple(wire.number_of_parcels),
    )


def _options(wire: Sequence[WireOption], kind: type[PickupLocation] | type[PickupWindow]) -> list[Any]:
    return [kind(id=str(option.id), label=option.label) for option in wire]


def _reject_options(wire: WireRejectOptions | None) -> RejectOptions | None:
    if wire is None:
        return None
    return RejectOptions(
        line_reasons=[
            RejectionReason(id=str(r.id), label=r.label, requires_available_quantity=r.requires_available_quantity)
            for r in wire.line_item_rejection_reasons
        ]
    )
