"""The order KPIs of kpis.md (`orders_placed`, `average_order_value`) and the order fact source,
with customer segments derived from each customer's earlier non-cancelled orders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from core.domain.kpis import Fact, FactQuery, FactSource, KPIDefinition, count, mean
from core.domain.time import as_utc
from core.hookspecs import hookimpl
from core.orders.tables import Order

REACTIVATION_GAP = timedelta(days=365)


def segment_of(placed_at: object, previous_at: object) -> str:
    prev = as_utc(previous_at)
    if prev is None:
        return "first_order"
    placed = as_utc(placed_at)
    assert placed is not None
    return "returning" if placed - prev <= REACTIVATION_GAP else "reactivated"


async def load_order_facts(query: FactQuery) -> list[Fact]:
    rows = await Order.raw(
        "SELECT o.id, o.channel, o.customer_id, o.placed_at, o.merchandise_total, "
        "(SELECT MAX(p.placed_at) FROM orders p WHERE p.customer_id = o.customer_id "
        " AND p.placed_at < o.placed_at AND p.cancelled_at IS NULL) AS previous_at "
        "FROM orders o WHERE o.placed_at >= {} AND o.placed_at < {} AND o.cancelled_at IS NULL",
        query.start,
        query.end,
    )
    return [
        {
            "at": as_utc(r["placed_at"]),
            "order_id": r["id"],
            "customer_id": r["customer_id"],
            "channel": r["channel"],
            "segment": segment_of(r["placed_at"], r["previous_at"]),
            "value": r["merchandise_total"],
        }
        for r in rows
    ]


ORDER_FACTS = FactSource(
    id="orders.placed", load=load_order_facts, filters=frozenset({"channel", "segment", "customer_segment"})
)


@hookimpl
def register_kpis(register: Callable[[KPIDefinition], None]) -> None:
    register(
        KPIDefinition(
            id="orders_placed",
            name="Orders placed",
            unit="count",
            formula="Count of non-cancelled orders whose placed_at ∈ P.",
            facts=ORDER_FACTS,
            reduce=count(),
            dimensions=("channel", "segment"),
        )
    )
    register(
        KPIDefinition(
            id="average_order_value",
            name="Average order value",
            unit="minor_units",
            formula=(
                "Mean merchandise value (Σ qty × unit_price, minor units) of non-cancelled orders whose placed_at ∈ P."
            ),
            facts=ORDER_FACTS,
            reduce=mean("value"),
            dimensions=("channel", "segment"),
        )
    )
