"""Issue 17, item 8: errors name what the client sent — `from`/`to`, not the handler's argument
names — and a NUL character in any text field is a 422 naming the field, on every database."""

from __future__ import annotations

import pytest

from core.customers.tables import Customer
from tests.conftest import Api


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("from=bad&to=2027-01-01", "from"),
        ("from=2026-01-01&to=soon", "to"),
        ("from=2026-01-01" + "0" * 40 + "&to=2027-01-01", "from"),
        ("from=2026-01-01&to=2027-01-01&format=spreadsheet", "format"),
    ],
)
@pytest.mark.parametrize("path", ["/v1/kpis", "/v1/kpis/orders_count"])
async def test_a_bad_kpi_period_names_the_parameter_sent(api: Api, path: str, query: str, named: str) -> None:
    r = await api.get(f"{path}?{query}", as_="ops")
    assert r.status_code in (400, 422), r.text
    problem = r.json()
    keys = [e.get("key") or e.get("field") for e in problem.get("errors", [])]
    assert keys == [named] or (not keys and problem["detail"].startswith(named)), problem
    assert "start" not in r.text and "end" not in keys and "output" not in r.text


async def test_a_nul_in_a_body_field_is_refused_naming_it(api: Api) -> None:
    r = await api.post("/v1/customers", json={"email": "nul@example.gr", "name": "Μαρία\u0000"}, as_="storefront")
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [{"field": "name", "message": "contains U+0000 (NUL)"}]
    assert await Customer.count().where(Customer.email == "nul@example.gr") == 0
    order = {
        "channel": "web",
        "customer": {"email": "ok@example.gr", "name": "ok"},
        "lines": [{"sku": "OIL\u00001L", "qty": 1}],
        "shipping_address": {"name": "a", "line1": "b\u0000", "city": "c", "postcode": "1", "country": "GR"},
    }
    r = await api.post("/v1/orders", json=order, as_="storefront")
    assert r.status_code == 422, r.text
    assert sorted(e["field"] for e in r.json()["errors"]) == ["lines[0].sku", "shipping_address.line1"]
    keyed = await api.put("/v1/policies/packaging", json={"document": {"bad\u0000key": 1}}, as_="ops")
    assert keyed.status_code == 422 and keyed.json()["errors"][0]["field"] == "document.bad\u0000key"


async def test_a_nul_in_a_query_or_path_parameter_is_refused(api: Api) -> None:
    r = await api.get("/v1/orders?status=%00", as_="ops")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.status", r.text
    r = await api.get("/v1/orders/ord%00x", as_="ops")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "path.order_id", r.text


async def test_an_escaped_backslash_is_not_a_nul(api: Api) -> None:
    r = await api.post("/v1/customers", json={"email": "bs@example.gr", "name": "a\\u0000b"}, as_="storefront")
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "a\\u0000b"
