"""A page of shipments costs two queries whatever its size (it was one query per shipment, four
per shipment in all), and shows each shipment exactly as reading it alone does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from core.fulfilment import shipment_views
from core.fulfilment.tables import DeliveryAttempt, ShipmentEvent
from core.runtime import Runtime
from tests.conftest import Api
from tests.fulfilment.support import counted_queries, pick, routed_order, seed


async def test_a_page_of_shipments_is_two_queries(api: Api, runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    await seed(api)
    ids = [(await routed_order(api, runtime, email=f"buyer{n}@example.gr"))[1] for n in range(4)]
    await pick(api, ids[0])
    at = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)
    async with runtime.db.write():  # checkpoints and attempts of one parcel, to be read back in order
        for n, status in enumerate(("in_transit", "out_for_delivery")):
            await ShipmentEvent.insert(
                ShipmentEvent(
                    id=f"sev_{n}", shipment_id=ids[1], at=at + timedelta(hours=n), status=status,
                    description=f"checkpoint {n}", location="Αθήνα", raw_code=None, fingerprint=f"f{n}",
                )
            )  # fmt: skip
        for number in (2, 1):
            await DeliveryAttempt.insert(
                DeliveryAttempt(
                    id=f"dat_{number}", shipment_id=ids[1], at=at + timedelta(days=number), outcome="failed",
                    reason="recipient_absent", raw_code=None, number=number, source_key=f"k{number}",
                )
            )  # fmt: skip

    with counted_queries(monkeypatch) as one:
        single = await shipment_views.list_shipments(runtime, status=None, location=None, limit=1)
    with counted_queries(monkeypatch) as four:
        page = await shipment_views.list_shipments(runtime, status=None, location=None, limit=4)
    assert len(one) <= 2 and len(four) == len(one), four
    assert [s.id for s in page.items] == sorted(ids, reverse=True) and page.next_cursor is None
    assert single.items == page.items[:1] and single.next_cursor is not None

    for shipment in page.items:  # the same view as reading it alone
        assert msgspec.to_builtins(shipment) == msgspec.to_builtins(
            await shipment_views.get_shipment(runtime, shipment.id)
        )
    tracked = next(s for s in page.items if s.id == ids[1])
    assert [e.description for e in tracked.events] == ["checkpoint 0", "checkpoint 1"]
    assert [a.number for a in tracked.attempts] == [1, 2] and tracked.attempts[0].at == at + timedelta(days=1)
    picked = next(s for s in page.items if s.id == ids[0])
    assert [(ln.sku, ln.qty, ln.picked_qty) for ln in picked.lines] == [("HONEY", 1, 1), ("OIL-1L", 2, 2)]

    over_http = await api.get("/v1/shipments?limit=2", as_="ops")
    assert over_http.status_code == 200 and [s["id"] for s in over_http.json()["items"]] == sorted(ids)[::-1][:2]
    rest = await api.get(f"/v1/shipments?limit=2&cursor={over_http.json()['next_cursor']}", as_="ops")
    assert [s["id"] for s in rest.json()["items"]] == sorted(ids)[::-1][2:]
    filtered = await api.get("/v1/shipments?status=picking", as_="ops")
    assert [s["id"] for s in filtered.json()["items"]] == [ids[0]]
    assert (await api.get("/v1/shipments?status=lost-in-space", as_="ops")).status_code == 422
