"""resolve_allocation (firstresult): plugins registered later are asked first, the first non-None
decision wins, None passes to the next; the routing service applies the winner's plan."""

from __future__ import annotations

from typing import Any

from core.fulfilment import routing
from core.hookspecs import hookimpl
from core.hookspecs.routing import (
    AllocationDecision,
    AllocationPlan,
    PlanPart,
    RoutingLine,
    RoutingLocation,
    RoutingRequest,
)
from core.runtime import Runtime
from core.testing.fixtures import inline_plugin


class FixedRouter:
    """Sends every open line to one location, or passes (None) when `location` is None."""

    def __init__(self, strategy: str, location: str | None) -> None:
        self.strategy = strategy
        self.location = location
        self.asked: list[RoutingRequest] = []

    @hookimpl
    def resolve_allocation(self, request: RoutingRequest) -> AllocationDecision | None:
        self.asked.append(request)
        if self.location is None:
            return None
        plan = AllocationPlan(parts=[PlanPart(location=self.location, lines={ln.sku: ln.qty for ln in request.lines})])
        return AllocationDecision(
            plan=plan, reasons=[f"{self.strategy} always ships from {self.location}"], strategy=self.strategy
        )


REQUEST = RoutingRequest(
    order_id="ord_test",
    lines=[RoutingLine(sku="TEA-1", qty=2)],
    locations=[
        RoutingLocation(
            code=code,
            type="warehouse",
            ships=True,
            pickup=False,
            priority=p,
            lat=None,
            lon=None,
            available={"TEA-1": 5},
        )
        for code, p in (("WH-NEAR", 1), ("WH-FAR", 50))
    ],
    delivery_method="courier",
    destination_postcode="10434",
)


def resolve(runtime: Runtime) -> AllocationDecision | None:
    decision: AllocationDecision | None = runtime.host.pm.hook.resolve_allocation(request=REQUEST)
    return decision


async def test_hook_resolve_allocation(runtime: Runtime) -> None:
    baseline = resolve(runtime)  # whatever the installed plugins (the default ranking) decide
    first, later = FixedRouter("first", "WH-FAR"), FixedRouter("later", "WH-NEAR")
    with (
        inline_plugin(runtime.host, first, name="inline-router-first"),
        inline_plugin(runtime.host, later, name="inline-router-later"),
    ):
        decision = resolve(runtime)
        assert decision is not None and decision.strategy == "later"  # registered later, asked first
        assert later.asked == [REQUEST] and first.asked == []  # the first answer stops the call

        later.location = None  # now it passes: the next plugin answers
        decision = resolve(runtime)
        assert decision is not None and decision.strategy == "first"
        assert decision.plan.parts == [PlanPart(location="WH-FAR", lines={"TEA-1": 2})]

        first.location = None  # both pass: the plugins installed before them decide, as before
        assert resolve(runtime) == baseline
    assert resolve(runtime) == baseline


async def seed_confirmed_order(api: Any) -> dict[str, Any]:
    product = {"sku": "TEA-1", "name": "Mountain tea", "price": {"amount": 650, "currency": "EUR"}}
    assert (await api.post("/v1/products", json=product, as_="ops")).status_code == 201
    for code, priority in (("WH-NEAR", 1), ("WH-FAR", 50)):
        location = {"code": code, "name": code, "type": "warehouse", "priority": priority}
        assert (await api.post("/v1/locations", json=location, as_="ops")).status_code == 201
        assert (await api.put(f"/v1/inventory/{code}/TEA-1", json={"on_hand": 5}, as_="ops")).status_code == 200
    body = {
        "channel": "web",
        "customer": {"email": "anna@example.gr", "name": "Anna"},
        "lines": [{"sku": "TEA-1", "qty": 2}],
        "shipping_address": {
            "name": "Anna",
            "line1": "Athinas 2",
            "city": "Athens",
            "postcode": "10551",
            "country": "GR",
        },
        "payment": {"provider": "cod"},
    }
    placed = await api.post("/v1/orders", json=body, as_="storefront")
    assert placed.status_code == 201, placed.text
    order: dict[str, Any] = placed.json()
    assert order["status"] == "confirmed"
    assert order["reservations"] == [{"sku": "TEA-1", "location": "WH-NEAR", "qty": 2}]  # intake: by priority
    return order


async def test_hook_resolve_allocation_decides_how_an_order_is_routed(api: Any, runtime: Runtime) -> None:
    order = await seed_confirmed_order(api)
    router = FixedRouter("inline-far", "WH-FAR")
    with inline_plugin(runtime.host, router, name="inline-router"):
        await routing.route_order(runtime, order["id"])
    assert len(router.asked) == 1
    asked = router.asked[0]
    assert asked.order_id == order["id"]
    assert asked.lines == [RoutingLine(sku="TEA-1", qty=2)]
    # the order's own reservation counts as available to it
    assert {loc.code: loc.available for loc in asked.locations} == {"WH-FAR": {"TEA-1": 5}, "WH-NEAR": {"TEA-1": 5}}
    allocation = (await api.get(f"/v1/orders/{order['id']}/allocation", as_="ops")).json()
    assert allocation["strategy"] == "inline-far"
    assert allocation["plan"] == [{"location": "WH-FAR", "lines": [{"sku": "TEA-1", "qty": 2}]}]
    assert allocation["reasons"] == ["inline-far always ships from WH-FAR"]
    levels = {lv["location"]: lv for lv in (await api.get("/v1/inventory", params={"sku": "TEA-1"}, as_="ops")).json()}
    assert (levels["WH-FAR"]["reserved"], levels["WH-NEAR"]["reserved"]) == (2, 0)  # reservations followed the plan
    assert (await api.get(f"/v1/orders/{order['id']}", as_="ops")).json()["status"] == "routed"
