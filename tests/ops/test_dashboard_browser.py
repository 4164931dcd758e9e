"""The ops dashboard driven in headless Debian Chromium through Selenium, against a real
`emporio serve` process on the session's test database, seeded through POST /v1/import
(tests/ops/browser.py).

Every figure on a tile must be exactly what GET /v1/kpis answers for the same period and
filters (the tile's `data-value`); the landing view's trends are the API's series for the period
and the one before it; the view lives in the address (bookmarks, back and forward). The runs leave
screenshots in artifacts/ (ops-dashboard.png, ops-segments.png).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from tests.ops.browser import (
    ARTIFACTS,
    LiveServer,
    assert_tiles_match,
    attr,
    console_problems,
    fetch_in_page,
    pin_browser_day,
    screenshot,
    sign_in,
    tiles,
    wait,
    wait_ready,
)

SCREENSHOT = ARTIFACTS / "ops-dashboard.png"
SEGMENTS_SCREENSHOT = ARTIFACTS / "ops-segments.png"


# ---- the test -----------------------------------------------------------------------------------


def test_dashboard_in_chromium(live_server: LiveServer, driver: webdriver.Chrome) -> None:
    ops_key = live_server.keys["ops"]
    today = datetime.now(UTC).date()
    pin_browser_day(driver, today)  # the page's "today" is this one, whenever midnight comes
    day = date.isoformat
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {ops_key}"}, timeout=60) as api:
        # -- sign in: a storefront key is refused in Greek (the browser prefers el), an ops key works
        driver.get(f"{live_server.url}/ops")
        wait(driver, lambda d: d.find_element(By.ID, "signin").is_displayed(), "the sign-in form")
        assert attr(driver, "html", "lang") == "el"
        key_input = driver.find_element(By.ID, "signin-key")
        key_input.send_keys(live_server.keys["storefront"])
        driver.find_element(By.ID, "signin-submit").click()
        error = wait(driver, lambda d: d.find_element(By.ID, "signin-error").is_displayed(), "the refusal")
        assert error and driver.find_element(By.ID, "signin-error").text == "Το κλειδί δεν έχει δικαίωμα ops ή agent."
        assert key_input.get_attribute("value") == ""  # the key does not linger in the form
        key_input.send_keys(ops_key)
        driver.find_element(By.ID, "signin-submit").click()

        # -- the default period is the last 30 days (UTC), today included
        start, end = day(today - timedelta(days=29)), day(today + timedelta(days=1))
        expected = assert_tiles_match(driver, api, start, end)
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
        custom = assert_tiles_match(driver, api, start, end)
        assert custom["orders_placed"]["value"] != expected["orders_placed"]["value"]

        # -- filters: channel, then location (which order-based KPIs cannot apply: the tile says so)
        Select(driver.find_element(By.ID, "channel")).select_by_value("web")
        web = assert_tiles_match(driver, api, start, end, channel="web")
        assert web["orders_placed"]["value"] < custom["orders_placed"]["value"]
        Select(driver.find_element(By.ID, "channel")).select_by_value("")
        Select(driver.find_element(By.ID, "location")).select_by_value("WH-ATH")
        at_warehouse = assert_tiles_match(driver, api, start, end, location="WH-ATH")
        assert at_warehouse["orders_placed"].get("filter_not_applicable") is True
        Select(driver.find_element(By.ID, "location")).select_by_value("")
        wait_ready(driver, start, end)

        # -- CSV export links the current view; the page's cookie authenticates the GET
        href = str(attr(driver, "#export-csv", "href"))
        assert href.endswith(f"/v1/kpis?from={start}&to={end}&format=csv"), href
        status, text = fetch_in_page(driver, href)
        assert status == 200 and text.startswith("kpi,name,unit,value"), text[:200]

        # -- the language switch: English texts, the same numbers
        before = tiles(driver)
        driver.find_element(By.CSS_SELECTOR, '#app [data-lang="en"]').click()
        wait(driver, lambda d: attr(d, "html", "lang") == "en", "English")
        assert driver.find_element(By.CSS_SELECTOR, '[data-pillar="orders"] h2').text.startswith("Orders")
        assert driver.find_element(By.ID, "signout").text == "Sign out"
        assert tiles(driver) == before

        # -- back to the default period; a series chart and a group-by table for one KPI
        Select(driver.find_element(By.ID, "period")).select_by_value("30d")
        start, end = day(today - timedelta(days=29)), day(today + timedelta(days=1))
        wait_ready(driver, start, end)
        driver.find_element(By.CSS_SELECTOR, '[data-kpi="payment_conversion_rate"] .tile-main').click()
        params = {"from": start, "to": end}
        daily = api.get("/v1/kpis/payment_conversion_rate", params={**params, "granularity": "day"}).json()["series"]
        wait(driver, lambda d: attr(d, "#chart", "data-state") == "ready", "the series chart")
        assert attr(driver, "#chart", "data-points") == str(len(daily)) == "30"
        assert len(driver.find_elements(By.CSS_SELECTOR, "#chart svg .chart-dot")) == sum(
            p["value"] is not None for p in daily
        )
        groups = api.get("/v1/kpis/payment_conversion_rate", params={**params, "group_by": "issuer_bank"}).json()
        wait(
            driver,
            lambda d: len(d.find_elements(By.CSS_SELECTOR, "#groups tbody tr")) == len(groups["groups"]),
            "the issuer-bank table",
        )
        rows = driver.find_elements(By.CSS_SELECTOR, "#groups tbody tr")
        assert [json.loads(str(r.get_attribute("data-value"))) for r in rows] == [g["value"] for g in groups["groups"]]
        driver.find_element(By.CSS_SELECTOR, '[data-granularity="week"]').click()
        weekly = api.get("/v1/kpis/payment_conversion_rate", params={**params, "granularity": "week"}).json()["series"]
        wait(driver, lambda d: attr(d, "#chart", "data-points") == str(len(weekly)), "the weekly series")
        assert "granularity=week" in str(attr(driver, "#series-csv", "href"))

        # -- a full-page screenshot for people to look at: the trends above the tiles, the detail open
        wait(driver, lambda d: attr(d, "#trends", "data-state") == "ready", "the trends")
        # No hover or focus left on a tile: its tooltip would cover the next row.
        ActionChains(driver).move_to_element(driver.find_element(By.TAG_NAME, "footer")).perform()
        screenshot(driver, SCREENSHOT)
        wait(driver, lambda d: attr(d, "#chart", "data-state") == "ready", "the chart after the resize")
        assert SCREENSHOT.stat().st_size > 50_000

        # -- signing out ends the session for every later request
        driver.find_element(By.ID, "signout").click()
        wait(driver, lambda d: d.find_element(By.ID, "signin").is_displayed(), "the sign-in form again")
        status, _ = fetch_in_page(driver, f"/v1/kpis?from={start}&to={end}")
        assert status == 401

        # -- no script error and nothing refused by the page's Content-Security-Policy, all along
        assert not console_problems(driver)


# ---- the view in the address, the trends and the segment view --------------------------------------


def _params(driver: WebDriver) -> dict[str, list[str]]:
    return parse_qs(urlsplit(driver.current_url).query)


def _hash(driver: WebDriver) -> str:
    return urlsplit(driver.current_url).fragment


def _series(api: httpx.Client, kpi: str, start: str, end: str, granularity: str, **filters: str) -> list[Any]:
    params = {"from": start, "to": end, "granularity": granularity, **filters}
    response = api.get(f"/v1/kpis/{kpi}", params=params)
    assert response.status_code == 200, response.text
    series: list[Any] = response.json()["series"]
    return series


def _assert_trends_match(driver: WebDriver, api: httpx.Client, start: str, end: str, **filters: str) -> None:
    """Each trend card: this period's series and the previous period's, as the API gives them."""
    wait(driver, lambda d: attr(d, "#trends", "data-state") == "ready", "the trends")
    days = (date.fromisoformat(end) - date.fromisoformat(start)).days
    previous = (date.isoformat(date.fromisoformat(start) - timedelta(days=days)), start)
    assert (attr(driver, "#trends", "data-previous-from"), attr(driver, "#trends", "data-previous-to")) == previous
    granularity = "day" if days <= 62 else "week" if days <= 366 else "month"
    now = api.get("/v1/kpis", params={"from": start, "to": end, **filters}).json()["kpis"]
    before = api.get("/v1/kpis", params={"from": previous[0], "to": previous[1], **filters}).json()["kpis"]
    cards = driver.execute_script(
        "return Array.from(document.querySelectorAll('#trend-cards .trend')).map(c => [c.dataset.kpi,"
        " c.dataset.state, c.dataset.points, c.dataset.previousPoints, c.dataset.value, c.dataset.previousValue,"
        " c.querySelectorAll('.trend-dot').length, !!c.querySelector('svg .trend-previous')]);"
    )
    ids = [card[0] for card in cards]
    # Each pillar's key series, in pillar order.
    assert ids[:3] == ["orders_placed", "average_order_value", "payment_conversion_rate"], ids
    assert {"on_time_delivery_rate", "return_rate_orders", "total_tickets", "first_response_time_minutes"} <= set(ids)
    for kpi, state, points, previous_points, value, previous_value, dots, drawn_before in cards:
        series = _series(api, kpi, start, end, granularity, **filters)
        earlier = _series(api, kpi, previous[0], previous[1], granularity, **filters)
        assert state == "ready" or (state == "empty" and all(p["value"] is None for p in series + earlier)), kpi
        assert (int(points), int(previous_points)) == (len(series), len(earlier)), kpi
        assert dots == sum(p["value"] is not None for p in series), kpi
        assert drawn_before or state == "empty", kpi
        assert json.loads(value) == now[kpi]["value"], kpi
        assert json.loads(previous_value) == before[kpi]["value"], kpi


def test_the_view_lives_in_the_address(live_server: LiveServer, driver: webdriver.Chrome) -> None:
    ops_key = live_server.keys["ops"]
    today = datetime.now(UTC).date()
    pin_browser_day(driver, today)  # the page's "today" is this one, whenever midnight comes
    day = date.isoformat
    start, end = day(today - timedelta(days=20)), day(today - timedelta(days=5))
    week_start, week_end = day(today - timedelta(days=6)), day(today + timedelta(days=1))
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {ops_key}"}, timeout=60) as api:
        assert api.post("/v1/segments/build").status_code == 200

        # -- a bookmarked address opens its view: the period, the filter, the KPI in detail
        bookmark = f"{live_server.url}/ops?from={start}&to={end}&channel=web&kpi=orders_placed#dashboard"
        sign_in(driver, bookmark, ops_key)
        assert_tiles_match(driver, api, start, end, channel="web")
        assert Select(driver.find_element(By.ID, "period")).first_selected_option.get_attribute("value") == "custom"
        assert attr(driver, "#from", "value") == start
        assert attr(driver, "#to", "value") == day(today - timedelta(days=6))  # the form shows the last day included
        assert Select(driver.find_element(By.ID, "channel")).first_selected_option.get_attribute("value") == "web"
        wait(driver, lambda d: attr(d, "#chart", "data-state") == "ready", "the bookmarked KPI's chart")
        assert attr(driver, "#detail", "data-kpi") == "orders_placed" and attr(driver, "#chart", "data-points") == "15"
        assert _params(driver) == {"from": [start], "to": [end], "channel": ["web"], "kpi": ["orders_placed"]}
        _assert_trends_match(driver, api, start, end, channel="web")

        # -- every change is an entry in the history: a preset period, then a granularity
        Select(driver.find_element(By.ID, "period")).select_by_value("7d")
        wait_ready(driver, week_start, week_end, channel="web")
        assert _params(driver) == {"period": ["7d"], "channel": ["web"], "kpi": ["orders_placed"]}
        driver.find_element(By.CSS_SELECTOR, '[data-granularity="week"]').click()
        weekly = _series(api, "orders_placed", week_start, week_end, "week", channel="web")
        wait(driver, lambda d: attr(d, "#chart", "data-points") == str(len(weekly)), "the weekly series")
        assert _params(driver)["granularity"] == ["week"]

        # -- back: the daily series again, then the bookmarked period; forward: the 7 days
        driver.back()
        wait(driver, lambda d: attr(d, "#chart", "data-points") == "7", "the daily series after going back")
        assert "granularity" not in _params(driver)
        assert driver.find_element(By.CSS_SELECTOR, '[data-granularity="day"]').get_attribute("aria-pressed") == "true"
        driver.back()
        wait_ready(driver, start, end, channel="web")
        assert Select(driver.find_element(By.ID, "period")).first_selected_option.get_attribute("value") == "custom"
        wait(driver, lambda d: attr(d, "#chart", "data-points") == "15", "the bookmarked period's chart")
        driver.forward()
        wait_ready(driver, week_start, week_end, channel="web")
        assert Select(driver.find_element(By.ID, "period")).first_selected_option.get_attribute("value") == "7d"

        # -- closing the detail and reopening it with back
        driver.find_element(By.ID, "detail-close").click()
        wait(driver, lambda d: not d.find_element(By.ID, "detail").is_displayed(), "the detail closed")
        assert "kpi" not in _params(driver)
        driver.back()
        wait(driver, lambda d: d.find_element(By.ID, "detail").is_displayed(), "the detail again")
        assert attr(driver, "#detail", "data-kpi") == "orders_placed"

        # -- the segment view: its own address, sizes now and their movement, as the API has them
        driver.find_element(By.CSS_SELECTOR, 'nav [data-view="segments"]').click()
        wait(driver, lambda d: attr(d, "#segments-view", "data-state") == "ready", "the segment view")
        assert _hash(driver) == "segments" and _params(driver)["period"] == ["7d"]
        sizes = api.get("/v1/segments", params={"days": 7}).json()
        assert sizes["now"], "the history's customers are in segments"
        bars = {
            str(b.get_attribute("data-segment")): int(str(b.get_attribute("data-size")))
            for b in driver.find_elements(By.CSS_SELECTOR, "#segments-bars rect.bar-value")
        }
        assert bars == sizes["now"]
        rows = driver.find_elements(By.CSS_SELECTOR, "#segments-table tbody tr")
        assert {str(r.get_attribute("data-segment")): int(str(r.get_attribute("data-now"))) for r in rows} == bars
        lines = driver.find_elements(By.CSS_SELECTOR, "#segments-lines path.multi-line")
        assert {str(p.get_attribute("data-segment")) for p in lines} == set(bars)
        policy = api.get("/v1/policies/segments").json()["document"]["segments"]
        greek = {rule["id"]: rule["name"]["el"] for rule in policy}
        labels = [t.text for t in driver.find_elements(By.CSS_SELECTOR, "#segments-bars text.bar-label")]
        assert sorted(labels) == sorted(greek[segment] for segment in bars)  # the policy's names, in Greek
        screenshot(driver, SEGMENTS_SCREENSHOT)
        driver.back()
        wait(driver, lambda d: d.find_element(By.ID, "dashboard").is_displayed(), "the dashboard again")
        assert _hash(driver) == "dashboard"

        # -- English: the same view, its trends readable in English
        driver.find_element(By.CSS_SELECTOR, '#app [data-lang="en"]').click()
        wait(driver, lambda d: attr(d, "html", "lang") == "en", "English")
        assert driver.find_element(By.ID, "trends-title").text == "Trends over the period"
        assert (
            driver.find_element(By.CSS_SELECTOR, '#trend-cards [data-kpi="orders_placed"] h3').text == "Orders placed"
        )

        # -- every label has its Greek and its English text
        missing = driver.execute_script(
            "const L = window.EmporioOps.I18N; const el = Object.keys(L.el), en = Object.keys(L.en);"
            "const nodes = document.querySelectorAll('[data-i18n],[data-i18n-label],[data-i18n-placeholder]');"
            "const used = Array.from(nodes).map(n => { const d = n.dataset;"
            " return d.i18n || d.i18nLabel || d.i18nPlaceholder; });"
            "return [el.filter(k => !en.includes(k)), en.filter(k => !el.includes(k)),"
            " used.filter(k => !el.includes(k) || !en.includes(k))];"
        )
        assert missing == [[], [], []], missing

        # -- offline: every resource the page used came from its own origin
        resources = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert resources and all(str(r).startswith(live_server.url) for r in resources), resources
        assert not console_problems(driver)
