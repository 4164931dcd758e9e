"""The knowledge-base editor (/ops/kb) driven in headless Debian Chromium against a real `emporio
serve` process on the session's database: sign in, write an article in Greek and English with the
server's preview, save versions, compare and restore one, publish (storefront search finds it),
archive (it does not), switch the page to English — no script error and nothing the page's
Content-Security-Policy refused. A screenshot is left in artifacts/ops-kb.png."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.conftest import Api
from tests.ops.browser import ARTIFACTS, LiveServer, attr, console_problems, driver, screenshot, wait

__all__ = ["driver"]

START_TIMEOUT_S = 45


def _serve(log_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    """`emporio serve` on a free port, in the environment of the session's test database."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("emporio")), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=dict(os.environ),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process, port


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture
async def kb_server(api: Api, tmp_path: Path) -> AsyncIterator[LiveServer]:
    """A real API process on the session's database (fresh keys from `api`)."""
    log_path = tmp_path / "server.log"
    process, port = _serve(log_path)
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            deadline = time.monotonic() + START_TIMEOUT_S
            while True:
                assert process.poll() is None, log_path.read_text(errors="replace")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get("/health")).status_code == 200:
                        break
                assert time.monotonic() < deadline, log_path.read_text(errors="replace")
                await asyncio.sleep(0.1)
        yield LiveServer(url=url, keys=api.keys)
    finally:
        _stop(process)
        print(log_path.read_text(errors="replace")[-3000:])


def _type(driver: WebDriver, selector: str, text: str) -> None:
    field = driver.find_element(By.CSS_SELECTOR, selector)
    field.clear()
    field.send_keys(text)


def _bold(driver: WebDriver, locale: str) -> list[str]:
    """The bold words of a translation's preview (the server's rendering of its Markdown)."""
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, f"#preview-{locale} strong")]


def test_write_preview_version_publish_and_archive_in_chromium(kb_server: LiveServer, driver: webdriver.Chrome) -> None:
    keys = kb_server.keys
    storefront = httpx.Client(base_url=kb_server.url, headers={"Authorization": f"Bearer {keys['storefront']}"})
    ops = httpx.Client(base_url=kb_server.url, headers={"Authorization": f"Bearer {keys['ops']}"})
    with storefront, ops:
        # -- signing in (the page holds no key: a session cookie, as /ops)
        driver.get(f"{kb_server.url}/ops/kb")
        wait(driver, lambda d: d.find_element(By.ID, "signin").is_displayed(), "the sign-in form")
        driver.find_element(By.ID, "signin-key").send_keys(keys["ops"])
        driver.find_element(By.ID, "signin-submit").click()
        wait(driver, lambda d: d.find_element(By.ID, "app").is_displayed(), "the editor")
        assert attr(driver, "html", "lang") == "el"
        assert keys["ops"] not in driver.page_source

        # -- a new article in both languages, previewed by the server as customers will see it
        _type(driver, "#title-el", "Πώς αλλάζω μέγεθος;")
        _type(driver, "#body-el", "Ανοίξτε την **παραγγελία** και ζητήστε αλλαγή μεγέθους.")
        _type(driver, "#title-en", "How do I change a size?")
        _type(driver, "#body-en", "Open the **order** and ask for another size.")
        wait(driver, lambda d: _bold(d, "el") == ["παραγγελία"], "the Greek preview")
        wait(driver, lambda d: _bold(d, "en") == ["order"], "the English preview")
        driver.find_element(By.ID, "save").click()
        wait(driver, lambda d: attr(d, "#editor", "data-version") == "1", "version 1")
        article_id = str(attr(driver, "#editor", "data-article-id"))
        saved = ops.get(f"/v1/kb/articles/{article_id}").json()
        assert saved["slug"] == "pos-allazo-megethos" and saved["status"] == "draft"
        assert set(saved["translations"]) == {"el", "en"}
        wait(
            driver, lambda d: d.find_elements(By.CSS_SELECTOR, f'#article-list li[data-id="{article_id}"]'), "the list"
        )

        # -- a second version, compared with the first, then the first restored
        _type(driver, "#body-el", "Ανοίξτε την παραγγελία σας και πατήστε «Αλλαγή μεγέθους».")
        driver.find_element(By.ID, "save").click()
        wait(driver, lambda d: attr(d, "#editor", "data-version") == "2", "version 2")
        wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#version-rows tr")) == 2, "two versions")
        driver.find_element(By.CSS_SELECTOR, '#version-rows tr[data-version="1"] .compare').click()
        wait(driver, lambda d: d.find_element(By.ID, "diff").is_displayed(), "the diff")
        diff = driver.find_element(By.ID, "diff").text
        assert "-Ανοίξτε την **παραγγελία** και ζητήστε αλλαγή μεγέθους." in diff
        assert "+Ανοίξτε την παραγγελία σας και πατήστε «Αλλαγή μεγέθους»." in diff
        assert diff == ops.get(f"/v1/kb/articles/{article_id}/diff", params={"from": 1, "to": 2}).json()["diff"].strip()

        # -- published: customers find it; restoring version 1 re-indexes the published text
        driver.find_element(By.ID, "publish").click()
        wait(driver, lambda d: attr(d, "#editor", "data-status") == "published", "published")
        found = storefront.get("/v1/kb/search", params={"q": "αλλαγή μεγέθους", "locale": "el"}).json()["results"]
        assert [r["id"] for r in found] == [article_id]
        driver.find_element(By.CSS_SELECTOR, '#version-rows tr[data-version="1"] .restore').click()
        wait(driver, lambda d: attr(d, "#editor", "data-version") == "3", "version 3, restored")
        assert driver.find_element(By.ID, "body-el").get_attribute("value") == (
            "Ανοίξτε την **παραγγελία** και ζητήστε αλλαγή μεγέθους."
        )
        found = storefront.get("/v1/kb/search", params={"q": "ζητήστε", "locale": "el"}).json()["results"]
        assert [r["id"] for r in found] == [article_id]

        # -- the page in English; a screenshot for people to look at
        driver.find_element(By.CSS_SELECTOR, '[data-lang="en"]').click()
        wait(driver, lambda d: attr(d, "html", "lang") == "en", "English")
        assert driver.find_element(By.ID, "save").text == "Save"
        assert driver.find_element(By.ID, "article-status").text == "published"
        wait(driver, lambda d: "published · v3" in d.find_element(By.CSS_SELECTOR, "#article-list .slug").text, "list")
        wait(driver, lambda d: "Restore" in d.find_element(By.ID, "version-rows").text, "the versions in English")
        ARTIFACTS.mkdir(exist_ok=True)
        screenshot(driver, ARTIFACTS / "ops-kb.png", height=1100)

        # -- archived: customers no longer find it
        driver.find_element(By.ID, "archive").click()
        wait(driver, lambda d: attr(d, "#editor", "data-status") == "archived", "archived")
        assert storefront.get("/v1/kb/search", params={"q": "αλλαγή μεγέθους"}).json()["results"] == []
        assert ops.get(f"/v1/kb/articles/{article_id}").json()["status"] == "archived"

        assert not console_problems(driver)
