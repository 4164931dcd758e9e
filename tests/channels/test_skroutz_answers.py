"""What the shop tells Skroutz, once: the acceptance (pickup location of the dispatching
location, earliest window, parcels of the packaging plan), Skroutz's 422 `order_status` when
the order moved on (read again and followed, never a crash), other refusals left to a person,
and `set_as_ready` once every parcel is packed — sent by the worker from the `shipment.packed`
event, and by the sweep when a job was lost."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

import pytest
import structlog

from core.db.database import utcnow
from core.fulfilment.tables import Shipment
from core.hookspecs import hookimpl
from core.hookspecs.channels import AcceptOptions, ChannelOrderState, PickupLocation, PickupWindow
from core.hookspecs.couriers import (
    CodRemittance,
    Courier,
    CourierCapabilities,
    CourierRejected,
    Manifest,
    ShipmentStatus,
    TrackingSnapshot,
    Voucher,
    VoucherRequest,
)
from core.jobs.tables import Event
from core.orders import channel_answers
from core.orders.channel_acceptance import choose_acceptance, parcel_count, same_address
from core.orders.channel_plugin import follow_job, settle_job, sweep_job
from core.orders.channel_tables import CallStatus, ChannelOrderLink
from core.runtime import Runtime
from core.testing.fixtures import inline_plugin
from plugins.channel_skroutz import SkroutzSmartCart
from plugins.channel_skroutz.simulator import Line, SkroutzSimulator
from tests.channels.conftest import START, eventually, seed
from tests.channels.test_skroutz_intake import MUGS_AND_TEA, deliver, event_types, reserved
from tests.conftest import Api

pytestmark = pytest.mark.timeout(120)
STOCK = {("WH-ATH", "MUG-BLUE"): 100, ("WH-ATH", "TEA-GREEN-100G"): 10}


class LastMile:
    """The marketplace's courier as the shop's courier plugin sees it: answers at once."""

    name = "inline-last-mile"
    capabilities = CourierCapabilities(idempotent_create=True)

    async def create_voucher(self, request: VoucherRequest) -> Voucher:
        return Voucher(tracking_number=f"SLM{request.shipment_id[-6:]}", tracking_url=None)

    async def label_pdf(self, tracking_numbers: Sequence[str]) -> bytes:
        return b"%PDF-1.4 last mile"

    async def cancel_voucher(self, tracking_number: str) -> None:
        return None

    async def track(self, tracking_number: str) -> TrackingSnapshot:
        return TrackingSnapshot(tracking_number=tracking_number, status=ShipmentStatus.LABEL_CREATED)

    async def close_dispatch(self, location: str, pickup_date: date) -> Manifest:
        return Manifest(reference=None, tracking_numbers=[])

    async def cod_report(self, on: date) -> Sequence[CodRemittance]:
        return []

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Sequence[TrackingSnapshot]:
        raise CourierRejected("no webhooks")


class CourierPlugin:
    @hookimpl
    def register_couriers(self, register: Any) -> None:
        courier: Courier = LastMile()
        register(courier)


@pytest.fixture
def courier(runtime: Runtime) -> Iterator[None]:
    with inline_plugin(runtime.host, CourierPlugin(), name="courier-last-mile-under-test"):
        yield


def link_of(code: str) -> Any:
    return ChannelOrderLink.select().where(ChannelOrderLink.external_id == code).first()


# --- the acceptance ----------------------------------------------------------------------------


async def test_pickup_from_the_mapped_location_else_the_one_at_its_address(
    api: Api, runtime: Runtime, skroutz: SkroutzSimulator, skroutz_channel: SkroutzSmartCart
) -> None:
    await seed(api, {("ST-CHQ", "MUG-BLUE"): 5, ("ST-CHQ", "TEA-GREEN-100G"): 5, ("WH-ATH", "TEA-GREEN-100G"): 5})
    chania = skroutz.market.place_order([Line("MUG-BLUE", 1, 1250)])  # only the Chania store has mugs
    assert (await deliver(api, skroutz, chania)).json()["state"] == "accepted"
    assert skroutz.market.view(chania)["acceptance"]["pickup_location"] == "wgO1N22OaQ"  # Κρήτης 50, 73100
    skroutz_channel.pickup_locations["WH-ATH"] = "onpL6DXG4l"  # EMPORIO_SKROUTZ_PICKUP_LOCATIONS
    athens = skroutz.market.place_order([Line("TEA-GREEN-100G", 1, 890)])
    assert (await deliver(api, skroutz, athens)).json()["state"] == "accepted"
    assert skroutz.market.view(athens)["acceptance"]["pickup_location"] == "onpL6DXG4l"


async def test_the_earliest_window_offered_and_the_parcels_of_the_packaging_plan(
    api: Api, runtime: Runtime, skroutz: SkroutzSimulator, skroutz_channel: SkroutzSmartCart
) -> None:
    await seed(api, STOCK)
    day = START.replace(hour=0, minute=0) + timedelta(days=2)  # Wednesday
    windows = [  # Skroutz lists them out of order: the earliest is the third
        (7, day + timedelta(hours=13), day + timedelta(hours=16)),
        (8, day + timedelta(hours=9), day + timedelta(hours=11)),
        (9, day + timedelta(hours=6), day + timedelta(hours=8)),
    ]
    # 80 mugs of 400 g weigh 32 kg: more than the largest box of the default policy takes (30 kg)
    code = skroutz.market.place_order([Line("MUG-BLUE", 80, 1250)], windows=windows, parcels=(1, 2, 3))
    outcome = (await deliver(api, skroutz, code)).json()
    assert outcome["state"] == "accepted", outcome
    assert skroutz.market.view(code)["acceptance"] == {
        "pickup_location": "YlpD0KROym",
        "pickup_window": 9,
        "number_of_parcels": 2,
    }
    link = await link_of(code)
    assert '"parcels":2' in link["acceptance"]


def test_only_what_is_offered_is_chosen() -> None:
    assert [parcel_count((1, 2, 3), n) for n in (None, 1, 2, 5)] == [1, 1, 2, 3]
    assert parcel_count((2, 4), 3) == 4
    options = AcceptOptions(
        pickup_locations=[PickupLocation(id="a", label="Σταδίου 1, Τ.Κ. 105 62, Αθήνα")],
        pickup_windows=[PickupWindow(id="w1", label="no time"), PickupWindow(id="w2", label="no time either")],
        parcel_counts=(1,),
    )
    elsewhere = {"code": "WH-THE", "line1": "Εγνατίας 1", "postcode": "54630"}
    chosen = choose_acceptance(options, location=elsewhere, mapped="not-offered", planned=4)
    assert (chosen.pickup_location, chosen.pickup_window, chosen.parcels) == ("a", "w1", 1)
    assert same_address("Σταδίου 1, Τ.Κ. 105 62, Αθήνα", {"line1": "ΣΤΑΔΙΟΥ 1", "postcode": "10562"})
    assert not same_address("Σταδίου 1, Τ.Κ. 105 62, Αθήνα", {"line1": "Ερμού 5", "postcode": "10562"})
    assert not same_address("Σταδίου 1, Αθήνα", {"line1": "Σταδίου 1", "postcode": None})


# --- Skroutz refuses ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meanwhile", "order_status", "answer_status"),
    [
        (ChannelOrderState.CANCELLED, "cancelled", "moot"),  # the customer cancelled between our read and accept
        (ChannelOrderState.ACCEPTED, "confirmed", "sent"),  # a person accepted it in Skroutz's panel
    ],
)
async def test_a_422_order_status_on_accept_reads_the_order_again_and_follows_it(
    api: Api,
    runtime: Runtime,
    skroutz: SkroutzSimulator,
    skroutz_channel: SkroutzSmartCart,
    meanwhile: ChannelOrderState,
    order_status: str,
    answer_status: str,
) -> None:
    await seed(api, STOCK)
    code = skroutz.market.place_order(MUGS_AND_TEA)
    skroutz.market.script_next("accept", state=meanwhile)
    with structlog.testing.capture_logs() as logs:
        answer = await deliver(api, skroutz, code)
    assert answer.status_code == 200, answer.text
    outcome = answer.json()
    assert (outcome["state"], outcome["answer_status"]) == (meanwhile.value, answer_status)
    [accept] = skroutz.market.calls_to("accept", code)
    assert accept.status == 422
    order = (await api.get(f"/v1/orders/{outcome['order_id']}", as_="ops")).json()
    assert order["status"] == order_status
    assert (await reserved() == {}) is (meanwhile is ChannelOrderState.CANCELLED)
    [moved] = [e for e in logs if e["event"] == "channel.order_moved_on"]
    assert (moved["code"], moved["state"]) == ("order_status", meanwhile.value)
    assert "channel_order.refused" not in await event_types(outcome["order_id"])


async def test_another_refusal_is_left_to_a_person_with_what_to_do(
    api: Api, runtime: Runtime, skroutz: SkroutzSimulator, skroutz_channel: SkroutzSmartCart
) -> None:
    await seed(api, STOCK)
    code = skroutz.market.place_order(MUGS_AND_TEA)
    skroutz.market.script_next("accept", error=(422, "validation_error", "pickup_window is no longer available"))
    with structlog.testing.capture_logs() as logs:
        outcome = (await deliver(api, skroutz, code)).json()
    assert (outcome["state"], outcome["answer_status"]) == ("open", "refused")
    [refused] = [e for e in logs if e["event"] == "channel.call_refused"]
    assert refused["log_level"] == "error" and outcome["order_id"] in refused["detail"]
    assert "Skroutz Smart Cart's panel" in refused["detail"]
    row = await Event.select(Event.payload).where(Event.type == "channel_order.refused").first()
    assert row is not None and "pickup_window is no longer available" in str(row["payload"])
    # Nobody retries a refusal on their own: the sweep leaves it, the order stays reserved …
    assert await sweep_job({"runtime": runtime}) == 0
    assert len(skroutz.market.calls_to("accept", code)) == 1 and await reserved()
    # … until Skroutz expires it: past its deadline the sweep reads it again, and it is let go
    skroutz.market.clock.advance(timedelta(hours=7))  # type: ignore[attr-defined]
    past = utcnow() - timedelta(minutes=1)
    await ChannelOrderLink.update({ChannelOrderLink.accept_by: past}).where(ChannelOrderLink.external_id == code)
    assert await sweep_job({"runtime": runtime}) == 1
    assert await follow_job({"runtime": runtime}, "skroutz", code) == "expired"
    order = (await api.get(f"/v1/orders/{outcome['order_id']}", as_="ops")).json()
    assert (order["status"], await reserved()) == ("cancelled", {})
    assert await sweep_job({"runtime": runtime}) == 0


async def test_a_lost_answer_is_not_sent_twice(
    api: Api, runtime: Runtime, skroutz: SkroutzSimulator, skroutz_channel: SkroutzSmartCart
) -> None:
    """Skroutz accepted, the answer was lost on the way: the retry reads the order first and
    finds it accepted, so the order is confirmed once, with one acceptance sent."""
    await seed(api, STOCK)
    code = skroutz.market.place_order(MUGS_AND_TEA)
    skroutz.market.script_next("accept", lose_answer=True)
    outcome = (await deliver(api, skroutz, code)).json()
    assert (outcome["state"], outcome["answer_status"]) == ("open", "pending")
    link = await link_of(code)
    assert link["lease_until"] is None and "503" in link["last_error"]
    assert await settle_job({"runtime": runtime}, "skroutz", code) == "sent"
    assert await settle_job({"runtime": runtime}, "skroutz", code) == "nothing to send"
    assert len(skroutz.market.calls_to("accept", code)) == 1
    order_events = await event_types(outcome["order_id"])
    assert order_events.count("order.confirmed") == 1


async def test_a_held_lease_keeps_a_second_executor_away(
    api: Api, runtime: Runtime, skroutz: SkroutzSimulator, skroutz_channel: SkroutzSmartCart
) -> None:
    await seed(api, STOCK)
    code = skroutz.market.place_order(MUGS_AND_TEA)
    skroutz.market.fail_next(1, "ok")
    skroutz.market.fail_next(1)
    assert (await deliver(api, skroutz, code)).json()["answer_status"] == "pending"
    held = utcnow() + timedelta(seconds=60)
    await ChannelOrderLink.update({ChannelOrderLink.lease_until: held}).where(ChannelOrderLink.external_id == code)
    assert await channel_answers.settle(runtime, skroutz_channel, code) is None  # another executor is on it
    assert await sweep_job({"runtime": runtime}) == 0
    await ChannelOrderLink.update({ChannelOrderLink.lease_until: utcnow() - timedelta(seconds=1)}).where(
        ChannelOrderLink.external_id == code
    )
    assert await channel_answers.settle(runtime, skroutz_channel, code) is CallStatus.SENT  # it died: the lease lapsed
    assert [c.status for c in skroutz.market.calls_to("accept", code)] == [200]


# --- ready for the courier -----------------------------------------------------------------------


async def test_packing_tells_skroutz_the_parcels_are_ready_once(
    api: Api,
    runtime: Runtime,
    worker: Runtime,
    courier: None,
    skroutz: SkroutzSimulator,
    skroutz_channel: SkroutzSmartCart,
) -> None:
    await seed(api, STOCK)
    code = skroutz.market.place_order(MUGS_AND_TEA)
    skroutz.market.fail_next(1, "ok")
    skroutz.market.fail_next(1)  # the acceptance fails now: the sweep's job sends it
    outcome = (await deliver(api, skroutz, code)).json()
    assert outcome["answer_status"] == "pending"
    assert await sweep_job({"runtime": runtime}) == 1
    order_id = outcome["order_id"]

    async def routed() -> Any:
        return await Shipment.select(Shipment.id, Shipment.courier).where(Shipment.order_id == order_id).first()

    shipment = await eventually(routed)  # accepted → confirmed → routed by the worker
    assert shipment["courier"] == "inline-last-mile"
    assert await channel_answers.mark_ready(runtime, skroutz_channel, order_id) is CallStatus.NONE  # not packed yet
    assert skroutz.market.calls_to("set_as_ready") == []
    lines = (await api.get(f"/v1/shipments/{shipment['id']}", as_="ops")).json()["lines"]
    picks = [{"sku": ln["sku"], "picked_qty": ln["qty"]} for ln in lines]
    picked = await api.post(f"/v1/shipments/{shipment['id']}/pick", json={"picker": "p1", "lines": picks}, as_="ops")
    assert picked.status_code == 200, picked.text
    packed = await api.post(f"/v1/shipments/{shipment['id']}/pack", as_="ops")
    assert packed.status_code == 200, packed.text

    await eventually(lambda: skroutz.market.view(code)["ready"])
    link = await eventually(lambda: _ready_link(code))
    assert link["ready_status"] == "sent"
    assert "channel_order.ready" in await event_types(order_id)
    # the packed event redelivered, the job run again: Skroutz hears it once
    assert await channel_answers.mark_ready(runtime, skroutz_channel, order_id) is CallStatus.SENT
    assert [c.status for c in skroutz.market.calls_to("set_as_ready", code)] == [200]


async def _ready_link(code: str) -> Any:
    link = await link_of(code)
    return link if link and link["ready_status"] == "sent" else None
