"""Customers (service.md §4): RFM scores and rule segments equal an independent computation on a
generated history; the list by segment and its CSV; the customer KPIs of kpis.md; the
`customer_segment=` filter; next best actions with their reasons."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from core.customers import segments
from core.customers.tables import CustomerSegments
from core.hookspecs import hookimpl
from core.hookspecs.customers import CustomerFactSource
from core.kpis.engine import KPIEngine
from core.runtime import Runtime
from core.testing.fixtures import inline_plugin
from tests.test_cli import emporio

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def history(seed: int = 3, customers: int = 60) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    records: list[dict[str, Any]] = [
        {"kind": "product", "sku": "A1", "name": "A", "price": 1000, "currency": "EUR"},
        {"kind": "product", "sku": "B2", "name": "B", "price": 2500, "currency": "EUR"},
    ]
    n = 0
    for c in range(customers):
        records.append({"kind": "customer", "id": f"c{c}", "email": f"c{c}@example.gr", "name": f"Πελάτης {c}"})
        for _ in range(rnd.choice([0, 1, 1, 2, 3, 5, 8])):
            n += 1
            placed = NOW - timedelta(days=rnd.randrange(1, 700), minutes=rnd.randrange(0, 1440))
            records.append(
                {
                    "kind": "order",
                    "id": f"o{n}",
                    "channel": "web",
                    "customer_id": f"c{c}",
                    "placed_at": stamp(placed),
                    "currency": "EUR",
                    "lines": [
                        {
                            "sku": rnd.choice(["A1", "B2"]),
                            "qty": rnd.randrange(1, 4),
                            "unit_price": rnd.choice([1000, 2500]),
                        }
                    ],
                    "cancelled_at": stamp(placed + timedelta(hours=1)) if rnd.random() < 0.1 else None,
                }
            )
    return records


async def import_history(api: Any, records: list[dict[str, Any]]) -> None:
    body = b"".join(msgspec.json.encode(r) + b"\n" for r in records)
    answer = await api.post("/v1/import", content=body, headers={"Content-Type": "application/x-ndjson"}, as_="admin")
    assert answer.status_code == 200, answer.text


def independent(records: list[dict[str, Any]]) -> dict[str, tuple[int, int, int, list[str]]]:
    """RFM by counting, for each customer, how many are strictly worse; segments by the default
    rules written out again."""

    def t(value: str) -> datetime:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))

    orders: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    for record in records:
        if record["kind"] == "order" and not record["cancelled_at"] and t(record["placed_at"]) < NOW:
            amount = sum(ln["qty"] * ln["unit_price"] for ln in record["lines"])
            orders[record["customer_id"]].append((t(record["placed_at"]), amount))
    people = sorted(orders)
    last = {c: max(at for at, _ in orders[c]) for c in people}
    first = {c: min(at for at, _ in orders[c]) for c in people}
    count = {c: len(orders[c]) for c in people}
    spent = {c: sum(v for _, v in orders[c]) for c in people}

    def score(value: dict[str, Any], c: str) -> int:
        worse = sum(1 for other in people if value[other] < value[c])
        return 1 + 5 * worse // len(people)

    out = {}
    for c in people:
        r, f, m = score(last, c), score(count, c), score(spent, c)
        since_last, since_first = (NOW - last[c]).days, (NOW - first[c]).days
        member = [
            name
            for name, holds in (
                ("vip", m >= 5 and f >= 4),
                ("loyal", f >= 4 and r >= 3),
                ("at_risk", r <= 2 and f >= 3 and since_last <= 365),
                ("churned", since_last >= 366),
                ("one_time", count[c] <= 1),
                ("new", since_first <= 30),
            )
            if holds
        ]
        out[c] = (r, f, m, member or ["regular"])
    return out


async def test_rfm_and_segments_equal_an_independent_computation(api: Any, runtime: Runtime) -> None:
    records = history()
    await import_history(api, records)
    async with runtime.unit_of_work():
        built = await segments.build(runtime.host, now=NOW)
    wanted = independent(records)
    assert built == len(wanted) > 30
    customers = {r["id"]: r for r in (await api.get("/v1/customers", params={"limit": 200}, as_="ops")).json()["items"]}
    by_email = {c["email"]: c for c in customers.values()}
    for external, (r, f, m, member) in wanted.items():
        shown = by_email[f"{external}@example.gr"]
        assert shown["rfm"] == {"recency": r, "frequency": f, "monetary": m}, external
        assert shown["segments"] == member, external
    every = {s for _, _, _, member in wanted.values() for s in member}
    assert {"churned", "one_time"} <= every  # the history reaches beyond one segment
    for name in sorted(every):
        listed = (await api.get("/v1/customers", params={"segment": name, "limit": 200}, as_="ops")).json()
        assert {c["email"] for c in listed["items"]} == {f"{e}@example.gr" for e, v in wanted.items() if name in v[3]}
    csv = await api.get("/v1/customers", params={"segment": "churned", "format": "csv"}, as_="ops")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("id,email,name") and len(csv.text.splitlines()) > 1
    one = next(c for c in customers.values() if c["segments"])
    read = (await api.get(f"/v1/customers/{one['id']}", as_="ops")).json()
    assert read["segments"] == one["segments"] and read["rfm"] == one["rfm"]


async def test_memberships_keep_their_history(api: Any, runtime: Runtime) -> None:
    await import_history(api, history(seed=5, customers=20))
    async with runtime.unit_of_work():
        await segments.build(runtime.host, now=NOW)
    first = {r["customer_id"]: r["segments"] for r in await CustomerSegments.select()}
    async with runtime.unit_of_work():
        await segments.build(runtime.host, now=NOW + timedelta(days=400))  # a year later: everyone churned
    later = {r["customer_id"]: msgspec.json.decode(r["segments"]) for r in await CustomerSegments.select()}
    assert set(later) == set(first) and all("churned" in s for s in later.values())
    sizes = await segments.sizes_over_time([NOW + timedelta(days=1), NOW + timedelta(days=401)])
    assert sizes[1]["sizes"]["churned"] == len(later)
    assert sizes[0]["sizes"].get("churned", 0) < len(later)


async def test_customer_kpis_equal_an_independent_computation(api: Any, runtime: Runtime) -> None:
    records = history(seed=9)
    await import_history(api, records)
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    before = start - (end - start)

    def t(value: str) -> datetime:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))

    live = [r for r in records if r["kind"] == "order" and not r["cancelled_at"]]
    earlier = {r["customer_id"] for r in live if before <= t(r["placed_at"]) < start}
    during = {r["customer_id"] for r in live if start <= t(r["placed_at"]) < end}
    retention = len(earlier & during) / len(earlier)
    value: dict[str, int] = defaultdict(int)
    for r in live:
        if t(r["placed_at"]) < end:
            value[r["customer_id"]] += sum(ln["qty"] * ln["unit_price"] for ln in r["lines"])
    got = (await api.get("/v1/kpis", params={"from": "2026-01-01", "to": "2026-04-01"}, as_="ops")).json()["kpis"]
    assert got["customer_retention_rate"]["value"] == retention
    assert got["churn_rate"]["value"] == 1 - retention
    assert got["customer_lifetime_value"]["value"] == sum(value.values()) / len(value)
    assert got["post_service_repurchase_rate"]["value"] is None  # no case resolved in P
    channel = (await api.get("/v1/kpis/churn_rate", params={"from": "2026-01-01", "to": "2026-04-01",
                                                             "channel": "web"}, as_="ops")).json()  # fmt: skip
    assert channel["filter_not_applicable"] is True and channel["value"] == 1 - retention
    monthly = {"from": "2026-01-01", "to": "2026-04-01", "granularity": "month"}
    series = (await api.get("/v1/kpis/customer_retention_rate", params=monthly, as_="ops")).json()
    january = series["series"][0]
    jan_start, jan_end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    jan_before = {r["customer_id"] for r in live if jan_start - (jan_end - jan_start) <= t(r["placed_at"]) < jan_start}
    jan_during = {r["customer_id"] for r in live if jan_start <= t(r["placed_at"]) < jan_end}
    assert january["value"] == (len(jan_before & jan_during) / len(jan_before) if jan_before else None)


async def test_the_customer_segment_filter_counts_the_segments_orders(api: Any, runtime: Runtime) -> None:
    records = history(seed=4)
    await import_history(api, records)
    async with runtime.unit_of_work():
        await segments.build(runtime.host, now=NOW)
    wanted = independent(records)
    one_timers = {c for c, v in wanted.items() if "one_time" in v[3]}
    start, end = datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)
    expected = sum(
        1
        for r in records
        if r["kind"] == "order" and not r["cancelled_at"] and r["customer_id"] in one_timers
        and start <= datetime.fromisoformat(r["placed_at"].replace("Z", "+00:00")) < end
    )  # fmt: skip
    got = await KPIEngine(runtime.host).value(
        KPIEngine(runtime.host).definition("orders_placed"), start, end, {"customer_segment": "one_time"}
    )
    assert got["value"] == expected > 0
    params = {"from": "2025-01-01", "to": "2026-06-01", "customer_segment": "one_time"}
    api_value = (await api.get("/v1/kpis/orders_placed", params=params, as_="ops")).json()
    assert api_value["value"] == expected


class DetractorFacts:
    def __init__(self, who: str) -> None:
        self.who = who

    @hookimpl
    def register_customer_facts(self, register: Callable[[CustomerFactSource], None]) -> None:
        async def load(customer_id: str) -> set[str]:
            return {"detractor"} if customer_id == self.who else set()

        register(CustomerFactSource(name="inline-detractors", load=load))


async def test_hook_register_customer_facts_drives_next_best_actions(api: Any, runtime: Runtime) -> None:
    records = history(seed=8, customers=30)
    await import_history(api, records)
    async with runtime.unit_of_work():
        await segments.build(runtime.host, now=NOW)
    listed = (await api.get("/v1/customers", params={"segment": "at_risk", "limit": 200}, as_="ops")).json()["items"]
    if listed:
        at_risk = listed[0]["id"]
        context = (await api.get(f"/v1/customers/{at_risk}/context", as_="agent")).json()
        assert "retention_coupon" in [a["action"] for a in context["next_best_actions"]]
    someone = (await api.get("/v1/customers", params={"limit": 1}, as_="ops")).json()["items"][0]["id"]
    with inline_plugin(runtime.host, DetractorFacts(someone), name="inline-facts"):
        actions = (await api.get(f"/v1/customers/{someone}/context", as_="agent")).json()["next_best_actions"]
        assert actions[0]["action"] == "call_back" and actions[0]["reason"]
        assert actions[0]["title"] == "Τηλεφωνήστε μέσα σε 24 ώρες"
    after = (await api.get(f"/v1/customers/{someone}/context", as_="agent")).json()["next_best_actions"]
    assert "call_back" not in [a["action"] for a in after]


async def test_emporio_segments_build_from_the_command_line(api: Any, test_env: dict[str, str]) -> None:
    await import_history(api, history(seed=12, customers=10))
    code, out, err = await emporio(test_env, "segments", "build")
    assert code == 0, err
    segmented = int(out.strip().split()[1])
    assert segmented == await CustomerSegments.count() > 0
