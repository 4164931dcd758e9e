"""The agents' service workspace in headless Chromium (tests/ops/browser.py): an agent signs in with
an agent key, finds a customer's case in "unassigned in my skills", opens it beside the customer
360, claims it, answers with a macro (previewed exactly as sent), adds an internal note (shown as a
note, never as a reply), resolves it, merges the customer's other case into it, and steps back and
forward through the cases by the address. A cross-site form post riding the session cookie is
refused. The run leaves artifacts/ops-workspace.png.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from core.fulfilment.tables import Shipment
from tests.ops.browser import (
    ARTIFACTS,
    LiveServer,
    attr,
    console_problems,
    request_in_page,
    screenshot,
    sign_in,
    wait,
)

SCREENSHOT = ARTIFACTS / "ops-workspace.png"
TRACKING_URL = "https://www.acscourier.net/el/track-and-trace?p_p_id=ACS9988776655"
ACTIVE = ("new", "open", "pending")


@pytest.fixture
def serve_flags() -> tuple[str, ...]:
    """The live server runs the worker: case events reach the workspace's live socket."""
    return ("--with-worker",)


@dataclass(frozen=True)
class Desk:
    url: str
    agent_key: str
    storefront_key: str
    agent_id: str
    customer_id: str
    order_ref: str
    delivery_case: str  # "Where is my order?", about an order with a shipment
    payment_case: str  # the same customer's other problem, merged later


@pytest.fixture
async def desk(live_server: LiveServer) -> AsyncIterator[Desk]:
    """Two live cases of one customer waiting unassigned (the history's agents take no new cases),
    then an agent with the skills for both and an agent key acting as them."""
    keys = live_server.keys

    def auth(role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {keys[role]}"}

    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as api:
        assert (await api.post("/v1/segments/build", headers=auth("ops"))).status_code == 200
        customer = (await api.get("/v1/customers", params={"email": "c03@example.gr"}, headers=auth("ops"))).json()
        customer_id = customer["items"][0]["id"]
        context = (await api.get(f"/v1/customers/{customer_id}/context", headers=auth("agent"))).json()
        shipped = {s["order_id"]: s for s in context["shipments"] if not s["is_return"]}
        order = next(o for o in context["orders"] if o["id"] in shipped)
        # A courier plugin would have set the live tracking link; the history import carries none.
        await Shipment.update({Shipment.tracking_url: TRACKING_URL}).where(Shipment.id == shipped[order["id"]]["id"])
        delivery = await api.post(
            "/v1/cases",
            headers=auth("storefront"),
            json={
                "customer": {"id": customer_id},
                "channel": "email",
                "subject": "Πού είναι η παραγγελία μου;",
                "body": "Καλησπέρα, η παραγγελία μου δεν έχει έρθει ακόμη.",
                "order_id": order["id"],
            },
        )
        payment = await api.post(
            "/v1/cases",
            headers=auth("storefront"),
            json={
                "customer": {"id": customer_id},
                "channel": "chat",
                "subject": "Διπλή χρέωση στην κάρτα",
                "body": "Με χρεώσατε δύο φορές για την ίδια αγορά.",
            },
        )
        assert delivery.status_code == payment.status_code == 201, (delivery.text, payment.text)
        assert delivery.json()["assignee"] is None and payment.json()["assignee"] is None
        assert (delivery.json()["topic"], payment.json()["topic"]) == ("delivery", "payment")
        agent = await api.post(
            "/v1/agents",
            headers=auth("ops"),
            json={"name": "Μαρία Παπαδοπούλου", "skills": ["delivery", "payment"], "languages": ["el", "en"]},
        )
        assert agent.status_code == 201, agent.text
        key = await api.post(
            "/v1/api-keys",
            headers=auth("admin"),
            json={"name": "maria-desk", "scopes": ["agent"], "agent_id": agent.json()["id"]},
        )
        assert key.status_code == 201, key.text
    yield Desk(
        url=live_server.url,
        agent_key=key.json()["key"],
        storefront_key=keys["storefront"],
        agent_id=agent.json()["id"],
        customer_id=customer_id,
        order_ref=order["external_ref"] or order["id"],
        delivery_case=delivery.json()["id"],
        payment_case=payment.json()["id"],
    )


@pytest.fixture
def forger() -> Iterator[str]:
    """Another site (localhost is not 127.0.0.1 to a browser) whose page posts a form to the
    engine as soon as it loads: `{forger}/?target=<url>`."""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            target = self.path.split("target=", 1)[-1]
            body = (
                "<!doctype html><html><body>"
                f'<form id="f" method="post" action="{target}">'
                '<input name="body" value="Forged reply"><input name="internal" value="false"></form>'
                "<script>document.getElementById('f').submit()</script></body></html>"
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# ---- helpers ------------------------------------------------------------------------------------


def _press(driver: WebDriver, key: str) -> None:
    """A shortcut, typed with nothing focused (as an agent reading the case would)."""
    driver.execute_script("document.activeElement && document.activeElement.blur()")
    driver.find_element(By.TAG_NAME, "body").send_keys(key)


def _case(api: httpx.Client, case_id: str) -> dict[str, Any]:
    response = api.get(f"/v1/cases/{case_id}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def _inbox(driver: WebDriver) -> list[str]:
    """The inbox's cases, read in one go (a poll may redraw the list at any moment)."""
    ids: list[str] = driver.execute_script(
        "return Array.from(document.querySelectorAll('#inbox-list .case-row')).map(r => r.dataset.caseId);"
    )
    return ids


def _camel(name: str) -> str:
    """`data-foo-bar` is `dataset.fooBar`."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _messages(driver: WebDriver) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = driver.execute_script(
        "return Array.from(document.querySelectorAll('#conversation .msg')).map(m => ({id: m.dataset.messageId,"
        " internal: m.dataset.internal === 'true', note: m.classList.contains('msg-note'),"
        " body: m.querySelector('.msg-body').textContent, flag: (m.querySelector('.msg-flag') || {}).textContent}));"
    )
    return rows


def _wait_case(driver: WebDriver, case_id: str, **data: str) -> None:
    def shown(d: WebDriver) -> bool:
        # Read in one go: attribute by attribute, a "ready" of the case before could pair with the
        # id of the one being opened (a live nudge or a click redraws the view at any moment).
        state: dict[str, str] = d.execute_script("return Object.assign({}, document.getElementById('case').dataset);")
        wanted = {"state": "ready", "caseId": case_id, **{_camel(k): v for k, v in data.items()}}
        return all(state.get(k, "") == v for k, v in wanted.items())

    wait(driver, shown, f"case {case_id} {data or ''}")


# ---- the test -----------------------------------------------------------------------------------


def test_an_agent_works_a_case_in_chromium(desk: Desk, forger: str, driver: webdriver.Chrome) -> None:
    with httpx.Client(base_url=desk.url, headers={"Authorization": f"Bearer {desk.agent_key}"}, timeout=60) as api:
        # -- an agent key signs in; the workspace is its only view, and it says the agent is online
        sign_in(driver, f"{desk.url}/ops", desk.agent_key)
        wait(driver, lambda d: d.find_element(By.ID, "service").is_displayed(), "the workspace")
        assert urlsplit(driver.current_url).fragment == "service"
        views = driver.find_elements(By.CSS_SELECTOR, "nav [data-view]")
        assert [v.get_attribute("data-view") for v in views if v.is_displayed()] == ["service"]
        wait(driver, lambda d: d.find_element(By.ID, "presence").is_displayed(), "the presence heartbeat")
        # The shortcuts are written down in the page (?), and "/" goes to the search.
        _press(driver, "?")
        assert driver.find_element(By.ID, "shortcuts").is_displayed()
        assert "Επόμενο αίτημα" in driver.find_element(By.ID, "shortcuts").text
        driver.switch_to.active_element.send_keys(Keys.ESCAPE)
        assert not driver.find_element(By.ID, "shortcuts").is_displayed()
        _press(driver, "/")
        assert driver.switch_to.active_element.get_attribute("id") == "inbox-search"

        # -- the unassigned queue in the agent's skills holds the customer's two cases, as the API does
        driver.find_element(By.CSS_SELECTOR, '[data-inbox="unassigned"]').click()
        wait(driver, lambda d: attr(d, "#inbox-list", "data-tab") == "unassigned", "the unassigned tab")
        queue: list[str] = []
        for status in ACTIVE:
            page = api.get("/v1/cases", params={"assignee": "none", "my_skills": "true", "status": status}).json()
            queue.extend(c["id"] for c in page["items"])
        assert sorted(_inbox(driver)) == sorted(queue)
        assert {desk.delivery_case, desk.payment_case} <= set(_inbox(driver))
        assert "inbox=unassigned" in driver.current_url

        # -- open the delivery case: the conversation beside the customer 360
        driver.find_element(By.CSS_SELECTOR, f'#inbox-list [data-case-id="{desk.delivery_case}"] button').click()
        _wait_case(driver, desk.delivery_case, status="new", assignee="")
        assert urlsplit(driver.current_url).fragment == f"service/{desk.delivery_case}"
        case = _case(api, desk.delivery_case)
        assert driver.find_element(By.ID, "case-title").text == "Πού είναι η παραγγελία μου;"
        assert [m["body"] for m in _messages(driver)] == [m["body"] for m in case["messages"]]
        context = case["context"]
        assert attr(driver, "#customer360", "data-customer-id") == desk.customer_id
        for section in ("orders", "shipments", "payments", "returns", "cases"):
            expected = len(context[section]) - (1 if section == "cases" else 0)  # the case itself is not "earlier"
            assert attr(driver, f'#customer360 [data-section="{section}"]', "data-count") == str(expected), section
        tracking = driver.find_element(By.CSS_SELECTOR, '#customer360 [data-section="shipments"] a[data-tracking]')
        assert tracking.get_attribute("href") == TRACKING_URL
        assert tracking.get_attribute("target") == "_blank" and "noopener" in str(tracking.get_attribute("rel"))
        chips = driver.find_elements(By.CSS_SELECTOR, "#customer360 .chip[data-segment]")
        assert [c.get_attribute("data-segment") for c in chips] == context["segments"]
        actions = driver.find_elements(By.CSS_SELECTOR, "#customer360 .nba")
        assert [a.get_attribute("data-action") for a in actions] == [a["action"] for a in context["next_best_actions"]]
        # Suggested articles: none for this case, so nothing is shown at all.
        assert api.get(f"/v1/cases/{desk.delivery_case}/suggestions").json()["results"] == []
        assert not driver.find_element(By.ID, "suggestions").is_displayed()

        # -- claim it (c)
        _press(driver, "c")
        _wait_case(driver, desk.delivery_case, assignee=desk.agent_id)
        assert _case(api, desk.delivery_case)["assignee"] == desk.agent_id
        assert not driver.find_element(By.ID, "case-claim").is_displayed()

        # -- reply (r) with a macro: the preview is exactly what is sent
        _press(driver, "r")
        assert driver.switch_to.active_element.get_attribute("id") == "composer-text"
        Select(driver.find_element(By.ID, "macro-select")).select_by_value("where_is_my_order")
        macros = api.get(f"/ops/cases/{desk.delivery_case}/macros").json()["macros"]
        rendered = next(m["text"] for m in macros if m["id"] == "where_is_my_order")
        preview = driver.find_element(By.ID, "macro-preview-text")
        wait(driver, lambda d: preview.text == rendered.strip(), "the macro's preview")
        assert TRACKING_URL in rendered and desk.order_ref in rendered and "Μαρία Παπαδοπούλου" in rendered
        driver.find_element(By.ID, "composer-send").click()
        wait(driver, lambda d: len(_messages(d)) == 2, "the reply in the conversation")
        reply = _messages(driver)[-1]
        assert reply["body"] == rendered and reply["internal"] is False and not reply["note"]
        assert (
            attr(driver, "#composer-text", "value") == ""
            and not driver.find_element(By.ID, "macro-preview").is_displayed()
        )

        # -- an internal note (n): set apart from the replies, and internal in the API
        _press(driver, "n")
        assert attr(driver, "#composer", "data-mode") == "note"
        note_text = "Μίλησα με την ACS: παράδοση αύριο το πρωί."
        driver.switch_to.active_element.send_keys(note_text)
        driver.switch_to.active_element.send_keys(Keys.CONTROL, Keys.ENTER)
        wait(driver, lambda d: len(_messages(d)) == 3, "the note in the conversation")
        note = _messages(driver)[-1]
        assert note["body"] == note_text and note["internal"] is True and note["note"] is True
        assert note["flag"] == "Εσωτερική σημείωση — δεν στέλνεται στον πελάτη"
        stored = _case(api, desk.delivery_case)["messages"]
        assert [(m["body"], m["internal"]) for m in stored[1:]] == [(rendered, False), (note_text, True)]
        background = driver.execute_script(
            "const [a, b] = document.querySelectorAll('#conversation .msg-out, #conversation .msg-note');"
            "return [getComputedStyle(a).backgroundColor, getComputedStyle(b).backgroundColor];"
        )
        assert background[0] != background[1]  # a note never looks like a reply
        screenshot(driver, SCREENSHOT, height=1000)

        # -- resolve it (e)
        _press(driver, "e")
        _wait_case(driver, desk.delivery_case, status="resolved")
        assert _case(api, desk.delivery_case)["status"] == "resolved"

        # -- j opens the next case of the list: the payment case, merged into the delivery case
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        wait(driver, lambda d: desk.delivery_case not in _inbox(d), "the claimed case out of the unassigned queue")
        _press(driver, "j")
        _wait_case(driver, desk.payment_case)
        merge = Select(driver.find_element(By.ID, "merge-select"))
        merge.select_by_value(desk.delivery_case)
        driver.find_element(By.ID, "case-merge").click()
        _wait_case(driver, desk.delivery_case)
        assert urlsplit(driver.current_url).fragment == f"service/{desk.delivery_case}"
        assert "Με χρεώσατε δύο φορές για την ίδια αγορά." in [m["body"] for m in _messages(driver)]
        assert _case(api, desk.payment_case)["merged_into"] == desk.delivery_case

        # -- back and forward step through the cases opened
        driver.back()
        _wait_case(driver, desk.payment_case, status="closed")
        driver.forward()
        _wait_case(driver, desk.delivery_case)

        # -- live: the customer writes again (the resolved case reopens) and another customer's case
        #    arrives (routed to this agent, who is free now); both show without a reload, pushed
        #    through the live socket (while it is up the page polls only every two minutes)
        driver.find_element(By.CSS_SELECTOR, '[data-inbox="mine"]').click()
        wait(driver, lambda d: attr(d, "#inbox-list", "data-tab") == "mine", "my cases")
        wait(driver, lambda d: attr(d, "#service", "data-live") == "on", "the live socket")
        storefront = {"Authorization": f"Bearer {desk.storefront_key}"}
        again = httpx.post(
            f"{desk.url}/v1/cases/{desk.delivery_case}/messages", headers=storefront, json={"body": "Και τι ώρα;"}
        )
        assert again.status_code == 201, again.text
        _wait_case(driver, desk.delivery_case, status="open")  # pushed: the socket's nudge, then a read
        assert attr(driver, "#service", "data-last-event") in ("case.message_received", "case.reopened")
        assert _messages(driver)[-1]["body"] == "Και τι ώρα;"
        arrived = httpx.post(
            f"{desk.url}/v1/cases",
            headers=storefront,
            json={
                "customer": {"email": "nikos@example.gr", "name": "Νίκος Π."},
                "channel": "web",
                "subject": "Πού είναι η παραγγελία μου;",
                "body": "Περιμένω από την Τρίτη.",
            },
        )
        assert arrived.status_code == 201 and arrived.json()["assignee"] == desk.agent_id, arrived.text
        wait(driver, lambda d: arrived.json()["id"] in _inbox(d), "the new case in my inbox")
        assert desk.delivery_case in _inbox(driver)

        # -- English labels, the same conversation
        driver.find_element(By.CSS_SELECTOR, '#app [data-lang="en"]').click()
        wait(driver, lambda d: attr(d, "html", "lang") == "en", "English")
        notes = [m["flag"] for m in _messages(driver) if m["note"]]
        assert notes == ["Internal note — never sent to the customer"]

        # -- assign it (a) to a colleague
        _press(driver, "a")
        assert driver.switch_to.active_element.get_attribute("id") == "assign-select"
        assign = Select(driver.find_element(By.ID, "assign-select"))
        colleague = next(str(o.get_attribute("value")) for o in assign.options if o.text.startswith("Nikos Georgiou"))
        assign.select_by_value(colleague)
        driver.find_element(By.ID, "case-assign").click()
        _wait_case(driver, desk.delivery_case, assignee=colleague)
        assert _case(api, desk.delivery_case)["assignee"] == colleague

        # -- the session cookie alone never makes a change: a request from the page without the
        #    token, and a form posted by another site, are both refused and change nothing
        before = len(_case(api, desk.delivery_case)["messages"])
        path = f"/v1/cases/{desk.delivery_case}/messages"
        code, text = request_in_page(driver, "POST", path, {"body": "no token"}, {"Content-Type": "application/json"})
        assert code == 401 and "X-Emporio-CSRF" in text, text
        driver.get(f"{forger}/?target={desk.url}{path}")
        wait(driver, lambda d: d.current_url.startswith(desk.url), "the forged form's post")
        assert '"status":401' in driver.page_source.replace(" ", "")
        assert len(_case(api, desk.delivery_case)["messages"]) == before
        # The dashboard itself is still signed in, and its own changes still go through.
        driver.get(f"{desk.url}/ops#service/{desk.delivery_case}")
        _wait_case(driver, desk.delivery_case)

        # -- neither the key nor the anti-forgery token is kept where scripts persist things
        stored_keys = driver.execute_script("return [Object.keys(localStorage), Object.keys(sessionStorage)]")
        assert stored_keys == [["emporio_ops_lang"], []]
        assert desk.agent_key not in driver.page_source
        assert driver.execute_script("return document.cookie") == ""
        assert not console_problems(driver)
