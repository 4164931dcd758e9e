"""GDPR (service.md §4): export everything held about a person; erase their personal data from
every table while orders, payments and KPI facts stay countable; idempotent; admin only; and a
guard that fails when a table holds text nobody classified for erasure."""

from __future__ import annotations

from typing import Any

from piccolo.columns import JSON, JSONB, Text, Varchar

from core.customers.privacy import NOT_PERSONAL, PERSONAL
from core.orders.tables import Order
from core.runtime import Runtime
from tests.test_orders import add_location, add_product, stock

EMAIL = "eleni.kosta@example.gr"
NAME = "Ελένη Κώστα"
PHONE = "+30 6944 123 456"
ADDRESS = {"name": NAME, "line1": "Ερμού 25", "city": "Αθήνα", "postcode": "10563", "country": "GR"}
PERIOD = {"from": "2020-01-01", "to": "2030-01-01"}


async def a_customer_with_history(api: Any) -> str:
    await add_product(api, "SOAP", 450)
    await add_location(api, "WH-A")
    await stock(api, "WH-A", "SOAP", 10)
    body = {
        "channel": "web",
        "customer": {"email": EMAIL, "name": NAME, "phone": PHONE},
        "lines": [{"sku": "SOAP", "qty": 2}],
        "shipping_address": ADDRESS,
        "payment": {"provider": "cod"},
    }
    order = await api.post("/v1/orders", json=body, as_="storefront", headers={"Idempotency-Key": "gdpr-1"})
    assert order.status_code == 201, order.text
    case = await api.post(
        "/v1/cases",
        json={"customer": {"email": EMAIL, "name": NAME}, "channel": "web", "subject": f"Για την {NAME}",
              "body": f"Είμαι η {NAME}, τηλ. {PHONE}, Ερμού 25", "order_id": order.json()["id"]},
        as_="storefront",
    )  # fmt: skip
    assert case.status_code == 201, case.text
    note = {"body": f"Κάλεσα την {NAME} στο {PHONE}", "internal": True}
    assert (await api.post(f"/v1/cases/{case.json()['id']}/messages", json=note, as_="agent")).status_code == 201
    return str(order.json()["customer_id"])


async def everything_in_the_database(runtime: Runtime) -> str:
    """Every text and JSON column of every table, concatenated."""
    chunks: list[str] = []
    for registered in runtime.host.tables.values():
        table = registered.value
        for column in table._meta.columns:
            if isinstance(column, Text | Varchar | JSON | JSONB):
                name = column._meta.name
                as_text = f"CAST({name} AS TEXT)" if runtime.db.is_postgres else name
                rows = await runtime.db.fetch(f"SELECT {as_text} AS v FROM {table._meta.tablename}")
                chunks.extend(str(r["v"]) for r in rows if r["v"] is not None)
    return "\n".join(chunks)


async def test_export_then_erase_leaves_no_trace_and_every_kpi_unchanged(api: Any, runtime: Runtime) -> None:
    customer_id = await a_customer_with_history(api)
    exported = await api.get(f"/v1/customers/{customer_id}/export", as_="admin")
    assert exported.status_code == 200
    data = exported.json()
    assert data["customer"]["email"] == EMAIL and len(data["orders"]) == 1 and len(data["cases"]) == 1
    assert any(NAME in m["body"] for m in data["messages"])
    before = (await api.get("/v1/kpis", params=PERIOD, as_="ops")).json()["kpis"]
    stored = await everything_in_the_database(runtime)
    assert EMAIL in stored and NAME in stored and "Ερμού 25" in stored  # the scan sees what it must

    erased = await api.post(f"/v1/customers/{customer_id}/erase", as_="admin")
    assert erased.status_code == 200, erased.text
    assert EMAIL not in erased.text and NAME not in erased.text
    stored = await everything_in_the_database(runtime)
    for value in (EMAIL, NAME, PHONE, "6944123456", "Ερμού 25", "Ελένη"):
        assert value not in stored, value
    after = (await api.get("/v1/kpis", params=PERIOD, as_="ops")).json()["kpis"]
    assert after == before
    assert await Order.count() == 1
    again = await api.post(f"/v1/customers/{customer_id}/erase", as_="admin")
    assert again.status_code == 200 and again.json()["values_scrubbed"] == 0
    for value in (EMAIL, NAME):
        assert value not in (await api.get(f"/v1/customers/{customer_id}/export", as_="admin")).text
        assert value not in (await api.get(f"/v1/customers/{customer_id}/timeline", as_="agent")).text


async def test_only_admins_export_or_erase(api: Any) -> None:
    customer_id = await a_customer_with_history(api)
    for role in ("storefront", "agent", "ops"):
        assert (await api.get(f"/v1/customers/{customer_id}/export", as_=role)).status_code == 403
        assert (await api.post(f"/v1/customers/{customer_id}/erase", as_=role)).status_code == 403
    assert (await api.post("/v1/customers/cus_nobody/erase", as_="admin")).status_code == 404


def test_every_text_column_is_classified_for_erasure(runtime: Runtime) -> None:
    """A new table (or a plugin's) holding text must say whether erasure covers it."""
    unclassified = []
    for registered in runtime.host.tables.values():
        table = registered.value
        name = table._meta.tablename
        texts = [
            c._meta.name
            for c in table._meta.columns
            if isinstance(c, Text | Varchar | JSON | JSONB) and not c._meta.primary_key
        ]
        if not texts or name in NOT_PERSONAL:
            continue
        if name not in PERSONAL:
            unclassified.append(name)
    assert not unclassified, (
        f"tables with text columns that erasure does not know: {unclassified}; add them to PERSONAL (the columns "
        "that can hold a customer's data) or NOT_PERSONAL (with why) in core/customers/privacy.py"
    )
    stale = sorted((set(PERSONAL) | set(NOT_PERSONAL)) - set(runtime.host.tables) - {"schema_migrations"})
    assert not stale, f"privacy.py names tables that do not exist: {stale}"
