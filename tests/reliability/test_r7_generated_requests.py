"""R7: nothing a client sends gets a 5xx, and every 4xx is problem+json.

Hypothesis generates well over 1,000 requests against the order, catalogue, inventory, customer
and KPI endpoints: arbitrary JSON, structurally plausible bodies with edge values (huge and
negative numbers, unicode, nulls, missing/extra fields, wrong types, oversized arrays), garbage
path segments and query strings, bodies that are not JSON and wrong content types: 400 + 350 +
350 + 150 = 1,250 requests per run, the same ones every run (derandomized).

Hypothesis runs in a worker thread and hands each request to the test's event loop, so it keeps
its shrinking (a failure is reported as the smallest request that shows it) while the app is
served in-process on the loop that owns the database pool.
"""

from __future__ import annotations

import asyncio
import json
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import structlog
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Api

PROBLEM = "application/problem+json"
SKUS = ("R7-TEE", "R7-MUG")
LOCATION = "WH-R7"
KPI_IDS: list[str] = []  # filled from /v1/kpis/definitions before generation starts
ORDER_IDS: list[str] = []
CUSTOMER_IDS: list[str] = []


@dataclass
class Req:
    method: str
    path: str
    as_: str | None = "ops"
    params: list[tuple[str, str]] = field(default_factory=list)
    json_body: Any = None
    raw: bytes | None = None
    content_type: str | None = None
    idempotency_key: str | None = None

    def describe(self) -> str:
        body = repr(self.raw[:200]) if self.raw is not None else json.dumps(self.json_body, default=repr)[:400]
        return f"{self.method} {self.path} params={self.params!r} as={self.as_} ct={self.content_type!r} body={body}"


# ---------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------

EDGE_INTS = st.one_of(
    st.sampled_from([0, -1, 1, 2, 199, 200, 201, 10_000, 10_001, 2**31 - 1, 2**31, -(2**31) - 1, 2**53 + 1]),
    st.sampled_from([2**63 - 1, 2**63, 2**64, 10**12, 10**12 + 1, 10**30, -(10**30)]),
)
INTS = st.one_of(EDGE_INTS, st.integers(), st.integers(-3, 12))
EDGE_TEXT = st.one_of(
    st.sampled_from(["", " ", "\x00", "null", "💥", "Ωμέγα", "a" * 65, "a" * 5000, "../../etc/passwd", "' OR 1=1 --"]),
    st.sampled_from(["%00", "R7-TEE", "R7-TEE\n", "web", "WH-R7", "\ud7ff", "é" * 300, "1e309", "-0", "<script>"]),
)
TEXT = st.one_of(EDGE_TEXT, st.text(max_size=40), st.text(alphabet=string.printable, max_size=80))
FLOATS = st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from([0.5, -0.0, 1e308, 1.0])
SCALARS = st.one_of(st.none(), st.booleans(), INTS, FLOATS, TEXT)
JSON = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=6) | st.dictionaries(TEXT, children, max_size=6),
    max_leaves=25,
)


def known(values: list[str], fallback: str) -> st.SearchStrategy[str]:
    """One of `values` as they are when drawn (the lists are filled once the shop exists)."""
    return st.integers(0, 1000).map(lambda i: values[i % len(values)] if values else fallback)


def field_or(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a plausible value, sometimes anything at all."""
    return st.one_of(valid, valid, valid, JSON)


def obj(required: dict[str, Any], optional: dict[str, Any] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """A dict shaped like a payload, with fields randomly missing, nulled or added."""
    every = {**required, **(optional or {})}
    base = st.fixed_dictionaries({}, optional={k: field_or(v) for k, v in every.items()})
    complete = st.fixed_dictionaries({k: field_or(v) for k, v in required.items()}, optional=optional or {})
    extra = st.dictionaries(TEXT, JSON, max_size=2)
    return st.one_of(complete, complete, base, st.tuples(complete, extra).map(lambda t: {**t[1], **t[0]}))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def _mutate(valid: Any, edits: list[tuple[int, str, Any]]) -> Any:
    body = json.loads(json.dumps(valid))
    for index, action, value in edits:
        paths = _paths(body)
        if not paths:
            return body
        *parents, last = paths[index % len(paths)]
        holder = body
        for p in parents:
            holder = holder[p]
        if action == "set":
            holder[last] = value
        elif action == "delete":
            del holder[last]
        elif isinstance(holder, dict):  # "extra": a field nobody asked for, next to this one
            holder[f"extra_{index}"] = value
    return body


def near(valid: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A valid body as is, or with one to three fields changed, removed or added."""
    edit = st.tuples(st.integers(0, 100), st.sampled_from(["set", "set", "delete", "extra"]), SCALARS | JSON)
    return st.builds(_mutate, st.just(valid), st.lists(edit, max_size=3))


SKU = st.one_of(st.sampled_from(SKUS), st.sampled_from(SKUS), TEXT)
CODE = st.one_of(st.sampled_from(["web", "phone", "store", LOCATION]), TEXT)
EMAIL = st.one_of(st.sampled_from(["r7@example.com", "R7@EXAMPLE.com", "bad", "a@b.c"]), st.emails(), TEXT)
ADDRESS = obj(
    {"name": TEXT, "line1": TEXT, "city": TEXT, "postcode": TEXT, "country": st.sampled_from(["GR", "gr", "GRC"])},
    {"phone": TEXT, "lat": FLOATS | INTS, "lon": FLOATS | INTS},
)
LINE = obj({"sku": SKU, "qty": INTS})
LINES = st.one_of(
    st.lists(LINE, max_size=4),
    st.integers(0, 10_000).map(lambda n: [{"sku": SKUS[0], "qty": 1}] * n),  # long arrays, cheap to build
    st.integers(1, 250).map(lambda n: [{"sku": f"R7-{i}", "qty": 1} for i in range(n)]),
)
VALID_ORDER = {
    "channel": "web",
    "customer": {"email": "r7@example.com", "name": "R7 Buyer", "phone": "+30 210 1234567", "locale": "el"},
    "lines": [{"sku": SKUS[0], "qty": 2}, {"sku": SKUS[1], "qty": 1}],
    "shipping_address": {"name": "R7", "line1": "Ermou 1", "city": "Athens", "postcode": "10563", "country": "GR"},
    "delivery": {"method": "courier"},
    "payment": {"provider": "cod"},
    "external_ref": "r7-1",
}
ORDER_FUZZ = obj(
    {
        "channel": CODE,
        "customer": st.one_of(
            obj({"email": EMAIL, "name": TEXT}, {"phone": TEXT, "locale": TEXT}),
            st.builds(lambda i: {"id": i}, st.one_of(known(CUSTOMER_IDS, "cus_x"), TEXT)),
        ),
        "lines": LINES,
    },
    {
        "shipping_address": ADDRESS,
        "delivery": obj({"method": st.sampled_from(["courier", "pickup", "drone"])}, {"pickup_location": CODE}),
        "payment": obj({"provider": st.sampled_from(["cod", "stripe", "", "nope"])}),
        "external_ref": TEXT,
    },
)
ORDER = st.one_of(near(VALID_ORDER), near(VALID_ORDER), ORDER_FUZZ)
PRODUCT_FUZZ = obj(
    {
        "sku": st.one_of(st.builds(lambda n: f"R7-P{n}", st.integers(0, 10**6)), SKU),
        "name": TEXT,
        "price": obj({"amount": INTS, "currency": st.sampled_from(["EUR", "USD", "eur", "EURO"])}),
    },
    {
        "category": TEXT,
        "weight_g": INTS,
        "dims_mm": obj({"l": INTS, "w": INTS, "h": INTS}),
        "preorder": st.booleans(),
        "backorder": st.booleans(),
    },
)
PRODUCT = st.one_of(
    st.integers(0, 10**9).flatmap(
        lambda n: near(
            {
                "sku": f"R7-P{n}",
                "name": "Generated",
                "price": {"amount": 1250, "currency": "EUR"},
                "category": "tees",
                "weight_g": 200,
                "dims_mm": {"l": 300, "w": 200, "h": 20},
                "preorder": False,
                "backorder": True,
            }
        )
    ),
    PRODUCT_FUZZ,
)
LOCATION_FUZZ = obj(
    {
        "code": st.one_of(st.builds(lambda n: f"R7-L{n}", st.integers(0, 10**6)), CODE),
        "name": TEXT,
        "type": st.sampled_from(["warehouse", "store", "moon"]),
    },
    {
        "address": obj({}, {"line1": TEXT, "city": TEXT, "postcode": TEXT, "country": TEXT}),
        "lat": FLOATS | INTS,
        "lon": FLOATS | INTS,
        "ships": st.booleans(),
        "pickup": st.booleans(),
        "priority": INTS,
    },
)
LOCATION_BODY = st.one_of(
    st.integers(0, 10**9).flatmap(
        lambda n: near(
            {
                "code": f"R7-L{n}",
                "name": "Generated store",
                "type": "store",
                "address": {"line1": "Ermou 2", "city": "Athens", "postcode": "10563", "country": "GR"},
                "lat": 37.97,
                "lon": 23.73,
                "ships": True,
                "pickup": True,
                "priority": 5,
            }
        )
    ),
    LOCATION_FUZZ,
)
CUSTOMER_FUZZ = obj({"email": EMAIL, "name": TEXT}, {"phone": TEXT, "locale": TEXT})
CUSTOMER = st.one_of(
    st.integers(0, 10**9).flatmap(
        lambda n: near({"email": f"r7-{n}@example.com", "name": "Gen", "phone": "210 1234567", "locale": "en"})
    ),
    CUSTOMER_FUZZ,
)
SEGMENT = st.one_of(
    st.sampled_from([*SKUS, LOCATION, "nope", "R7-TEE/../x"]),
    st.text(min_size=1, max_size=30),
    st.sampled_from(["%", "..", ".", "a/b", "a?b", "#", " ", "💥"]),
)


def seg(value: str) -> str:
    return quote(value, safe="")


def pairs(keys: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[list[tuple[str, str]]]:
    """Query parameters: the named ones with plausible or garbage values, plus strays, repeats."""
    named = st.fixed_dictionaries({}, optional={k: field_or(v).map(str) for k, v in keys.items()})
    strays = st.lists(st.tuples(st.sampled_from([*keys, "x", ""]), TEXT.map(str)), max_size=3)
    return st.tuples(named, strays).map(lambda t: [*t[0].items(), *t[1]])


INSTANT = st.one_of(
    st.sampled_from(["2026-01-01", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00+02:00", "2016-01-01", "2036-12-31"]),
    st.sampled_from(["0001-01-01", "9999-12-31", "2026-13-01", "2026-02-30", "2026-01-01T25:00:00Z", "yesterday"]),
    st.dates().map(str),
    st.datetimes().map(lambda d: d.isoformat() + "Z"),
    TEXT,
)
GRANULARITY = st.sampled_from(["day", "week", "month", "year", "hour", ""])
GROUP_BY = st.sampled_from(["channel", "location", "sku", "segment", "category", "nope", ""])
LIMIT = st.one_of(st.sampled_from(["-1", "0", "1", "200", "201", "1e3", "abc", ""]), INTS.map(str))
CURSOR = st.one_of(st.sampled_from(["", "=", "garbage", "AAAA", "////", "b3JkXw", "%FF"]), TEXT, st.binary().map(repr))


def order_requests() -> st.SearchStrategy[Req]:
    return st.builds(
        lambda body, role, key: Req("POST", "/v1/orders", as_=role, json_body=body, idempotency_key=key),
        st.one_of(ORDER, ORDER, ORDER, JSON),
        st.sampled_from(["storefront", "storefront", "admin"]),
        st.one_of(st.none(), st.none(), st.text(alphabet=string.ascii_letters + string.digits + "-_", max_size=300)),
    )


def catalogue_requests() -> st.SearchStrategy[Req]:
    def put_level(loc: str, sku: str, body: Any) -> Req:
        return Req("PUT", f"/v1/inventory/{seg(loc)}/{seg(sku)}", json_body=body)

    on_hand = st.one_of(near({"on_hand": 9_000_000}), obj({"on_hand": INTS}))
    count = st.one_of(
        near({"location": LOCATION, "sku": SKUS[1], "counted_qty": 9_000_000, "counted_by": "r7"}),
        obj({"location": CODE, "sku": SKU, "counted_qty": INTS}, {"counted_by": TEXT}),
    )
    return st.one_of(
        st.builds(lambda b: Req("POST", "/v1/products", json_body=b), st.one_of(PRODUCT, PRODUCT, JSON)),
        st.builds(lambda b: Req("POST", "/v1/locations", json_body=b), st.one_of(LOCATION_BODY, LOCATION_BODY, JSON)),
        st.builds(
            lambda b, role: Req("POST", "/v1/customers", as_=role, json_body=b),
            st.one_of(CUSTOMER, CUSTOMER, JSON),
            st.sampled_from(["storefront", "ops"]),
        ),
        st.builds(
            put_level,
            st.one_of(st.just(LOCATION), st.just(LOCATION), SEGMENT),
            st.one_of(st.sampled_from(SKUS), st.sampled_from(SKUS), SEGMENT),
            st.one_of(on_hand, on_hand, JSON),
        ),
        st.builds(lambda b: Req("POST", "/v1/inventory/counts", json_body=b), st.one_of(count, count, JSON)),
    )


def query_requests() -> st.SearchStrategy[Req]:
    filters = {"channel": CODE, "segment": st.sampled_from(["first_order", "returning", "x"]), "location": CODE}
    order_id = st.one_of(known(ORDER_IDS, "ord_x"), SEGMENT)
    return st.one_of(
        st.builds(
            lambda p: Req("GET", "/v1/orders", params=p),
            pairs(
                {
                    "status": st.sampled_from(["confirmed", "cancelled", "nope"]),
                    "channel": CODE,
                    "customer": TEXT,
                    "limit": LIMIT,
                    "cursor": CURSOR,
                }
            ),
        ),
        st.builds(lambda p: Req("GET", "/v1/kpis", params=p), pairs({"from": INSTANT, "to": INSTANT, **filters})),
        st.builds(
            lambda k, p: Req("GET", f"/v1/kpis/{seg(k)}", params=p),
            st.one_of(known(KPI_IDS, "revenue"), known(KPI_IDS, "revenue"), SEGMENT),
            pairs({"from": INSTANT, "to": INSTANT, "group_by": GROUP_BY, "granularity": GRANULARITY, **filters}),
        ),
        st.builds(
            lambda i, body, role: Req("POST", f"/v1/orders/{seg(i)}/cancel", as_=role, json_body=body),
            order_id,
            st.one_of(st.none(), obj({}, {"reason": TEXT}), JSON),
            st.sampled_from(["storefront", "ops"]),
        ),
        st.builds(lambda i: Req("GET", f"/v1/orders/{seg(i)}"), order_id),
        st.builds(lambda i: Req("GET", f"/v1/orders/{seg(i)}/timeline"), order_id),
        st.builds(lambda i: Req("GET", f"/v1/customers/{seg(i)}/timeline", as_="agent"), SEGMENT),
        st.builds(
            lambda p: Req("GET", "/v1/products", params=p),
            pairs({"limit": LIMIT, "cursor": CURSOR, "category": TEXT}),
        ),
        st.builds(lambda p: Req("GET", "/v1/inventory", params=p), pairs({"sku": SKU, "location": CODE})),
        st.builds(lambda s: Req("GET", f"/v1/products/{seg(s)}"), SEGMENT),
        st.builds(lambda s: Req("GET", f"/v1/locations/{seg(s)}"), SEGMENT),
    )


def raw_requests() -> st.SearchStrategy[Req]:
    targets = st.sampled_from(
        [
            ("POST", "/v1/orders", "storefront"),
            ("POST", "/v1/products", "ops"),
            ("POST", "/v1/locations", "ops"),
            ("POST", "/v1/customers", "storefront"),
            ("POST", "/v1/inventory/counts", "ops"),
            ("PUT", f"/v1/inventory/{LOCATION}/{SKUS[0]}", "ops"),
            ("POST", "/v1/orders/ord_x/cancel", "ops"),
        ]
    )
    content_types = st.sampled_from(
        [
            None,
            "application/json",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "multipart/form-data; boundary=xyz",
            "application/xml",
            "application/json; charset=utf-16",
            "application/problem+json",
            "application/x-ndjson",
            "",
        ]
    )
    bodies = st.one_of(
        st.binary(max_size=300),
        st.sampled_from([b"", b"{", b"[]", b"null", b"0", b'"x"', b"\xff\xfe{}", b'{"a":1}{"b":2}', b"a=1&b=2"]),
        st.sampled_from([b"NaN", b'{"on_hand": NaN}', b'{"on_hand": 1e999}', b'{"lines": [' + b"[" * 5000 + b"]"]),
        JSON.map(lambda v: json.dumps(v).encode("utf-16")),
        ORDER.map(lambda v: json.dumps(v).encode()[:-1]),
    )
    return st.builds(
        lambda t, body, ct: Req(t[0], t[1], as_=t[2], raw=body, content_type=ct),
        targets,
        bodies,
        content_types,
    )


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------


def check(req: Req, r: httpx.Response) -> None:
    where = f"{req.describe()} → {r.status_code} {r.text[:500]}"
    assert r.status_code < 500, where
    if r.status_code >= 400:
        assert r.headers.get("content-type", "").startswith(PROBLEM), where
        body = r.json()
        assert isinstance(body, dict), where
        assert {"type", "title", "status", "detail"} <= body.keys(), where
        assert body["status"] == r.status_code, where
        assert isinstance(body["detail"], str) and body["detail"], where
    elif r.headers.get("content-type", "").startswith("application/json"):
        r.json()


async def send(api: Any, req: Req) -> httpx.Response:
    headers = api.headers(req.as_)
    if req.idempotency_key is not None:
        headers["Idempotency-Key"] = req.idempotency_key
    kwargs: dict[str, Any] = {"params": req.params, "headers": headers}
    if req.raw is not None:
        kwargs["content"] = req.raw
        if req.content_type is not None:
            headers["Content-Type"] = req.content_type
    elif req.method in ("POST", "PUT"):
        kwargs["content"] = json.dumps(req.json_body).encode()  # NaN / Infinity never generated here
        headers["Content-Type"] = "application/json"
    return await api.client.request(req.method, req.path, **kwargs)  # type: ignore[no-any-return]


def explore(
    loop: asyncio.AbstractEventLoop, api: Any, strategy: st.SearchStrategy[Req], examples: int
) -> tuple[int, list[str]]:
    """Run hypothesis in this (worker) thread; each request is served on the test's loop."""
    sent = 0
    statuses: list[str] = []

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )
    @given(req=strategy)
    def prop(req: Req) -> None:
        nonlocal sent
        r = asyncio.run_coroutine_threadsafe(send(api, req), loop).result(timeout=60)
        sent += 1
        statuses.append(f"{req.method} {r.status_code}")
        check(req, r)

    prop()
    return sent, statuses


async def run(api: Any, make: Callable[[], st.SearchStrategy[Req]], examples: int) -> list[str]:
    loop = asyncio.get_running_loop()
    with structlog.testing.capture_logs() as logs:
        try:
            sent, statuses = await asyncio.wait_for(asyncio.to_thread(explore, loop, api, make(), examples), 150)
        except AssertionError as exc:
            errors = [f"{e.get('path')}: {e.get('error')}" for e in logs if e.get("event") == "api.unhandled"]
            raise AssertionError(f"{exc}\nserver errors: {errors[-5:]}") from None
    assert sent >= examples, f"only {sent} requests were generated"
    return statuses


async def make_shop(api: Any) -> None:
    for sku in SKUS:
        r = await api.post(
            "/v1/products", json={"sku": sku, "name": sku, "price": {"amount": 1999, "currency": "EUR"}}, as_="ops"
        )
        assert r.status_code == 201, r.text
    r = await api.post(
        "/v1/locations",
        json={"code": LOCATION, "name": "R7", "type": "store", "pickup": True, "ships": True},
        as_="ops",
    )
    assert r.status_code == 201, r.text
    for sku in SKUS:
        r = await api.put(f"/v1/inventory/{LOCATION}/{sku}", json={"on_hand": 10_000_000}, as_="ops")
        assert r.status_code == 200, r.text
    r = await api.post("/v1/customers", json={"email": "known@example.com", "name": "Known"}, as_="ops")
    assert r.status_code == 201, r.text
    CUSTOMER_IDS[:] = [r.json()["id"]]
    r = await api.post(
        "/v1/orders",
        json={
            "channel": "web",
            "customer": {"id": CUSTOMER_IDS[0]},
            "lines": [{"sku": SKUS[0], "qty": 1}],
            "delivery": {"method": "pickup", "pickup_location": LOCATION},
        },
        as_="storefront",
    )
    assert r.status_code == 201, r.text
    ORDER_IDS[:] = [r.json()["id"]]
    r = await api.get("/v1/kpis/definitions", as_="ops")
    assert r.status_code == 200, r.text
    KPI_IDS[:] = [d["id"] for d in r.json()]


def spread(statuses: list[str]) -> set[int]:
    return {int(s.split()[1]) for s in statuses}


async def test_r7_generated_order_bodies(api: Api) -> None:
    await make_shop(api)
    statuses = await run(api, order_requests, 400)
    assert {201, 400, 422} <= spread(statuses), sorted(set(statuses))  # reached validation and placement


async def test_r7_generated_catalogue_inventory_and_customer_bodies(api: Api) -> None:
    await make_shop(api)
    statuses = await run(api, catalogue_requests, 350)
    assert {200, 201, 400} <= spread(statuses), sorted(set(statuses))


async def test_r7_generated_paths_and_query_strings(api: Api) -> None:
    await make_shop(api)
    statuses = await run(api, query_requests, 350)
    assert {200, 400, 404} <= spread(statuses), sorted(set(statuses))


async def test_r7_bodies_that_are_not_json_and_wrong_content_types(api: Api) -> None:
    await make_shop(api)
    statuses = await run(api, raw_requests, 150)
    assert {400, 415} & spread(statuses), sorted(set(statuses))
