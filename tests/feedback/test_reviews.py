"""Reviews (service.md §3): verified purchase only — a product the customer did not receive is 422,
another customer's order does not exist for them —, one review per order line, a moderation queue
whose rejections name a rule of the published content policy (never "negative"), an unmoderated
or rejected review never public, the shop's public reply, average and distribution per product,
and a 1–2 star review closing the loop with a follow-up case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from core.customers.tables import Customer
from core.orders.tables import Order
from core.service.tables import Case
from plugins.feedback.tables import Review
from tests.feedback.support import import_lines, internal, shop_records
from tests.test_orders import order_body, place, stock


async def a_shop(api: Any) -> dict[str, str]:
    answer = await import_lines(api, shop_records(datetime.now(UTC) - timedelta(days=2)))
    assert answer.status_code == 200, answer.text
    return {
        "c1": await internal(Customer, "c1"),
        "c2": await internal(Customer, "c2"),
        "o1": await internal(Order, "o1"),
        "o2": await internal(Order, "o2"),
    }


def review(order_id: str, sku: str = "A1", rating: int = 5, **extra: Any) -> dict[str, Any]:
    return {"order_id": order_id, "sku": sku, "rating": rating, "body": "Πολύ καλή κούπα", **extra}


async def token_for(api: Any, customer_id: str) -> dict[str, str]:
    minted = await api.post("/v1/customer-tokens", json={"customer_id": customer_id}, as_="storefront")
    assert minted.status_code == 201, minted.text
    return {"Authorization": f"Bearer {minted.json()['token']}"}


async def test_only_a_delivered_line_of_the_customers_own_order_can_be_reviewed(api: Any) -> None:
    ids = await a_shop(api)
    await stock(api, "WH-1", "B2", 5)
    live = await place(api, order_body([("B2", 1)], customer={"id": ids["c1"]}))  # placed, not delivered
    not_received = await api.post("/v1/reviews", json=review(live["id"], "B2"), as_="storefront")
    assert not_received.status_code == 422, not_received.text
    assert not_received.headers["content-type"].startswith("application/problem+json")
    assert "only a customer who received a product can review it" in not_received.json()["detail"]
    unknown_product = await api.post("/v1/reviews", json=review(ids["o1"], "ZZ9"), as_="storefront")
    assert unknown_product.status_code == 422
    bad_rating = await api.post("/v1/reviews", json=review(ids["o1"], rating=6), as_="storefront")
    assert bad_rating.status_code == 400  # the body does not fit ReviewIn: refused before anything is read
    eleni = await token_for(api, ids["c1"])
    theirs = await api.client.post("/v1/reviews", json=review(ids["o2"]), headers=eleni)
    assert theirs.status_code == 404  # another customer's order does not exist for this token

    written = await api.client.post("/v1/reviews", json=review(ids["o1"], title="Ωραία"), headers=eleni)
    assert written.status_code == 201, written.text
    assert written.json()["status"] == "pending" and written.json()["verified_purchase"] is True
    again = await api.post("/v1/reviews", json=review(ids["o1"], rating=1), as_="storefront")
    assert again.status_code == 409 and await Review.count() == 1


async def test_an_unmoderated_or_rejected_review_is_never_public(api: Any) -> None:
    ids = await a_shop(api)
    pending = await api.post("/v1/reviews", json=review(ids["o1"], rating=4), as_="storefront")
    assert pending.status_code == 201
    public = await api.get("/v1/products/A1/reviews", as_="storefront")
    assert public.status_code == 200
    assert public.json() == {
        "items": [], "next_cursor": None, "average": None, "count": 0,
        "distribution": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0},
    }  # fmt: skip
    queue = (await api.get("/v1/reviews", params={"status": "pending"}, as_="ops")).json()
    assert [r["id"] for r in queue["items"]] == [pending.json()["id"]]

    review_id = pending.json()["id"]
    for body in ({"decision": "reject"}, {"decision": "reject", "reason": "negative"}):
        refused = await api.post(f"/v1/reviews/{review_id}/moderate", json=body, as_="ops")
        assert refused.status_code == 422, refused.text
        assert "a negative opinion breaks none" in refused.json()["detail"]
    assert (
        await api.post(f"/v1/reviews/{review_id}/moderate", json={"decision": "publish"}, as_="agent")
    ).status_code == 403
    rejected = await api.post(
        f"/v1/reviews/{review_id}/moderate", json={"decision": "reject", "reason": "spam"}, as_="ops"
    )
    assert rejected.status_code == 200 and rejected.json()["reason"] == "spam"
    assert (await api.get("/v1/products/A1/reviews", as_="storefront")).json()["count"] == 0

    policy = await api.get("/v1/reviews/content-policy", as_=None)
    assert policy.status_code == 200
    codes = {r["code"] for r in policy.json()["reasons"]}
    assert "spam" in codes and not codes & {"negative", "low_rating", "bad_review"}
    assert "negative" in policy.json()["principle"]["en"]


async def test_published_reviews_with_average_distribution_and_the_shops_reply(api: Any) -> None:
    ids = await a_shop(api)
    first = (await api.post("/v1/reviews", json=review(ids["o1"], rating=5), as_="storefront")).json()
    second = (await api.post("/v1/reviews", json=review(ids["o2"], rating=2, body="Έσπασε"), as_="storefront")).json()
    for written in (first, second):  # a 2-star review is published like any other
        moderated = await api.post(f"/v1/reviews/{written['id']}/moderate", json={"decision": "publish"}, as_="ops")
        assert moderated.status_code == 200, moderated.text
    replied = await api.post(
        f"/v1/reviews/{second['id']}/reply", json={"body": "Λυπούμαστε, σας στέλνουμε καινούργια."}, as_="agent"
    )
    assert replied.status_code == 200
    public = (await api.get("/v1/products/A1/reviews", as_="storefront")).json()
    assert (public["count"], public["average"]) == (2, 3.5)
    assert public["distribution"] == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}
    assert [i["rating"] for i in public["items"]] == [2, 5]  # newest first
    assert public["items"][0]["reply"]["body"] == "Λυπούμαστε, σας στέλνουμε καινούργια."
    assert public["items"][1]["author"] == "Μαρία Π."  # a first name and an initial, never the whole name
    assert "customer_id" not in public["items"][0] and "order_id" not in public["items"][0]
    paged = (await api.get("/v1/products/A1/reviews", params={"limit": 1}, as_="storefront")).json()
    rest = (await api.get("/v1/products/A1/reviews", params={"cursor": paged["next_cursor"]}, as_="storefront")).json()
    assert [i["id"] for i in paged["items"] + rest["items"]] == [i["id"] for i in public["items"]]
    assert (await api.get("/v1/products/NOPE/reviews", as_="storefront")).status_code == 404
    assert (
        await api.post(f"/v1/reviews/{first['id']}/moderate", json={"decision": "publish"}, as_="ops")
    ).status_code == 409


async def test_a_one_star_review_opens_a_follow_up_case_and_a_call_back(api: Any) -> None:
    ids = await a_shop(api)
    written = await api.post("/v1/reviews", json=review(ids["o2"], rating=1, body="Ήρθε σπασμένη"), as_="storefront")
    assert written.status_code == 201
    case_id = written.json()["follow_up_case_id"]
    case = (await api.get(f"/v1/cases/{case_id}", as_="agent")).json()
    assert case["topic"] == "feedback" and case["customer"]["id"] == ids["c2"]
    assert ids["o2"] in case["links"]["orders"]
    assert any("Ήρθε σπασμένη" in m["body"] for m in case["messages"])
    context = (await api.get(f"/v1/customers/{ids['c2']}/context", as_="agent")).json()
    call_back = [a for a in context["next_best_actions"] if a["action"] == "call_back"]
    assert call_back and call_back[0]["title"] == "Call back within 24 hours"  # c2 reads English
    fine = await api.post("/v1/reviews", json=review(ids["o1"], rating=3), as_="storefront")
    assert fine.json()["follow_up_case_id"] is None
    assert await Case.count().where(Case.topic == "feedback") == 1
