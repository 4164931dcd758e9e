"""Defect 2 (issue 16): a response carrying a secret is never stored by Idempotency-Key; its replay
answers 409 saying the secret was shown once (with the rest of the original, secret blanked)."""

from __future__ import annotations

from core.runtime import Runtime
from tests.access.helpers import assert_problem
from tests.conftest import Api


async def stored_text(runtime: Runtime) -> str:
    rows = await runtime.db.fetch("SELECT * FROM idempotency_keys")
    return "\n".join(repr(row) for row in rows)


async def test_a_new_api_key_is_not_kept_and_its_replay_is_refused(api: Api, runtime: Runtime) -> None:
    request = {"name": "storefront-2", "scopes": ["storefront"]}
    first = await api.post("/v1/api-keys", json=request, headers={"Idempotency-Key": "new-key"})
    assert first.status_code == 201, first.text
    created = first.json()
    assert created["key"].startswith("emp_")

    text = await stored_text(runtime)
    assert created["id"] in text  # the record exists (and says what was created)...
    assert created["key"] not in text and created["key"][10:] not in text  # ...without the key

    replay = await api.post("/v1/api-keys", json=request, headers={"Idempotency-Key": "new-key"})
    problem = assert_problem(replay, 409)
    assert problem["type"].endswith("/secret-shown-once")
    assert "shown once" in problem["detail"]
    assert problem["original"]["id"] == created["id"] and problem["original"]["key"] is None
    assert problem["original_status"] == 201
    assert created["key"] not in replay.text
    assert replay.headers["idempotent-replayed"] == "true"

    # the key works, and a different body under the same Idempotency-Key is still a 422
    assert (
        await api.client.get("/v1/api-keys", headers={"Authorization": f"Bearer {created['key']}"})
    ).status_code == 403
    other = await api.post("/v1/api-keys", json={**request, "name": "x"}, headers={"Idempotency-Key": "new-key"})
    assert_problem(other, 422)


async def test_a_customer_token_is_not_kept_and_its_replay_is_refused(api: Api, runtime: Runtime) -> None:
    customer = (await api.post("/v1/customers", json={"email": "s@example.com", "name": "S"}, as_="storefront")).json()
    request = {"customer_id": customer["id"]}
    first = await api.post("/v1/customer-tokens", json=request, as_="storefront", headers={"Idempotency-Key": "tok"})
    assert first.status_code == 201, first.text
    token = first.json()["token"]
    assert token not in await stored_text(runtime)
    replay = await api.post("/v1/customer-tokens", json=request, as_="storefront", headers={"Idempotency-Key": "tok"})
    problem = assert_problem(replay, 409)
    assert problem["original"]["id"] == first.json()["id"] and problem["original"]["token"] is None


async def test_a_refused_secret_request_is_replayed_as_it_was(api: Api) -> None:
    # no secret in a 422: the stored answer is replayed like any other
    bad = {"name": "bad", "scopes": ["nope"]}
    first = await api.post("/v1/api-keys", json=bad, headers={"Idempotency-Key": "bad-key"})
    assert_problem(first, 422)
    again = await api.post("/v1/api-keys", json=bad, headers={"Idempotency-Key": "bad-key"})
    assert again.status_code == 422 and again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
