"""Payment links: a hosted payment page at the PSP for an order the customer pays later (a phone
order taken without payment). The order waits in `pending_payment`, reserved and not routed;
the PSP's webhooks confirm it when paid, through the same merge as any payment, so a replayed
or reordered webhook changes nothing.

One open link per order: asking again while it is open answers the same link; once it expired a
new one is made on the same payment. The provider is called outside any transaction, with an
idempotency key derived from the link's id, so a retry after a timeout gets the same page.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import Annotated, Any

import msgspec

from core.catalogue.tables import Product, SalesChannel
from core.customers.tables import Customer
from core.db.database import utcnow
from core.domain.errors import Conflict, InvalidInput, NotFound
from core.domain.events import PaymentLinkCreated, PaymentLinkExpired, PaymentStarted
from core.domain.ids import new_id
from core.domain.orders import OrderStatus
from core.domain.payments import PaymentStatus
from core.fulfilment.tasks import open_task
from core.hookspecs.payments import (
    ExpiringPaymentLinks,
    LinkOutcome,
    PaymentLink,
    PaymentLinkLine,
    PaymentLinkRequest,
    PaymentLinks,
    ProviderRejected,
    ProviderUnavailable,
)
from core.jobs import outbox as events
from core.orders.tables import Order, OrderLine
from core.payments.ledger import ACTIVE, ProviderDown, processor_for
from core.payments.tables import Payment, PaymentLinkRecord
from core.runtime import Runtime
from core.settings import SettingSpec, read

RETURN_URL: SettingSpec[str] = SettingSpec(
    name="EMPORIO_PAYMENT_LINK_RETURN_URL",
    type=str,
    default="http://127.0.0.1:8000/",
    doc="where a payment link's hosted page sends the customer afterwards (`?order=…&paid=1|0` is added)",
)
# A link about to expire is not handed out again: the customer needs time to open and pay it.
FRESH_FOR = timedelta(minutes=10)
EXPIRE_JOB = "payments.expire_payment_link"
SWEEP_EXPIRING_JOB = "payments.sweep_link_expiries"
EXPIRE_TRIES = 8  # the provider unreachable this many times: ops close the page by hand (a task)
LINK_TASK = "payment_link_open"


class LinkStatus(enum.StrEnum):
    OPEN = "open"
    EXPIRING = "expiring"  # the order was cancelled: the provider is being asked to close the page
    EXPIRED = "expired"
    COMPLETED = "completed"  # the customer paid it before it closed
    FAILED = "expire_failed"  # the provider refused or stayed unreachable: an ops task is open


class PaymentLinkIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    provider: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class PaymentLinkOut(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    order_id: str
    payment_id: str
    provider: str
    url: str
    expires_at: datetime
    created_at: datetime


def _out(row: dict[str, Any]) -> PaymentLinkOut:
    return PaymentLinkOut(
        id=row["id"],
        order_id=row["order_id"],
        payment_id=row["payment_id"],
        provider=row["provider"],
        url=row["url"],
        expires_at=row["expires_at"],
        created_at=row["created_at"],
    )


def _return_urls(order_id: str) -> tuple[str, str]:
    base = read(RETURN_URL)
    joiner = "&" if "?" in base else "?"
    return f"{base}{joiner}order={order_id}&paid=1", f"{base}{joiner}order={order_id}&paid=0"


def link_capable(runtime: Runtime, provider: str) -> PaymentLinks:
    """The provider's processor, when it makes payment links; 422 naming it otherwise."""
    processor = processor_for(runtime, provider)
    if not isinstance(processor, PaymentLinks):
        raise InvalidInput(
            f"payment provider {provider} cannot make payment links (hosted payment pages)",
            errors=[{"field": "provider", "message": f"{provider} does not offer payment links"}],
        )
    return processor


async def payment_link(runtime: Runtime, order_id: str, provider: str, actor: str) -> tuple[PaymentLinkOut, bool]:
    """The order's open payment link, or a new one; True when this call made it."""
    processor = link_capable(runtime, provider)
    link, order = await _open_or_claim(runtime, order_id, provider, actor)
    if link.get("url") is not None:
        return _out(link), False
    lines = await OrderLine.select(OrderLine.sku, OrderLine.qty, OrderLine.unit_price).where(
        OrderLine.order_id == order_id
    )
    names = {
        p["sku"]: p["name"]
        for p in await Product.select(Product.sku, Product.name).where(
            Product.sku.is_in(sorted({ln["sku"] for ln in lines}) or [""])
        )
    }
    success_url, cancel_url = _return_urls(order_id)
    customer = await Customer.select(Customer.email).where(Customer.id == order["customer_id"]).first()
    payment = await Payment.select().where(Payment.id == link["payment_id"]).first()
    assert payment is not None
    request = PaymentLinkRequest(
        payment_id=payment["id"],
        order_id=order_id,
        amount=payment["amount"],
        currency=payment["currency"],
        lines=[
            PaymentLinkLine(
                sku=ln["sku"], name=names.get(ln["sku"], ln["sku"]), qty=ln["qty"], unit_amount=ln["unit_price"]
            )
            for ln in sorted(lines, key=lambda ln: str(ln["sku"]))
            if ln["unit_price"] > 0
        ],
        idempotency_key=f"emporio-{link['id']}-link",
        capture_at_authorization=bool(payment["capture_at_authorization"]),
        success_url=success_url,
        cancel_url=cancel_url,
        customer_email=email if (email := (customer or {}).get("email")) and "@" in email else None,
        metadata={"order_id": order_id, "payment_id": payment["id"], "payment_link_id": link["id"]},
    )
    try:
        made: PaymentLink = await processor.create_payment_link(request)
    except ProviderUnavailable as exc:
        raise ProviderDown(f"{provider} did not answer ({exc}); ask for the link again, it is made once") from exc
    except ProviderRejected as exc:
        raise Conflict(f"{provider} refused to make a payment link for order {order_id}: {exc}") from exc
    async with runtime.unit_of_work():
        db = runtime.db
        current = await db.fetch("SELECT status FROM orders WHERE id = {}" + db.for_update(), order_id)
        cancelled = current[0]["status"] == OrderStatus.CANCELLED  # while the page was being made
        await PaymentLinkRecord.update(
            {
                PaymentLinkRecord.url: made.url,
                PaymentLinkRecord.provider_ref: made.provider_ref,
                PaymentLinkRecord.expires_at: made.expires_at,
            }
        ).where(PaymentLinkRecord.id == link["id"])
        if cancelled:
            await PaymentLinkRecord.update(
                {PaymentLinkRecord.status: LinkStatus.EXPIRING.value, PaymentLinkRecord.expire_requested_at: utcnow()}
            ).where((PaymentLinkRecord.id == link["id"]) & (PaymentLinkRecord.status != LinkStatus.EXPIRING.value))
        await Payment.update({Payment.redirect_url: made.url, Payment.updated_at: utcnow()}).where(
            Payment.id == payment["id"]
        )
        created = PaymentLinkCreated(provider=provider, link_id=link["id"], expires_at=made.expires_at, by=actor)
        await events.record(created, order_id=order_id, customer_id=order["customer_id"], subject_id=payment["id"])
    if cancelled:
        await _queue_expiry(runtime, link["id"], "made")
        raise Conflict(f"order {order_id} was cancelled while its payment link was made; the link is being expired")
    row = await PaymentLinkRecord.select().where(PaymentLinkRecord.id == link["id"]).first()
    assert row is not None
    return _out(row), True


async def _open_or_claim(
    runtime: Runtime, order_id: str, provider: str, actor: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Under the order's lock: the open link (with its url), or the link row to make now (without
    one: new, or one whose making was interrupted, retried under the same idempotency key)."""
    db = runtime.db
    async with runtime.unit_of_work():
        rows = await db.fetch("SELECT * FROM orders WHERE id = {}" + db.for_update(), order_id)
        if not rows:
            raise NotFound(f"no order with id {order_id}")
        order = rows[0]
        payments = await Payment.select().where(Payment.order_id == order_id).order_by(Payment.id)
        paid = [p for p in payments if p["authorized"] or p["captured"]]
        if paid:
            raise Conflict(
                f"order {order_id} is paid already (payment {paid[0]['id']}, {paid[0]['provider']}, "
                f"{paid[0]['status']}); it needs no payment link",
                payment_id=paid[0]["id"],
            )
        if order["status"] != OrderStatus.PENDING_PAYMENT:
            raise Conflict(
                f"order {order_id} is {order['status']}; only an order awaiting payment gets a payment link",
                order_id=order_id,
            )
        links = (
            await PaymentLinkRecord.select()
            .where(PaymentLinkRecord.order_id == order_id)
            .order_by(PaymentLinkRecord.created_at, ascending=False)
        )
        linked = {ln["payment_id"] for ln in links}
        active = [p for p in payments if PaymentStatus(p["status"]) in ACTIVE]
        started_elsewhere = [p for p in active if p["id"] not in linked]
        if started_elsewhere:
            other = started_elsewhere[0]
            raise Conflict(
                f"order {order_id} already has payment {other['id']} ({other['provider']}, {other['status']}) "
                "started by the storefront; the customer finishes it there, or cancel it first",
                payment_id=other["id"],
            )
        mine = [p for p in active if p["provider"] == provider]
        if active and not mine:
            raise Conflict(
                f"order {order_id} has an open payment link with {active[0]['provider']}; ask for that provider's link",
                payment_id=active[0]["id"],
            )
        now = utcnow()
        if mine:
            latest = next(ln for ln in links if ln["payment_id"] == mine[0]["id"])
            if latest["url"] is None or latest["expires_at"] > now + FRESH_FOR:
                return latest, order  # open, or still being made
            payment_id = mine[0]["id"]
        else:
            payment_id = await _start_payment(order, provider, now)
        link: dict[str, Any] = dict(
            id=new_id("plk"),
            payment_id=payment_id,
            order_id=order_id,
            provider=provider,
            provider_ref=None,
            url=None,
            expires_at=None,
            created_by=actor,
            created_at=now,
        )
        await PaymentLinkRecord.insert(PaymentLinkRecord(**link))
    return link, order


async def _start_payment(order: dict[str, Any], provider: str, now: datetime) -> str:
    """The payment the link collects, in the ledger before the provider is asked."""
    channel = await SalesChannel.select(SalesChannel.capture_at_authorization).where(
        SalesChannel.code == order["channel"]
    )
    payment_id = new_id("pay")
    await Payment.insert(
        Payment(
            id=payment_id,
            order_id=order["id"],
            provider=provider,
            status=PaymentStatus.PENDING.value,
            currency=order["currency"],
            amount=order["grand_total"],
            capture_at_authorization=bool(channel and channel[0]["capture_at_authorization"]),
            created_at=now,
            updated_at=now,
        )
    )
    await Order.update({Order.payment_provider: provider, Order.updated_at: now}).where(Order.id == order["id"])
    await events.record(
        PaymentStarted(provider=provider, amount=order["grand_total"], currency=order["currency"]),
        order_id=order["id"],
        customer_id=order["customer_id"],
        subject_id=payment_id,
    )
    return payment_id


# ---------------------------------------------------------------------------------------------
# Closing links of cancelled orders
# ---------------------------------------------------------------------------------------------


async def close_links_of(order_id: str) -> list[str]:
    """Mark the order's open links for expiry at the provider; their ids. Call inside the unit
    of work that records why (the order's cancellation), then queue `EXPIRE_JOB` for each: the
    mark is what makes it durable (`sweep_expiring` queues again what Redis lost)."""
    rows = await PaymentLinkRecord.raw(
        "UPDATE payment_links SET status = {}, expire_requested_at = {} WHERE order_id = {} AND status = {} "
        "RETURNING id",
        LinkStatus.EXPIRING.value,
        utcnow(),
        order_id,
        LinkStatus.OPEN.value,
    )
    return sorted(r["id"] for r in rows)


async def _queue_expiry(runtime: Runtime, link_id: str, attempt: str) -> None:
    if runtime.queue is not None:
        await runtime.queue.enqueue(EXPIRE_JOB, link_id, job_id=f"{link_id}:expire:{attempt}")


async def expire_link(runtime: Runtime, link_id: str) -> str:
    """Ask the provider to close one link marked `expiring`; its status afterwards. Raises
    ProviderUnavailable to be retried by the worker, until `EXPIRE_TRIES`."""
    row = await PaymentLinkRecord.select().where(PaymentLinkRecord.id == link_id).first()
    if row is None or row["status"] != LinkStatus.EXPIRING:
        return str(row["status"]) if row else "missing"
    if row["provider_ref"] is None:
        # Never made at the provider (or being made: `payment_link` sees the cancelled order
        # when it records the page, and marks it for expiry again).
        return await _close(runtime, row, LinkStatus.EXPIRED, None)
    registered = runtime.host.payment_processors.get(row["provider"])
    processor = registered.value if registered is not None else None
    if not isinstance(processor, ExpiringPaymentLinks):
        return await _close(runtime, row, LinkStatus.EXPIRED, "not_supported")
    try:
        outcome = await processor.expire_payment_link(row["provider_ref"])
    except ProviderUnavailable as exc:
        async with runtime.unit_of_work():
            bumped = await runtime.db.fetch(
                "UPDATE payment_links SET expire_tries = expire_tries + 1 WHERE id = {} AND status = {} "
                "RETURNING expire_tries",
                link_id,
                LinkStatus.EXPIRING.value,
            )
        if bumped and bumped[0]["expire_tries"] >= EXPIRE_TRIES:
            error = f"{row['provider']} unreachable after {EXPIRE_TRIES} tries: {exc}"
            return await _close(runtime, row, LinkStatus.FAILED, "failed", error)
        raise
    except ProviderRejected as exc:
        return await _close(runtime, row, LinkStatus.FAILED, "failed", f"{row['provider']} refused: {exc}")
    if outcome is LinkOutcome.COMPLETED:
        return await _close(runtime, row, LinkStatus.COMPLETED, "completed")
    return await _close(runtime, row, LinkStatus.EXPIRED, "expired")


async def _close(
    runtime: Runtime, row: dict[str, Any], status: LinkStatus, outcome: str | None, error: str | None = None
) -> str:
    """Record the link's end once (another worker may have closed it first); `outcome` None
    closes it without an event (nothing had been made at the provider)."""
    async with runtime.unit_of_work():
        closed = await runtime.db.fetch(
            "UPDATE payment_links SET status = {}, closed_at = {} WHERE id = {} AND status = {} RETURNING id",
            status.value,
            utcnow(),
            row["id"],
            LinkStatus.EXPIRING.value,
        )
        if not closed or outcome is None:
            return status.value
        customer = await Order.select(Order.customer_id).where(Order.id == row["order_id"]).first()
        customer_id = (customer or {}).get("customer_id")
        expired = PaymentLinkExpired(provider=row["provider"], link_id=row["id"], outcome=outcome, error=error)
        await events.record(expired, order_id=row["order_id"], customer_id=customer_id, subject_id=row["payment_id"])
        if status is LinkStatus.FAILED:
            await open_task(
                kind=LINK_TASK,
                title=f"Close the payment link of cancelled order {row['order_id']} at {row['provider']}",
                detail=f"{error}. Expire {row['provider_ref']} in the provider's dashboard; a payment that still "
                "comes through is released or refunded automatically.",
                shipment_id=None,
                order_id=row["order_id"],
                customer_id=customer_id,
                dedupe_key=f"payment-link-open:{row['id']}",
            )
    return status.value


async def sweep_expiring(runtime: Runtime) -> int:
    """Links marked for expiry a minute ago and still waiting are queued again (Redis lost the job)."""
    rows = await PaymentLinkRecord.select(PaymentLinkRecord.id, PaymentLinkRecord.expire_tries).where(
        (PaymentLinkRecord.status == LinkStatus.EXPIRING.value)
        & (PaymentLinkRecord.expire_requested_at < utcnow() - timedelta(seconds=60))
    )
    for row in rows:
        await _queue_expiry(runtime, row["id"], f"sweep:{row['expire_tries']}:{int(utcnow().timestamp()) // 60}")
    return len(rows)


__all__ = [
    "EXPIRE_JOB",
    "FRESH_FOR",
    "LINK_TASK",
    "RETURN_URL",
    "SWEEP_EXPIRING_JOB",
    "LinkStatus",
    "PaymentLinkIn",
    "PaymentLinkOut",
    "close_links_of",
    "expire_link",
    "link_capable",
    "payment_link",
    "sweep_expiring",
]
