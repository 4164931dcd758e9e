"""The packaging dry run builds its request like a real order (the draft's one currency, the
customer's segment and language) and saves nothing; the packing slip is the packaging plugin's
page, in the customer's language unless `?lang=` asks for another."""

from __future__ import annotations

import msgspec

from core.jobs.tables import Event
from core.policies.tables import Policy
from core.runtime import Runtime
from plugins.packaging_default.policy import DEFAULT_POLICY
from tests.conftest import Api
from tests.fulfilment.support import pick, routed_order, seed


async def evaluate(api: Api, body: dict[str, object]) -> dict[str, object]:
    r = await api.post("/v1/policies/packaging/evaluate", json=body, as_="ops")
    assert r.status_code == 200, r.text
    result: dict[str, object] = r.json()
    return result


async def test_a_dry_run_packs_like_the_order_would_and_saves_nothing(api: Api, runtime: Runtime) -> None:
    await seed(api)
    order, _ = await routed_order(api, runtime, email="eleni@example.gr", locale="en")
    events_before = await Event.count()

    of_order = await evaluate(api, {"order_id": order["id"]})
    request = of_order["request"]
    assert isinstance(request, dict) and of_order["policy_version"] == 0
    assert (request["currency"], request["customer_segment"], request["locale"]) == ("EUR", "first_order", "en")
    assert request["order_value"] == 2 * 1290 + 990
    plan = of_order["plan"]
    assert isinstance(plan, dict) and plan["boxes"]

    for_customer = await evaluate(api, {"lines": [{"sku": "HONEY", "qty": 3}], "customer_id": order["customer_id"]})
    request = for_customer["request"]
    assert isinstance(request, dict)
    assert (request["customer_segment"], request["locale"], request["order_value"]) == ("returning", "en", 3 * 990)
    overridden = await evaluate(api, {"lines": [{"sku": "HONEY", "qty": 1}], "locale": "el", "on_date": "2025-12-20"})
    assert isinstance(overridden["request"], dict)
    assert (overridden["request"]["locale"], overridden["request"]["on_date"]) == ("el", "2025-12-20")

    draft_policy = msgspec.to_builtins(DEFAULT_POLICY)
    with_draft = await evaluate(api, {"order_id": order["id"], "policy": draft_policy})
    assert with_draft["policy_version"] == -1 and with_draft["plan"] == {**plan, "policy_version": -1}
    invalid = await api.post(
        "/v1/policies/packaging/evaluate", json={"order_id": order["id"], "policy": {"boxes": "none"}}, as_="ops"
    )
    assert invalid.status_code == 422 and "packaging policy is not valid" in invalid.json()["detail"]

    assert await Event.count() == events_before and await Policy.count() == 0  # nothing saved


async def test_a_draft_in_several_currencies_is_refused(api: Api) -> None:
    await seed(api)
    r = await api.post(
        "/v1/products", json={"sku": "TEA", "name": "Tea", "price": {"amount": 500, "currency": "USD"}}, as_="ops"
    )
    assert r.status_code == 201, r.text
    mixed = await api.post(
        "/v1/policies/packaging/evaluate",
        json={"lines": [{"sku": "HONEY", "qty": 1}, {"sku": "TEA", "qty": 1}]},
        as_="ops",
    )
    assert mixed.status_code == 422, mixed.text
    assert "several currencies (EUR, USD)" in mixed.json()["detail"]
    usd = await evaluate(api, {"lines": [{"sku": "TEA", "qty": 2}]})
    assert isinstance(usd["request"], dict) and usd["request"]["currency"] == "USD"
    unknown = await api.post("/v1/policies/packaging/evaluate", json={"lines": [{"sku": "NOPE", "qty": 1}]}, as_="ops")
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "lines[0].sku"
    missing = await api.post("/v1/policies/packaging/evaluate", json={"order_id": "ord_nope"}, as_="ops")
    assert missing.status_code == 404


async def test_the_packing_slip_is_the_plugins_page_in_the_customers_language(api: Api, runtime: Runtime) -> None:
    await seed(api)
    _, greek = await routed_order(api, runtime)
    _, english = await routed_order(api, runtime, email="john@example.com", locale="en")
    await pick(api, greek)

    slip = await api.get(f"/v1/shipments/{greek}/packing-slip", as_="ops")
    assert slip.status_code == 200 and slip.headers["content-type"].startswith("text/html")
    page = slip.text
    assert '<html lang="el">' in page and "Δελτίο συσκευασίας" in page
    assert "Ελαιόλαδο 1 l" in page and "Μέλι θυμαρίσιο" in page  # names, not only SKUs
    assert "Κουτί" in page and "Κανένα" not in page.split("Κουτιά", 1)[1].split("</table>", 1)[0]  # a planned box

    asked = await api.get(f"/v1/shipments/{greek}/packing-slip?lang=en", as_="ops")
    assert '<html lang="en">' in asked.text and "Packing slip" in asked.text
    theirs = await api.get(f"/v1/shipments/{english}/packing-slip", as_="ops")
    assert '<html lang="en">' in theirs.text
    assert (await api.get(f"/v1/shipments/{greek}/packing-slip?lang=greek", as_="ops")).status_code == 400
    assert (await api.get("/v1/shipments/shp_nope/packing-slip", as_="ops")).status_code == 404
