"""POST /v1/import: the history import over HTTP (application/x-ndjson).

The body is received whole before the first batch is applied, into a temporary file (memory
stays flat): a body over EMPORIO_IMPORT_MAX_BODY, or one the client abandons, applies nothing.
Then batches are applied one transaction each, and the answer names exactly which line ranges
were committed and which were rolled back, so a client never has to guess.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from typing import IO, Annotated, Any

from litestar import Request, Response, post
from litestar.exceptions import HTTPException
from litestar.params import QueryParameter

from api.auth import ADMIN
from api.deps import runtime_of
from api.middleware import MAX_BODY_OPT, STREAM_BODY_OPT, TOO_LARGE_HINT_OPT, body_limit
from api.problems import problem
from core.access.settings import IMPORT_MAX_BODY
from core.hookspecs import hookimpl
from core.imports.runner import ImportReport, run_import

NDJSON_TYPES = frozenset({"application/x-ndjson", "application/jsonl", "application/json-lines"})
IN_MEMORY = 1024 * 1024  # a spooled body this small never touches the disk
READ_CHUNK = 256 * 1024


@post(
    "/v1/import",
    guards=[ADMIN],
    tags=["import"],
    status_code=200,
    # The body limit is the import's own setting, enforced while it streams (api/middleware.py).
    # Idempotency-Key is accepted and not needed: records are keyed by the shop's own ids, so
    # sending a file again changes nothing already imported.
    request_max_body_size=None,
    opt={
        MAX_BODY_OPT: IMPORT_MAX_BODY,
        STREAM_BODY_OPT: True,
        TOO_LARGE_HINT_OPT: "a larger history imports with `emporio import FILE`, streamed from disk",
    },
    summary="Import history (JSON Lines, see kpis.md); a bad line is reported with its number",
    description="Nothing is applied until the whole body has arrived; the answer lists the line ranges "
    "committed (`applied_batches`) and rolled back (`skipped_batches`).",
)
async def import_history(
    request: Request[Any, Any, Any],
    continue_on_error: Annotated[bool, QueryParameter(name="continue_on_error")] = False,
) -> Response[Any]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if content_type not in NDJSON_TYPES:
        return problem(415, "send the history as application/x-ndjson (one JSON object per line)")
    with tempfile.SpooledTemporaryFile(max_size=IN_MEMORY) as body:
        await _receive(request, body, body_limit(request.route_handler))
        body.seek(0)
        report = await run_import(runtime_of(request), _chunks(body), continue_on_error=continue_on_error)
    return _answer(report)


async def _receive(request: Request[Any, Any, Any], into: IO[bytes], limit: int | None) -> None:
    """The whole body into `into`; 413 past `limit` (the middleware's limit is the first lock,
    this the second, so a route mounted without it still holds)."""
    received = 0
    stream: AsyncIterator[bytes] = request.stream()
    async for chunk in stream:
        received += len(chunk)
        if limit is not None and received > limit:
            raise HTTPException(status_code=413, detail=f"the import is larger than {limit} bytes; nothing was applied")
        into.write(chunk)


def _chunks(body: IO[bytes]) -> Iterator[bytes]:
    while chunk := body.read(READ_CHUNK):
        yield chunk


def _answer(report: ImportReport) -> Response[Any]:
    counts: dict[str, Any] = {
        "records": report.records,
        "by_kind": report.by_kind,
        "batches": report.batches,
        "lines": report.lines_read,
    }
    if not report.errors:
        return Response(counts)  # every line read was applied
    first = report.errors[0]
    return problem(
        422,
        f"line {first.line}: {first.message}. {_what_happened(report)}",
        slug="import-line-rejected",
        title="Import line rejected",
        errors=[{"line": e.line, "message": e.message} for e in report.errors],
        applied_batches=report.applied_batches,
        skipped_batches=report.skipped_batches,
        stopped_early=report.stopped_early,
        **counts,
    )


def _what_happened(report: ImportReport) -> str:
    applied = ", ".join(f"{a}–{b}" for a, b in report.applied_batches) or "none"
    skipped = ", ".join(f"{a}–{b}" for a, b in report.skipped_batches)
    told = f"Committed and kept: {report.records} records from lines {applied}; rolled back whole: lines {skipped}"
    if report.stopped_early:
        told += f"; lines after {report.lines_read} were not applied"
    return (
        told + ". Fix the line and send the file again (records already imported are matched by their ids "
        "and not duplicated), or add ?continue_on_error=true to apply every good batch."
    )


@hookimpl
def register_routes(register: Callable[[Any], None]) -> None:
    register(import_history)
