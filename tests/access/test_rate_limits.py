"""Defect 6 (issue 16): Redis-backed rate limits, answered 429 problem+json with Retry-After:
failed authentication per client address (100 a minute by default, api.md), failed dashboard
sign-ins, storefront writes per key, and named policies any endpoint opts into (survey links,
chat). The counts live in Redis, so every API process shares them (two real processes:
test_two_processes.py)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from litestar import Litestar, get
from litestar.datastructures import State
from litestar.params import FromPath

from api.auth import LIMITER_STATE, rate_limit
from api.problems import exception_handlers
from core.access.ratelimits import FAILED_AUTH, SURVEY, RateLimiter
from core.access.settings import RATE_FAILED_AUTH, parse_rate
from core.runtime import Runtime
from core.settings import QUEUE_NAME, read
from tests.access.helpers import app_of, assert_problem, client_from
from tests.conftest import Api


def limited(r: httpx.Response) -> dict[str, Any]:
    problem = assert_problem(r, 429)
    assert problem["type"].endswith("/rate-limited")
    assert 1 <= int(r.headers["retry-after"]) <= 60, r.headers
    assert problem["retry_after"] == int(r.headers["retry-after"])
    return problem


async def test_failed_authentications_are_limited_per_address(api: Api) -> None:
    assert read(RATE_FAILED_AUTH) == "100/minute"  # api.md's default
    async with client_from(api) as attacker, client_from(api) as neighbour:
        for n in range(100):
            r = await attacker.get("/v1/orders", headers={"Authorization": f"Bearer emp_guess-{n}"})
            assert_problem(r, 401)
        problem = limited(await attacker.get("/v1/orders", headers={"Authorization": "Bearer emp_guess-101"}))
        assert "failed authentications" in problem["detail"] and "100 per minute" in problem["detail"]
        # revoked-looking, malformed and customer-token guesses count the same
        limited(await attacker.get("/v1/orders", headers={"Authorization": "Bearer ect_guess"}))
        # another address has its own budget
        assert_problem(await neighbour.get("/v1/orders", headers={"Authorization": "Bearer emp_guess"}), 401)
        # only failures count: a shop's own key is not locked out by someone guessing beside it
        ok = await attacker.get("/v1/channels", headers={"Authorization": f"Bearer {api.keys['ops']}"})
        assert ok.status_code == 200, ok.text
        # nothing presented, nothing guessed: a request without a key is a plain 401
        assert_problem(await attacker.get("/v1/orders"), 401)


async def test_the_count_is_in_redis_not_in_the_process(
    api: Api, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMPORIO_RATE_LIMIT_FAILED_AUTH", "5/minute")
    address = "10.99.0.1"
    # a second limiter — as another API process has — spends the address's budget in Redis
    other_process = RateLimiter(runtime.redis_url(), namespace=read(QUEUE_NAME))
    try:
        for _ in range(5):
            await other_process.hit(FAILED_AUTH, address)
    finally:
        await other_process.close()
    async with client_from(api, address) as client:
        limited(await client.get("/v1/orders", headers={"Authorization": "Bearer emp_one-more"}))


async def test_storefront_writes_are_limited_per_key(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMPORIO_RATE_LIMIT_STOREFRONT_WRITES", "3/minute")
    for n in range(3):
        r = await api.post("/v1/customers", json={"email": f"w{n}@example.com", "name": "W"}, as_="storefront")
        assert r.status_code == 201, r.text
    problem = limited(await api.post("/v1/customers", json={"email": "w4@example.com", "name": "W"}, as_="storefront"))
    assert "writes with this key" in problem["detail"]
    # reads are not writes; staff keys are not storefront keys; another storefront key has its own budget
    assert (await api.get("/v1/orders/ord_nope", as_="storefront")).status_code == 404
    assert (await api.post("/v1/customers", json={"email": "o@example.com", "name": "O"}, as_="ops")).status_code == 201
    second = await api.post("/v1/api-keys", json={"name": "shop-2", "scopes": ["storefront"]})
    api.keys["storefront-2"] = second.json()["key"]
    r = await api.post("/v1/customers", json={"email": "s2@example.com", "name": "S"}, as_="storefront-2")
    assert r.status_code == 201, r.text


async def test_failed_dashboard_sign_ins_are_limited(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMPORIO_RATE_LIMIT_OPS_SIGN_IN", "2/minute")
    async with client_from(api) as browser:
        for _ in range(2):
            assert_problem(await browser.post("/ops/session", json={"key": "emp_wrong"}), 401)
        limited(await browser.post("/ops/session", json={"key": "emp_wrong-again"}))


async def test_a_named_policy_guards_any_endpoint(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """How the survey (`/s/…`) and chat endpoints opt in: `guards=[rate_limit("survey")]`."""
    monkeypatch.setenv("EMPORIO_RATE_LIMIT_SURVEY", "2/minute")

    @get("/s/{token:str}", guards=[rate_limit(SURVEY)])
    async def survey(token: FromPath[str]) -> dict[str, str]:
        return {"token": token}

    limiter = RateLimiter(runtime.redis_url(), namespace=read(QUEUE_NAME) + ":guard-test")
    # an ASGI app; Litestar's precise types are not httpx's
    app: Any = Litestar([survey], state=State({LIMITER_STATE: limiter}), exception_handlers=exception_handlers())
    try:
        transport = httpx.ASGITransport(app=app, client=("10.77.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert [(await client.get(f"/s/t{n}")).status_code for n in range(2)] == [200, 200]
            limited(await client.get("/s/t3"))
    finally:
        await limiter.reset(SURVEY, "10.77.0.1")
        await limiter.close()


async def test_a_limiter_without_redis_lets_requests_through() -> None:
    """A rate limit protects the shop; it must not become the outage when Redis is away."""
    limiter = RateLimiter("redis://127.0.0.1:1/0", namespace="nowhere")
    try:
        for _ in range(3):
            await limiter.hit(FAILED_AUTH, "10.0.0.1")  # no RateLimited, no connection error
    finally:
        await limiter.close()


def test_rates_are_declared_settings() -> None:
    assert parse_rate("OFF") == "off" and parse_rate("10 per second") == "10 per second"
    with pytest.raises(ValueError, match="must be a rate such as 100/minute"):
        parse_rate("lots")


async def test_the_app_made_one_limiter(api: Api) -> None:
    assert isinstance(app_of(api).state[LIMITER_STATE], RateLimiter)
