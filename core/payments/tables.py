"""Piccolo tables of the payments domain; the schema itself is created by core/db/migrations."""

from __future__ import annotations

from piccolo.columns import JSONB, BigInt, Boolean, Integer, Text
from piccolo.table import Table

from core.db.columns import timestamp


class Checkout(Table, tablename="checkouts"):
    id = Text(primary_key=True)
    external_ref = Text(null=True, default=None)
    channel = Text()
    customer_id = Text(null=True, default=None)
    lines = JSONB(default="[]")
    started_at = timestamp(null=False)
    completed_at = timestamp()
    order_id = Text(null=True, default=None)


class Payment(Table, tablename="payments"):
    id = Text(primary_key=True)
    order_id = Text()
    provider = Text()
    status = Text()
    currency = Text()
    amount = BigInt()
    authorized = BigInt(default=0)
    captured = BigInt(default=0)
    refunded = BigInt(default=0)
    canceled = BigInt(default=0)
    psp_authorized = BigInt(default=0)
    psp_captured = BigInt(default=0)
    psp_refunded = BigInt(default=0)
    psp_canceled = BigInt(default=0)
    psp_reference = Text(null=True, default=None)
    client_secret = Text(null=True, default=None)
    redirect_url = Text(null=True, default=None)
    capture_at_authorization = Boolean(default=False)
    failed = Boolean(default=False)
    requires_action = Boolean(default=False)
    created_at = timestamp(null=False)
    updated_at = timestamp(null=False)


class PaymentAttempt(Table, tablename="payment_attempts"):
    id = Text(primary_key=True)
    external_ref = Text()
    payment_id = Text(null=True, default=None)
    order_id = Text(null=True, default=None)
    provider = Text()
    method = Text(null=True, default=None)
    card_brand = Text(null=True, default=None)
    funding = Text(null=True, default=None)
    issuer_bank = Text(null=True, default=None)
    amount = BigInt()
    currency = Text()
    status = Text()
    decline_code = Text(null=True, default=None)
    attempted_at = timestamp(null=False)


class MoneyMovement(Table, tablename="money_movements"):
    id = Text(primary_key=True)
    payment_id = Text()
    kind = Text()
    amount = BigInt()
    idempotency_key = Text()
    status = Text()
    reason = Text(null=True, default=None)
    provider_reference = Text(null=True, default=None)
    tries = Integer(default=0)
    last_error = Text(null=True, default=None)
    created_at = timestamp(null=False)
    completed_at = timestamp()


class PspWebhookEvent(Table, tablename="psp_webhook_events"):
    id = Text(primary_key=True)
    provider = Text()
    event_id = Text()
    event_type = Text()
    psp_reference = Text(null=True, default=None)
    merchant_reference = Text(null=True, default=None)
    payload = Text()
    normalized = Text()
    received_at = timestamp(null=False)
    processed_at = timestamp()
    outcome = Text(null=True, default=None)


class PaymentLinkRecord(Table, tablename="payment_links"):
    """A hosted payment page sent to the customer (core/payments/links.py); its schema is the
    `payment_links` migration set (core/payments/link_migrations)."""

    id = Text(primary_key=True)
    payment_id = Text()
    order_id = Text()
    provider = Text()
    provider_ref = Text(null=True, default=None)  # None while the provider has not answered
    url = Text(null=True, default=None)
    expires_at = timestamp()
    created_by = Text(null=True, default=None)
    created_at = timestamp(null=False)
    status = Text(default="open")  # open | expiring | expired | completed (links.LinkStatus)
    expire_requested_at = timestamp()  # when the order's cancellation asked the provider to close it
    expire_tries = Integer(default=0)
    closed_at = timestamp()


TABLES: tuple[type[Table], ...] = (
    Checkout,
    Payment,
    PaymentAttempt,
    MoneyMovement,
    PspWebhookEvent,
    PaymentLinkRecord,
)


__all__ = ["Checkout", "MoneyMovement", "Payment", "PaymentAttempt", "PaymentLinkRecord", "PspWebhookEvent"]
