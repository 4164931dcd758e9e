"""Orders from sales-channel connectors (marketplaces such as Skroutz Smart Cart).

A webhook only names an order: it is read again from the marketplace (`fetch_order`) and, while
open there, placed with the connector's channel through the normal `place_order` — one atomic
reservation, idempotent by the marketplace's order code (a row in `channel_orders`, the order's
`external_ref`), so redelivered webhooks make one order. Fully reservable, it is to be accepted;
otherwise nothing stays reserved and it is to be rejected line by line with the quantity
available. The answer itself is sent by `core.orders.channel_answers` (at once, then by the
worker until the marketplace has it). An order the marketplace takes back (cancelled, expired)
is cancelled here and its stock released.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC
from typing import Any

import msgspec
import structlog

from core.catalogue.catalogue import ensure_channels
from core.catalogue.tables import Product
from core.customers.tables import Customer
from core.db.database import utcnow
from core.domain.errors import DomainError, InsufficientStock, NotFound
from core.domain.events import CustomerCreated
from core.domain.ids import new_id
from core.domain.orders import CustomerRef, OrderLineIn, PlaceOrder, ShippingAddress
from core.hookspecs.channels import (
    ChannelOrder,
    ChannelOrderNotFound,
    ChannelOrderState,
    ChannelRejected,
    ChannelUnavailable,
    SalesChannelConnector,
)
from core.jobs import outbox as events
from core.orders import channel_answers
from core.orders.channel_acceptance import short_lines
from core.orders.channel_answers import link_id, reconcile
from core.orders.channel_tables import Answer, CallStatus, ChannelOrderLink
from core.orders.orders import place_order
from core.plugins import PluginHost
from core.runtime import Runtime

log = structlog.get_logger("emporio.channels")


class ChannelUnreachable(DomainError):
    """The marketplace did not answer: the webhook is answered 503 so it is delivered again."""

    status = 503
    slug = "channel-unavailable"
    title = "The sales channel did not answer"


class ChannelRefusedRead(DomainError):
    """The marketplace refused to show the order (a revoked token…): the shop's settings to fix."""

    status = 502
    slug = "channel-refused"
    title = "The sales channel refused the request"


class IntakeOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """What became of a notice: the marketplace's state, our order (None when rejected before
    anything was reserved), the answer owed and whether the marketplace has it."""

    channel: str
    external_id: str
    state: ChannelOrderState
    order_id: str | None
    answer: Answer | None
    answer_status: CallStatus
    duplicate: bool  # the order was already taken in (a redelivered or later webhook)


def connector_for(host: PluginHost, code: str) -> SalesChannelConnector:
    registered = host.channels.get(code)
    if registered is None:
        known = ", ".join(sorted(host.channels)) or "none installed"
        raise NotFound(f"no sales-channel connector {code!r} is installed (installed: {known})")
    connector: SalesChannelConnector = registered.value
    return connector


async def fetch(connector: SalesChannelConnector, external_id: str) -> ChannelOrder:
    """The order as the marketplace holds it, its failures as the API's errors."""
    try:
        order = await connector.fetch_order(external_id)
    except ChannelOrderNotFound as exc:
        raise NotFound(f"{connector.name} has no order {external_id!r} (a forged or misrouted webhook?)") from exc
    except ChannelUnavailable as exc:
        raise ChannelUnreachable(f"{connector.name} did not answer for order {external_id}: {exc}") from exc
    except ChannelRejected as exc:
        raise ChannelRefusedRead(
            f"{connector.name} refused to show order {external_id} ({exc.code}): {exc}; check the connector's settings"
        ) from exc
    if order.channel != connector.code or order.external_id != external_id:
        raise ChannelRefusedRead(
            f"{connector.name} answered for {order.channel}:{order.external_id}, not {external_id}"
        )
    return order


async def receive(runtime: Runtime, connector: SalesChannelConnector, external_id: str) -> IntakeOutcome:
    """Take in what the marketplace holds for `external_id` (whatever the webhook claimed), then
    try the answer at once; a marketplace that does not answer now is retried by the worker."""
    order = await fetch(connector, external_id)
    outcome = await take_in(runtime, connector, order)
    if outcome.answer_status is CallStatus.PENDING:
        try:
            await channel_answers.settle(runtime, connector, external_id, order=order)
        except ChannelUnavailable as exc:
            log.warning("channel.answer_deferred", channel=connector.code, external_id=external_id, error=str(exc))
            await channel_answers.retry_later(runtime, connector.code, external_id)
        outcome = msgspec.structs.replace(await outcome_of(connector.code, external_id), duplicate=outcome.duplicate)
    return outcome


async def outcome_of(channel: str, external_id: str, *, duplicate: bool = False) -> IntakeOutcome:
    row = await ChannelOrderLink.select().where(ChannelOrderLink.id == link_id(channel, external_id)).first()
    if row is None:
        raise NotFound(f"no {channel} order {external_id} was taken in")
    return IntakeOutcome(
        channel=channel,
        external_id=external_id,
        state=ChannelOrderState(row["state"]),
        order_id=row["order_id"],
        answer=Answer(row["answer"]) if row["answer"] else None,
        answer_status=CallStatus(row["answer_status"]),
        duplicate=duplicate,
    )


async def take_in(runtime: Runtime, connector: SalesChannelConnector, order: ChannelOrder) -> IntakeOutcome:
    """Record the marketplace's order once: placed and reserved (to accept), or not (to reject),
    or only noted when it reached us no longer open."""
    if order.state is not ChannelOrderState.OPEN:  # reached us accepted, cancelled…: nothing to reserve
        async with runtime.unit_of_work():
            if not await _insert_link(connector.code, order, answer=None):
                return await _known(runtime, order)
        return await outcome_of(connector.code, order.external_id)
    try:
        return await _place(runtime, connector, order)
    except InsufficientStock as short:  # rolled back: nothing reserved, no order, no link
        shortages = short.errors or []
    async with runtime.unit_of_work():
        rejection = await short_lines(order, shortages)
        if not await _insert_link(connector.code, order, answer=Answer.REJECT, rejection=rejection):
            return await _known(runtime, order)
    log.info("channel.order_short", channel=connector.code, external_id=order.external_id)
    return await outcome_of(connector.code, order.external_id)


async def _place(runtime: Runtime, connector: SalesChannelConnector, order: ChannelOrder) -> IntakeOutcome:
    """Claim the marketplace order and place ours in one unit of work; InsufficientStock (an
    unknown product counts as none in stock) rolls both back."""
    try:
        async with runtime.unit_of_work():
            if not await _insert_link(connector.code, order, answer=Answer.ACCEPT):
                return await _known(runtime, order)
            unknown = await _unknown_skus(order)
            if unknown:
                raise InsufficientStock("unknown products", errors=[{"sku": s, "available": 0} for s in unknown])
            placed = await place_order(runtime.db, runtime.host, runtime.settings, await _command(connector, order))
            await ChannelOrderLink.update(
                {ChannelOrderLink.order_id: placed.id, ChannelOrderLink.answer_status: CallStatus.PENDING.value}
            ).where(ChannelOrderLink.id == link_id(connector.code, order.external_id))
    except InsufficientStock:
        raise
    except DomainError as exc:  # the shop's data refuses the order (a product in another currency…)
        log.error(
            "channel.intake_failed",
            channel=connector.code,
            external_id=order.external_id,
            error=exc.detail,
            detail="nothing was reserved; fix what is named, then resend the order from the marketplace's panel",
        )
        raise
    return await outcome_of(connector.code, order.external_id)


async def _known(runtime: Runtime, order: ChannelOrder) -> IntakeOutcome:
    """A later notice of an order already taken in: follow the marketplace's state (a
    cancellation releases the stock). Runs inside the caller's unit of work."""
    key = link_id(order.channel, order.external_id)
    rows = await runtime.db.fetch("SELECT * FROM channel_orders WHERE id = {}" + runtime.db.for_update(), key)
    await reconcile(runtime, rows[0], order)
    return await outcome_of(order.channel, order.external_id, duplicate=True)


async def _insert_link(
    channel: str, order: ChannelOrder, *, answer: Answer | None, rejection: dict[str, Any] | None = None
) -> bool:
    """Claim the marketplace order for this intake; False when another got it first (a
    concurrent redelivery waits here for the first to commit, then finds its row)."""
    now = utcnow()
    lines = [
        {"id": ln.external_line_id, "sku": ln.sku, "qty": ln.qty, "unit_price": ln.unit_price} for ln in order.lines
    ]
    inserted = await ChannelOrderLink.raw(
        "INSERT INTO channel_orders (id, channel, external_id, state, answer, answer_status, rejection, lines, "
        "ready_status, attempts, accept_by, created_at, updated_at) "
        "VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, 0, {}, {}, {}) ON CONFLICT (id) DO NOTHING RETURNING id",
        link_id(channel, order.external_id),
        channel,
        order.external_id,
        order.state.value,
        answer.value if answer else None,
        (CallStatus.PENDING if answer is Answer.REJECT else CallStatus.NONE).value,
        msgspec.json.encode(rejection).decode() if rejection is not None else None,
        msgspec.json.encode(lines).decode(),
        CallStatus.NONE.value,
        order.accept_by.astimezone(UTC) if order.accept_by else None,
        now,
        now,
    )
    return bool(inserted)


async def _unknown_skus(order: ChannelOrder) -> list[str]:
    skus = sorted({line.sku for line in order.lines})
    known = {r["sku"] for r in await Product.select(Product.sku).where(Product.sku.is_in(skus))}
    return [sku for sku in skus if sku not in known]


async def _command(connector: SalesChannelConnector, order: ChannelOrder) -> PlaceOrder:
    """`place_order`'s command for the marketplace order: its lines by SKU (one line per SKU),
    its customer (found by the marketplace's code when it keeps the e-mail to itself)."""
    await ensure_channels({connector.code: connector.name})
    units: dict[str, int] = defaultdict(int)
    for line in order.lines:
        units[line.sku] += line.qty
    return PlaceOrder(
        channel=connector.code,
        customer=await _customer(connector, order),
        lines=[OrderLineIn(sku=sku, qty=qty) for sku, qty in units.items()],
        shipping_address=_address(connector, order),
        external_ref=order.external_id,
    )


async def _customer(connector: SalesChannelConnector, order: ChannelOrder) -> CustomerRef:
    person = order.customer
    if person.email:
        return CustomerRef(email=person.email, name=person.name, phone=person.phone)
    # Marketplaces like Skroutz keep the e-mail: one customer per marketplace order, found again by it.
    ref = link_id(connector.code, order.external_id)
    found = await Customer.select(Customer.id).where(Customer.external_ref == ref).first()
    if found is not None:
        return CustomerRef(id=found["id"])
    customer_id = new_id("cus")
    await Customer.insert(
        Customer(
            id=customer_id, external_ref=ref, name=person.name, phone=person.phone, locale="el", created_at=utcnow()
        )
    )
    await events.record(CustomerCreated(), customer_id=customer_id, subject_id=customer_id)
    return CustomerRef(id=customer_id)


def _address(connector: SalesChannelConnector, order: ChannelOrder) -> ShippingAddress:
    """Where the marketplace's courier delivers; what it does not tell us is marked as such (the
    marketplace's own courier carries the parcel, so the order needs no more)."""
    given = order.shipping_address
    unknown = f"({connector.name} keeps it)"
    country = given.country if given and len(given.country) == 2 and given.country.isupper() else "GR"
    return ShippingAddress(
        name=(given.name if given and given.name.strip() else order.customer.name)[:200] or unknown,
        line1=(given.line1.strip() if given else "")[:300] or unknown,
        city=(given.city.strip() if given else "")[:100] or unknown,
        postcode=(given.postcode.strip() if given else "")[:20] or "-",
        country=country,
    )


__all__ = [
    "ChannelRefusedRead",
    "ChannelUnreachable",
    "IntakeOutcome",
    "connector_for",
    "fetch",
    "outcome_of",
    "receive",
    "take_in",
]
