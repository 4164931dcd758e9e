"""GDPR (service.md §4) over the feedback plugin's tables: the export holds the person's survey
answers and reviews; erasure replaces their comments and reviews whole (not only where they name
themselves), keeps every KPI countable, and is idempotent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from core.customers.privacy import ERASED
from core.customers.tables import Customer
from core.orders.tables import Order
from core.runtime import Runtime
from plugins.feedback.tables import Review, SurveyResponse
from tests.feedback.support import import_lines, internal, settle, shop_records

COMMENT = "Ο κούριερ ήταν αγενής, μένω στην Ερμού 12"
REVIEW = "Την πήρα για τη μητέρα μου, ήρθε ραγισμένη"
PERIOD = {"from": "2020-01-01", "to": "2030-01-01"}


async def test_erasure_replaces_what_the_customer_wrote_and_keeps_the_kpis(api: Any, runtime: Runtime) -> None:
    assert (await import_lines(api, shop_records(datetime.now(UTC) - timedelta(days=2)))).status_code == 200
    customer_id, order_id = await internal(Customer, "c1"), await internal(Order, "o1")
    survey = await api.post(
        "/v1/surveys", json={"survey": "csat", "customer_id": customer_id, "delivery": "embedded"}, as_="agent"
    )
    assert survey.status_code == 201, survey.text
    answered = await api.post(
        f"/v1/surveys/{survey.json()['id']}/responses", json={"score": 1, "comment": COMMENT}, as_="storefront"
    )
    assert answered.status_code == 201, answered.text
    written = await api.post(
        "/v1/reviews", json={"order_id": order_id, "sku": "A1", "rating": 2, "title": "Κρίμα", "body": REVIEW},
        as_="storefront",
    )  # fmt: skip
    assert written.status_code == 201, written.text
    assert (
        await api.post(f"/v1/reviews/{written.json()['id']}/moderate", json={"decision": "publish"}, as_="ops")
    ).status_code == 200
    await api.post(f"/v1/reviews/{written.json()['id']}/reply", json={"body": "Λυπούμαστε πολύ!"}, as_="agent")
    await settle(runtime)

    exported = (await api.get(f"/v1/customers/{customer_id}/export", as_="admin")).json()
    assert [r["comment"] for r in exported["survey_responses"]] == [COMMENT]
    assert [r["body"] for r in exported["reviews"]] == [REVIEW]
    before = (await api.get("/v1/kpis", params=PERIOD, as_="ops")).json()["kpis"]

    erased = await api.post(f"/v1/customers/{customer_id}/erase", as_="admin")
    assert erased.status_code == 200, erased.text
    [response] = await SurveyResponse.select()
    [review] = await Review.select()
    assert response["comment"] == ERASED and response["score"] == 1
    assert (review["title"], review["body"], review["reply"]) == (ERASED, ERASED, ERASED)
    after = (await api.get("/v1/kpis", params=PERIOD, as_="ops")).json()["kpis"]
    for kpi in ("csat", "average_rating", "survey_response_rate"):
        assert after[kpi] == before[kpi], kpi
    public = (await api.get("/v1/products/A1/reviews", as_="storefront")).json()
    assert public["count"] == 1 and public["items"][0]["author"] is None and REVIEW not in str(public)
    for text in (COMMENT, REVIEW, "Ερμού 12"):
        assert text not in (await api.get(f"/v1/customers/{customer_id}/export", as_="admin")).text
    again = await api.post(f"/v1/customers/{customer_id}/erase", as_="admin")
    assert again.status_code == 200 and again.json()["values_scrubbed"] == 0
