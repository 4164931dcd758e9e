"""Defects 6 and 7 across two real API processes (`emporio serve`, sharing the database and
Redis): a key revoked through one is refused by the other on its next request, and failed
authentications are counted against one budget, whichever process answers."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.access.helpers import assert_problem
from tests.conftest import Api
from tests.reliability import live


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_two_api_processes_share_revocations_and_rate_limits(api: Api, tmp_path: Path) -> None:
    key = (await api.post("/v1/api-keys", json={"name": "two-procs", "scopes": ["ops", "storefront"]})).json()
    env = {"EMPORIO_LOG_LEVEL": "warning", "EMPORIO_RATE_LIMIT_FAILED_AUTH": "30/minute"}
    async with live.servers(tmp_path, 2, extra_env=env) as (a, b), httpx.AsyncClient(timeout=30) as client:
        for server in (a, b):
            assert (await client.get(server.url + "/v1/channels", headers=bearer(key["key"]))).status_code == 200

        # a customer token minted through one process works on the other, until revoked there
        customer = await client.post(
            a.url + "/v1/customers", json={"email": "p@example.com", "name": "P"}, headers=bearer(key["key"])
        )
        token = (
            await client.post(
                a.url + "/v1/customer-tokens", json={"customer_id": customer.json()["id"]}, headers=bearer(key["key"])
            )
        ).json()
        assert (await client.get(b.url + "/v1/orders/ord_nope", headers=bearer(token["token"]))).status_code == 404
        revoked = await client.delete(b.url + f"/v1/customer-tokens/{token['id']}", headers=bearer(key["key"]))
        assert revoked.status_code == 200, revoked.text
        assert_problem(await client.get(a.url + "/v1/orders/ord_nope", headers=bearer(token["token"])), 401)

        # the key revoked through A is refused by B on its very next request
        r = await client.delete(a.url + f"/v1/api-keys/{key['id']}", headers=bearer(api.keys["admin"]))
        assert r.status_code == 200, r.text
        assert_problem(await client.get(b.url + "/v1/channels", headers=bearer(key["key"])), 401)
        assert_problem(await client.get(a.url + "/v1/channels", headers=bearer(key["key"])), 401)

        # 3 refused so far (the token on A, the key on B and on A); 27 more spread over both
        # processes spend the address's 30
        for n in range(27):
            server = (a, b)[n % 2]
            assert_problem(await client.get(server.url + "/v1/orders", headers=bearer(f"emp_guess-{n}")), 401)
        for server in (a, b):
            r = await client.get(server.url + "/v1/orders", headers=bearer("emp_one-more"))
            assert_problem(r, 429)
            assert int(r.headers["retry-after"]) >= 1
