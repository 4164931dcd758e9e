"""Issue 17, item 7 (the dashboard part): the /ops landing view opens on the work, before any KPI,
in headless Chromium (tests/ops/browser.py). Real work is made through the API of a real
`emporio serve` process whose ACS courier points at the ACS simulator: an order waiting to be
packed (its location has dispatch times, so it has a cut-off), a parcel whose label the courier
refuses (a failed label and the task it opens), and a payment left in 3-D Secure. Every tile's
count is what GET /v1/ops/queues answers; a count opens its list, the oldest first; an item opens
its order; an empty queue says so; "Refresh" brings new work in. The run leaves
artifacts/ops-queues.png and artifacts/ops-queues-order.png.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from core.db.database import utcnow
from core.payments.tables import Payment
from core.runtime import Runtime
from plugins.courier_acs.simulator.plugin import DEMO_ACCOUNT
from plugins.courier_acs.simulator.simulator import ACSSimulator
from tests.ops.browser import ARTIFACTS, LiveServer, attr, console_problems, screenshot, sign_in, wait
from tests.shopfloor.support import CUSTOMER_ADDRESS, WAREHOUSE

SCREENSHOT = ARTIFACTS / "ops-queues.png"
ORDER_SCREENSHOT = ARTIFACTS / "ops-queues-order.png"
LOCATION = "WH-QUEUE"
SKU = "QUEUE-OIL"


@dataclass(frozen=True)
class Floor:
    url: str
    ops_key: str
    storefront_key: str
    waiting: dict[str, Any]  # an order waiting to be packed
    waiting_shipment: str
    refused: dict[str, Any]  # an order whose label the courier refused
    refused_shipment: str
    stuck_payment: str  # a payment of the waiting order, in 3-D Secure for an hour


@pytest.fixture
def courier_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[ACSSimulator]:
    """The ACS simulator, and the environment the live server starts in: its ACS account, and
    two dispatch times a day (so an order to pack has a cut-off)."""
    simulator = ACSSimulator(hang_seconds=3, account_zipcodes=[WAREHOUSE["postcode"]])
    with simulator.running() as base_url:
        for name, value in DEMO_ACCOUNT.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("EMPORIO_ACS_API_BASE", f"{base_url}/ACSRestServices/api")
        monkeypatch.setenv("EMPORIO_ACS_TIMEOUT_S", "5")
        monkeypatch.setenv("EMPORIO_DISPATCH_TIMES", "13:00,18:00")
        yield simulator


async def _order(api: httpx.AsyncClient, storefront: dict[str, str], email: str, postcode: str) -> dict[str, Any]:
    """A cash-on-delivery order, placed by the storefront and routed at once (no worker runs)."""
    placed = await api.post(
        "/v1/orders",
        headers=storefront,
        json={
            "channel": "web",
            "customer": {"email": email, "name": "Μαρία", "locale": "el"},
            "lines": [{"sku": SKU, "qty": 1}],
            "shipping_address": {**CUSTOMER_ADDRESS, "postcode": postcode},
            "payment": {"provider": "cod"},
        },
    )
    assert placed.status_code == 201, placed.text
    order: dict[str, Any] = placed.json()
    routed = await api.post(f"/v1/orders/{order['id']}/route")
    assert routed.status_code == 200, routed.text
    found = await api.get(f"/v1/orders/{order['id']}")
    assert found.status_code == 200, found.text
    shipped: dict[str, Any] = found.json()
    assert [s["location"] for s in shipped["shipments"]] == [LOCATION], shipped["shipments"]
    return shipped


@pytest.fixture
async def floor(courier_env: ACSSimulator, live_server: LiveServer, runtime: Runtime) -> AsyncIterator[Floor]:
    keys = live_server.keys
    ops = {"Authorization": f"Bearer {keys['ops']}"}
    storefront = {"Authorization": f"Bearer {keys['storefront']}"}
    async with httpx.AsyncClient(base_url=live_server.url, headers=ops, timeout=60) as api:
        location = {"code": LOCATION, "name": "Αποθήκη εκκρεμοτήτων", "type": "warehouse", "address": WAREHOUSE}
        made = await api.post("/v1/locations", json={**location, "lat": 38.06, "lon": 23.59, "ships": True})
        assert made.status_code == 201, made.text
        product = {"sku": SKU, "name": "Ελαιόλαδο 1L", "price": {"amount": 1290, "currency": "EUR"}, "weight_g": 900}
        made = await api.post("/v1/products", json={**product, "dims_mm": {"l": 80, "w": 80, "h": 250}})
        assert made.status_code == 201, made.text
        assert (await api.put(f"/v1/inventory/{LOCATION}/{SKU}", json={"on_hand": 20})).status_code == 200

        waiting = await _order(api, storefront, "waiting@example.gr", CUSTOMER_ADDRESS["postcode"])
        refused = await _order(api, storefront, "refused@example.gr", "99999")  # ACS knows no such postcode
        refused_shipment = refused["shipments"][0]["id"]
        shipment = (await api.get(f"/v1/shipments/{refused_shipment}")).json()
        lines = [{"sku": ln["sku"], "picked_qty": ln["qty"]} for ln in shipment["lines"]]
        picked = await api.post(f"/v1/shipments/{refused_shipment}/pick", json={"picker": "p7", "lines": lines})
        assert picked.status_code == 200, picked.text
        packed = await api.post(f"/v1/shipments/{refused_shipment}/pack")
        assert packed.status_code == 422, packed.text  # the courier refused the label: a task opens for it

    # A payment the customer left in 3-D Secure an hour ago (only a PSP makes one: written as it would be).
    at = utcnow() - timedelta(hours=1)
    stuck = f"pay_stuck_{waiting['id'][-8:]}"
    async with runtime.unit_of_work():
        await Payment.insert(
            Payment(
                id=stuck,
                order_id=waiting["id"],
                provider="stripe",
                status="requires_action",
                currency="EUR",
                amount=1290,
                requires_action=True,
                created_at=at,
                updated_at=at,
            )
        )
    yield Floor(
        url=live_server.url,
        ops_key=keys["ops"],
        storefront_key=keys["storefront"],
        waiting=waiting,
        waiting_shipment=waiting["shipments"][0]["id"],
        refused=refused,
        refused_shipment=refused_shipment,
        stuck_payment=stuck,
    )


# ---- helpers ------------------------------------------------------------------------------------


def _queues(api: httpx.Client) -> list[dict[str, Any]]:
    response = api.get("/v1/ops/queues", params={"limit": 200})
    assert response.status_code == 200, response.text
    queues: list[dict[str, Any]] = response.json()["queues"]
    return queues


def _tiles(driver: WebDriver) -> list[tuple[str, int, str]]:
    """Every tile: its queue, its count and the name shown (read in one go)."""
    rows = driver.execute_script(
        "return Array.from(document.querySelectorAll('#work-tiles .work-tile')).map(t =>"
        " [t.dataset.queue, Number(t.dataset.count), t.querySelector('.work-tile-name').textContent,"
        "  t.querySelector('.work-tile-count').textContent]);"
    )
    for _, count, _, shown in rows:
        assert shown.replace(".", "").replace(",", "") == str(count)  # the figure on the tile is the count
    return [(queue, count, name) for queue, count, name, _ in rows]


def _count(driver: WebDriver, queue: str) -> int:
    """The count a tile shows (read by the page: the tiles are drawn anew on every change)."""
    found = driver.execute_script(
        'const t = document.querySelector(`#work-tiles [data-queue="${arguments[0]}"]`);'
        "return t ? Number(t.dataset.count) : -1;",
        queue,
    )
    return int(found)


def _list(driver: WebDriver) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = driver.execute_script(
        "return Array.from(document.querySelectorAll('#work-items .work-item')).map(i => ({"
        " subject: i.dataset.subjectId, order: i.dataset.orderId,"
        " link: !!i.querySelector('a.work-item-main'), text: i.textContent,"
        " cutoff: (i.querySelector('time[data-fact=\"cutoff\"]') || {dateTime: null}).dateTime,"
        " reason: (i.querySelector('[data-fact=\"reason\"]') || {textContent: null}).textContent}));"
    )
    return rows


def _wait_list(driver: WebDriver, queue: str) -> None:
    wait(
        driver,
        lambda d: attr(d, "#work-list", "data-queue") == queue and d.find_element(By.ID, "work-list").is_displayed(),
        f"the list of {queue}",
    )


def _open(driver: WebDriver, queue: str) -> None:
    driver.find_element(By.CSS_SELECTOR, f'#work-tiles [data-queue="{queue}"] a').click()
    _wait_list(driver, queue)


def _wait_order(driver: WebDriver, order_id: str) -> None:
    def shown(d: WebDriver) -> bool:
        view = d.find_element(By.ID, "order-view")
        assert view.get_attribute("data-state") != "error", d.find_element(By.ID, "order-status").text
        ready = view.get_attribute("data-state") == "ready"
        return ready and view.is_displayed() and view.get_attribute("data-order-id") == order_id

    wait(driver, shown, f"order {order_id}")


def _params(driver: WebDriver) -> dict[str, list[str]]:
    return parse_qs(urlsplit(driver.current_url).query)


# ---- the test -----------------------------------------------------------------------------------


def test_the_dashboard_opens_on_the_work(floor: Floor, driver: webdriver.Chrome) -> None:
    with httpx.Client(base_url=floor.url, headers={"Authorization": f"Bearer {floor.ops_key}"}, timeout=60) as api:
        sign_in(driver, f"{floor.url}/ops", floor.ops_key)
        wait(driver, lambda d: attr(d, "#work", "data-state") == "ready", "the work queues")
        expected = _queues(api)
        by_id = {q["id"]: q for q in expected}

        # -- first on the page, before the period and the KPIs; one tile per queue, counts as the API's
        assert driver.find_element(By.ID, "work").is_displayed()
        assert driver.execute_script(
            "const w = document.getElementById('work');"
            "return [document.getElementById('toolbar'), document.getElementById('pillars')]"
            ".every(n => w.compareDocumentPosition(n) & Node.DOCUMENT_POSITION_FOLLOWING);"
        )
        assert driver.find_element(By.ID, "work-title").text == "Εκκρεμότητες"
        assert _tiles(driver) == [(q["id"], q["count"], q["title"]["el"]) for q in expected]
        for queue in ("to_pack", "labels_failed", "open_tasks", "payments_require_action"):
            assert by_id[queue]["count"] >= 1, queue  # the work this test made is there
        tile = driver.find_element(By.CSS_SELECTOR, '#work-tiles [data-queue="to_pack"] a')
        assert tile.get_attribute("aria-label") == f"Προς συσκευασία: {by_id['to_pack']['count']}"

        # -- a count opens its list, the oldest first, as the API lists it; the address keeps it
        _open(driver, "to_pack")
        assert _params(driver)["queue"] == ["to_pack"]
        rows = _list(driver)
        assert [(r["subject"], r["order"]) for r in rows] == [
            (i["subject_id"], i["order_id"]) for i in by_id["to_pack"]["items"]
        ]
        [mine] = [r for r in rows if r["subject"] == floor.waiting_shipment]
        [api_item] = [i for i in by_id["to_pack"]["items"] if i["subject_id"] == floor.waiting_shipment]
        assert api_item["cutoff_at"] and mine["cutoff"] == api_item["cutoff_at"]  # the location's next pickup
        assert "Σε αναμονή" in mine["text"] and "Παραλαβή" in mine["text"] and LOCATION in mine["text"]
        assert attr(driver, "#work-list", "data-count") == str(by_id["to_pack"]["count"])

        # -- an item opens its order: the order, its shipment and its timeline
        link = driver.find_element(By.CSS_SELECTOR, f'#work-items [data-subject-id="{floor.waiting_shipment}"] a')
        assert urlsplit(str(link.get_attribute("href"))).query.endswith(f"order={floor.waiting['id']}")
        link.click()
        _wait_order(driver, floor.waiting["id"])
        assert _params(driver)["order"] == [floor.waiting["id"]]
        assert driver.find_element(By.ID, "order-title").text == (floor.waiting["external_ref"] or floor.waiting["id"])
        shipments = driver.find_element(By.CSS_SELECTOR, '#order-body [data-part="shipments"]')
        assert shipments.get_attribute("data-count") == "1"
        assert shipments.find_element(By.CSS_SELECTOR, f'[data-shipment="{floor.waiting_shipment}"]')
        payments = driver.find_elements(By.CSS_SELECTOR, '#order-body [data-part="payments"] [data-payment]')
        assert floor.stuck_payment in [p.get_attribute("data-payment") for p in payments]
        timeline = api.get(f"/v1/orders/{floor.waiting['id']}/timeline").json()["items"]
        shown = driver.find_elements(By.CSS_SELECTOR, '#order-body [data-part="timeline"] li[data-event]')
        assert timeline and [e.get_attribute("data-event") for e in shown] == [e["type"] for e in timeline]
        assert shown[0].text.endswith(timeline[0]["summary"]["el"])
        screenshot(driver, ORDER_SCREENSHOT, height=1100)

        # -- failed labels: the courier's words; its task opens the same order
        _open(driver, "labels_failed")
        assert "order" not in _params(driver) and not driver.find_element(By.ID, "order-view").is_displayed()
        [refused] = [r for r in _list(driver) if r["subject"] == floor.refused_shipment]
        [api_refused] = [i for i in by_id["labels_failed"]["items"] if i["subject_id"] == floor.refused_shipment]
        assert refused["reason"] and refused["reason"] == api_refused["reason"]
        _open(driver, "open_tasks")
        tasks = [r for r in _list(driver) if r["order"] == floor.refused["id"]]
        assert tasks and all(r["link"] for r in tasks)
        driver.find_element(By.CSS_SELECTOR, f'#work-items [data-order-id="{floor.refused["id"]}"] a').click()
        _wait_order(driver, floor.refused["id"])
        refused_part = driver.find_element(By.CSS_SELECTOR, '#order-body [data-part="shipments"]')
        status = refused_part.find_element(By.CSS_SELECTOR, f'[data-shipment="{floor.refused_shipment}"] .badge')
        assert status.get_attribute("data-status") == "packed"

        # -- back: the task list without the order; the stuck payment's list names the waiting order
        driver.back()
        wait(driver, lambda d: not d.find_element(By.ID, "order-view").is_displayed(), "the order closed")
        _wait_list(driver, "open_tasks")
        _open(driver, "payments_require_action")
        assert [(r["subject"], r["order"]) for r in _list(driver)] == [
            (i["subject_id"], i["order_id"]) for i in by_id["payments_require_action"]["items"]
        ]
        assert (floor.stuck_payment, floor.waiting["id"]) in [(r["subject"], r["order"]) for r in _list(driver)]

        # -- an empty queue says so plainly (the shop's history left no refund failed)
        assert by_id["refunds_failed"]["count"] == 0
        _open(driver, "refunds_failed")
        assert _list(driver) == []
        assert driver.find_element(By.ID, "work-list-note").text == "Τίποτα σε αναμονή εδώ."
        driver.find_element(By.ID, "work-list-close").click()
        wait(driver, lambda d: not d.find_element(By.ID, "work-list").is_displayed(), "the list closed")
        assert "queue" not in _params(driver)
        screenshot(driver, SCREENSHOT)

        # -- new work shows when "Refresh" is pressed (the figures never move by themselves)
        before = by_id["to_pack"]["count"]
        placed = api.post(
            "/v1/orders",
            headers={"Authorization": f"Bearer {floor.storefront_key}"},
            json={
                "channel": "web",
                "customer": {"email": "later@example.gr", "name": "Νίκος"},
                "lines": [{"sku": SKU, "qty": 1}],
                "shipping_address": CUSTOMER_ADDRESS,
                "payment": {"provider": "cod"},
            },
        )
        assert placed.status_code == 201, placed.text
        assert api.post(f"/v1/orders/{placed.json()['id']}/route").status_code == 200
        after = {q["id"]: q["count"] for q in _queues(api)}
        assert after["to_pack"] == before + 1
        assert _count(driver, "to_pack") == before
        driver.find_element(By.ID, "work-refresh").click()
        wait(driver, lambda d: _count(d, "to_pack") == before + 1, "the new order after Refresh")
        assert {queue: count for queue, count, _ in _tiles(driver)} == after

        # -- in English, the API's English names
        driver.find_element(By.CSS_SELECTOR, '#app [data-lang="en"]').click()
        wait(driver, lambda d: d.find_element(By.ID, "work-title").text == "Work", "English")
        assert [name for _, _, name in _tiles(driver)] == [q["title"]["en"] for q in expected]
        assert not console_problems(driver)
