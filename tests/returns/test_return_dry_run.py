"""The return policy's dry run: the decision the current policy (or an unsaved draft of it)
would give a return request, with the context it was given, and nothing recorded."""

from __future__ import annotations

import msgspec

from core.jobs.tables import Event
from core.returns.tables import ReturnRequest
from core.runtime import Runtime
from plugins.returns_default.policy import DEFAULT_POLICY
from tests.conftest import Api
from tests.fulfilment.support import routed_order, seed


async def test_a_return_dry_run_decides_and_records_nothing(api: Api, runtime: Runtime) -> None:
    await seed(api)
    order, _ = await routed_order(api, runtime)
    request = {
        "order_id": order["id"],
        "method": "store",
        "lines": [{"sku": "HONEY", "qty": 1, "reason": "changed_mind"}],
    }
    events_before = await Event.count()

    current = await api.post("/v1/policies/returns/evaluate", json={"request": request}, as_="ops")
    assert current.status_code == 200, current.text
    body = current.json()
    assert body["policy_version"] == 0 and body["decision"]["verdict"]
    assert body["request"]["order_id"] == order["id"] and body["request"]["delivered_at"] is None
    assert [ln["sku"] for ln in body["request"]["lines"]] == ["HONEY"]

    draft = await api.post(
        "/v1/policies/returns/evaluate",
        json={"request": request, "policy": msgspec.to_builtins(DEFAULT_POLICY)},
        as_="ops",
    )
    assert draft.status_code == 200, draft.text
    assert draft.json()["policy_version"] == -1
    assert draft.json()["decision"] == {**body["decision"], "policy_version": -1}  # the default, as a draft

    stranger = {**request, "lines": [{"sku": "NOT-OURS", "qty": 1, "reason": "changed_mind"}]}
    refused = await api.post("/v1/policies/returns/evaluate", json={"request": stranger}, as_="ops")
    assert refused.status_code == 422 and "NOT-OURS" in refused.json()["detail"]
    unknown = await api.post("/v1/policies/returns/evaluate", json={"request": {**request, "order_id": "x"}}, as_="ops")
    assert unknown.status_code == 404
    assert await Event.count() == events_before and await ReturnRequest.count() == 0
