"""R8: every endpoint × every scope → the right 401 / 403 / not-an-auth-answer; keys hashed at
rest; API keys and card data never reach the logs.

The matrix is built from the running app's routes, so a new endpoint is covered automatically and
this test fails until its expected scopes are written into EXPECTED below (from api.md)."""

from __future__ import annotations

import asyncio
import hashlib
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog

from api.app import create_app
from api.auth import ADMITS_CUSTOMERS, OPS_SESSION_COOKIE
from core.access.tables import ApiKey
from core.db.database import utcnow
from core.logging import _redact
from core.runtime import Runtime
from tests.conftest import Api
from tests.reliability import live

PROBLEM = "application/problem+json"
OPEN = "open"  # no API key needed (the header is not looked at)
SIGNATURE = "signature"  # webhooks: the provider's signature instead of a key (unsigned → 401)
ROLES = ("admin", "ops", "agent", "storefront")

# (method, path) → the scopes that may call it (admin implies all), or OPEN / SIGNATURE.
# From api.md; entries marked * are endpoints api.md does not list, with the scope they implement.
EXPECTED: dict[tuple[str, str], frozenset[str] | str] = {
    ("GET", "/health"): OPEN,
    ("GET", "/ready"): OPEN,
    ("GET", "/metrics"): OPEN,
    ("GET", "/v1/plugins"): frozenset({"admin"}),
    ("POST", "/v1/api-keys"): frozenset({"admin"}),
    ("GET", "/v1/api-keys"): frozenset({"admin"}),
    ("DELETE", "/v1/api-keys/{key_id}"): frozenset({"admin"}),
    ("POST", "/v1/webhook-endpoints"): frozenset({"admin"}),
    ("GET", "/v1/webhook-endpoints"): frozenset({"admin"}),
    ("GET", "/v1/webhook-endpoints/{endpoint_id}"): frozenset({"admin"}),
    ("PATCH", "/v1/webhook-endpoints/{endpoint_id}"): frozenset({"admin"}),
    ("POST", "/v1/webhook-endpoints/{endpoint_id}/secret"): frozenset({"admin"}),
    ("GET", "/v1/webhook-endpoints/{endpoint_id}/deliveries"): frozenset({"admin"}),
    ("POST", "/v1/webhook-deliveries/{delivery_id}/retry"): frozenset({"admin"}),
    ("POST", "/v1/customer-tokens"): frozenset({"storefront"}),
    ("DELETE", "/v1/customer-tokens/{token_id}"): frozenset({"storefront"}),  # and the token itself
    ("POST", "/v1/import"): frozenset({"admin"}),
    ("GET", "/v1/channels"): frozenset({"ops"}),
    ("POST", "/v1/products"): frozenset({"ops"}),
    ("GET", "/v1/products"): frozenset({"ops"}),
    ("GET", "/v1/products/{sku}"): frozenset({"ops"}),
    ("POST", "/v1/locations"): frozenset({"ops"}),
    ("GET", "/v1/locations"): frozenset({"ops"}),
    ("GET", "/v1/locations/{code}"): frozenset({"ops"}),
    ("PUT", "/v1/inventory/{location}/{sku}"): frozenset({"ops"}),
    ("GET", "/v1/inventory"): frozenset({"ops"}),
    ("POST", "/v1/inventory/counts"): frozenset({"ops"}),
    ("POST", "/v1/customers"): frozenset({"storefront", "ops"}),
    ("GET", "/v1/customers/{customer_id}"): frozenset({"ops"}),
    ("GET", "/v1/customers/{customer_id}/timeline"): frozenset({"agent"}),
    ("POST", "/v1/orders"): frozenset({"storefront"}),
    ("GET", "/v1/orders"): frozenset({"ops"}),
    ("GET", "/v1/orders/{order_id}"): frozenset({"storefront", "ops"}),
    ("POST", "/v1/orders/{order_id}/cancel"): frozenset({"storefront", "ops"}),
    ("GET", "/v1/orders/{order_id}/timeline"): frozenset({"agent", "ops"}),
    ("GET", "/v1/kpis"): frozenset({"ops"}),
    ("GET", "/v1/kpis/definitions"): frozenset({"ops"}),
    ("GET", "/v1/kpis/{kpi_id}"): frozenset({"ops"}),
    # payments
    ("POST", "/v1/checkouts"): frozenset({"storefront"}),
    ("GET", "/v1/checkouts/{checkout_id}"): frozenset({"storefront", "ops"}),  # *
    ("POST", "/v1/checkouts/{checkout_id}/complete"): frozenset({"storefront"}),
    ("POST", "/v1/orders/{order_id}/payments"): frozenset({"storefront"}),
    ("POST", "/v1/orders/{order_id}/payment-link"): frozenset({"agent", "ops"}),  # *
    ("GET", "/v1/payments/{payment_id}"): frozenset({"ops"}),
    ("POST", "/v1/payments/{payment_id}/confirm"): frozenset({"storefront"}),  # *
    ("POST", "/v1/payments/{payment_id}/capture"): frozenset({"ops"}),
    ("POST", "/v1/payments/{payment_id}/refund"): frozenset({"ops"}),
    ("POST", "/v1/payments/{payment_id}/cancel"): frozenset({"ops"}),  # *
    ("POST", "/v1/webhooks/psp/{provider}"): SIGNATURE,
    # fulfilment
    ("GET", "/v1/orders/{order_id}/allocation"): frozenset({"ops"}),
    ("POST", "/v1/orders/{order_id}/route"): frozenset({"ops"}),
    ("GET", "/v1/shipments"): frozenset({"ops"}),
    ("GET", "/v1/shipments/{shipment_id}"): frozenset({"ops", "storefront"}),
    ("POST", "/v1/shipments/{shipment_id}/refresh-tracking"): frozenset({"ops"}),
    ("POST", "/v1/shipments/{shipment_id}/pick"): frozenset({"ops"}),
    ("POST", "/v1/shipments/{shipment_id}/pack"): frozenset({"ops"}),
    ("GET", "/v1/shipments/{shipment_id}/label"): frozenset({"ops", "storefront"}),  # a return's label: storefront
    ("GET", "/v1/shipments/{shipment_id}/packing-slip"): frozenset({"ops"}),  # *
    ("POST", "/v1/shipments/{shipment_id}/collected"): frozenset({"ops"}),  # *
    ("POST", "/v1/dispatch/{location}/close"): frozenset({"ops"}),
    ("POST", "/v1/webhooks/courier/{courier}"): SIGNATURE,
    ("GET", "/v1/policies/{kind}"): frozenset({"ops"}),  # /v1/policies/packaging, /v1/policies/returns
    ("PUT", "/v1/policies/{kind}"): frozenset({"ops"}),
    ("GET", "/v1/policies/{kind}/history"): frozenset({"ops"}),  # *
    ("POST", "/v1/policies/packaging/evaluate"): frozenset({"ops"}),
    ("GET", "/v1/tasks"): frozenset({"agent", "ops"}),  # *
    ("POST", "/v1/tasks/{task_id}/close"): frozenset({"agent", "ops"}),  # *
    # returns
    ("POST", "/v1/returns"): frozenset({"storefront", "agent"}),
    ("GET", "/v1/returns/{return_id}"): frozenset({"storefront", "ops"}),
    ("POST", "/v1/returns/{return_id}/approve"): frozenset({"ops"}),
    ("POST", "/v1/returns/{return_id}/decline"): frozenset({"ops"}),
    ("POST", "/v1/returns/{return_id}/receive"): frozenset({"ops"}),
    ("POST", "/v1/policies/returns/evaluate"): frozenset({"ops"}),
    # customers (* beyond api.md's core table)
    ("GET", "/v1/customers"): frozenset({"agent", "ops"}),
    ("GET", "/v1/customers/lookup"): frozenset({"agent"}),
    ("GET", "/v1/customers/{customer_id}/context"): frozenset({"agent"}),
    ("GET", "/v1/customers/{customer_id}/export"): frozenset({"admin"}),
    ("POST", "/v1/customers/{customer_id}/erase"): frozenset({"admin"}),
    ("GET", "/v1/segments"): frozenset({"ops"}),
    ("POST", "/v1/segments/build"): frozenset({"ops"}),
    # the service desk (service.md)
    ("POST", "/v1/cases"): frozenset({"storefront", "agent"}),
    ("GET", "/v1/cases"): frozenset({"agent"}),
    ("GET", "/v1/cases/{case_id}"): frozenset({"agent"}),
    ("POST", "/v1/cases/{case_id}/messages"): frozenset({"storefront", "agent"}),
    ("POST", "/v1/cases/{case_id}/claim"): frozenset({"agent"}),
    ("POST", "/v1/cases/{case_id}/assign"): frozenset({"agent"}),
    ("POST", "/v1/cases/{case_id}/resolve"): frozenset({"agent"}),
    ("POST", "/v1/cases/{case_id}/reopen"): frozenset({"agent"}),
    ("POST", "/v1/cases/{case_id}/close"): frozenset({"agent"}),
    ("POST", "/v1/cases/{case_id}/merge"): frozenset({"agent"}),
    ("POST", "/v1/cases/{case_id}/worklogs"): frozenset({"agent"}),
    ("GET", "/v1/cases/{case_id}/attachments/{attachment_id}"): frozenset({"agent"}),
    ("GET", "/v1/cases/{case_id}/suggestions"): frozenset({"agent"}),
    ("GET", "/v1/agents"): frozenset({"ops"}),
    ("POST", "/v1/agents"): frozenset({"ops"}),
    ("GET", "/v1/agents/{agent_id}"): frozenset({"ops"}),
    ("PUT", "/v1/agents/{agent_id}"): frozenset({"ops"}),
    ("POST", "/v1/policies/service/evaluate"): frozenset({"ops"}),
    ("GET", "/v1/mail/outbox"): frozenset({"ops"}),
    # live chat (the contact_chat plugin): the widget and its status are public, the socket has its own token
    ("GET", "/chat/widget.js"): OPEN,
    ("GET", "/v1/chat/status"): OPEN,
    ("GET", "/v1/chat/suggestions"): OPEN,
    ("POST", "/v1/chat/sessions"): frozenset({"storefront", "ops"}),
    ("POST", "/v1/chat/presence"): frozenset({"agent"}),
    ("POST", "/v1/webhooks/telephony/{provider}"): SIGNATURE,  # * the contact channels' call events
    ("GET", "/v1/webhooks/meta"): OPEN,  # * Meta's subscription handshake (its own verify token)
    ("POST", "/v1/webhooks/meta"): SIGNATURE,  # * Messenger and Instagram messages
    # * dispatch, shop floor and the ops dashboard's service pages
    ("GET", "/v1/dispatch"): frozenset({"ops"}),
    ("GET", "/v1/dispatch/{location}"): frozenset({"ops"}),
    ("GET", "/v1/ops/queues"): frozenset({"ops"}),
    ("GET", "/ops/agents"): frozenset({"agent", "ops"}),
    ("GET", "/ops/cases/{case_id}/macros"): frozenset({"agent"}),
    ("PATCH", "/v1/orders/{order_id}/shipping-address"): frozenset({"agent", "ops"}),
    # feedback (surveys, reviews): customer tokens admitted where the storefront is
    ("GET", "/v1/surveys"): frozenset({"agent", "ops"}),
    ("POST", "/v1/surveys"): frozenset({"storefront", "agent", "ops"}),
    ("GET", "/v1/surveys/{survey_id}"): frozenset({"storefront", "agent", "ops"}),
    ("POST", "/v1/surveys/{survey_id}/responses"): frozenset({"storefront", "agent", "ops"}),
    ("GET", "/v1/survey-responses"): frozenset({"agent", "ops"}),
    ("GET", "/v1/reviews"): frozenset({"agent", "ops"}),
    ("POST", "/v1/reviews"): frozenset({"storefront", "agent", "ops"}),
    ("GET", "/v1/reviews/content-policy"): OPEN,
    ("GET", "/v1/reviews/{review_id}"): frozenset({"agent", "ops"}),
    ("POST", "/v1/reviews/{review_id}/moderate"): frozenset({"ops"}),
    ("POST", "/v1/reviews/{review_id}/reply"): frozenset({"agent", "ops"}),
    ("GET", "/v1/products/{sku}/reviews"): frozenset({"storefront", "agent", "ops"}),
    ("GET", "/s/{token}"): OPEN,  # survey pages: the link's own token
    ("POST", "/s/{token}"): OPEN,
    ("GET", "/feedback/survey.css"): OPEN,
    ("GET", "/ops/feedback"): OPEN,
    ("GET", "/ops/feedback/{asset}"): OPEN,
    # the knowledge base
    ("GET", "/v1/kb/articles"): frozenset({"storefront", "agent", "ops"}),
    ("POST", "/v1/kb/articles"): frozenset({"ops"}),
    ("GET", "/v1/kb/articles/{key}"): frozenset({"storefront", "agent", "ops"}),
    ("PUT", "/v1/kb/articles/{key}"): frozenset({"ops"}),
    ("POST", "/v1/kb/articles/{key}/publish"): frozenset({"ops"}),
    ("POST", "/v1/kb/articles/{key}/archive"): frozenset({"ops"}),
    ("GET", "/v1/kb/articles/{key}/versions"): frozenset({"ops"}),
    ("GET", "/v1/kb/articles/{key}/versions/{version}"): frozenset({"ops"}),
    ("GET", "/v1/kb/articles/{key}/diff"): frozenset({"ops"}),
    ("POST", "/v1/kb/articles/{key}/restore"): frozenset({"ops"}),
    ("GET", "/v1/kb/search"): frozenset({"storefront", "agent", "ops"}),
    ("POST", "/v1/kb/articles/{key}/feedback"): frozenset({"storefront"}),
    ("GET", "/v1/kb/content-gaps"): frozenset({"ops"}),
    ("GET", "/v1/kb/links"): frozenset({"agent", "ops"}),
    ("GET", "/v1/kb/macros/{macro_id}/links"): frozenset({"agent", "ops"}),
    ("POST", "/v1/kb/preview"): frozenset({"ops"}),
    ("GET", "/ops/kb"): OPEN,
    ("GET", "/ops/kb/{asset}"): OPEN,
    ("GET", "/kb/{locale}/{slug}"): OPEN,
    # * sales-channel webhooks: unsigned (Skroutz signs nothing); they only name an order, read again
    ("POST", "/v1/webhooks/channels/{code}"): OPEN,
    # the ops dashboard (*): the page and its assets are public; sign-in takes the key in the body
    ("GET", "/ops"): OPEN,
    ("GET", "/ops/static/{file_path}"): OPEN,
    ("POST", "/ops/session"): OPEN,
    ("POST", "/ops/session/logout"): OPEN,
    ("GET", "/ops/session"): frozenset({"agent", "ops"}),  # the dashboard has an agent workspace
}
# The problem type of an unsigned webhook: the engine's own, or (Meta) a plain 401.
SIGNATURE_PROBLEMS = ("/webhook-signature", "/401")
# The OpenAPI document and its UIs are public (the auth middleware excludes ^/schema).
OPEN_PREFIXES = ("/schema",)
# Path parameters that must name something real for the request to reach its own checks.
PARAMS = {"kind": "packaging", "file_path": "swagger-ui.css", "path": "redoc", "version": "1"}
CARD = "4242424242424242"
LOGOUT = ("POST", "/ops/session/logout")


def _template(path: str) -> str:
    return re.sub(r"\{(\w+):[\w]+\}", r"{\1}", path)


def app_endpoints(runtime: Runtime, *, documented_only: bool = False) -> list[tuple[str, str]]:
    """Every (method, path) the app serves, read from its routes (HEAD/OPTIONS are automatic);
    `documented_only`: those meant to appear in the OpenAPI document (not static files)."""
    app = create_app(runtime)
    found = set()
    for route in app.routes:
        for method, handler in getattr(route, "route_handler_map", {}).items():
            handler = handler[0] if isinstance(handler, tuple) else handler
            if documented_only and not handler.resolve_include_in_schema():
                continue
            if method not in ("HEAD", "OPTIONS"):
                found.add((method, _template(route.path)))
    return sorted(found, key=lambda e: (e[1], e[0]))


def customer_admitted(runtime: Runtime) -> set[tuple[str, str]]:
    """Endpoints whose guard admits customer tokens (`requires(…, customers=True)`); they show a
    token only its customer's own records (another's is a 404), every other endpoint answers 403."""
    admitted = set()
    for route in create_app(runtime).routes:
        for method, handler in getattr(route, "route_handler_map", {}).items():
            handler = handler[0] if isinstance(handler, tuple) else handler
            if any(getattr(guard, ADMITS_CUSTOMERS, False) for guard in handler.resolve_guards()):
                admitted.add((method, _template(route.path)))
    return admitted


def installed(runtime: Runtime) -> dict[str, str | None]:
    """A webhook path names an installed provider when there is one (cash on delivery always is),
    so the unsigned request reaches the signature check."""
    return {
        "provider": min(runtime.host.payment_processors, default=None),
        "courier": min(runtime.host.couriers, default=None),
    }


def concrete(path: str, runtime: Runtime) -> str:
    params = {**PARAMS, **{k: v for k, v in installed(runtime).items() if v}}
    if path.startswith("/v1/webhooks/telephony/"):  # its {provider} is a telephony provider, not a PSP
        params["provider"] = min(runtime.host.telephony_providers, default="r8-nothing-here")
    return re.sub(r"\{(\w+)\}", lambda m: params.get(m.group(1), "r8-nothing-here"), path)


async def credentials(api: Any, runtime: Runtime) -> dict[str, dict[str, str]]:
    """Authorization headers per column of the matrix."""
    revoked = (await api.post("/v1/api-keys", json={"name": "r8-revoked", "scopes": ["admin"]}, as_="admin")).json()
    await ApiKey.update({ApiKey.revoked_at: utcnow()}).where(ApiKey.id == revoked["id"])
    api.keys["revoked"] = revoked["key"]
    columns = {role: {"Authorization": f"Bearer {api.keys[role]}"} for role in ROLES}
    columns["none"] = {}
    columns["garbage"] = {"Authorization": "Bearer emp_this-is-not-a-key-at-all"}
    columns["revoked"] = {"Authorization": f"Bearer {revoked['key']}"}
    columns["wrong-scheme"] = {"Authorization": f"Basic {api.keys['admin']}"}
    columns["empty-bearer"] = {"Authorization": "Bearer "}
    columns["oversized"] = {"Authorization": "Bearer " + "x" * 5000}
    columns["ops-cookie"] = {"Cookie": f"{OPS_SESSION_COOKIE}={await ops_session(api)}"}
    columns["customer-token"] = {"Authorization": f"Bearer {await customer_token(api)}"}
    return columns


async def customer_token(api: Any) -> str:
    """A customer token (what a storefront hands a customer's browser) for a customer of its own."""
    customer = await api.post("/v1/customers", json={"email": "r8@example.com", "name": "R8"}, as_="storefront")
    assert customer.status_code == 201, customer.text
    minted = await api.post("/v1/customer-tokens", json={"customer_id": customer.json()["id"]}, as_="storefront")
    assert minted.status_code == 201, minted.text
    api.keys["customer-token"] = minted.json()["token"]
    return str(minted.json()["token"])


async def ops_session(api: Any) -> str:
    """Sign in to the ops dashboard with the ops key; the session cookie it sets stands in for
    the key on GET only (a cookie never authorises a change: browsers attach it cross-site)."""
    try:
        r = await api.post("/ops/session", json={"key": api.keys["ops"]}, as_=None)
        assert r.status_code == 201, r.text
        token = r.cookies[OPS_SESSION_COOKIE]
    finally:
        api.client.cookies.clear()  # the session-wide client must not carry it into other requests
    api.keys["ops-cookie"] = token
    return str(token)


def check_problem(r: httpx.Response, status: int, where: str) -> None:
    assert r.status_code == status, f"{where}: {r.status_code} {r.text[:300]}"
    assert r.headers.get("content-type", "").startswith(PROBLEM), f"{where}: {r.headers}"
    body = r.json()
    assert {"type", "title", "status", "detail"} <= body.keys(), f"{where}: {body}"
    assert body["status"] == status, f"{where}: {body}"


async def test_r8_every_endpoint_has_an_expectation(runtime: Runtime) -> None:
    served = app_endpoints(runtime)
    missing = [f"{m} {p}" for m, p in served if (m, p) not in EXPECTED and not p.startswith(OPEN_PREFIXES)]
    assert not missing, "endpoints without an expected scope in EXPECTED (add them from api.md): " + ", ".join(missing)
    gone = [f"{m} {p}" for (m, p) in EXPECTED if (m, p) not in served]
    assert not gone, "EXPECTED lists endpoints the app does not serve (renamed or dropped?): " + ", ".join(gone)
    assert len(served) >= 60


async def test_r8_every_endpoint_times_every_scope(api: Api, runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    # Hundreds of refused credentials from one address in a few seconds: the failed-auth limit
    # (tests/access) would answer 429 long before the matrix is done.
    monkeypatch.setenv("EMPORIO_RATE_LIMIT_FAILED_AUTH", "off")
    # Meta's webhook answers 503 until its secrets are set (Meta delivers again): configured,
    # an unsigned request reaches its signature check.
    monkeypatch.setenv("EMPORIO_META_APP_SECRET", "r8-app-secret")
    monkeypatch.setenv("EMPORIO_META_VERIFY_TOKEN", "r8-verify-token")
    admitted = customer_admitted(runtime)
    columns = await credentials(api, runtime)
    sem = asyncio.Semaphore(16)
    failures: list[str] = []

    async def call(method: str, path: str, column: str) -> None:
        url = concrete(path, runtime)
        kwargs: dict[str, Any] = {"headers": columns[column]}
        if method in ("POST", "PUT", "PATCH"):
            kwargs["json"] = {}
        async with sem:
            r = await api.client.request(method, url, **kwargs)
        where = f"{method} {url} as {column}"
        expected = OPEN if path.startswith(OPEN_PREFIXES) else EXPECTED[method, path]
        try:
            assert r.status_code < 500, f"{where}: {r.status_code} {r.text[:300]}"
            if expected == OPEN:
                assert r.status_code not in (401, 403), f"{where}: {r.status_code} {r.text[:300]}"
            elif expected == SIGNATURE and "r8-nothing-here" in url:  # no such provider installed
                check_problem(r, 404, where)
            elif expected == SIGNATURE:
                check_problem(r, 401, where)
                assert r.json()["type"].endswith(SIGNATURE_PROBLEMS), f"{where}: {r.text}"
            elif column == "ops-cookie" and method not in ("GET", "HEAD"):
                check_problem(r, 401, where)
            elif column == "ops-cookie" and "ops" not in expected:
                check_problem(r, 403, where)
            elif column == "ops-cookie" or (column == "customer-token" and (method, path) in admitted):
                assert r.status_code not in (401, 403), f"{where}: {r.status_code} {r.text[:300]}"
            elif column == "customer-token":
                check_problem(r, 403, where)
            elif column not in ROLES:
                check_problem(r, 401, where)
                assert r.headers.get("www-authenticate") == "Bearer", f"{where}: {r.headers}"
            elif column == "admin" or column in expected:
                assert r.status_code not in (401, 403), f"{where}: {r.status_code} {r.text[:300]}"
                if r.status_code >= 400:
                    check_problem(r, r.status_code, where)
            else:
                check_problem(r, 403, where)
        except AssertionError as exc:
            failures.append(str(exc).split("\n")[0])

    endpoints = app_endpoints(runtime)
    last = [LOGOUT] if LOGOUT in endpoints else []  # signing out ends the cookie column's session
    first = [e for e in endpoints if e not in last]
    for batch in (first, last):
        await asyncio.wait_for(asyncio.gather(*(call(m, p, c) for m, p in batch for c in columns)), 120)
    assert not failures, f"{len(failures)} wrong answers:\n" + "\n".join(sorted(failures))


async def test_r8_openapi_document_lists_every_endpoint(api: Api, runtime: Runtime) -> None:
    r = await api.get("/schema/openapi.json", as_=None)
    assert r.status_code == 200, r.text
    documented = {(m.upper(), p) for p, ops in r.json()["paths"].items() for m in ops if m != "parameters"}
    served = {(m, p) for m, p in app_endpoints(runtime, documented_only=True) if not p.startswith(OPEN_PREFIXES)}
    assert served <= documented, sorted(served - documented)


async def test_r8_keys_are_stored_hashed(api: Api, runtime: Runtime) -> None:
    created = await api.post("/v1/api-keys", json={"name": "r8-hashed", "scopes": ["ops", "agent"]}, as_="admin")
    assert created.status_code == 201, created.text
    plain = {**api.keys, "created": created.json()["key"]}
    rows = await runtime.db.fetch("SELECT * FROM api_keys")
    assert len(rows) == len(plain)
    hashes = {row["key_hash"] for row in rows}
    for name, key in plain.items():
        assert hashlib.sha256(key.encode()).hexdigest() in hashes, name
        for row in rows:
            for column, value in row.items():
                assert key not in str(value), f"the plain {name} key is stored in api_keys.{column}"
    # the plain key is shown once: reading keys back is not possible through the API
    listed = await api.get("/v1/api-keys", as_="admin")
    assert listed.status_code in (404, 405) or created.json()["key"] not in listed.text


async def _secret_requests(client: httpx.AsyncClient, base: str, keys: dict[str, str]) -> None:
    """Requests carrying secrets every way a client might: valid, unknown, revoked and malformed
    keys, on success and failure paths, with card data in bodies and query strings."""
    card_body = {
        "channel": "web",
        "customer": {"email": "card@example.com", "name": "Card Holder"},
        "lines": [{"sku": "NOPE", "qty": 1}],
        "card_number": CARD,
        "payment": {"provider": "stripe", "card": {"number": CARD, "cvc": "123"}},
    }
    for key in keys.values():
        auth = {"Authorization": f"Bearer {key}"}
        await client.get(base + "/v1/orders", headers=auth)
        await client.get(base + "/v1/orders/missing", headers=auth)
        await client.get(base + "/v1/plugins", headers=auth)
        await client.post(base + "/v1/orders", json=card_body, headers=auth)
        await client.post(base + "/v1/orders", content=b"{not json " + CARD.encode(), headers=auth)
        await client.post(base + "/v1/customers", json={"email": "nope", "name": CARD}, headers=auth)
        await client.get(base + f"/v1/kpis?from={CARD}&to=garbage", headers=auth)
        await client.post(base + "/v1/orders", json=card_body, headers={**auth, "Idempotency-Key": "k" * 300})
        await client.get(base + "/v1/orders", headers={"Authorization": f"Basic {key}"})
        await client.get(base + "/v1/orders", headers={"Authorization": key})


def _secrets(keys: dict[str, str]) -> list[str]:
    out = [CARD]
    for key in keys.values():
        out += [key, key[10:]]  # the stored prefix is key[:10]; the rest must never be written anywhere
    return out


async def test_r8_keys_and_card_data_never_reach_the_logs_in_process(api: Api, runtime: Runtime) -> None:
    await credentials(api, runtime)
    keys = {**api.keys, "garbage": "emp_garbage-but-secret-looking-0123456789"}
    with structlog.testing.capture_logs(processors=[structlog.contextvars.merge_contextvars, _redact]) as logs:
        await _secret_requests(api.client, "", keys)
    requests = [e for e in logs if e.get("event") == "http.request"]
    assert len(requests) >= 10 * len(keys), "the access log was not captured"
    # the access log records the status the client got, also for requests refused by auth
    assert {e["status"] for e in requests} >= {200, 401, 403, 404}, {e["status"] for e in requests}
    assert not [e for e in requests if e["status"] >= 500], [e for e in requests if e["status"] >= 500]
    text = "\n".join(repr(e) for e in logs)
    for secret in _secrets(keys):
        assert secret not in text, f"a secret reached the logs: …{secret[-6:]}"


async def test_r8_keys_and_card_data_never_reach_a_real_servers_logs(
    api: Api, runtime: Runtime, tmp_path: Path
) -> None:
    await credentials(api, runtime)
    keys = {**api.keys, "garbage": "emp_garbage-but-secret-looking-0123456789"}
    async with (
        live.servers(tmp_path, 1, extra_env={"EMPORIO_LOG_LEVEL": "debug"}) as (server,),
        httpx.AsyncClient(timeout=30) as client,
    ):
        await _secret_requests(client, server.url, keys)
        await asyncio.sleep(0.2)
        log = server.log()
    assert log.count('"http.request"') >= 10 * len(keys), log[-3000:]
    assert '"status": 401' in log and '"status": 403' in log
    assert "api.unhandled" not in log, log[-3000:]
    for secret in _secrets(keys):
        assert secret not in log, f"a secret reached the server log: …{secret[-6:]}"
