"""Issue 17, item 11 and the demo in the README's own words: every shell block of README.md
marked `<!-- readme-test -->` runs as written, in order, in one shell, in a fresh directory
where `emporio serve --with-worker --demo` runs as `make run` starts it — an order placed, paid,
packed, dispatched, delivered after a failed attempt; a return asked for, its label opened by the
customer, collected at the customer's, received and refunded; the timeline telling all of it in
Greek and English; a declined card, a 3-D Secure challenge and a webhook sent twice."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import httpx
import pytest

from tests.conftest import _pg_admin
from tests.shopfloor.test_engine_stop import children_of, free_port

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"<!-- readme-test -->\n```sh\n(.*?)\n```", re.DOTALL)


def readme_script() -> str:
    blocks = BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(blocks) >= 8, "the README's walkthrough blocks are marked <!-- readme-test -->"
    return "set -euo pipefail\n" + "\n".join(blocks) + "\n"


@pytest.fixture
def database(test_env: dict[str, str]) -> Iterator[str | None]:
    """On PostgreSQL runs, a database of the walkthrough's own (as a fresh install has); on the
    embedded default, None: the engine makes its SQLite file in ./var."""
    base = test_env.get("EMPORIO_DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        yield None
        return
    name = f"emporio_readme_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(base, f'CREATE DATABASE "{name}"'))
    try:
        yield urlunparse(urlparse(base)._replace(path="/" + name))
    finally:
        asyncio.run(_pg_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_the_readme_walkthrough_runs_as_written(tmp_path: Path, database: str | None) -> None:
    script = readme_script()
    port = free_port()
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    engine_env = {**env, "EMPORIO_DISPATCH_TIMES": "", "EMPORIO_QUEUE_NAME": f"readme:{uuid.uuid4().hex[:8]}"}
    if database:
        engine_env["EMPORIO_DATABASE_URL"] = database
    log = (tmp_path / "engine.log").open("wb")
    engine = subprocess.Popen(
        [str(Path(sys.executable).with_name("emporio")), "serve", "--with-worker", "--demo", "--port", str(port)],
        cwd=tmp_path,
        env=engine_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / "var" / "demo.env").exists() or not _healthy(port):
            assert engine.poll() is None, (tmp_path / "engine.log").read_text()
            assert time.monotonic() < deadline, "the demo engine did not start within 120 s"
            time.sleep(0.2)
        done = subprocess.run(
            ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    finally:
        children = children_of(engine.pid)
        engine.send_signal(signal.SIGTERM)
        stopped = engine.wait(timeout=60)
        log.close()
    out = done.stdout.splitlines()
    for expected in ("authorized", "picking", "label_created", "reattempt_scheduled", "delivered", "completed"):
        assert expected in out, f"{expected!r} missing from:\n{done.stdout}"
    assert "1290" in out, "the returned bottle was refunded"
    paying = ("generic_decline", "requires_action")
    assert [line for line in out if line in paying] == list(paying), "declined, then 3-D Secure asked"
    assert out[-1] == "990", "the webhook sent twice authorised the payment once"
    for told in (
        "Ο courier παρέλαβε το δέμα επιστροφής από τον πελάτη",
        "The courier picked up the return parcel from the customer",
        "Delivery attempt 1 failed (recipient absent); next: reattempt",
        "The return parcel reached the shop",
        "Return completed: €12.90 refunded, €0.00 store credit",
        "Refunded: €12.90",
        "Payment captured: €25.80",
    ):
        assert told in out, f"{told!r} missing from the timeline:\n{done.stdout}"
    assert (tmp_path / "label.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "return-label.pdf").read_bytes().startswith(b"%PDF")
    assert stopped == 0 and "redis.embedded_stopped" in (tmp_path / "engine.log").read_text()
    assert children, "the engine had started its embedded Redis"


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
