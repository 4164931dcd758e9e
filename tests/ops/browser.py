"""Browser plumbing of the ops web app's tests: a real `emporio serve` process on the session's
test database, seeded with a history through POST /v1/import, and headless Debian Chromium driven
through Selenium (Debian's Chromium and ChromeDriver; nothing is downloaded). Screenshots go to
artifacts/."""

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
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

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


def _start_server(log_path: Path, flags: tuple[str, ...] = ()) -> tuple[subprocess.Popen[bytes], int]:
    """`emporio serve` on a free port, in the environment the `test_env` fixture set."""
    port = _free_port()
    command = [str(Path(sys.executable).with_name("emporio")), "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*command, *flags],
            env=dict(os.environ),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so the stop reaches every child
        )
    return process, port


@pytest.fixture
def serve_flags() -> tuple[str, ...]:
    """Flags of the live server's `emporio serve`; a test module overrides this fixture (the
    workspace's runs `--with-worker`, whose case events reach the agents' live socket)."""
    return ()


@pytest.fixture
async def live_server(
    api: Api, runtime: Runtime, tmp_path: Path, serve_flags: tuple[str, ...]
) -> AsyncIterator[LiveServer]:
    """A real API process of its own (the dashboard's session must work in any API process, not
    only the one that opened it), seeded with a history through POST /v1/import."""
    log_path = tmp_path / "server.log"
    process, port = _start_server(log_path, serve_flags)
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


def pin_browser_day(driver: WebDriver, day: date) -> None:
    """Pages opened from now on see a clock that starts at noon (UTC) of `day` on every load and
    runs at the real pace: a test that computed `day` before a page chose its default period
    agrees with it even when the run crosses midnight. Call before the first `driver.get`."""
    start_ms = int(datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp() * 1000)
    source = f"""(() => {{
  const RealDate = Date, shift = {start_ms} - RealDate.now();
  class PinnedDate extends RealDate {{
    constructor(...args) {{ super(...(args.length ? args : [RealDate.now() + shift])); }}
    static now() {{ return RealDate.now() + shift; }}
  }}
  globalThis.Date = PinnedDate;
}})();"""
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": source})


def wait(driver: WebDriver, condition: Callable[[WebDriver], Any], what: str) -> Any:
    return WebDriverWait(driver, WAIT_S, poll_frequency=0.1).until(condition, message=f"waited {WAIT_S}s for {what}")


def attr(driver: WebDriver, selector: str, name: str) -> str | None:
    return driver.find_element(By.CSS_SELECTOR, selector).get_attribute(name)


def wait_ready(driver: WebDriver, start: str, end: str, **filters: str) -> None:
    """Until the dashboard shows the KPIs of exactly this period and these filters."""

    def ready(d: WebDriver) -> bool:
        view = d.execute_script(
            "const m = document.getElementById('dashboard');"
            "return [m.dataset.state, m.dataset.from, m.dataset.to, m.dataset.filters,"
            " document.getElementById('status').textContent];"
        )
        assert view[0] != "error", view[4]
        return bool(view[:3] == ["ready", start, end] and json.loads(view[3] or "{}") == filters)

    wait(driver, ready, f"the KPIs for [{start}, {end}) {filters or ''}")


def tiles_and_notes(driver: WebDriver) -> tuple[dict[str, Any], set[str]]:
    """Every tile's raw value, and which tiles carry the filter-not-applicable note (read in
    one script call, so a re-render cannot leave a stale element halfway)."""
    rows = driver.execute_script(
        "return Array.from(document.querySelectorAll('article.tile')).map(t =>"
        " [t.dataset.kpi, t.dataset.value, !!t.querySelector('[data-note=\"filter_not_applicable\"]')]);"
    )
    return {kpi: json.loads(value) for kpi, value, _ in rows}, {kpi for kpi, _, note in rows if note}


def tiles(driver: WebDriver) -> dict[str, Any]:
    return tiles_and_notes(driver)[0]


def kpis(api: httpx.Client, start: str, end: str, **filters: str) -> dict[str, Any]:
    response = api.get("/v1/kpis", params={"from": start, "to": end, **filters})
    assert response.status_code == 200, response.text
    values: dict[str, Any] = response.json()["kpis"]
    return values


def assert_tiles_match(driver: WebDriver, api: httpx.Client, start: str, end: str, **filters: str) -> dict[str, Any]:
    wait_ready(driver, start, end, **filters)
    expected = kpis(api, start, end, **filters)
    values, notes = tiles_and_notes(driver)
    assert values == {kpi_id: item["value"] for kpi_id, item in expected.items()}
    assert notes == {kpi_id for kpi_id, item in expected.items() if item.get("filter_not_applicable")}
    return expected


def fetch_in_page(driver: WebDriver, path: str) -> tuple[int, str]:
    """A GET made by the page itself (so with its cookie, as a CSV link would be)."""
    status, text = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {credentials: 'same-origin'})"
        ".then(r => r.text().then(t => done([r.status, t]))).catch(e => done([0, String(e)]));",
        path,
    )
    return int(status), str(text)


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return int(width), int(height)


def sign_in(driver: WebDriver, url: str, key: str) -> None:
    """Open `url` (a path of the app with its state), sign in with `key` on the form it shows."""
    driver.get(url)
    wait(driver, lambda d: d.find_element(By.ID, "signin").is_displayed(), "the sign-in form")
    driver.find_element(By.ID, "signin-key").send_keys(key)
    driver.find_element(By.ID, "signin-submit").click()
    wait(driver, lambda d: d.find_element(By.ID, "app").is_displayed(), "the app after signing in")


def request_in_page(
    driver: WebDriver, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, str]:
    """A request made by the page itself, with its cookie (and only the headers given)."""
    status, text = driver.execute_async_script(
        "const [method, path, body, headers, done] = arguments;"
        "fetch(path, {method, credentials: 'same-origin', headers,"
        " body: body === null ? undefined : JSON.stringify(body)})"
        ".then(r => r.text().then(t => done([r.status, t]))).catch(e => done([0, String(e)]));",
        method,
        path,
        body,
        headers or {},
    )
    return int(status), str(text)


def screenshot(driver: WebDriver, path: Path, *, height: int | None = None, width: int = 1440) -> Path:
    """The page as people see it (no hover or focus left behind), `height` tall or down to the
    footer, kept under artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    driver.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
    if height is None:
        height = int(
            driver.execute_script(
                "const f = document.querySelector('footer');"
                "return Math.ceil(f.getBoundingClientRect().bottom + window.scrollY)"
            )
        )
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": max(height, 900), "deviceScaleFactor": 1, "mobile": False},
    )
    path.unlink(missing_ok=True)
    assert driver.save_screenshot(str(path))
    shot_width, shot_height = png_size(path)
    assert shot_width == width and shot_height >= 900
    assert path.stat().st_size > 30_000  # a real page, not a blank one
    return path


def console_problems(driver: webdriver.Chrome) -> list[str]:
    """Script errors and anything the page's Content-Security-Policy refused, so far."""
    entries: list[dict[str, Any]] = driver.get_log("browser")  # type: ignore[no-untyped-call]  # selenium's own
    console = [str(entry.get("message", "")) for entry in entries]
    return [m for m in console if "Uncaught" in m or "Content Security Policy" in m or "Refused" in m]
