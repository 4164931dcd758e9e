"""Defect 1 (issue 16): request bodies are limited per route while they stream in, before anyone
buffers them, and a key without the route's scope is refused before its body is read — also when
the request carries an Idempotency-Key (whose middleware used to read the whole body first)."""

from __future__ import annotations

from api.middleware import body_limit
from core.access.settings import IMPORT_MAX_BODY, MAX_BODY
from core.runtime import Runtime
from tests.access.helpers import CountingBody, app_of, assert_problem
from tests.conftest import Api

MiB = 1024 * 1024
CHUNK = 64 * 1024


async def test_a_chunked_body_over_the_limit_is_refused_while_it_streams(api: Api, runtime: Runtime) -> None:
    body = CountingBody(64 * MiB, CHUNK)
    r = await api.post(
        "/v1/orders",
        content=body,
        as_="storefront",
        headers={"Idempotency-Key": "big", "Content-Type": "application/json"},
    )
    problem = assert_problem(r, 413)
    assert "1 MiB" in problem["detail"] and "POST /v1/orders" in problem["detail"]
    # the server stopped pulling one chunk past the limit: the other 63 MiB were never read
    assert body.pulled <= MAX_BODY.default + CHUNK, body.pulled
    assert await count_rows(runtime, "idempotency_keys") == 0  # nothing claimed for a request that never got in


async def test_without_an_idempotency_key_the_route_limit_holds_too(api: Api) -> None:
    body = CountingBody(8 * MiB, CHUNK)
    r = await api.post("/v1/customers", content=body, as_="storefront", headers={"Content-Type": "application/json"})
    assert_problem(r, 413)
    assert body.pulled <= MAX_BODY.default + CHUNK, body.pulled


async def test_an_announced_length_over_the_limit_is_refused_before_a_byte_is_read(api: Api) -> None:
    body = CountingBody(2 * MiB, CHUNK)
    r = await api.post(
        "/v1/orders",
        content=body,
        as_="storefront",
        headers={"Content-Length": str(2 * MiB), "Idempotency-Key": "announced", "Content-Type": "application/json"},
    )
    assert_problem(r, 413)
    assert body.pulled == 0


async def test_a_key_without_the_scope_is_refused_before_its_body_is_read(api: Api, runtime: Runtime) -> None:
    for key, status in (("agent", 403), ("ops", 403)):
        body = CountingBody(4 * MiB, CHUNK)
        r = await api.post(
            "/v1/orders",
            content=body,
            as_=key,
            headers={"Idempotency-Key": f"no-scope-{key}", "Content-Type": "application/json"},
        )
        assert_problem(r, status)
        assert body.pulled == 0, (key, body.pulled)
    assert await count_rows(runtime, "idempotency_keys") == 0


async def test_routes_take_their_own_limits(api: Api) -> None:
    handlers = {route.path: route for route in app_of(api).routes}
    orders = handlers["/v1/orders"].route_handler_map["POST"][0]
    imports = handlers["/v1/import"].route_handler_map["POST"][0]
    assert body_limit(orders) == MAX_BODY.default == MiB
    # the import's 50 MiB is in effect (Litestar took its default 10 MB while the app set the limit
    # on AppConfig, which it ignores)
    assert body_limit(imports) == IMPORT_MAX_BODY.default == 50 * MiB
    assert imports.resolve_request_max_body_size() is None  # no second, smaller limit inside Litestar


async def count_rows(runtime: Runtime, table: str) -> int:
    rows = await runtime.db.fetch(f"SELECT COUNT(*) AS n FROM {table}")
    return int(rows[0]["n"])
