"""Order routing: which locations fulfil which lines of a confirmed order."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from core.hookspecs import hookspec


class RoutingLine(msgspec.Struct, frozen=True, kw_only=True):
    sku: str
    qty: int
    preorder: bool = False
    backorder: bool = False


class RoutingLocation(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    type: str  # "warehouse" | "store"
    ships: bool
    pickup: bool
    priority: int
    lat: float | None
    lon: float | None
    available: dict[str, int]  # sku → units available now at this location


class RoutingRequest(msgspec.Struct, frozen=True, kw_only=True):
    order_id: str
    lines: Sequence[RoutingLine]
    locations: Sequence[RoutingLocation]
    delivery_method: str  # "courier" | "pickup"
    pickup_location: str | None = None
    destination_postcode: str | None = None
    destination_lat: float | None = None
    destination_lon: float | None = None


class PlanPart(msgspec.Struct, frozen=True, kw_only=True):
    location: str
    lines: dict[str, int]  # sku → qty


class AllocationPlan(msgspec.Struct, frozen=True, kw_only=True):
    parts: Sequence[PlanPart]
    deferred: dict[str, int] = msgspec.field(default_factory=dict)  # sku → qty fulfilled later
    score: Sequence[float] = ()


class AllocationDecision(msgspec.Struct, frozen=True, kw_only=True):
    """The chosen plan, the reasons it won, and the alternatives it beat (shown to ops)."""

    plan: AllocationPlan
    reasons: Sequence[str]
    alternatives: Sequence[AllocationPlan] = ()
    strategy: str = ""


@hookspec(firstresult=True)
def resolve_allocation(request: RoutingRequest) -> AllocationDecision | None:
    """Choose the locations that fulfil an order.

    When it is called:
        By the routing job when an order becomes `confirmed`, and by `POST /v1/orders/{id}/route`.
        Pure computation: no I/O (the request carries the stock snapshot), so it is fast and
        testable. The core then moves reservations to the chosen locations atomically and
        re-plans if stock moved meanwhile.

    Args:
        request: the order's open lines, every candidate location with its available units,
            the delivery method and destination.

    Returns:
        The first non-None `AllocationDecision` wins (plugins registered later are asked
        first, so a shop's own plugin overrides the default). Return None to pass.

    Example:
        ```python
        @hookimpl
        def resolve_allocation(request):
            if request.delivery_method == "pickup":
                return click_and_collect(request)
            return None
        ```
    """
