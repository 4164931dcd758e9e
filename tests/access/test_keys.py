"""Defect 7 (issue 16): API keys are listed without secrets, can expire, and are revoked at once;
a revoked key ends the dashboard sessions and customer tokens it opened. (Two API processes:
test_two_processes.py.)"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

import core.access.apikeys
import core.access.customer_tokens
from tests.access.helpers import assert_problem
from tests.conftest import Api

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The access domain's clock, pinned (keys and tokens expire by it)."""
    pinned = Clock()
    for module in (core.access.apikeys, core.access.customer_tokens):
        monkeypatch.setattr(module, "utcnow", pinned)
    return pinned


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_keys_are_listed_without_secrets(api: Api) -> None:
    created = await api.post("/v1/api-keys", json={"name": "listed", "scopes": ["ops", "agent"]})
    assert created.status_code == 201, created.text
    listed = await api.get("/v1/api-keys?limit=200")
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert page["next_cursor"] is None
    mine = next(k for k in page["items"] if k["id"] == created.json()["id"])
    assert mine == {
        "id": created.json()["id"],
        "name": "listed",
        "prefix": created.json()["key"][:10],
        "scopes": ["ops", "agent"],
        "created_at": mine["created_at"],
        "expires_at": None,
        "revoked_at": None,
        "agent_id": None,
    }
    plain = [*api.keys.values(), created.json()["key"]]
    assert not [k for k in plain if k in listed.text or k[10:] in listed.text]
    assert hashlib.sha256(created.json()["key"].encode()).hexdigest() not in listed.text
    # pages
    first = (await api.get("/v1/api-keys?limit=2")).json()
    second = (await api.get(f"/v1/api-keys?limit=2&cursor={first['next_cursor']}")).json()
    assert len(first["items"]) == 2 and {k["id"] for k in first["items"]}.isdisjoint(k["id"] for k in second["items"])


async def test_a_revoked_key_gets_401_at_once(api: Api) -> None:
    created = (await api.post("/v1/api-keys", json={"name": "to-revoke", "scopes": ["ops"]})).json()
    assert (await api.client.get("/v1/channels", headers=bearer(created["key"]))).status_code == 200
    revoked = await api.client.delete(f"/v1/api-keys/{created['id']}", headers=bearer(api.keys["admin"]))
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None
    assert_problem(await api.client.get("/v1/channels", headers=bearer(created["key"])), 401)
    # again: the same answer, the first revocation time kept
    again = await api.client.delete(f"/v1/api-keys/{created['id']}", headers=bearer(api.keys["admin"]))
    assert again.status_code == 200 and again.json()["revoked_at"] == revoked.json()["revoked_at"]
    assert_problem(await api.client.delete("/v1/api-keys/key_nope", headers=bearer(api.keys["admin"])), 404)
    for role in ("ops", "storefront", "agent"):
        assert_problem(await api.client.delete(f"/v1/api-keys/{created['id']}", headers=bearer(api.keys[role])), 403)


async def test_a_key_expires_by_itself(api: Api, clock: Clock) -> None:
    expires = NOW + timedelta(hours=1)
    created = await api.post(
        "/v1/api-keys", json={"name": "temp", "scopes": ["ops"], "expires_at": expires.isoformat()}
    )
    assert created.status_code == 201, created.text
    assert created.json()["expires_at"].startswith("2026-03-02T10:30:00")
    key = created.json()["key"]
    clock.now = expires - timedelta(seconds=1)
    assert (await api.client.get("/v1/channels", headers=bearer(key))).status_code == 200
    clock.now = expires
    assert_problem(await api.client.get("/v1/channels", headers=bearer(key)), 401)
    past = await api.post("/v1/api-keys", json={"name": "old", "scopes": ["ops"], "expires_at": "2026-03-01T00:00:00Z"})
    assert "in the past" in assert_problem(past, 422)["detail"]


async def test_revoking_a_key_ends_its_sessions_and_customer_tokens(api: Api) -> None:
    storefront = (await api.post("/v1/api-keys", json={"name": "shop-2", "scopes": ["storefront"]})).json()
    customer = await api.client.post(
        "/v1/customers", json={"email": "t@example.com", "name": "T"}, headers=bearer(storefront["key"])
    )
    minted = await api.client.post(
        "/v1/customer-tokens", json={"customer_id": customer.json()["id"]}, headers=bearer(storefront["key"])
    )
    assert minted.status_code == 201, minted.text
    token = minted.json()["token"]
    assert (await api.client.get("/v1/orders/nope", headers=bearer(token))).status_code == 404  # authenticated
    await api.client.delete(f"/v1/api-keys/{storefront['id']}", headers=bearer(api.keys["admin"]))
    assert_problem(await api.client.get("/v1/orders/nope", headers=bearer(token)), 401)


async def test_a_key_can_be_tied_to_an_agent(api: Api) -> None:
    agent = await api.post("/v1/agents", json={"name": "Maria", "skills": [], "languages": ["el"]}, as_="ops")
    assert agent.status_code == 201, agent.text
    created = await api.post(
        "/v1/api-keys", json={"name": "maria", "scopes": ["agent"], "agent_id": agent.json()["id"]}, as_="admin"
    )
    assert created.status_code == 201, created.text
    assert created.json()["agent_id"] == agent.json()["id"]
    missing = await api.post("/v1/api-keys", json={"name": "ghost", "scopes": ["agent"], "agent_id": "agt_nope"})
    assert_problem(missing, 404)
