"""Product reviews: written only by the customer who received the product (a delivered line of
their own order, one review per line), waiting in a moderation queue, published or rejected with a
reason code of the published content policy (never for being negative), answered publicly by the
shop, and listed per product with the average and the distribution of published ratings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from core.catalogue.tables import Product
from core.customers.privacy import ERASED
from core.db.pagination import Page, check_limit, decode_cursor, encode_cursor
from core.domain.errors import Conflict, InvalidInput, NotFound
from core.domain.events.feedback import ReviewModerated, ReviewReplied, ReviewSubmitted
from core.domain.ids import new_id
from core.domain.service import Channel
from core.domain.time import as_utc
from core.jobs import outbox
from core.orders.tables import Order
from core.runtime import Runtime
from plugins.feedback import clock, content_policy, kpis, policy
from plugins.feedback.followup import SUBJECTS, is_detractor, open_follow_up
from plugins.feedback.surveys import delivered_skus
from plugins.feedback.tables import Review
from plugins.feedback.texts import locale_of

MAX_TITLE = 200
MAX_BODY = 5000
MAX_REPLY = 2000
Rating = Annotated[int, msgspec.Meta(ge=1, le=5)]


class ReviewIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    order_id: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    sku: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    rating: Rating
    body: Annotated[str, msgspec.Meta(max_length=MAX_BODY)]
    title: Annotated[str, msgspec.Meta(max_length=MAX_TITLE)] | None = None
    locale: Literal["el", "en"] | None = None


class ModerateIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    decision: Literal["publish", "reject"]
    reason: str | None = None
    note: Annotated[str, msgspec.Meta(max_length=1000)] | None = None


class ReplyIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_REPLY)]


class ReplyOut(msgspec.Struct, frozen=True, kw_only=True):
    body: str
    at: datetime


class ReviewOut(msgspec.Struct, frozen=True, kw_only=True):
    """What staff see (the moderation queue, the answer to a submission)."""

    id: str
    order_id: str
    sku: str
    customer_id: str
    rating: int
    title: str | None
    body: str
    status: str
    reason: str | None
    verified_purchase: bool
    reply: ReplyOut | None
    source: str
    follow_up_case_id: str | None
    at: datetime
    moderated_at: datetime | None
    moderated_by: str | None


class PublicReview(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    sku: str
    rating: int
    title: str | None
    body: str
    author: str | None
    verified_purchase: bool
    created_at: datetime
    reply: ReplyOut | None


class ProductReviews(msgspec.Struct, frozen=True, kw_only=True):
    items: list[PublicReview]
    next_cursor: str | None
    average: float | None
    count: int
    distribution: dict[str, int]


class AlreadyReviewed(Conflict):
    slug = "already-reviewed"
    title = "Already reviewed"


def _reply(row: dict[str, Any]) -> ReplyOut | None:
    at = as_utc(row["replied_at"])
    return ReplyOut(body=row["reply"], at=at) if row["reply"] and at else None


def review_out(row: dict[str, Any]) -> ReviewOut:
    at = as_utc(row["at"])
    assert at is not None
    return ReviewOut(
        id=row["id"], order_id=row["order_id"], sku=row["sku"], customer_id=row["customer_id"], rating=row["rating"],
        title=row["title"], body=row["body"], status=row["status"], reason=row["reason"], verified_purchase=True,
        reply=_reply(row), source=row["source"], follow_up_case_id=row["follow_up_case_id"], at=at,
        moderated_at=as_utc(row["moderated_at"]), moderated_by=row["moderated_by"],
    )  # fmt: skip


def author_of(name: str | None) -> str | None:
    """`Μαρία Π.`: a first name and an initial, never the whole name, on a public page."""
    words = (name or "").split()
    if not words or name == ERASED:
        return None
    return f"{words[0]} {words[1][0]}." if len(words) > 1 else words[0]


async def review_row(review_id: str) -> dict[str, Any]:
    row = await Review.select().where(Review.id == review_id).first()
    if row is None:
        raise NotFound(f"no review {review_id}")
    return row


def _text(value: str | None, field: str, limit: int) -> str | None:
    text = (value or "").replace("\x00", "").strip()
    if len(text) > limit:
        raise InvalidInput(f"{field} is longer than {limit} characters", errors=[{"field": field}])
    return text or None


async def submit(
    runtime: Runtime,
    data: ReviewIn,
    *,
    customer_id: str | None,
    source: str,
    survey_id: str | None = None,
) -> ReviewOut:
    """A verified buyer's review, pending moderation. `customer_id` is the caller's when a
    customer (token or review link) writes it: another customer's order does not exist for them.
    Call inside a unit of work."""
    order = await Order.select(Order.id, Order.customer_id).where(Order.id == data.order_id).first()
    if order is None or (customer_id is not None and order["customer_id"] != customer_id):
        raise NotFound(f"no order {data.order_id}")
    body = _text(data.body, "body", MAX_BODY)
    if body is None:
        raise InvalidInput("write the review's text in body", errors=[{"field": "body", "message": "required"}])
    if not await Product.exists().where(Product.sku == data.sku):
        raise InvalidInput(f"no product {data.sku}", errors=[{"field": "sku", "message": "unknown product"}])
    if data.sku not in await delivered_skus(data.order_id):
        raise InvalidInput(
            f"order {data.order_id} has no delivered {data.sku}: only a customer who received a product can review it",
            errors=[{"field": "sku", "message": "not a delivered line of this order"}],
        )
    _, current = await policy.current()
    low = is_detractor("review", data.rating, current.follow_up)
    now = clock.now()
    review_id = new_id("rev")
    locale = data.locale or "el"
    inserted = await Review.raw(
        "INSERT INTO reviews (id, customer_id, order_id, sku, rating, title, body, status, locale, source, survey_id, "
        "detractor, at, updated_at) VALUES ({}, {}, {}, {}, {}, {}, {}, 'pending', {}, {}, {}, {}, {}, {}) "
        "ON CONFLICT (order_id, sku) DO NOTHING RETURNING id",
        review_id, order["customer_id"], data.order_id, data.sku, data.rating, _text(data.title, "title", MAX_TITLE),
        body, locale, source, survey_id, low, now, now,
    )  # fmt: skip
    if not inserted:
        raise AlreadyReviewed(f"{data.sku} of order {data.order_id} is reviewed already; one review per order line")
    follow_up = None
    if low and current.follow_up.enabled:
        follow_up = await open_follow_up(
            runtime,
            customer_id=order["customer_id"],
            locale=locale_of(locale),
            order_id=data.order_id,
            subject=SUBJECTS[locale_of(locale)]["review"].format(score=data.rating, sku=data.sku),
            note=f"{data.rating}★ {data.sku}\n\n{body}",
            channel=Channel.WEB,
            link_kind="review",
            link_id=review_id,
        )
        await Review.update({Review.follow_up_case_id: follow_up}).where(Review.id == review_id)
    await outbox.record(
        ReviewSubmitted(sku=data.sku, rating=data.rating, source=source, follow_up_case_id=follow_up),
        subject_id=review_id,
        customer_id=order["customer_id"],
        order_id=data.order_id,
    )
    return review_out(await review_row(review_id))


async def moderate(runtime: Runtime, review_id: str, data: ModerateIn, actor: str) -> ReviewOut:
    """Publish or reject (a published review can be taken down, a rejected one published on
    appeal). Call inside a unit of work."""
    row = await review_row(review_id)
    target = "published" if data.decision == "publish" else "rejected"
    reason = (data.reason or "").strip() or None
    if data.decision == "reject" and reason not in content_policy.CODES:
        codes = ", ".join(sorted(content_policy.CODES))
        raise InvalidInput(
            f"a rejection names the content-policy rule it breaks, one of: {codes} "
            "(a negative opinion breaks none: publish it)",
            errors=[{"field": "reason", "message": f"one of {codes}"}],
        )
    if row["status"] == target:
        raise Conflict(f"review {review_id} is {target} already")
    now = clock.now()
    changed = await Review.raw(
        "UPDATE reviews SET status = {}, reason = {}, moderation_note = {}, moderated_by = {}, moderated_at = {}, "
        "updated_at = {} WHERE id = {} AND status = {} RETURNING id",
        target, reason if target == "rejected" else None, _text(data.note, "note", 1000), actor, now, now,
        review_id, row["status"],
    )  # fmt: skip
    if not changed:
        raise Conflict(f"review {review_id} changed meanwhile; read it again")
    await outbox.record(
        ReviewModerated(
            sku=row["sku"], decision=data.decision, reason=reason if target == "rejected" else None, by=actor
        ),
        subject_id=review_id,
        customer_id=row["customer_id"],
        order_id=row["order_id"],
    )
    await kpis.mark_days_dirty(runtime, [kpis.REVIEWS.id], [row["at"]])
    return review_out(await review_row(review_id))


async def reply(review_id: str, data: ReplyIn, actor: str) -> ReviewOut:
    """The shop's public answer (a new one replaces the old). Call inside a unit of work."""
    row = await review_row(review_id)
    body = _text(data.body, "body", MAX_REPLY)
    if body is None:
        raise InvalidInput("write the reply in body", errors=[{"field": "body"}])
    now = clock.now()
    await Review.update(
        {Review.reply: body, Review.replied_by: actor, Review.replied_at: now, Review.updated_at: now}
    ).where(Review.id == review_id)
    await outbox.record(
        ReviewReplied(sku=row["sku"], by=actor),
        subject_id=review_id,
        customer_id=row["customer_id"],
        order_id=row["order_id"],
    )
    return review_out(await review_row(review_id))


async def queue(
    *, status: str | None, sku: str | None, max_rating: int | None, limit: int, cursor: str | None
) -> Page[ReviewOut]:
    """The moderation queue (status=pending, oldest first) or any status, newest first."""
    check_limit(limit)
    if status is not None and status not in ("pending", "published", "rejected"):
        raise InvalidInput("status must be pending, published or rejected", errors=[{"field": "status"}])
    oldest_first = status == "pending"
    query = Review.select()
    where = []
    if status is not None:
        where.append(Review.status == status)
    if sku is not None:
        where.append(Review.sku == sku)
    if max_rating is not None:
        where.append(Review.rating <= max_rating)
    after = decode_cursor(cursor)
    if after is not None:
        where.append(Review.id > after if oldest_first else Review.id < after)
    for clause in where:
        query = query.where(clause)
    rows = await query.order_by(Review.id, ascending=oldest_first).limit(limit + 1)
    more = len(rows) > limit
    return Page(
        items=[review_out(r) for r in rows[:limit]], next_cursor=encode_cursor(rows[limit - 1]["id"]) if more else None
    )


async def product_reviews(sku: str, *, limit: int, cursor: str | None) -> ProductReviews:
    """Published reviews of one product, newest first, with the average and distribution of all
    its published ratings."""
    check_limit(limit)
    if not await Product.exists().where(Product.sku == sku):
        raise NotFound(f"no product {sku}")
    counts = await Review.raw(
        "SELECT rating, COUNT(*) AS n FROM reviews WHERE sku = {} AND status = 'published' GROUP BY rating", sku
    )
    distribution = {str(r): 0 for r in range(1, 6)}
    for row in counts:
        distribution[str(row["rating"])] = int(row["n"])
    count = sum(distribution.values())
    total = sum(int(k) * n for k, n in distribution.items())
    after = decode_cursor(cursor)
    rows = await Review.raw(
        "SELECT r.*, cu.name AS customer_name FROM reviews r JOIN customers cu ON cu.id = r.customer_id "
        "WHERE r.sku = {} AND r.status = 'published'"
        + (" AND r.id < {}" if after else "")
        + " ORDER BY r.id DESC LIMIT {}",
        *([sku, after] if after else [sku]),
        limit + 1,
    )
    items = [
        PublicReview(
            id=r["id"], sku=r["sku"], rating=r["rating"], title=r["title"], body=r["body"],
            author=author_of(r["customer_name"]), verified_purchase=True, created_at=as_utc(r["at"]) or clock.now(),
            reply=_reply(r),
        )
        for r in rows[:limit]
    ]  # fmt: skip
    more = len(rows) > limit
    return ProductReviews(
        items=items,
        next_cursor=encode_cursor(rows[limit - 1]["id"]) if more else None,
        average=total / count if count else None,
        count=count,
        distribution=distribution,
    )
