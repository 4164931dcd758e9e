"""The Skroutz Smart Cart connector: sales channel `skroutz` behind the channel hook.

Orders arrive by an unsigned webhook that only names them (`parse_webhook`); everything else is
the Merchants API, `Authorization: Bearer <token>` and `Accept: application/vnd.skroutz+json;
version=3.0` on every call:

* `GET /merchants/ecommerce/orders/{code}` → `{"order": {…}}`, prices in euros, `shop_uid` = our
  SKU, `accept_options` / `reject_options` while the order is open;
* `POST …/accept` {pickup_location, pickup_window, number_of_parcels}, `…/reject`
  {line_items: [{id, reason_id, available_quantity}]} or {rejection_reason_other},
  `…/set_as_ready` (no body).

Errors come back as `{"errors": [{"code", "messages"}]}`: 404 → `ChannelOrderNotFound`, other
4xx → `ChannelRejected` with Skroutz's code (422 `order_status`: the order moved on), 429, 5xx,
timeouts and unreadable answers → `ChannelUnavailable`. The token is never logged or put in a
message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

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
    ChannelRejected,
    ChannelUnavailable,
    ChannelWebhookInvalid,
    LineRejection,
    PickupLocation,
    PickupWindow,
    Rejection,
    RejectionReason,
    RejectOptions,
    StateChange,
)
from core.hookspecs.couriers import Address
from core.settings import read
from plugins.channel_skroutz import settings as skroutz_settings
from plugins.channel_skroutz.wire import (
    MEDIA_TYPE,
    WireAcceptOptions,
    WireEnvelope,
    WireError,
    WireErrors,
    WireOrder,
    WireWebhook,
    cents,
    window_times,
)

CODE = "skroutz"
ORDERS_PATH = "/merchants/ecommerce/orders"


def _wire_id(value: str) -> int | str:
    """Ids go back as Skroutz sent them: integers as numbers, the rest as strings."""
    return int(value) if value.isdigit() else value


class SkroutzSmartCart:
    """Sales channel `skroutz`. `pickup_locations` maps our dispatching location codes to
    Skroutz pickup location ids (EMPORIO_SKROUTZ_PICKUP_LOCATIONS)."""

    code = CODE
    name = "Skroutz Smart Cart"

    def __init__(
        self,
        *,
        api_base: str,
        token: str,
        timeout_s: float = 10.0,
        pickup_locations: Mapping[str, str] | None = None,
    ) -> None:
        self.api_base = api_base.rstrip("/")
        self.pickup_locations = dict(pickup_locations or {})
        self._headers = {"Authorization": f"Bearer {token}", "Accept": MEDIA_TYPE}
        self._timeout_s = timeout_s
        self._http: httpx.AsyncClient | None = None

    @classmethod
    def from_env(cls) -> SkroutzSmartCart | None:
        """The connector the settings describe, or None without a token."""
        token = read(skroutz_settings.TOKEN)
        if not token:
            return None
        pickup_locations: tuple[tuple[str, str], ...] = read(skroutz_settings.PICKUP_LOCATIONS)
        return cls(
            api_base=read(skroutz_settings.API_BASE),
            token=token,
            timeout_s=read(skroutz_settings.TIMEOUT_S),
            pickup_locations=dict(pickup_locations),
        )

    def __repr__(self) -> str:  # never the token
        return f"SkroutzSmartCart(api_base={self.api_base!r})"

    @property
    def http(self) -> httpx.AsyncClient:
        # Made on first use, inside the event loop that uses it (a plugin is built before any loop).
        if self._http is None:
            self._http = httpx.AsyncClient(base_url=self.api_base, headers=self._headers, timeout=self._timeout_s)
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # --- the contract ---------------------------------------------------------------------------

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> ChannelNotice:
        """Skroutz signs nothing: the webhook is read for its order code and event only."""
        try:
            hook = msgspec.json.decode(body, type=WireWebhook)
        except msgspec.DecodeError as exc:
            raise ChannelWebhookInvalid(f"not a Skroutz Smart Cart webhook: {exc}") from None
        code = hook.order.code.strip()
        if not code or len(code) > 64 or not code.isprintable() or "/" in code:
            raise ChannelWebhookInvalid(f"not a Skroutz order code: {hook.order.code[:70]!r}")
        change = hook.changes.state if hook.changes else None
        return ChannelNotice(
            kind=hook.event_type,
            external_id=code,
            state_change=StateChange(old=change.old, new=change.new) if change else None,
        )

    def pickup_location_for(self, location: str) -> str | None:
        """The Skroutz pickup location configured for one of our dispatching locations."""
        return self.pickup_locations.get(location)

    async def fetch_order(self, external_id: str) -> ChannelOrder:
        answer = await self._call("GET", external_id)
        try:
            wire = msgspec.json.decode(answer.content, type=WireEnvelope).order
        except msgspec.DecodeError as exc:
            raise ChannelUnavailable(f"Skroutz answered order {external_id} unreadably: {exc}") from None
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
            body = {"line_items": [_rejected_line(line) for line in rejection.lines]}
        await self._call("POST", external_id, "reject", body)

    async def mark_ready(self, external_id: str) -> None:
        await self._call("POST", external_id, "set_as_ready")

    # --- the one place HTTP becomes the contract's errors ---------------------------------------

    async def _call(self, method: str, code: str, action: str | None = None, body: Any = None) -> httpx.Response:
        path = f"{ORDERS_PATH}/{code}" + (f"/{action}" if action else "")
        try:
            answer = await self.http.request(method, path, json=body)
        except httpx.HTTPError as exc:  # timeouts, refused connections, broken answers
            raise ChannelUnavailable(f"Skroutz did not answer {method} {path}: {exc!r}; retrying later") from exc
        if answer.status_code < 400:
            return answer
        if answer.status_code in (408, 429) or answer.status_code >= 500:
            raise ChannelUnavailable(f"Skroutz answered {answer.status_code} to {method} {path}; retrying later")
        try:
            errors = msgspec.json.decode(answer.content, type=WireErrors).errors
        except msgspec.DecodeError:
            errors = []
        first = errors[0] if errors else WireError(code=f"http_{answer.status_code}")
        messages = [m for error in errors for m in error.messages]
        detail = "; ".join(messages) or "no detail"
        if answer.status_code in (401, 403):
            detail += " (check EMPORIO_SKROUTZ_TOKEN: Skroutz keeps one active token per shop)"
        kind = ChannelOrderNotFound if answer.status_code == 404 else ChannelRejected
        raise kind(
            f"Skroutz refused {method} {path} ({answer.status_code} {first.code}): {detail}",
            external_id=code,
            code=first.code,
            messages=messages,
        )

    # --- mapping --------------------------------------------------------------------------------

    def _order(self, wire: WireOrder) -> ChannelOrder:
        customer = wire.customer
        name = f"{customer.first_name} {customer.last_name}".strip()
        address = customer.address
        shipping = None
        if address is not None:
            street = " ".join(p for p in (address.street_name.strip(), (address.street_number or "").strip()) if p)
            shipping = Address(name=name, line1=street, city=address.city, postcode=address.zip, country="GR")
        return ChannelOrder(
            channel=self.code,
            external_id=wire.code,
            state=wire.state,
            placed_at=wire.created_at,
            currency="EUR",  # Skroutz sells in euros only
            customer=ChannelCustomer(name=name or "Skroutz customer"),  # Skroutz keeps e-mail and phone
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
            shipping_address=shipping,
            accept_by=wire.expires_at,
            dispatch_by=wire.dispatch_until,
            accept_options=_accept_options(wire.accept_options),
            reject_options=_reject_options(wire),
            ready_for_dispatch=wire.is_ready_for_dispatch,
            courier_voucher_url=wire.courier_voucher,
            notes=wire.comments or None,
        )


def _rejected_line(line: LineRejection) -> dict[str, Any]:
    item: dict[str, Any] = {"id": line.external_line_id, "reason_id": _wire_id(line.reason_id)}
    if line.available_qty is not None:
        item["available_quantity"] = line.available_qty
    return item


def _accept_options(wire: WireAcceptOptions | None) -> AcceptOptions | None:
    if wire is None:
        return None
    windows: list[PickupWindow] = []
    for window in wire.pickup_window:
        starts, ends = window_times(window)
        windows.append(PickupWindow(id=str(window.id), label=window.label, starts_at=starts, ends_at=ends))
    return AcceptOptions(
        pickup_locations=[PickupLocation(id=str(o.id), label=o.label) for o in wire.pickup_location],
        pickup_windows=windows,
        parcel_counts=tuple(wire.number_of_parcels) or (1,),
    )


def _reject_options(wire: WireOrder) -> RejectOptions | None:
    if wire.reject_options is None:
        return None
    reasons: Sequence[RejectionReason] = [
        RejectionReason(id=str(r.id), label=r.label, requires_available_quantity=r.requires_available_quantity)
        for r in wire.reject_options.line_item_rejection_reasons
    ]
    return RejectOptions(line_reasons=reasons)


__all__ = ["CODE", "SkroutzSmartCart"]
