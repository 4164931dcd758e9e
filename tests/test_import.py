"""The history import (kpis.md format) through `emporio import FILE` and POST /v1/import:
records land in the live tables, KPIs see them at once, a bad line is reported with its number
and only its batch is dropped, re-importing changes nothing, and a large file streams."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec

from core.catalogue.tables import Location, Product
from core.customers.tables import Customer
from core.orders.tables import Order, OrderLine

NDJSON = {"Content-Type": "application/x-ndjson"}
MARCH = {"from": "2025-03-01", "to": "2025-04-01"}


async def emporio(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """Run the real `emporio` command in a child process (it starts its own runtime)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "core.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def lines(*records: dict[str, Any] | str) -> bytes:
    return b"".join((r.encode() if isinstance(r, str) else msgspec.json.encode(r)) + b"\n" for r in records)


def customer(cid: str) -> dict[str, Any]:
    return {"kind": "customer", "id": cid, "email": f"{cid}@example.gr", "name": cid.upper(), "created_at": None}


def order(oid: str, cid: str, day: int, sku: str = "JAR", qty: int = 1) -> dict[str, Any]:
    return {
        "kind": "order",
        "id": oid,
        "channel": "web",
        "customer_id": cid,
        "placed_at": f"2025-03-{day:02d}T10:00:00Z",
        "currency": "EUR",
        "lines": [{"sku": sku, "qty": qty, "unit_price": 1500}],
        "promised_ship_by": f"2025-03-{day + 1:02d}T10:00:00Z",
        "promised_delivery_by": f"2025-03-{day + 3:02d}T10:00:00Z",
        "cancelled_at": None,
    }


PRODUCT = {"kind": "product", "sku": "JAR", "name": "Jar", "category": "pantry", "price": 1500, "currency": "EUR"}
LOCATION = {"kind": "location", "code": "WH-ATH", "name": "Athens", "type": "warehouse"}
SHOP_HISTORY = lines(
    customer("c1"),
    customer("c2"),
    PRODUCT,
    LOCATION,
    order("o1", "c1", 2, qty=2),
    order("o2", "c1", 9),
    order("o3", "c2", 16, qty=3),
)


async def counts() -> dict[str, int]:
    return {
        "customers": await Customer.count(),
        "products": await Product.count(),
        "locations": await Location.count(),
        "orders": await Order.count(),
        "lines": await OrderLine.count(),
    }


async def orders_placed(api: Any) -> Any:
    return (await api.get("/v1/kpis/orders_placed", params=MARCH, as_="ops")).json()["value"]


async def test_emporio_import_loads_history_that_kpis_see_at_once(
    api: Any, test_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "history.jsonl"
    path.write_bytes(SHOP_HISTORY)
    code, out, err = await emporio(test_env, "import", str(path))
    assert code == 0, err
    assert out.strip() == "imported 7 records (2 customer, 1 location, 3 order, 1 product) from 7 lines"
    assert await counts() == {"customers": 2, "products": 1, "locations": 1, "orders": 3, "lines": 3}
    assert await orders_placed(api) == 3
    aov = (await api.get("/v1/kpis/average_order_value", params=MARCH, as_="ops")).json()
    assert aov["value"] == (3000 + 1500 + 4500) / 3
    # imported records are ordinary records of the live API
    assert (await api.get("/v1/products/JAR", as_="ops")).json()["price"] == {"amount": 1500, "currency": "EUR"}
    assert (await api.get("/v1/locations/WH-ATH", as_="ops")).json()["type"] == "warehouse"
    imported = (await api.get("/v1/orders", params={"limit": 10}, as_="ops")).json()["items"]
    assert sorted(o["external_ref"] for o in imported) == ["o1", "o2", "o3"]
    o1 = next(o for o in imported if o["external_ref"] == "o1")
    assert (o1["totals"]["merchandise"]["amount"], o1["placed_at"]) == (3000, "2025-03-02T10:00:00Z")
    assert o1["promised_delivery_by"] == "2025-03-05T10:00:00Z"
    assert len({o["customer_id"] for o in imported}) == 2

    # running the same file again changes nothing
    code, out, err = await emporio(test_env, "import", str(path))
    assert code == 0, err
    assert await counts() == {"customers": 2, "products": 1, "locations": 1, "orders": 3, "lines": 3}
    assert await orders_placed(api) == 3


async def test_post_import_needs_admin_and_ndjson(api: Any) -> None:
    for scope in ("ops", "agent", "storefront"):
        assert (await api.post("/v1/import", content=SHOP_HISTORY, headers=NDJSON, as_=scope)).status_code == 403
    wrong_type = await api.post("/v1/import", content=SHOP_HISTORY, headers={"Content-Type": "text/plain"})
    assert wrong_type.status_code == 415
    assert wrong_type.headers["content-type"].startswith("application/problem+json")
    assert await counts() == {"customers": 0, "products": 0, "locations": 0, "orders": 0, "lines": 0}

    done = await api.post("/v1/import", content=SHOP_HISTORY, headers=NDJSON, as_="admin")
    assert done.status_code == 200, done.text
    assert done.json() == {
        "records": 7,
        "by_kind": {"customer": 2, "product": 1, "location": 1, "order": 3},
        "batches": 1,
        "lines": 7,
    }
    assert await orders_placed(api) == 3
    again = await api.post("/v1/import", content=SHOP_HISTORY, headers=NDJSON, as_="admin")
    assert again.status_code == 200
    assert await counts() == {"customers": 2, "products": 1, "locations": 1, "orders": 3, "lines": 3}
    assert await orders_placed(api) == 3


BAD_LINES = {
    "unknown kind": ('{"kind": "voucher", "id": "v1"}', "unknown kind 'voucher'"),
    "unknown field": ('{"kind": "customer", "id": "c9", "emial": "c9@example.gr"}', "emial"),
    "bad json": ('{"kind": "customer", "id": ', "JSON"),
    "dangling customer": (msgspec.json.encode(order("o9", "ghost", 20)).decode(), "customer ghost"),
    "unknown sku": (msgspec.json.encode(order("o9", "c1", 20, sku="NOPE")).decode(), "unknown product NOPE"),
}


async def test_a_bad_line_over_http_is_reported_and_its_batch_not_applied(api: Any) -> None:
    for case, (bad, message) in BAD_LINES.items():
        body = lines(customer("c1"), PRODUCT, order("o1", "c1", 2), bad, customer("c3"))
        response = await api.post("/v1/import", content=body, headers=NDJSON, as_="admin")
        assert response.status_code == 422, case
        problem = response.json()
        assert problem["errors"][0]["line"] == 4, case
        assert message in problem["errors"][0]["message"], case
        assert problem["detail"].startswith("line 4: "), case
        assert problem["records"] == 0, case  # one batch (the default size), so nothing applied
        assert await counts() == {"customers": 0, "products": 0, "locations": 0, "orders": 0, "lines": 0}, case


async def test_emporio_import_reports_bad_lines_and_drops_only_their_batches(
    api: Any, test_env: dict[str, str], tmp_path: Path
) -> None:
    cases = sorted(BAD_LINES)
    # batches of 3 lines: one good batch, then each bad line in a batch with good neighbours
    records: list[dict[str, Any] | str] = [customer("c1"), PRODUCT, LOCATION]
    bad_line_numbers = []
    for i, case in enumerate(cases):
        records += [customer(f"k{i}"), order(f"ok{i}", "c1", 3 + i), BAD_LINES[case][0]]
        bad_line_numbers.append(len(records))
    records += [customer("last"), order("o-last", "last", 25)]
    path = tmp_path / "broken.jsonl"
    path.write_bytes(lines(*records))

    # by default the import stops at the first bad batch; earlier batches stay applied
    code, out, err = await emporio(test_env, "import", str(path), "--batch-size", "3")
    assert code != 0
    assert "Traceback" not in err
    assert f"error: line {bad_line_numbers[0]}: " in err
    assert f"not applied: lines 4–{bad_line_numbers[0]}" in err
    assert out.startswith("imported 3 records")
    assert await counts() == {"customers": 1, "products": 1, "locations": 1, "orders": 0, "lines": 0}

    # with --continue-on-error every bad line is reported, its batch skipped, the rest applied
    code, out, err = await emporio(test_env, "import", str(path), "--batch-size", "3", "--continue-on-error")
    assert code != 0
    reported = [line for line in err.splitlines() if line.startswith("error: line ")]
    assert [int(r.split()[2].rstrip(":")) for r in reported] == bad_line_numbers
    for case, line in zip(cases, reported, strict=True):
        assert BAD_LINES[case][1] in line, (case, line)
    skipped = [line for line in err.splitlines() if line.startswith("not applied: ")]
    assert skipped == [f"not applied: lines {n - 2}–{n} (the batch holding the bad line)" for n in bad_line_numbers]
    assert await Customer.count().where(Customer.external_ref.like("k%")) == 0
    assert await Order.count().where(Order.external_ref.like("ok%")) == 0
    assert [r["external_ref"] for r in await Order.select(Order.external_ref)] == ["o-last"]
    assert await orders_placed(api) == 1


async def test_a_large_file_streams_through_in_batches(api: Any) -> None:
    customers, orders = 500, 19_499  # + 1 product = 20,000 lines

    async def body() -> AsyncIterator[bytes]:
        chunk = [lines(PRODUCT)]
        for i in range(customers):
            chunk.append(lines(customer(f"bulk{i}")))
        for i in range(orders):
            chunk.append(lines(order(f"bulk-o{i}", f"bulk{i % customers}", 1 + i % 28)))
            if len(chunk) >= 1000:  # hand the request body over in pieces, as a client streaming a file would
                yield b"".join(chunk)
                chunk = []
        yield b"".join(chunk)

    response = await api.post("/v1/import", content=body(), headers=NDJSON, as_="admin")
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["lines"], report["records"], report["batches"]) == (20_000, 20_000, 10)
    assert report["by_kind"] == {"product": 1, "customer": customers, "order": orders}
    assert await Order.count() == orders
    assert await orders_placed(api) == orders
