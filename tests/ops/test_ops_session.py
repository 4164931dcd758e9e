"""Ops dashboard sessions: signing in with an ops key, the HTTP-only cookie, GET-only cookie
authentication, sign-out, expiry, key revocation, and sessions shared by app instances through
the database."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from http.cookies import SimpleCookie
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.auth import ops_csrf_token
from core.access.tables import ApiKey, OpsSession
from core.db.database import utcnow
from core.runtime import Runtime
from tests.conftest import Api

COOKIE = "emporio_ops"
PERIOD = {"from": "2026-03-01", "to": "2026-03-08"}


def _client(runtime: Runtime, base_url: str = "http://ops.test") -> httpx.AsyncClient:
    """A client with its own cookie jar on a fresh app instance over the session's runtime (the
    runtime is already started by the `api` fixture; ASGITransport runs no lifespan)."""
    app: Any = create_app(runtime)  # an ASGI app; Litestar's precise types are not httpx's
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url, timeout=60)


@pytest.fixture
async def browser(api: Api, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(runtime) as client:
        yield client


def _set_cookie(response: httpx.Response) -> tuple[str, Any]:
    headers = response.headers.get_list("set-cookie")
    assert len(headers) == 1, headers
    parsed: SimpleCookie = SimpleCookie()
    parsed.load(headers[0])
    return headers[0], parsed[COOKIE]


async def _sign_in(client: httpx.AsyncClient, key: str) -> str:
    response = await client.post("/ops/session", json={"key": key})
    assert response.status_code == 201, response.text
    return str(_set_cookie(response)[1].value)


def _with_cookie(token: str) -> dict[str, str]:
    return {"Cookie": f"{COOKIE}={token}"}


async def test_unknown_key_is_401_and_sets_no_cookie(browser: httpx.AsyncClient) -> None:
    for body in ({"key": "emp_not-a-key"}, {"key": "x" * 500}):
        response = await browser.post("/ops/session", json=body)
        assert response.status_code == 401, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["status"] == 401
        assert "set-cookie" not in response.headers


async def test_key_without_ops_or_agent_scope_is_403(api: Api, browser: httpx.AsyncClient) -> None:
    response = await browser.post("/ops/session", json={"key": api.keys["storefront"]})
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "ops or agent" in response.json()["detail"]
    assert "set-cookie" not in response.headers


async def test_agent_key_signs_in_for_the_workspace(api: Api, browser: httpx.AsyncClient) -> None:
    response = await browser.post("/ops/session", json={"key": api.keys["agent"]})
    assert response.status_code == 201, response.text
    assert response.json()["scopes"] == ["agent"]
    token = _set_cookie(response)[1].value
    browser.cookies.clear()
    # The session is the agent key's: its cases yes, the KPIs (ops) no.
    assert (await browser.get("/v1/cases", headers=_with_cookie(token))).status_code == 200
    assert (await browser.get("/v1/kpis", params=PERIOD, headers=_with_cookie(token))).status_code == 403


async def test_malformed_sign_in_is_400(browser: httpx.AsyncClient) -> None:
    for content in (b"not json", b'{"key": ""}', b'{"key": "k", "extra": 1}'):
        response = await browser.post("/ops/session", content=content, headers={"Content-Type": "application/json"})
        assert response.status_code == 400, response.text
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_ops_key_gets_an_http_only_strict_session_cookie(api: Api, browser: httpx.AsyncClient) -> None:
    response = await browser.post("/ops/session", json={"key": api.keys["ops"]})
    assert response.status_code == 201, response.text
    raw, cookie = _set_cookie(response)
    assert cookie["httponly"] is True
    assert cookie["samesite"].lower() == "strict"
    assert cookie["path"] == "/"
    assert not cookie["secure"]  # plain http here; see the https test
    assert int(cookie["max-age"]) == 12 * 3600
    assert len(cookie.value) >= 40 and cookie.value != api.keys["ops"]
    assert api.keys["ops"] not in raw and api.keys["ops"] not in response.text
    body = response.json()
    assert body["key_name"] == "test-ops" and body["scopes"] == ["ops"]
    assert body["csrf_token"] == ops_csrf_token(cookie.value) and body["csrf_token"] != cookie.value
    assert response.headers["cache-control"] == "no-store"

    # Admin implies ops.
    admin = await browser.post("/ops/session", json={"key": api.keys["admin"]})
    assert admin.status_code == 201, admin.text
    assert admin.json()["scopes"] == ["admin"]


async def test_cookie_is_secure_over_https(api: Api, runtime: Runtime) -> None:
    async with _client(runtime, "https://ops.test") as client:
        response = await client.post("/ops/session", json={"key": api.keys["ops"]})
        assert response.status_code == 201, response.text
        raw, cookie = _set_cookie(response)
        assert cookie["secure"] is True, raw


async def test_form_sign_in_redirects_to_the_dashboard(api: Api, browser: httpx.AsyncClient) -> None:
    response = await browser.post("/ops/session", data={"key": api.keys["ops"]})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/ops"
    token = _set_cookie(response)[1].value
    browser.cookies.clear()
    assert (await browser.get("/ops/session", headers=_with_cookie(token))).status_code == 200


async def test_sessions_are_stored_hashed_in_the_database(api: Api, browser: httpx.AsyncClient) -> None:
    token = await _sign_in(browser, api.keys["ops"])
    rows = await OpsSession.select()
    assert len(rows) == 1
    row = rows[0]
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(row) and api.keys["ops"] not in str(row)
    assert row["revoked_at"] is None
    assert row["expires_at"] - row["created_at"] == timedelta(hours=12)


async def test_cookie_authenticates_safe_requests_only(api: Api, browser: httpx.AsyncClient) -> None:
    token = await _sign_in(browser, api.keys["ops"])
    browser.cookies.clear()
    cookie = _with_cookie(token)

    kpis = await browser.get("/v1/kpis", params=PERIOD, headers=cookie)
    assert kpis.status_code == 200, kpis.text
    assert "orders_placed" in kpis.json()["kpis"]
    assert (await browser.get("/v1/kpis/definitions", headers=cookie)).status_code == 200
    csv = await browser.get("/v1/kpis", params={**PERIOD, "format": "csv"}, headers=cookie)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert (await browser.get("/v1/channels", headers=cookie)).status_code == 200
    assert (await browser.get("/v1/locations", headers=cookie)).status_code == 200
    # The session is the key's Principal: scopes are still enforced.
    assert (await browser.get("/v1/plugins", headers=cookie)).status_code == 403

    # A forged cross-site form post carries the cookie: it must not authorise a change.
    product = {"sku": "COOKIE-1", "name": "Nope", "price": {"amount": 100, "currency": "EUR"}}
    post = await browser.post("/v1/products", json=product, headers=cookie)
    assert post.status_code == 401, post.text
    assert post.headers["content-type"].startswith("application/problem+json")
    put = await browser.put("/v1/inventory/WH/SKU", json={"on_hand": 1}, headers=cookie)
    assert put.status_code == 401, put.text
    assert (await api.get("/v1/products/COOKIE-1", as_="ops")).status_code == 404

    # An Authorization header always wins over the cookie.
    bad_bearer = await browser.get("/v1/kpis", params=PERIOD, headers={**cookie, "Authorization": "Bearer emp_nope"})
    assert bad_bearer.status_code == 401


async def test_session_endpoint_says_who_the_dashboard_runs_as(api: Api, browser: httpx.AsyncClient) -> None:
    token = await _sign_in(browser, api.keys["ops"])
    browser.cookies.clear()
    by_cookie = (await browser.get("/ops/session", headers=_with_cookie(token))).json()
    assert by_cookie["key_name"] == "test-ops" and by_cookie["expires_at"] is not None
    assert by_cookie["csrf_token"] == ops_csrf_token(token)  # a reloaded page learns it again
    # With a key instead of the cookie: the same scope rules as the rest of the API, and no token.
    by_key = await browser.get("/ops/session", headers={"Authorization": f"Bearer {api.keys['ops']}"})
    assert by_key.status_code == 200 and by_key.json()["expires_at"] is None
    assert by_key.json()["csrf_token"] is None
    storefront = await browser.get("/ops/session", headers={"Authorization": f"Bearer {api.keys['storefront']}"})
    assert storefront.status_code == 403
    anonymous = await browser.get("/ops/session")
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"


async def test_unknown_cookie_is_401(browser: httpx.AsyncClient) -> None:
    response = await browser.get("/v1/kpis", params=PERIOD, headers=_with_cookie("forged-token"))
    assert response.status_code == 401
    assert "sign in again" in response.json()["detail"]
    assert response.headers["www-authenticate"] == "Bearer"
    assert (await browser.get("/ops/session", headers=_with_cookie("forged-token"))).status_code == 401
    assert (await browser.get("/ops/session")).status_code == 401


async def test_logout_revokes_the_session(api: Api, browser: httpx.AsyncClient) -> None:
    token = await _sign_in(browser, api.keys["ops"])
    browser.cookies.clear()
    assert (await browser.get("/ops/session", headers=_with_cookie(token))).json()["key_name"] == "test-ops"

    response = await browser.post("/ops/session/logout", headers=_with_cookie(token))
    assert response.status_code == 204, response.text
    raw, cleared = _set_cookie(response)
    assert cleared.value == "" and int(cleared["max-age"]) == 0, raw

    assert (await browser.get("/v1/kpis", params=PERIOD, headers=_with_cookie(token))).status_code == 401
    assert (await browser.get("/ops/session", headers=_with_cookie(token))).status_code == 401
    assert (await OpsSession.select(OpsSession.revoked_at))[0]["revoked_at"] is not None
    # Signing out twice, or without a session, is harmless.
    assert (await browser.post("/ops/session/logout", headers=_with_cookie(token))).status_code == 204
    assert (await browser.post("/ops/session/logout")).status_code == 204


async def test_sessions_expire(api: Api, browser: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    token = await _sign_in(browser, api.keys["ops"])
    browser.cookies.clear()
    assert (await browser.get("/v1/kpis", params=PERIOD, headers=_with_cookie(token))).status_code == 200
    await OpsSession.update({OpsSession.expires_at: utcnow() - timedelta(seconds=1)}).where(
        OpsSession.token_hash == hashlib.sha256(token.encode()).hexdigest()
    )
    assert (await browser.get("/v1/kpis", params=PERIOD, headers=_with_cookie(token))).status_code == 401
    assert (await browser.get("/ops/session", headers=_with_cookie(token))).status_code == 401

    monkeypatch.setenv("EMPORIO_OPS_SESSION_HOURS", "0.5")
    response = await browser.post("/ops/session", json={"key": api.keys["ops"]})
    assert int(_set_cookie(response)[1]["max-age"]) == 1800


async def test_revoking_the_key_ends_its_sessions(api: Api, browser: httpx.AsyncClient) -> None:
    token = await _sign_in(browser, api.keys["ops"])
    browser.cookies.clear()
    assert (await browser.get("/v1/kpis", params=PERIOD, headers=_with_cookie(token))).status_code == 200
    await ApiKey.update({ApiKey.revoked_at: utcnow()}).where(ApiKey.name == "test-ops")
    assert (await browser.get("/v1/kpis", params=PERIOD, headers=_with_cookie(token))).status_code == 401
    assert (await browser.get("/ops/session", headers=_with_cookie(token))).status_code == 401


async def test_sessions_work_across_app_instances(api: Api, runtime: Runtime) -> None:
    """Nothing lives in one process's memory: a session opened on one app instance works on
    another sharing the database, and signing out on either ends it for both."""
    async with _client(runtime) as first, _client(runtime) as second:
        token = await _sign_in(first, api.keys["ops"])
        first.cookies.clear()
        seen = await second.get("/v1/kpis", params=PERIOD, headers=_with_cookie(token))
        assert seen.status_code == 200, seen.text
        assert (await second.get("/ops/session", headers=_with_cookie(token))).status_code == 200
        assert (await second.post("/ops/session/logout", headers=_with_cookie(token))).status_code == 204
        assert (await first.get("/v1/kpis", params=PERIOD, headers=_with_cookie(token))).status_code == 401


async def test_cross_site_sign_in_is_refused(api: Api, browser: httpx.AsyncClient) -> None:
    forged = await browser.post("/ops/session", data={"key": api.keys["ops"]}, headers={"Origin": "https://evil.test"})
    assert forged.status_code == 403
    assert "set-cookie" not in forged.headers
    same = await browser.post("/ops/session", json={"key": api.keys["ops"]}, headers={"Origin": "http://ops.test"})
    assert same.status_code == 201, same.text


async def test_dashboard_is_served_offline_without_the_key(api: Api, browser: httpx.AsyncClient) -> None:
    page = await browser.get("/ops")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    html = page.text
    assert 'id="signin-form"' in html and 'type="password"' in html
    assert "/ops/static/ops.js" in html and "/ops/static/ops.css" in html
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html  # no CDN

    assets = {}
    scripts = re.findall(r'<script src="/ops/static/([a-z-]+\.js)"', html)
    assert scripts[-1] == "ops.js" and len(scripts) >= 5  # the app in a few modules, no build step
    for name in [*scripts, "ops.css"]:
        asset = await browser.get(f"/ops/static/{name}")  # no key, no cookie
        assert asset.status_code == 200, name
        assert ("text/css" if name.endswith(".css") else "javascript") in asset.headers["content-type"]
        assets[name] = asset.text
    code = "".join(text for name, text in assets.items() if name.endswith(".js"))
    assert "https://" not in code.replace("https?:", "")  # nothing loaded from elsewhere
    # The browser keeps the language, nothing else (no key, no token, no session in storage).
    assert re.findall(r"(?:local|session)Storage\.setItem\(([A-Za-z_.]+)", code) == ["O.LANG_STORE"]
    assert "eval(" not in code and "innerHTML" not in code  # text is set as text

    token = await _sign_in(browser, api.keys["ops"])
    for text in (html, *assets.values(), token):
        for key in api.keys.values():
            assert key not in text


# ---- changes from the dashboard: the cookie and the session's anti-forgery token -----------------


async def _open_case(api: Api) -> str:
    case = await api.post(
        "/v1/cases",
        as_="storefront",
        json={
            "customer": {"email": "eleni@example.gr", "name": "Ελένη Κ."},
            "channel": "web",
            "subject": "Πού είναι η παραγγελία μου;",
            "body": "Δεν έχει έρθει ακόμη.",
        },
    )
    assert case.status_code == 201, case.text
    return str(case.json()["id"])


async def test_cookie_writes_need_the_sessions_csrf_token(api: Api, browser: httpx.AsyncClient) -> None:
    case_id = await _open_case(api)
    signed_in = await browser.post("/ops/session", json={"key": api.keys["agent"]})
    token, csrf = _set_cookie(signed_in)[1].value, signed_in.json()["csrf_token"]
    browser.cookies.clear()
    note = {"body": "Έλεγχος με την ACS.", "internal": True}
    path = f"/v1/cases/{case_id}/messages"

    # Only the cookie (a forged cross-site form or fetch), a made-up token, the token of another
    # session, or the token without its cookie: refused, nothing stored.
    other = await browser.post("/ops/session", json={"key": api.keys["agent"]})
    other_csrf = other.json()["csrf_token"]
    browser.cookies.clear()
    for headers in (
        _with_cookie(token),
        {**_with_cookie(token), "X-Emporio-CSRF": "0" * 64},
        {**_with_cookie(token), "X-Emporio-CSRF": other_csrf},
        {**_with_cookie(token), "X-Emporio-CSRF": token},
        {"X-Emporio-CSRF": csrf},
    ):
        refused = await browser.post(path, json=note, headers=headers)
        assert refused.status_code == 401, (headers, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
    form = await browser.post(path, data={"body": "forged"}, headers=_with_cookie(token))
    assert form.status_code == 401 and "X-Emporio-CSRF" in form.json()["detail"]
    assert len((await api.get(f"/v1/cases/{case_id}", as_="agent")).json()["messages"]) == 1

    # The cookie with its own token: the change is made, as the key behind the session.
    made = await browser.post(path, json=note, headers={**_with_cookie(token), "X-Emporio-CSRF": csrf})
    assert made.status_code == 201, made.text
    assert made.json()["messages"][-1]["internal"] is True
    claimed = await browser.post(f"/v1/cases/{case_id}/claim", headers={**_with_cookie(token), "X-Emporio-CSRF": csrf})
    assert claimed.status_code == 200, claimed.text
    # Scopes still hold: the agent's session cannot do an ops change.
    product = {"sku": "CSRF-1", "name": "Nope", "price": {"amount": 100, "currency": "EUR"}}
    denied = await browser.post("/v1/products", json=product, headers={**_with_cookie(token), "X-Emporio-CSRF": csrf})
    assert denied.status_code == 403

    # After sign-out the token is worth nothing.
    assert (await browser.post("/ops/session/logout", headers=_with_cookie(token))).status_code == 204
    after = await browser.post(path, json=note, headers={**_with_cookie(token), "X-Emporio-CSRF": csrf})
    assert after.status_code == 401


async def test_workspace_helpers(api: Api, browser: httpx.AsyncClient) -> None:
    case_id = await _open_case(api)
    agent = await api.post("/v1/agents", as_="ops", json={"name": "Μαρία", "skills": ["delivery"]})
    assert agent.status_code == 201, agent.text

    # Who the caller is and who a case can go to: an agent key acts as an agent, an ops key as none.
    as_agent = await browser.get("/ops/agents", headers={"Authorization": f"Bearer {api.keys['agent']}"})
    assert as_agent.status_code == 200, as_agent.text
    me = as_agent.json()["me"]
    assert me and {a["name"] for a in as_agent.json()["agents"]} >= {"Μαρία", "test-agent"}
    assert all(
        set(a) == {"id", "name", "skills", "languages", "active", "open_cases"} for a in as_agent.json()["agents"]
    )
    as_ops = await browser.get("/ops/agents", headers={"Authorization": f"Bearer {api.keys['ops']}"})
    assert as_ops.status_code == 200 and as_ops.json()["me"] is None
    storefront = await browser.get("/ops/agents", headers={"Authorization": f"Bearer {api.keys['storefront']}"})
    assert storefront.status_code == 403

    # A case's macros rendered as they would be sent; one needing what the case lacks says so.
    macros = await browser.get(f"/ops/cases/{case_id}/macros", headers={"Authorization": f"Bearer {api.keys['agent']}"})
    assert macros.status_code == 200, macros.text
    by_id = {m["id"]: m for m in macros.json()["macros"]}
    assert by_id["where_is_my_order"]["text"] is None
    assert by_id["where_is_my_order"]["missing"] == ["order.number", "shipment.tracking_url"]
    thanks = by_id["thanks"]["text"]
    assert thanks and "Ελένη Κ." in thanks and "test-agent" in thanks and not by_id["thanks"]["missing"]
    sent = await api.post(f"/v1/cases/{case_id}/messages", as_="agent", json={"body": thanks, "macro": "thanks"})
    assert sent.status_code == 201, sent.text
    assert sent.json()["messages"][-1]["body"] == thanks  # the preview is exactly what was sent
    ops_only = await browser.get(f"/ops/cases/{case_id}/macros", headers={"Authorization": f"Bearer {api.keys['ops']}"})
    assert ops_only.status_code == 403
    unknown = await browser.get("/ops/cases/cas_nope/macros", headers={"Authorization": f"Bearer {api.keys['agent']}"})
    assert unknown.status_code == 404
