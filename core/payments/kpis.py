"""Payment KPIs of kpis.md (`payment_conversion_rate`, `checkout_abandonment_rate`) and the
history-import kinds `checkout` and `payment_attempt`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from core.customers.tables import Customer
from core.db import bulk
from core.domain.ids import new_id
from core.domain.imports import ImportContext, ImportKind, ImportLineError, ImportRow
from core.domain.kpis import Fact, FactQuery, FactSource, KPIDefinition, ratio
from core.domain.time import as_utc
from core.hookspecs import hookimpl
from core.imports.kinds import external_to_internal, refused_reference
from core.orders.kpis import segment_of
from core.orders.tables import Order
from core.payments.tables import Checkout, PaymentAttempt

UTC = Annotated[datetime, msgspec.Meta(tz=True)]
ExtId = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]

PREVIOUS_ORDER = (
    "(SELECT MAX(p.placed_at) FROM orders p WHERE p.customer_id = o.customer_id "
    "AND p.placed_at < o.placed_at AND p.cancelled_at IS NULL)"
)


async def load_attempt_facts(query: FactQuery) -> list[Fact]:
    rows = await PaymentAttempt.raw(
        "SELECT a.status, a.provider, a.method, a.card_brand, a.funding, a.issuer_bank, a.attempted_at, "
        f"o.channel, o.placed_at, {PREVIOUS_ORDER} AS previous_at "
        "FROM payment_attempts a LEFT JOIN orders o ON o.id = a.order_id "
        "WHERE a.attempted_at >= {} AND a.attempted_at < {} AND o.cancelled_at IS NULL",
        query.start,
        query.end,
    )
    return [
        {
            "at": as_utc(r["attempted_at"]),
            "succeeded": r["status"] == "succeeded",
            "provider": r["provider"],
            "method": r["method"],
            "card_brand": r["card_brand"],
            "funding": r["funding"],
            "issuer_bank": r["issuer_bank"],
            "channel": r["channel"],
            "segment": segment_of(r["placed_at"], r["previous_at"]) if r["placed_at"] is not None else None,
        }
        for r in rows
    ]


async def load_checkout_facts(query: FactQuery) -> list[Fact]:
    rows = await Checkout.raw(
        "SELECT c.channel, c.started_at, c.order_id FROM checkouts c WHERE c.started_at >= {} AND c.started_at < {}",
        query.start,
        query.end,
    )
    return [{"at": as_utc(r["started_at"]), "channel": r["channel"], "abandoned": r["order_id"] is None} for r in rows]


ATTEMPT_FACTS = FactSource(id="payments.attempts", load=load_attempt_facts, filters=frozenset({"channel", "segment"}))
CHECKOUT_FACTS = FactSource(id="payments.checkouts", load=load_checkout_facts, filters=frozenset({"channel"}))


@hookimpl
def register_kpis(register: Callable[[KPIDefinition], None]) -> None:
    register(
        KPIDefinition(
            id="payment_conversion_rate",
            name="Payment conversion rate",
            unit="ratio",
            formula="Payment attempts with attempted_at ∈ P: succeeded ÷ all (attempts of cancelled orders excluded).",
            facts=ATTEMPT_FACTS,
            reduce=ratio("succeeded"),
            dimensions=("issuer_bank", "method", "card_brand", "funding", "provider", "channel"),
        )
    )
    register(
        KPIDefinition(
            id="checkout_abandonment_rate",
            name="Checkout abandonment rate",
            unit="ratio",
            formula="Checkouts with started_at ∈ P: checkouts that never became an order ÷ all.",
            facts=CHECKOUT_FACTS,
            reduce=ratio("abandoned"),
            dimensions=("channel",),
        )
    )


# ---------------------------------------------------------------------------------------------
# Import kinds
# ---------------------------------------------------------------------------------------------


class CheckoutRecord(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: Literal["checkout"]
    id: ExtId
    channel: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    started_at: UTC
    customer_id: ExtId | None = None
    order_id: ExtId | None = None


class PaymentAttemptRecord(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: Literal["payment_attempt"]
    id: ExtId
    order_id: ExtId
    provider: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    amount: Annotated[int, msgspec.Meta(ge=0)]
    currency: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")]
    status: Literal["succeeded", "failed"]
    attempted_at: UTC
    method: str | None = None
    card_brand: str | None = None
    funding: str | None = None
    issuer_bank: str | None = None
    decline_code: str | None = None


CHECKOUT_COLUMNS = ("id", "external_ref", "channel", "customer_id", "lines", "started_at", "order_id")
ATTEMPT_COLUMNS = (
    "id",
    "external_ref",
    "order_id",
    "provider",
    "method",
    "card_brand",
    "funding",
    "issuer_bank",
    "amount",
    "currency",
    "status",
    "decline_code",
    "attempted_at",
)


async def apply_checkouts(rows: Sequence[ImportRow], ctx: ImportContext) -> None:
    existing = {
        ref for (ref,) in await bulk.select_in(Checkout, ("external_ref",), "external_ref", {r.record.id for r in rows})
    }
    customers = await external_to_internal(
        Customer, ctx, "customer", {r.record.customer_id for r in rows if r.record.customer_id}
    )
    orders = await external_to_internal(Order, ctx, "order", {r.record.order_id for r in rows if r.record.order_id})
    fresh: list[tuple[Any, ...]] = []
    for row in rows:
        rec: CheckoutRecord = row.record
        if rec.id in existing:
            continue
        if rec.customer_id and refused_reference(ctx, row, "customer", rec.customer_id, customers):
            raise ImportLineError(row.line_no, f"checkout {rec.id} refers to unknown customer {rec.customer_id}")
        if rec.order_id and refused_reference(ctx, row, "order", rec.order_id, orders):
            raise ImportLineError(row.line_no, f"checkout {rec.id} refers to unknown order {rec.order_id}")
        existing.add(rec.id)
        fresh.append(
            (
                new_id("chk"),
                rec.id,
                rec.channel,
                customers.get(rec.customer_id or ""),
                "[]",
                rec.started_at,
                orders.get(rec.order_id or ""),
            )
        )
    await bulk.insert(Checkout, CHECKOUT_COLUMNS, fresh)


async def apply_attempts(rows: Sequence[ImportRow], ctx: ImportContext) -> None:
    orders = await external_to_internal(Order, ctx, "order", {r.record.order_id for r in rows})
    # (provider, external_ref) is unique: an attempt imported before is skipped, as is a repeat
    # in the same batch (the first one wins).
    keys = {(r.record.provider, f"import:{r.record.id}") for r in rows}
    seen = await bulk.select_pairs(PaymentAttempt, ("provider", "external_ref"), keys)
    fresh: list[tuple[Any, ...]] = []
    for row in rows:
        rec: PaymentAttemptRecord = row.record
        if refused_reference(ctx, row, "order", rec.order_id, orders):
            raise ImportLineError(row.line_no, f"payment_attempt {rec.id} refers to unknown order {rec.order_id}")
        key = (rec.provider, f"import:{rec.id}")
        if key in seen:
            continue
        seen.add(key)
        fresh.append(
            (
                new_id("att"),
                key[1],
                orders[rec.order_id],
                rec.provider,
                rec.method,
                rec.card_brand,
                rec.funding,
                rec.issuer_bank,
                rec.amount,
                rec.currency,
                rec.status,
                rec.decline_code,
                rec.attempted_at,
            )
        )
    await bulk.insert(PaymentAttempt, ATTEMPT_COLUMNS, fresh)


@hookimpl
def register_import_kinds(register: Callable[[ImportKind], None]) -> None:
    register(
        ImportKind(
            kind="checkout",
            record_type=CheckoutRecord,
            apply=apply_checkouts,
            depends_on=frozenset({"customer", "order"}),
        )
    )
    register(
        ImportKind(
            kind="payment_attempt",
            record_type=PaymentAttemptRecord,
            apply=apply_attempts,
            depends_on=frozenset({"order"}),
        )
    )
