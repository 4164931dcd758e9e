"""RFM scores and rule segments for every customer with a non-cancelled order, rebuilt as a whole
(a score is a quintile over all the shop's customers, so one order can move others' scores):
by the worker when orders changed, by `emporio segments build`, and at once on demand.

Scores: for each of recency (the latest order), frequency (orders) and monetary (merchandise
value), `score = 1 + ⌊5 × (customers strictly worse) ÷ (customers)⌋` — ties share a score, the
best fifth gets 5. Memberships keep their history (joined/left), for the movement view."""

from __future__ import annotations

import bisect
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from core.customers.policy import Profile, SegmentsPolicy, segments_of
from core.customers.tables import CustomerSegments, SegmentBuild, SegmentMembership
from core.db.database import utcnow
from core.domain.ids import new_id
from core.domain.time import as_utc
from core.plugins import PluginHost
from core.policies import policies

_AGGREGATE = (
    "SELECT customer_id, COUNT(*) AS orders, SUM(merchandise_total) AS spent, MAX(placed_at) AS last_at, "
    "MIN(placed_at) AS first_at FROM orders WHERE cancelled_at IS NULL AND placed_at < {} GROUP BY customer_id"
)


def scores(values: Sequence[Any]) -> list[int]:
    """Quintile scores, larger value = better: 1 + ⌊5 × (values strictly smaller) ÷ n⌋."""
    ordered = sorted(values)
    n = len(ordered)
    return [1 + (5 * bisect.bisect_left(ordered, v)) // n for v in values]


def profiles(rows: list[dict[str, Any]], now: datetime) -> dict[str, Profile]:
    last = [as_utc(r["last_at"]) for r in rows]
    first = [as_utc(r["first_at"]) for r in rows]
    recency = scores([cast(datetime, t).timestamp() for t in last])
    frequency = scores([int(r["orders"]) for r in rows])
    monetary = scores([int(r["spent"] or 0) for r in rows])
    return {
        r["customer_id"]: Profile(
            orders=int(r["orders"]),
            spent=int(r["spent"] or 0),
            days_since_last_order=(now - cast(datetime, last[i])).days,
            days_since_first_order=(now - cast(datetime, first[i])).days,
            recency=recency[i],
            frequency=frequency[i],
            monetary=monetary[i],
        )
        for i, r in enumerate(rows)
    }


async def segments_policy(host: PluginHost) -> SegmentsPolicy:
    _, document = await policies.current(host, "segments")
    return cast(SegmentsPolicy, document)


async def build(host: PluginHost, *, now: datetime | None = None) -> int:
    """Recompute every customer's scores and segments; returns how many customers have one.
    Call inside a write transaction (the rows change together)."""
    now = now or utcnow()
    policy = await segments_policy(host)
    rows = await CustomerSegments.raw(_AGGREGATE, now)
    found = profiles(rows, now)
    current: dict[str, set[str]] = {}
    for m in await SegmentMembership.select(SegmentMembership.customer_id, SegmentMembership.segment).where(
        SegmentMembership.left_at.is_null()
    ):
        current.setdefault(m["customer_id"], set()).add(m["segment"])
    await CustomerSegments.delete(force=True)
    fresh: list[CustomerSegments] = []
    for customer_id, profile in found.items():
        segments = segments_of(policy, profile)
        fresh.append(
            CustomerSegments(
                customer_id=customer_id,
                recency=profile.recency,
                frequency=profile.frequency,
                monetary=profile.monetary,
                orders=profile.orders,
                spent=profile.spent,
                segments=json.dumps(segments),
                computed_at=now,
            )
        )
        await _move(customer_id, current.get(customer_id, set()), set(segments), now)
    for customer_id in set(current) - set(found):  # no order left (all cancelled): leaves every segment
        await _move(customer_id, current[customer_id], set(), now)
    for chunk in range(0, len(fresh), 500):
        await CustomerSegments.insert(*fresh[chunk : chunk + 500])
    await SegmentBuild.raw(
        "INSERT INTO segment_builds (id, built_at, dirty_since, customers) VALUES ('current', {}, NULL, {}) "
        "ON CONFLICT (id) DO UPDATE SET built_at = {}, dirty_since = NULL, customers = {}",
        now,
        len(found),
        now,
        len(found),
    )
    return len(found)


async def _move(customer_id: str, before: set[str], after: set[str], now: datetime) -> None:
    left, joined = before - after, after - before
    if left:
        await SegmentMembership.update({SegmentMembership.left_at: now}).where(
            (SegmentMembership.customer_id == customer_id)
            & SegmentMembership.segment.is_in(sorted(left))
            & SegmentMembership.left_at.is_null()
        )
    for segment in sorted(joined):
        await SegmentMembership.insert(
            SegmentMembership(id=new_id("sgm"), customer_id=customer_id, segment=segment, joined_at=now)
        )


async def mark_dirty() -> None:
    """An order changed: the next worker pass rebuilds (scores are relative to every customer)."""
    await SegmentBuild.raw(
        "INSERT INTO segment_builds (id, built_at, dirty_since, customers) VALUES ('current', NULL, {}, 0) "
        "ON CONFLICT (id) DO UPDATE SET dirty_since = COALESCE(segment_builds.dirty_since, {})",
        utcnow(),
        utcnow(),
    )


async def is_dirty() -> bool:
    row = (
        await SegmentBuild.select(SegmentBuild.dirty_since, SegmentBuild.built_at)
        .where(SegmentBuild.id == "current")
        .first()
    )
    return row is None or row["dirty_since"] is not None or row["built_at"] is None


async def of_customer(customer_id: str) -> tuple[dict[str, int] | None, list[str]]:
    """(rfm, segments) as last built; (None, []) for a customer without orders."""
    row = await CustomerSegments.select().where(CustomerSegments.customer_id == customer_id).first()
    if row is None:
        return None, []
    rfm = {"recency": row["recency"], "frequency": row["frequency"], "monetary": row["monetary"]}
    return rfm, list(json.loads(row["segments"]))


async def members(segment: str) -> set[str]:
    rows = await SegmentMembership.select(SegmentMembership.customer_id).where(
        (SegmentMembership.segment == segment) & SegmentMembership.left_at.is_null()
    )
    return {r["customer_id"] for r in rows}


async def sizes_over_time(days: Sequence[datetime]) -> list[dict[str, Any]]:
    """Members of each segment at the end of each given instant, for the movement view."""
    rows = await SegmentMembership.select(
        SegmentMembership.segment, SegmentMembership.joined_at, SegmentMembership.left_at
    )
    out = []
    for instant in days:
        counts: dict[str, int] = {}
        for r in rows:
            joined, left = as_utc(r["joined_at"]), as_utc(r["left_at"])
            if joined is not None and joined <= instant and (left is None or left > instant):
                counts[r["segment"]] = counts.get(r["segment"], 0) + 1
        out.append({"at": instant, "sizes": dict(sorted(counts.items()))})
    return out
