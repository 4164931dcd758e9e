"""A small, deterministic shop history ending yesterday, in the history-import format of kpis.md,
so the dashboard's default period (the last 30 days) has non-trivial values in every pillar the
engine has import kinds for."""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec

PRODUCTS: tuple[tuple[str, str, int], ...] = (
    ("TEE-BLK", "Black tee", 1990),
    ("HOOD-GRY", "Grey hoodie", 4990),
    ("CAP-RED", "Red cap", 1490),
    ("SOCK-3P", "Socks, 3 pairs", 990),
    ("JKT-NVY", "Navy jacket", 8990),
)
BANKS = ("Alpha Bank", "Eurobank", "Piraeus Bank", "National Bank of Greece")
REASONS = ("wrong_size", "damaged", "not_as_described", "changed_mind")
PICKERS = ("p1", "p2", "p3")
AGENTS = (("a1", "Ελένη Παππά", ["delivery", "returns"]), ("a2", "Nikos Georgiou", ["payment", "product"]))
TOPICS = ("delivery", "returns", "payment", "product")
DAYS = 45


def _ts(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_history(today: date, kinds: Iterable[str]) -> list[dict[str, Any]]:
    """Records for the `DAYS` days before `today` (UTC), never later than an hour ago. Kinds the
    engine does not register (fulfilment or returns may be absent) are left out."""
    available = set(kinds)
    rng = random.Random(20261101)
    now = datetime.now(UTC) - timedelta(hours=1)
    midnight = datetime(today.year, today.month, today.day, tzinfo=UTC)
    out: list[dict[str, Any]] = []
    customers = [f"c{i:02d}" for i in range(1, 17)]
    for cid in customers:
        out.append(
            {
                "kind": "customer",
                "id": cid,
                "email": f"{cid}@example.gr",
                "name": f"Customer {cid}",
                "created_at": _ts(midnight - timedelta(days=500)),
            }
        )
    prices = {sku: price for sku, _, price in PRODUCTS}
    for sku, name, price in PRODUCTS:
        out.append({"kind": "product", "sku": sku, "name": name, "price": price, "currency": "EUR", "weight_g": 300})
    out.append({"kind": "location", "code": "WH-ATH", "name": "Athens warehouse", "type": "warehouse"})
    out.append({"kind": "location", "code": "ST-THE", "name": "Thessaloniki store", "type": "store"})

    orders: list[dict[str, Any]] = []
    for cid in customers[:4]:  # earlier orders, over a year ago: these customers come back "reactivated"
        placed = midnight - timedelta(days=420, hours=rng.randint(0, 200))
        orders.append(_order(f"old-{cid}", cid, "web", placed, prices, rng))
    for days_ago in range(DAYS, 0, -1):
        for n in range(rng.randint(2, 4)):
            placed = (
                midnight - timedelta(days=days_ago) + timedelta(hours=rng.randint(8, 21), minutes=rng.randint(0, 59))
            )
            channel = rng.choices(("web", "phone", "store"), weights=(6, 2, 2))[0]
            order = _order(f"o{days_ago:02d}{n}", rng.choice(customers), channel, placed, prices, rng)
            if rng.random() < 0.04:
                order["cancelled_at"] = _ts(placed + timedelta(hours=2))
            orders.append(order)
    out.extend(orders)

    placed_at = {o["id"]: datetime.fromisoformat(o["placed_at"]) for o in orders}
    if "checkout" in available:
        for order in orders:
            started = placed_at[order["id"]] - timedelta(minutes=rng.randint(3, 30))
            out.append(_checkout(f"k-{order['id']}", order, started, order["id"]))
            if rng.random() < 0.45:  # an abandoned checkout beside most orders
                out.append(_checkout(f"k-{order['id']}-x", order, started - timedelta(hours=3), None))
    if "payment_attempt" in available:
        for order in orders:
            out.extend(_payments(order, placed_at[order["id"]], rng))
    delivered: list[tuple[dict[str, Any], datetime]] = []
    if "shipment" in available:
        for order in orders:
            if order.get("cancelled_at") or order["id"].startswith("old-"):
                continue
            shipment, delivered_at = _shipment(order, placed_at[order["id"]], now, rng)
            if shipment is not None:
                out.append(shipment)
            if delivered_at is not None:
                delivered.append((order, delivered_at))
    if "picker_shift" in available:
        for days_ago in range(DAYS, 0, -1):
            day = (midnight - timedelta(days=days_ago)).date().isoformat()
            for picker in PICKERS:
                out.append(
                    {"kind": "picker_shift", "picker": picker, "date": day, "hours": rng.choice((0.5, 1.0, 1.5))}
                )
    if "inventory_count" in available:
        for days_ago in range(DAYS, 0, -1):
            for _ in range(2):
                system = rng.randint(20, 60)
                counted = system if rng.random() < 0.85 else max(system + rng.choice((-2, -1, 1)), 0)
                out.append(
                    {
                        "kind": "inventory_count",
                        "location": rng.choice(("WH-ATH", "ST-THE")),
                        "sku": rng.choice(PRODUCTS)[0],
                        "counted_at": _ts(midnight - timedelta(days=days_ago, hours=-rng.randint(7, 18))),
                        "system_qty": system,
                        "counted_qty": counted,
                    }
                )
    if "return" in available:
        out.extend(_returns(delivered, now, rng))
    if {"agent", "case", "message", "worklog"} <= available:
        out.extend(_service(orders, now, rng))
    return out


def as_ndjson(records: list[dict[str, Any]]) -> bytes:
    return b"\n".join(msgspec.json.encode(r) for r in records) + b"\n"


def _order(
    oid: str, cid: str, channel: str, placed: datetime, prices: dict[str, int], rng: random.Random
) -> dict[str, Any]:
    skus = rng.sample(sorted(prices), k=rng.choice((1, 1, 2, 3)))
    return {
        "kind": "order",
        "id": oid,
        "channel": channel,
        "customer_id": cid,
        "placed_at": _ts(placed),
        "currency": "EUR",
        "lines": [{"sku": s, "qty": rng.choice((1, 1, 2, 3)), "unit_price": prices[s]} for s in skus],
        "promised_ship_by": _ts(placed + timedelta(days=1)),
        "promised_delivery_by": _ts(placed + timedelta(days=3)),
        "cancelled_at": None,
    }


def _checkout(kid: str, order: dict[str, Any], started: datetime, order_id: str | None) -> dict[str, Any]:
    return {
        "kind": "checkout",
        "id": kid,
        "channel": order["channel"],
        "customer_id": order["customer_id"],
        "started_at": _ts(started),
        "order_id": order_id,
    }


def _payments(order: dict[str, Any], placed: datetime, rng: random.Random) -> list[dict[str, Any]]:
    amount = sum(ln["qty"] * ln["unit_price"] for ln in order["lines"])
    card: dict[str, Any] = {
        "provider": "stripe",
        "method": "card",
        "card_brand": rng.choice(("visa", "visa", "mastercard")),
        "funding": rng.choice(("credit", "debit")),
        "issuer_bank": rng.choice(BANKS),
    }
    base: dict[str, Any] = {"kind": "payment_attempt", "order_id": order["id"], "amount": amount, "currency": "EUR"}
    attempts = []
    if rng.random() < 0.25:
        attempts.append(
            {
                **base,
                **card,
                "id": f"pf-{order['id']}",
                "status": "failed",
                "decline_code": "insufficient_funds",
                "attempted_at": _ts(placed - timedelta(minutes=2)),
            }
        )
    if order["channel"] == "store" and rng.random() < 0.5:
        paid = {**base, "provider": "cod", "method": "cash", "id": f"p-{order['id']}"}
    else:
        paid = {**base, **card, "id": f"p-{order['id']}"}
    attempts.append({**paid, "status": "succeeded", "decline_code": None, "attempted_at": _ts(placed)})
    return attempts


def _shipment(
    order: dict[str, Any], placed: datetime, now: datetime, rng: random.Random
) -> tuple[dict[str, Any] | None, datetime | None]:
    pick_start = placed + timedelta(hours=rng.randint(1, 20))
    pick_done = pick_start + timedelta(minutes=rng.randint(4, 45))
    if pick_done > now:
        return None, None
    shipped = pick_done + timedelta(hours=rng.randint(1, 10))
    lines = []
    for ln in order["lines"]:
        short = ln["qty"] > 1 and rng.random() < 0.08
        lines.append({"sku": ln["sku"], "qty": ln["qty"], "picked_qty": ln["qty"] - 1 if short else ln["qty"]})
    record: dict[str, Any] = {
        "kind": "shipment",
        "id": f"s-{order['id']}",
        "order_id": order["id"],
        "location": "ST-THE" if order["channel"] == "store" else "WH-ATH",
        "courier": "acs",
        "tracking_number": f"ACS{rng.randint(10**9, 10**10 - 1)}",
        "lines": lines,
        "picker": rng.choice(PICKERS),
        "pick_started_at": _ts(pick_start),
        "pick_completed_at": _ts(pick_done),
        "pick_error": rng.random() < 0.05,
        "damaged": rng.random() < 0.03,
        "docs_ok": rng.random() > 0.03,
    }
    if shipped > now:
        return record, None
    record["shipped_at"] = _ts(shipped)
    record["shipping_cost"] = rng.choice((250, 350, 450, 650))
    delivered = shipped + timedelta(hours=rng.randint(18, 80))
    if delivered > now:
        return record, None
    attempts = []
    if rng.random() < 0.15:
        attempts.append({"at": _ts(delivered - timedelta(days=1)), "outcome": "failed", "reason": "recipient_absent"})
    attempts.append({"at": _ts(delivered), "outcome": "delivered"})
    record["attempts"] = attempts
    record["delivered_at"] = _ts(delivered)
    return record, delivered


def _returns(
    delivered: list[tuple[dict[str, Any], datetime]], now: datetime, rng: random.Random
) -> list[dict[str, Any]]:
    out = []
    for order, delivered_at in delivered:
        if rng.random() > 0.18:
            continue
        requested = delivered_at + timedelta(days=rng.randint(1, 4))
        if requested > now:
            continue
        received = requested + timedelta(days=rng.randint(1, 3))
        line = rng.choice(order["lines"])
        resolution = rng.choice(("refund", "refund", "replacement", "repair", "store_credit"))
        disposition = rng.choice(("resell", "resell", "repair", "recycle", "write_off"))
        out.append(
            {
                "kind": "return",
                "id": f"r-{order['id']}",
                "order_id": order["id"],
                "requested_at": _ts(requested),
                "received_at": _ts(received) if received <= now else None,
                "lines": [
                    {
                        "sku": line["sku"],
                        "qty": rng.randint(1, line["qty"]),
                        "reason": rng.choice(REASONS),
                        "resolution": resolution,
                        "disposition": disposition,
                        "repair_cost": 600 if resolution == "repair" else 0,
                        "replacement_cost": line["unit_price"] if resolution == "replacement" else 0,
                    }
                ],
            }
        )
    return out


def _service(orders: list[dict[str, Any]], now: datetime, rng: random.Random) -> list[dict[str, Any]]:
    """Agents and resolved cases with their messages and work time, so the service KPIs have values
    and series (the live cases of a test are the only unresolved ones)."""
    out: list[dict[str, Any]] = [
        {
            "kind": "agent",
            "id": aid,
            "name": name,
            "skills": skills,
            "languages": ["el", "en"],
            "hourly_cost": 1800,
            "currency": "EUR",
            "capacity": 0,  # the history's agents take no new cases: a test's live case waits in the queue
        }
        for aid, name, skills in AGENTS
    ]
    for order in orders:
        if order["id"].startswith("old-") or rng.random() > 0.3:
            continue
        opened = datetime.fromisoformat(order["placed_at"]) + timedelta(hours=rng.randint(2, 60))
        answered = opened + timedelta(minutes=rng.randint(10, 400))
        resolved = answered + timedelta(hours=rng.randint(1, 30))
        if resolved > now:
            continue
        agent = rng.choice(AGENTS)[0]
        cid = f"k-{order['id']}"
        channel = rng.choice(("email", "email", "chat", "phone", "web"))
        out.append(
            {
                "kind": "case",
                "id": cid,
                "customer_id": order["customer_id"],
                "order_id": order["id"],
                "channel": channel,
                "topic": rng.choice(TOPICS),
                "created_at": _ts(opened),
                "resolved_at": _ts(resolved),
                "assignee": agent,
                "reopened": 0,
            }
        )
        out.append(
            {
                "kind": "message",
                "id": f"{cid}-m1",
                "case_id": cid,
                "at": _ts(opened),
                "author": "customer",
                "channel": channel,
            }
        )
        out.append(
            {
                "kind": "message",
                "id": f"{cid}-m2",
                "case_id": cid,
                "at": _ts(answered),
                "author": "agent",
                "agent_id": agent,
                "channel": channel,
            }
        )
        if rng.random() < 0.3:  # a second round: not solved at the first contact
            again = answered + timedelta(minutes=rng.randint(30, 120))
            if again < resolved:
                out.append(
                    {
                        "kind": "message",
                        "id": f"{cid}-m3",
                        "case_id": cid,
                        "at": _ts(again),
                        "author": "customer",
                        "channel": channel,
                    }
                )
        out.append(
            {
                "kind": "worklog",
                "case_id": cid,
                "agent_id": agent,
                "at": _ts(answered),
                "minutes": rng.choice((4.0, 6.5, 9.0, 12.0)),
            }
        )
    return out
