"""Defect 3 (issue 16): POST /v1/import has its own 50 MiB limit (not Litestar's 10 MB default), a
body over the limit applies nothing, and a bad line's answer says exactly what was committed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import msgspec
import pytest

import core.kpis.rollups
from core.customers.tables import Customer
from core.runtime import Runtime
from tests.access.helpers import assert_problem
from tests.conftest import Api
from tests.test_import import LOCATION, PRODUCT, customer, lines
from tests.test_import import order as history_order

NDJSON = {"Content-Type": "application/x-ndjson"}
MiB = 1024 * 1024
BATCH = 2000  # core.imports.runner.DEFAULT_BATCH


def customer_line(n: int) -> bytes:
    record = {"kind": "customer", "id": f"imp{n}", "email": f"imp{n}@example.gr", "name": f"C{n}", "created_at": None}
    return msgspec.json.encode(record) + b"\n"


async def customers(count: int, *, bad_at: int | None = None) -> AsyncIterator[bytes]:
    """`count` customer lines streamed in pieces (chunked), line `bad_at` (1-based) a bad one."""
    piece = []
    for n in range(1, count + 1):
        piece.append(b'{"kind": "customer", "id": 7}\n' if n == bad_at else customer_line(n))
        if len(piece) == 500:
            yield b"".join(piece)
            piece = []
    if piece:
        yield b"".join(piece)


async def test_a_body_over_the_import_limit_applies_nothing(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMPORIO_IMPORT_MAX_BODY", "256KiB")
    # ~3,000 valid customers (well over 256 KiB, in chunks): the first batch would have been
    # committed before the limit was reached, and the answer said "failed"
    r = await api.post("/v1/import", content=customers(6000), headers=NDJSON, as_="admin")
    problem = assert_problem(r, 413)
    assert "256 KiB" in problem["detail"] and "nothing was done" in problem["detail"]
    assert "emporio import FILE" in problem["detail"]
    assert await Customer.count() == 0


async def test_a_body_over_litestars_default_10_mb_is_taken(api: Api) -> None:
    # 11 MiB of blank lines: nothing to import, but the body must be accepted whole
    async def blanks() -> AsyncIterator[bytes]:
        for _ in range(11 * 16):
            yield (b" " * 1023 + b"\n") * 64

    r = await api.post("/v1/import", content=blanks(), headers=NDJSON, as_="admin")
    assert r.status_code == 200, r.text[:300]
    assert r.json()["lines"] == 11 * 16 * 64 and r.json()["records"] == 0


async def test_a_bad_line_in_batch_3_of_5_says_what_was_committed(api: Api) -> None:
    bad = 2 * BATCH + 321  # line 4321: batch 3 (lines 4001-6000)
    r = await api.post("/v1/import", content=customers(5 * BATCH, bad_at=bad), headers=NDJSON, as_="admin")
    problem = assert_problem(r, 422)
    assert problem["errors"][0]["line"] == bad
    assert problem["applied_batches"] == [[1, 2000], [2001, 4000]]
    assert problem["skipped_batches"] == [[4001, 6000]]
    assert problem["records"] == 2 * BATCH and problem["stopped_early"] is True
    assert "lines 1–2000, 2001–4000" in problem["detail"] and "lines after 6000 were not applied" in problem["detail"]
    assert await Customer.count() == 2 * BATCH

    # with continue_on_error every good batch is applied, and the answer lists them all
    r = await api.post(
        "/v1/import?continue_on_error=true", content=customers(5 * BATCH, bad_at=bad), headers=NDJSON, as_="admin"
    )
    problem = assert_problem(r, 422)
    assert problem["applied_batches"] == [[1, 2000], [2001, 4000], [6001, 8000], [8001, 10000]]
    assert problem["skipped_batches"] == [[4001, 6000]] and problem["stopped_early"] is False
    assert await Customer.count() == 4 * BATCH


async def test_an_import_returns_with_the_recent_days_rolled_up(
    api: Api, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dashboard's first look after an import is fast: the days of its default period (and
    the one before) are rolled up before the import answers, not on the worker's next pass."""
    monkeypatch.setattr(core.kpis.rollups, "utcnow", lambda: datetime(2025, 3, 20, 9, 0, tzinfo=UTC))
    history = lines(customer("c1"), PRODUCT, LOCATION, *(history_order(f"o{d}", "c1", d) for d in range(2, 17)))
    r = await api.post("/v1/import", content=history, headers=NDJSON, as_="admin")
    assert r.status_code == 200, r.text
    sources = {plan.key for plan in core.kpis.rollups.plans(runtime.host).values()}
    rows = await runtime.db.fetch("SELECT source, day FROM kpi_rollup_days")
    built = {(row["source"], row["day"]) for row in rows}
    # every source, every closed day from the first order (2 March) to yesterday (19 March)
    wanted = {(source, f"2025-03-{d:02d}") for source in sources for d in range(2, 20)}
    assert wanted <= built, sorted(wanted - built)[:5]
