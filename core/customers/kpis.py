"""The customer KPIs of kpis.md: retention and churn (P against the period of equal length
before it), customer lifetime value (everything before `to`), and repurchase after service.
Their facts depend on the whole period, so they are never rolled up by day; `channel=`,
`segment=` and `location=` do not apply (kpis.md), `customer_segment=` does."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from core.domain.kpis import Fact, FactQuery, FactSource, KPIDefinition, KPIValue, Reducer, mean, ratio
from core.hookspecs import hookimpl
from core.orders.tables import Order


async def load_retention(query: FactQuery) -> list[Fact]:
    before = query.start - (query.end - query.start)
    rows = await Order.raw(
        "SELECT DISTINCT customer_id FROM orders WHERE cancelled_at IS NULL AND placed_at >= {} AND placed_at < {}",
        before,
        query.start,
    )
    again = {
        r["customer_id"]
        for r in await Order.raw(
            "SELECT DISTINCT customer_id FROM orders WHERE cancelled_at IS NULL AND placed_at >= {} AND placed_at < {}",
            query.start,
            query.end,
        )
    }
    return [{"at": query.start, "customer_id": r["customer_id"], "retained": r["customer_id"] in again} for r in rows]


async def load_lifetime_value(query: FactQuery) -> list[Fact]:
    rows = await Order.raw(
        "SELECT customer_id, SUM(merchandise_total) AS spent FROM orders "
        "WHERE cancelled_at IS NULL AND placed_at < {} GROUP BY customer_id",
        query.end,
    )
    refunded = {
        r["customer_id"]: int(r["refunded"] or 0)
        for r in await Order.raw(
            "SELECT o.customer_id, SUM(rl.qty * ol.unit_price) AS refunded FROM return_lines rl "
            "JOIN returns r ON r.id = rl.return_id JOIN orders o ON o.id = r.order_id "
            "JOIN order_lines ol ON ol.order_id = o.id AND ol.sku = rl.sku "
            "WHERE rl.resolution = 'refund' AND r.received_at IS NOT NULL AND r.received_at < {} "
            "AND o.cancelled_at IS NULL AND o.placed_at < {} GROUP BY o.customer_id",
            query.end,
            query.end,
        )
    }
    return [
        {
            "at": query.start,
            "customer_id": r["customer_id"],
            "value": int(r["spent"] or 0) - refunded.get(r["customer_id"], 0),
        }
        for r in rows
    ]


async def load_post_service(query: FactQuery) -> list[Fact]:
    rows = await Order.raw(
        "SELECT c.customer_id, EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.customer_id "
        "AND o.cancelled_at IS NULL AND o.placed_at > c.first_resolved AND o.placed_at < {}) AS bought "
        "FROM (SELECT customer_id, MIN(resolved_at) AS first_resolved FROM cases "
        "WHERE resolved_at >= {} AND resolved_at < {} GROUP BY customer_id) c",
        query.end,
        query.start,
        query.end,
    )
    return [{"at": query.start, "customer_id": r["customer_id"], "repurchased": bool(r["bought"])} for r in rows]


class _Complement(Reducer):
    """1 − (flag ÷ all), computed exactly as kpis.md words it; null when there are no facts."""

    def __init__(self, flag: str) -> None:
        self.inner = ratio(flag)

    def partial(self, facts: Sequence[Fact]) -> Any:
        return self.inner.partial(facts)

    def merge(self, states: Iterable[Any]) -> Any:
        return self.inner.merge(states)

    def finish(self, state: Any) -> KPIValue:
        retained, everyone = state
        value = None if not everyone else 1 - retained / everyone
        return KPIValue(value=value, numerator=everyone - retained, denominator=everyone)


ONLY_CUSTOMER_SEGMENT = frozenset({"customer_segment"})
RETENTION = FactSource(id="customers.retention", load=load_retention, filters=ONLY_CUSTOMER_SEGMENT, whole_period=True)
LIFETIME = FactSource(
    id="customers.lifetime_value", load=load_lifetime_value, filters=ONLY_CUSTOMER_SEGMENT, whole_period=True
)
POST_SERVICE = FactSource(
    id="customers.post_service", load=load_post_service, filters=ONLY_CUSTOMER_SEGMENT, whole_period=True
)


@hookimpl
def register_kpis(register: Callable[[KPIDefinition], None]) -> None:
    register(
        KPIDefinition(
            id="customer_retention_rate",
            name="Customer retention",
            unit="ratio",
            formula=(
                "Customers with a non-cancelled order placed in [from − (to − from), from) who also placed a "
                "non-cancelled order in P ÷ all of them."
            ),
            facts=RETENTION,
            reduce=ratio("retained"),
        )
    )
    register(
        KPIDefinition(
            id="churn_rate",
            name="Churn",
            unit="ratio",
            formula="1 − customer_retention_rate (null when that is null).",
            facts=RETENTION,
            reduce=_Complement("retained"),
        )
    )
    register(
        KPIDefinition(
            id="customer_lifetime_value",
            name="Customer lifetime value",
            unit="minor_units",
            formula=(
                "Mean over customers with a non-cancelled order placed before `to` of (Σ merchandise value of those "
                "orders − Σ value, at the order line's unit price, of their returned units with resolution refund in "
                "returns received before `to`)."
            ),
            facts=LIFETIME,
            reduce=mean("value"),
        )
    )
    register(
        KPIDefinition(
            id="post_service_repurchase_rate",
            name="Repurchase after service",
            unit="ratio",
            formula=(
                "Customers with a case resolved in P who placed a non-cancelled order after their earliest case "
                "resolution in P and before `to` ÷ all of them."
            ),
            facts=POST_SERVICE,
            reduce=ratio("repurchased"),
        )
    )
