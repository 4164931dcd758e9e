"""Customers as a list ops and agents filter: by segment (as last built) and email, newest first,
with their RFM scores and segments; the same as CSV."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from core.customers.customers import customer_out
from core.customers.tables import Customer, CustomerSegments, SegmentMembership
from core.db.pagination import Page, check_limit, decode_cursor, page_of
from core.domain.customers import CustomerOut


async def list_customers(
    *, segment: str | None = None, email: str | None = None, limit: int = 50, cursor: str | None = None
) -> Page[CustomerOut]:
    check_limit(limit)
    where: Any = Customer.id.is_not_null()
    if segment:
        where &= Customer.id.is_in(
            SegmentMembership.select(SegmentMembership.customer_id).where(
                (SegmentMembership.segment == segment) & SegmentMembership.left_at.is_null()
            )
        )
    if email:
        where &= Customer.email == email.strip().lower()
    after = decode_cursor(cursor)
    if after:
        where &= Customer.id < after
    rows = await Customer.select().where(where).order_by(Customer.id, ascending=False).limit(limit + 1)
    ids = [r["id"] for r in rows[:limit]]
    scored = {
        s["customer_id"]: s
        for s in (await CustomerSegments.select().where(CustomerSegments.customer_id.is_in(ids)) if ids else [])
    }
    items = []
    for row in rows[:limit]:
        base = customer_out(row)
        s = scored.get(row["id"])
        if s is not None:
            rfm = {"recency": s["recency"], "frequency": s["frequency"], "monetary": s["monetary"]}
            base = CustomerOut(**{**_fields(base), "rfm": rfm, "segments": json.loads(s["segments"])})
        items.append(base)
    return page_of(rows, limit, "id", items)


def _fields(customer: CustomerOut) -> dict[str, object]:
    return {f: getattr(customer, f) for f in customer.__struct_fields__}


def as_csv(customers: list[CustomerOut]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "email", "name", "phone", "locale", "recency", "frequency", "monetary", "segments"])
    for c in customers:
        rfm = c.rfm or {}
        writer.writerow(
            [c.id, c.email or "", c.name, c.phone or "", c.locale, rfm.get("recency", ""), rfm.get("frequency", ""),
             rfm.get("monetary", ""), " ".join(c.segments)]
        )  # fmt: skip
    return out.getvalue()
