"""The ops dashboard driven in headless Debian Chromium through Selenium, against a real
`emporio serve` process on the session's test database, seeded through POST /v1/import.

Every figure on a tile must be exactly what GET /v1/kpis answers for the same period and
filters (the tile's `data-value`); the run leaves a screenshot in artifacts/ops-dashboard.png.
Chromium and ChromeDriver are Debian's (`make install` installs them); nothing is downloaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait

from core.runtime import Runtime
from tests.conftest import Api
from tests.ops.history import as_ndjson, build_history

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# The flags this machine needs (no GPU, no sandbox as root, no calls home on a closed network).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1440,1000",
    "--lang=el",
)
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
SCREENSHOT = ARTIFACTS / "ops-dashboard.png"
WAIT_S = 20
START_TIMEOUT_S = 45


@dataclass(frozen=True)
class LiveServer:
    url: str
    keys: dict[str, str]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _start_server(log_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    """`emporio serve` on a free port, in the environment the `test_env` fixture set."""
    port = _free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("emporio")), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=dict(os.environ),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so the stop reaches every child
        )
    return process, port


@pytest.fixture
async def live_server(api: Api, runtime: Runtime, tmp_path: Path) -> AsyncIterator[LiveServer]:
    """A real API process of its own (the dashboard's session must work in any API process, not
    only the one that opened it), seeded with a history through POST /v1/import."""
    log_path = tmp_path / "server.log"
    process, port = _start_server(log_path)
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            deadline = time.monotonic() + START_TIMEOUT_S
            while True:
                assert process.poll() is None, f"the server exited:\n{log_path.read_text(errors='replace')}"
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get("/health")).status_code == 200:
                        break
                assert time.monotonic() < deadline, f"no /health in {START_TIMEOUT_S}s:\n{log_path.read_text()}"
                await asyncio.sleep(0.1)
            history = build_history(datetime.now(UTC).date(), runtime.host.import_kinds)
            imported = await client.post(
                "/v1/import",
                content=as_ndjson(history),
                headers={"Authorization": f"Bearer {api.keys['admin']}", "Content-Type": "application/x-ndjson"},
            )
            assert imported.status_code == 200, imported.text
        yield LiveServer(url=url, keys=api.keys)
    finally:
        _stop(process)
        print(log_path.read_text(errors="replace")[-3000:])  # shown by pytest when the test fails


@pytest.fixture
def driver() -> Iterator[webdriver.Chrome]:
    options = Options()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="emporio-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.add_experimental_option("prefs", {"intl.accept_languages": "el,en"})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # An explicit driver path: Selenium Manager (which would download a browser) never runs.
    browser = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        browser.set_page_load_timeout(WAIT_S)
        browser.set_script_timeout(WAIT_S)
        yield browser
    finally:
        browser.quit()
        shutil.rmtree(profile, ignore_errors=True)


# ---- helpers ------------------------------------------------------------------------------------


def _wait(driver: WebDriver, condition: Callable[[WebDriver], Any], what: str) -> Any:
    return WebDriverWait(driver, WAIT_S, poll_frequency=0.1).until(condition, message=f"waited {WAIT_S}s for {what}")


def _attr(driver: WebDriver, selector: str, name: str) -> str | None:
    return driver.find_element(By.CSS_SELECTOR, selector).get_attribute(name)


def _wait_ready(driver: WebDriver, start: str, end: str, **filters: str) -> None:
    """Until the dashboard shows the KPIs of exactly this period and these filters."""

    def ready(d: WebDriver) -> bool:
        view = d.execute_script(
            "const m = document.getElementById('dashboard');"
            "return [m.dataset.state, m.dataset.from, m.dataset.to, m.dataset.filters,"
            " document.getElementById('status').textContent];"
        )
        assert view[0] != "error", view[4]
        return bool(view[:3] == ["ready", start, end] and json.loads(view[3] or "{}") == filters)

    _wait(driver, ready, f"the KPIs for [{start}, {end}) {filters or ''}")


def _tiles_and_notes(driver: WebDriver) -> tuple[dict[str, Any], set[str]]:
    """Every tile's raw value, and which tiles carry the filter-not-applicable note (read in
    one script call, so a re-render cannot leave a stale element halfway)."""
    rows = driver.execute_script(
        "return Array.from(document.querySelectorAll('article.tile')).map(t =>"
        " [t.dataset.kpi, t.dataset.value, !!t.querySelector('[data-note=\"filter_not_applicable\"]')]);"
    )
    return {kpi: json.loads(value) for kpi, value, _ in rows}, {kpi for kpi, _, note in rows if note}


def _tiles(driver: WebDriver) -> dict[str, Any]:
    return _tiles_and_notes(driver)[0]


def _kpis(api: httpx.Client, start: str, end: str, **filters: str) -> dict[str, Any]:
    response = api.get("/v1/kpis", params={"from": start, "to": end, **filters})
    assert response.status_code == 200, response.text
    kpis: dict[str, Any] = response.json()["kpis"]
    return kpis


def _assert_tiles_match(driver: WebDriver, api: httpx.Client, start: str, end: str, **filters: str) -> dict[str, Any]:
    _wait_ready(driver, start, end, **filters)
    expected = _kpis(api, start, end, **filters)
    values, notes = _tiles_and_notes(driver)
    assert values == {kpi_id: item["value"] for kpi_id, item in expected.items()}
    assert notes == {kpi_id for kpi_id, item in expected.items() if item.get("filter_not_applicable")}
    return expected


def _fetch_in_page(driver: WebDriver, path: str) -> tuple[int, str]:
    """A GET made by the page itself (so with its cookie, as a CSV link would be)."""
    status, text = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {credentials: 'same-origin'})"
        ".then(r => r.text().then(t => done([r.status, t]))).catch(e => done([0, String(e)]));",
        path,
    )
    return int(status), str(text)


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return int(width), int(height)


# ---- the test -----------------------------------------------------------------------------------


def test_dashboard_in_chromium(live_server: LiveServer, driver: webdriver.Chrome) -> None:
    ops_key = live_server.keys["ops"]
    today = datetime.now(UTC).date()
    day = date.isoformat
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {ops_key}"}, timeout=60) as api:
        # -- sign in: a storefront key is refused in Greek (the browser prefers el), an ops key works
        driver.get(f"{live_server.url}/ops")
        _wait(driver, lambda d: d.find_element(By.ID, "signin").is_displayed(), "the sign-in form")
        assert _attr(driver, "html", "lang") == "el"
        key_input = driver.find_element(By.ID, "signin-key")
        key_input.send_keys(live_server.keys["storefront"])
        driver.find_element(By.ID, "signin-submit").click()
        error = _wait(driver, lambda d: d.find_element(By.ID, "signin-error").is_displayed(), "the refusal")
        assert error and driver.find_element(By.ID, "signin-error").text == "Το κλειδί δεν έχει δικαίωμα ops."
        assert key_input.get_attribute("value") == ""  # the key does not linger in the form
        key_input.send_keys(ops_key)
        driver.find_element(By.ID, "signin-submit").click()

        # -- the default period is the last 30 days (UTC), today included
        start, end = day(today - timedelta(days=29)), day(today + timedelta(days=1))
        expected = _assert_tiles_match(driver, api, start, end)
        assert expected["orders_placed"]["value"] > 10
        assert 0 < expected["payment_conversion_rate"]["value"] < 1
        tile_text = driver.find_element(By.CSS_SELECTOR, '[data-kpi="payment_conversion_rate"] .tile-value').text
        assert tile_text.endswith("%")
        assert "€" in driver.find_element(By.CSS_SELECTOR, '[data-kpi="average_order_value"] .tile-value').text
        assert driver.find_element(By.CSS_SELECTOR, '[data-pillar="orders"] h2').text.startswith("Παραγγελίες")
        # The definition is on the tile (title and an accessible tooltip).
        button = driver.find_element(By.CSS_SELECTOR, '[data-kpi="orders_placed"] .tile-main')
        tooltip = driver.find_element(By.ID, str(button.get_attribute("aria-describedby")))
        assert tooltip.get_attribute("role") == "tooltip"
        definitions = api.get("/v1/kpis/definitions").json()
        formula = next(d["formula"] for d in definitions if d["id"] == "orders_placed")
        assert formula in str(button.get_attribute("title")) and formula in str(tooltip.get_attribute("textContent"))

        # -- the key never reached the page or its storage; the cookie is invisible to scripts
        assert ops_key not in driver.page_source
        assert driver.execute_script("return document.cookie") == ""
        stored = driver.execute_script("return JSON.stringify(localStorage) + JSON.stringify(sessionStorage)")
        assert ops_key not in stored
        cookie = driver.get_cookie("emporio_ops")
        assert cookie is not None and cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"

        # -- a custom period through the date inputs
        Select(driver.find_element(By.ID, "period")).select_by_value("custom")
        custom_from, custom_through = today - timedelta(days=20), today - timedelta(days=6)
        for field, value in (("from", custom_from), ("to", custom_through)):
            driver.execute_script(
                "arguments[0].value = arguments[1];"
                "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));"
                "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));",
                driver.find_element(By.ID, field),
                day(value),
            )
        driver.find_element(By.ID, "apply").click()
        start, end = day(custom_from), day(custom_through + timedelta(days=1))
        custom = _assert_tiles_match(driver, api, start, end)
        assert custom["orders_placed"]["value"] != expected["orders_placed"]["value"]

        # -- filters: channel, then location (which order-based KPIs cannot apply: the tile says so)
        Select(driver.find_element(By.ID, "channel")).select_by_value("web")
        web = _assert_tiles_match(driver, api, start, end, channel="web")
        assert web["orders_placed"]["value"] < custom["orders_placed"]["value"]
        Select(driver.find_element(By.ID, "channel")).select_by_value("")
        Select(driver.find_element(By.ID, "location")).select_by_value("WH-ATH")
        at_warehouse = _assert_tiles_match(driver, api, start, end, location="WH-ATH")
        assert at_warehouse["orders_placed"].get("filter_not_applicable") is True
        Select(driver.find_element(By.ID, "location")).select_by_value("")
        _wait_ready(driver, start, end)

        # -- CSV export links the current view; the page's cookie authenticates the GET
        href = str(_attr(driver, "#export-csv", "href"))
        assert href.endswith(f"/v1/kpis?from={start}&to={end}&format=csv"), href
        status, text = _fetch_in_page(driver, href)
        assert status == 200 and text.startswith("kpi,name,unit,value"), text[:200]

        # -- the language switch: English texts, the same numbers
        before = _tiles(driver)
        driver.find_element(By.CSS_SELECTOR, '#app [data-lang="en"]').click()
        _wait(driver, lambda d: _attr(d, "html", "lang") == "en", "English")
        assert driver.find_element(By.CSS_SELECTOR, '[data-pillar="orders"] h2').text.startswith("Orders")
        assert driver.find_element(By.ID, "signout").text == "Sign out"
        assert _tiles(driver) == before

        # -- back to the default period; a series chart and a group-by table for one KPI
        Select(driver.find_element(By.ID, "period")).select_by_value("30d")
        start, end = day(today - timedelta(days=29)), day(today + timedelta(days=1))
        _wait_ready(driver, start, end)
        driver.find_element(By.CSS_SELECTOR, '[data-kpi="payment_conversion_rate"] .tile-main').click()
        params = {"from": start, "to": end}
        daily = api.get("/v1/kpis/payment_conversion_rate", params={**params, "granularity": "day"}).json()["series"]
        _wait(driver, lambda d: _attr(d, "#chart", "data-state") == "ready", "the series chart")
        assert _attr(driver, "#chart", "data-points") == str(len(daily)) == "30"
        assert len(driver.find_elements(By.CSS_SELECTOR, "#chart svg .chart-dot")) == sum(
            p["value"] is not None for p in daily
        )
        groups = api.get("/v1/kpis/payment_conversion_rate", params={**params, "group_by": "issuer_bank"}).json()
        _wait(
            driver,
            lambda d: len(d.find_elements(By.CSS_SELECTOR, "#groups tbody tr")) == len(groups["groups"]),
            "the issuer-bank table",
        )
        rows = driver.find_elements(By.CSS_SELECTOR, "#groups tbody tr")
        assert [json.loads(str(r.get_attribute("data-value"))) for r in rows] == [g["value"] for g in groups["groups"]]
        driver.find_element(By.CSS_SELECTOR, '[data-granularity="week"]').click()
        weekly = api.get("/v1/kpis/payment_conversion_rate", params={**params, "granularity": "week"}).json()["series"]
        _wait(driver, lambda d: _attr(d, "#chart", "data-points") == str(len(weekly)), "the weekly series")
        assert "granularity=week" in str(_attr(driver, "#series-csv", "href"))

        # -- a full-page screenshot for people to look at
        ARTIFACTS.mkdir(exist_ok=True)
        # No hover or focus left on a tile: its tooltip would cover the next row.
        ActionChains(driver).move_to_element(driver.find_element(By.TAG_NAME, "footer")).perform()
        driver.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
        height = int(
            driver.execute_script(
                "return Math.ceil(document.querySelector('footer').getBoundingClientRect().bottom + window.scrollY)"
            )
        )
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1440, "height": max(height, 900), "deviceScaleFactor": 1, "mobile": False},
        )
        _wait(driver, lambda d: _attr(d, "#chart", "data-state") == "ready", "the chart after the resize")
        SCREENSHOT.unlink(missing_ok=True)
        assert driver.save_screenshot(str(SCREENSHOT))
        width, shot_height = _png_size(SCREENSHOT)
        assert width == 1440 and shot_height >= 900
        assert SCREENSHOT.stat().st_size > 50_000  # a real page, not a blank one

        # -- signing out ends the session for every later request
        driver.find_element(By.ID, "signout").click()
        _wait(driver, lambda d: d.find_element(By.ID, "signin").is_displayed(), "the sign-in form again")
        status, _ = _fetch_in_page(driver, f"/v1/kpis?from={start}&to={end}")
        assert status == 401

        # -- no script error and nothing refused by the page's Content-Security-Policy, all along
        entries: list[dict[str, Any]] = driver.get_log("browser")  # type: ignore[no-untyped-call]  # selenium's own
        console = [str(entry.get("message", "")) for entry in entries]
        broken = [m for m in console if "Uncaught" in m or "Content Security Policy" in m or "Refused" in m]
        assert not broken, broken
