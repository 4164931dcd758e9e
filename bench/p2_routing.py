"""P2 — routing: 10,000 orders over 20 locations and 1,000 SKUs with the default routing plugin
(pure computation, one core). Baseline in the same run: a bare greedy allocator in plain Python
(first location with the most of each line, no ranking, no reasons) over the same requests.

    python bench/p2_routing.py [--orders 10000] [--locations 20] [--skus 1000] [--seed 7]

Prints one JSON summary; the target is ≥ 2,000 orders/s for the plugin.
"""

from __future__ import annotations

import argparse
import json
import random
import time

from core.hookspecs.routing import RoutingLine, RoutingLocation, RoutingRequest
from plugins.routing_default.postcodes import AREAS
from plugins.routing_default.ranking import CRITERIA, allocate


def requests(orders: int, locations: int, skus: int, seed: int) -> list[RoutingRequest]:
    rng = random.Random(seed)
    areas = list(AREAS.items())
    catalogue = [f"SKU-{i:04d}" for i in range(skus)]
    locs = []
    for i in range(locations):
        _, (lat, lon) = areas[i % len(areas)]
        stock = {sku: rng.choice((0, 0, 1, 3, 10, 40)) for sku in catalogue}
        locs.append(
            RoutingLocation(
                code=f"LOC-{i:02d}",
                type="warehouse" if i < 4 else "store",
                ships=True,
                pickup=i >= 4,
                priority=10 if i < 4 else 50,
                lat=lat,
                lon=lon,
                available={k: v for k, v in stock.items() if v},
            )
        )
    out = []
    for n in range(orders):
        picked = rng.sample(catalogue, rng.choice((1, 2, 3, 3, 4, 5)))
        pickup = rng.random() < 0.1
        out.append(
            RoutingRequest(
                order_id=f"o{n}",
                lines=[RoutingLine(sku=s, qty=rng.choice((1, 1, 2, 3))) for s in picked],
                locations=locs,
                delivery_method="pickup" if pickup else "courier",
                pickup_location=locs[rng.randrange(4, locations)].code if pickup else None,
                destination_postcode=f"{areas[rng.randrange(len(areas))][0]}{rng.randrange(1000):03d}",
            )
        )
    return out


def baseline(request: RoutingRequest) -> dict[str, dict[str, int]]:
    parts: dict[str, dict[str, int]] = {}
    for line in request.lines:
        need = line.qty
        for loc in sorted(request.locations, key=lambda loc: -loc.available.get(line.sku, 0)):
            take = min(need, loc.available.get(line.sku, 0))
            if take:
                parts.setdefault(loc.code, {})[line.sku] = take
                need -= take
            if not need:
                break
    return parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--locations", type=int, default=20)
    parser.add_argument("--skus", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    batch = requests(args.orders, args.locations, args.skus, args.seed)

    started = time.perf_counter()
    decisions = [allocate(r, CRITERIA) for r in batch]
    plugin_s = time.perf_counter() - started
    started = time.perf_counter()
    for r in batch:
        baseline(r)
    baseline_s = time.perf_counter() - started

    split = sum(1 for d in decisions if len(d.plan.parts) > 1)
    deferred = sum(1 for d in decisions if d.plan.deferred)
    print(
        json.dumps(
            {
                "benchmark": "P2 routing",
                "orders": args.orders,
                "locations": args.locations,
                "skus": args.skus,
                "plugin_orders_per_s": round(args.orders / plugin_s),
                "baseline_orders_per_s": round(args.orders / baseline_s),
                "plugin_vs_baseline": round(baseline_s / plugin_s, 3),
                "split_orders": split,
                "orders_with_deferred_units": deferred,
                "target_orders_per_s": 2000,
                "met": args.orders / plugin_s >= 2000,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
