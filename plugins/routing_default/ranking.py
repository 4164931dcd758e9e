"""The default allocation ranking, as the best order-management systems do it.

Candidate plans are built (every single location that has everything, then greedy splits in a
few orders), scored on each criterion, and compared lexicographically in the configured
criterion order (EMPORIO_ROUTING_CRITERIA, default below):

1. `shipments` — fewest shipments: one location with everything beats a split;
2. `pickup_store` — click-and-collect orders go to the chosen store;
3. `distance` — nearest to the customer (address coordinates, else the postcode area);
4. `priority` — location priority (lower first);
5. `depth` — deepest stock (least of the location's stock consumed).
"""

from __future__ import annotations

from collections.abc import Sequence

from core.hookspecs.routing import (
    AllocationDecision,
    AllocationPlan,
    PlanPart,
    RoutingLocation,
    RoutingRequest,
)
from core.settings import SettingSpec, read
from plugins.routing_default.postcodes import area_of, distance_km

CRITERIA = ("shipments", "pickup_store", "distance", "priority", "depth")
FAR_KM = 5000.0  # a location without coordinates ranks after every located one


def _criteria(raw: str) -> tuple[str, ...]:
    """The named criteria first, in the order given, then the others in the default order."""
    chosen = tuple(c.strip() for c in raw.split(",") if c.strip())
    unknown = [c for c in chosen if c not in CRITERIA]
    if unknown:
        raise ValueError(f"names unknown criteria {unknown}; choose from {', '.join(CRITERIA)}")
    return chosen + tuple(c for c in CRITERIA if c not in chosen)


ROUTING_CRITERIA: SettingSpec[tuple[str, ...]] = SettingSpec(
    name="EMPORIO_ROUTING_CRITERIA",
    type=tuple,
    default=CRITERIA,
    doc="the default routing's criteria, most important first (unnamed ones follow in the default order)",
    parse=_criteria,
)


def configured_criteria() -> tuple[str, ...]:
    return read(ROUTING_CRITERIA)


class _Candidate:
    __slots__ = ("deferred", "parts", "score")

    def __init__(self, parts: dict[str, dict[str, int]], deferred: dict[str, int]) -> None:
        self.parts = parts
        self.deferred = deferred
        self.score: tuple[float, ...] = ()


def _destination(request: RoutingRequest) -> tuple[float, float] | None:
    if request.destination_lat is not None and request.destination_lon is not None:
        return (request.destination_lat, request.destination_lon)
    return area_of(request.destination_postcode)


def _eligible(request: RoutingRequest) -> list[RoutingLocation]:
    if request.delivery_method == "pickup":
        return [loc for loc in request.locations if loc.ships or loc.code == request.pickup_location]
    return [loc for loc in request.locations if loc.ships]


def _greedy(
    order: Sequence[RoutingLocation], needs: dict[str, int]
) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    remaining = dict(needs)
    parts: dict[str, dict[str, int]] = {}
    for loc in order:
        take = {sku: min(qty, loc.available.get(sku, 0)) for sku, qty in remaining.items() if qty}
        take = {sku: q for sku, q in take.items() if q > 0}
        if take:
            parts[loc.code] = take
            for sku, q in take.items():
                remaining[sku] -= q
        if not any(remaining.values()):
            break
    return parts, {sku: q for sku, q in remaining.items() if q}


def _candidates(request: RoutingRequest, locations: list[RoutingLocation], dist: dict[str, float]) -> list[_Candidate]:
    needs = {line.sku: line.qty for line in request.lines}
    out: list[_Candidate] = []
    for loc in locations:
        if all(loc.available.get(sku, 0) >= qty for sku, qty in needs.items()):
            out.append(_Candidate({loc.code: dict(needs)}, {}))
    if out:
        return out
    orders = [
        sorted(locations, key=lambda loc: (dist[loc.code], loc.priority, loc.code)),
        sorted(locations, key=lambda loc: (loc.priority, dist[loc.code], loc.code)),
        sorted(
            locations,
            key=lambda loc: (-sum(min(loc.available.get(s, 0), q) for s, q in needs.items()), loc.priority, loc.code),
        ),
    ]
    if request.delivery_method == "pickup" and request.pickup_location:
        orders.append(
            sorted(locations, key=lambda loc: (loc.code != request.pickup_location, dist[loc.code], loc.code))
        )
    seen: set[tuple[tuple[str, tuple[tuple[str, int], ...]], ...]] = set()
    for order in orders:
        parts, deferred = _greedy(order, needs)
        key = tuple(sorted((code, tuple(sorted(lines.items()))) for code, lines in parts.items()))
        if key not in seen:
            seen.add(key)
            out.append(_Candidate(parts, deferred))
    return out


def _score(
    c: _Candidate,
    request: RoutingRequest,
    locs: dict[str, RoutingLocation],
    dist: dict[str, float],
    criteria: tuple[str, ...],
) -> tuple[float, ...]:
    values = {
        "shipments": float(len(c.parts)) + (0.5 if c.deferred else 0.0),
        "pickup_store": 0.0
        if request.delivery_method != "pickup" or set(c.parts) == {request.pickup_location}
        else 1.0,
        "distance": max((dist[code] for code in c.parts), default=0.0),
        "priority": float(sum(locs[code].priority for code in c.parts)),
        "depth": -float(
            min(
                (locs[code].available.get(sku, 0) - q for code, lines in c.parts.items() for sku, q in lines.items()),
                default=0,
            )
        ),
    }
    return tuple(values[k] for k in criteria)


def _explain(
    best: _Candidate, runner: _Candidate | None, criteria: tuple[str, ...], dist: dict[str, float]
) -> list[str]:
    where = ", ".join(f"{code} ({sum(lines.values())} units)" for code, lines in sorted(best.parts.items()))
    reasons = [f"ship from {where}" if best.parts else "nothing can be shipped now"]
    if best.deferred:
        reasons.append(
            "fulfil later (pre-order/backorder or out of stock): "
            + ", ".join(f"{sku} × {q}" for sku, q in sorted(best.deferred.items()))
        )
    if runner is None:
        reasons.append("the only possible plan")
        return reasons
    for name, mine, theirs in zip(criteria, best.score, runner.score, strict=True):
        if mine == theirs:
            continue
        if name == "shipments":
            reasons.append(f"fewest shipments: {len(best.parts)} vs {len(runner.parts)}")
        elif name == "pickup_store":
            reasons.append("click-and-collect: served from the chosen store")
        elif name == "distance":
            reasons.append(f"nearest to the customer: {mine:.0f} km vs {theirs:.0f} km")
        elif name == "priority":
            reasons.append(f"location priority {mine:.0f} vs {theirs:.0f}")
        else:
            reasons.append(f"deeper stock left: {-mine:.0f} vs {-theirs:.0f} units")
        break
    return reasons


def allocate(request: RoutingRequest, criteria: tuple[str, ...] = CRITERIA) -> AllocationDecision:
    locations = _eligible(request)
    locs = {loc.code: loc for loc in locations}
    target = _destination(request)
    dist = {
        loc.code: (
            distance_km(target, (loc.lat, loc.lon))
            if target and loc.lat is not None and loc.lon is not None
            else FAR_KM
        )
        for loc in locations
    }
    candidates = _candidates(request, locations, dist) if request.lines else [_Candidate({}, {})]
    for c in candidates:
        c.score = _score(c, request, locs, dist, criteria)
    candidates.sort(key=lambda c: (c.score, sorted(c.parts)))
    best, others = candidates[0], candidates[1:]

    def plan(c: _Candidate) -> AllocationPlan:
        return AllocationPlan(
            parts=[PlanPart(location=code, lines=lines) for code, lines in sorted(c.parts.items())],
            deferred=c.deferred,
            score=list(c.score),
        )

    return AllocationDecision(
        plan=plan(best),
        reasons=_explain(best, others[0] if others else None, criteria, dist),
        alternatives=[plan(c) for c in others[:3]],
        strategy="default:" + ">".join(criteria),
    )
