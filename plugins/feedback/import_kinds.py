"""History-import kinds of the feedback plugin (service.md): `survey_response` and `review`.

Keyed by the shop's ids (`external_ref`), so running a file twice changes nothing. Imported answers
count in the KPIs like live ones but are history: they never send a survey, never open a
follow-up case and never make a customer a detractor. An imported review must name a line of the
customer's own order."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from core.catalogue.tables import Product
from core.customers.tables import Customer
from core.db import bulk
from core.domain.ids import new_id
from core.domain.imports import ImportContext, ImportKind, ImportLineError, ImportRow
from core.imports.kinds import external_to_internal, refused_reference
from core.orders.tables import Order, OrderLine
from core.service.tables import Case
from plugins.feedback.followup import is_detractor
from plugins.feedback.policy import DEFAULT_POLICY
from plugins.feedback.tables import Review, SurveyResponse
from plugins.feedback.texts import SCALES

Utc = Annotated[datetime, msgspec.Meta(tz=True)]
ExtId = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class SurveyResponseRecord(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: Literal["survey_response"]
    id: ExtId
    customer_id: ExtId
    survey: Literal["csat", "ces", "nps"]
    score: int
    at: Utc
    case_id: ExtId | None = None
    order_id: ExtId | None = None
    comment: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class ReviewRecord(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: Literal["review"]
    id: ExtId
    customer_id: ExtId
    order_id: ExtId
    sku: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    rating: Annotated[int, msgspec.Meta(ge=1, le=5)]
    at: Utc
    status: Literal["published", "rejected", "pending"]
    title: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    body: Annotated[str, msgspec.Meta(max_length=5000)] = ""
    reason: Annotated[str, msgspec.Meta(max_length=60)] | None = None


def _unknown(row: ImportRow, what: str, kind: str, ref: str) -> ImportLineError:
    return ImportLineError(
        row.line_no, f"{what} refers to {kind} {ref}, which is neither earlier in the file nor in the database"
    )


async def apply_responses(rows: Sequence[ImportRow], ctx: ImportContext) -> None:
    known = await external_to_internal(SurveyResponse, ctx, "survey_response", {r.record.id for r in rows})
    customers = await external_to_internal(Customer, ctx, "customer", {r.record.customer_id for r in rows})
    cases = await external_to_internal(Case, ctx, "case", {r.record.case_id for r in rows if r.record.case_id})
    orders = await external_to_internal(Order, ctx, "order", {r.record.order_id for r in rows if r.record.order_id})
    fresh: list[tuple[Any, ...]] = []
    for row in rows:
        rec: SurveyResponseRecord = row.record
        if rec.id in known:
            continue
        low, high = SCALES[rec.survey]
        if not low <= rec.score <= high:
            raise ImportLineError(row.line_no, f"survey_response {rec.id}: a {rec.survey} score is {low}–{high}")
        if refused_reference(ctx, row, "customer", rec.customer_id, customers):
            raise _unknown(row, f"survey_response {rec.id}", "customer", rec.customer_id)
        if rec.case_id and refused_reference(ctx, row, "case", rec.case_id, cases):
            raise _unknown(row, f"survey_response {rec.id}", "case", rec.case_id)
        if rec.order_id and refused_reference(ctx, row, "order", rec.order_id, orders):
            raise _unknown(row, f"survey_response {rec.id}", "order", rec.order_id)
        internal = known[rec.id] = ctx.refs[("survey_response", rec.id)] = new_id("srs")
        fresh.append(
            (
                internal, rec.survey, rec.score, rec.comment, customers[rec.customer_id],
                cases[rec.case_id] if rec.case_id else None, orders[rec.order_id] if rec.order_id else None, "import",
                is_detractor(rec.survey, rec.score, DEFAULT_POLICY.follow_up), rec.id, rec.at,
            )
        )  # fmt: skip
    await bulk.insert(
        SurveyResponse,
        ("id", "question", "score", "comment", "customer_id", "case_id", "order_id", "source", "detractor",
         "external_ref", "at"),
        fresh,
    )  # fmt: skip


async def apply_reviews(rows: Sequence[ImportRow], ctx: ImportContext) -> None:
    known = await external_to_internal(Review, ctx, "review", {r.record.id for r in rows})
    customers = await external_to_internal(Customer, ctx, "customer", {r.record.customer_id for r in rows})
    orders = await external_to_internal(Order, ctx, "order", {r.record.order_id for r in rows})
    order_ids = sorted(set(orders.values()))
    owners: dict[str, str] = {}
    lines: set[tuple[str, str]] = set()
    taken: set[tuple[str, str]] = set()
    if order_ids:
        owners = {
            o["id"]: o["customer_id"]
            for o in await Order.select(Order.id, Order.customer_id).where(Order.id.is_in(order_ids))
        }
        line_rows = await OrderLine.select(OrderLine.order_id, OrderLine.sku).where(OrderLine.order_id.is_in(order_ids))
        lines = {(ln["order_id"], ln["sku"]) for ln in line_rows}
        reviewed = await Review.select(Review.order_id, Review.sku).where(Review.order_id.is_in(order_ids))
        taken = {(r["order_id"], r["sku"]) for r in reviewed}
    wanted_skus = sorted({r.record.sku for r in rows})
    skus = {p["sku"] for p in await Product.select(Product.sku).where(Product.sku.is_in(wanted_skus))}
    fresh: list[tuple[Any, ...]] = []
    for row in rows:
        rec: ReviewRecord = row.record
        if rec.id in known:
            continue
        if refused_reference(ctx, row, "customer", rec.customer_id, customers):
            raise _unknown(row, f"review {rec.id}", "customer", rec.customer_id)
        if refused_reference(ctx, row, "order", rec.order_id, orders):
            raise _unknown(row, f"review {rec.id}", "order", rec.order_id)
        order_id, customer_id = orders[rec.order_id], customers[rec.customer_id]
        if owners.get(order_id) != customer_id:
            raise ImportLineError(
                row.line_no, f"review {rec.id}: order {rec.order_id} is not customer {rec.customer_id}'s"
            )
        if rec.sku not in skus or (order_id, rec.sku) not in lines:
            raise ImportLineError(row.line_no, f"review {rec.id}: order {rec.order_id} has no line of {rec.sku}")
        if (order_id, rec.sku) in taken:
            raise ImportLineError(
                row.line_no, f"review {rec.id}: {rec.sku} of order {rec.order_id} is reviewed already"
            )
        taken.add((order_id, rec.sku))
        internal = known[rec.id] = ctx.refs[("review", rec.id)] = new_id("rev")
        fresh.append(
            (
                internal, customer_id, order_id, rec.sku, rec.rating, rec.title, rec.body, rec.status,
                rec.reason if rec.status == "rejected" else None, "import",
                is_detractor("review", rec.rating, DEFAULT_POLICY.follow_up), rec.id, rec.at, rec.at,
            )
        )  # fmt: skip
    await bulk.insert(
        Review,
        ("id", "customer_id", "order_id", "sku", "rating", "title", "body", "status", "reason", "source", "detractor",
         "external_ref", "at", "updated_at"),
        fresh,
    )  # fmt: skip


def register(register_kind: Callable[[ImportKind], None]) -> None:
    register_kind(
        ImportKind(
            kind="survey_response",
            record_type=SurveyResponseRecord,
            apply=apply_responses,
            depends_on=frozenset({"customer", "case", "order"}),
        )
    )
    register_kind(
        ImportKind(
            kind="review",
            record_type=ReviewRecord,
            apply=apply_reviews,
            depends_on=frozenset({"customer", "order", "product"}),
        )
    )
