"""POST /v1/import: the history import over HTTP (application/x-ndjson, streamed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from litestar import Request, Response, post
from litestar.params import QueryParameter

from api.auth import ADMIN
from api.deps import runtime_of
from api.problems import problem
from core.hookspecs import hookimpl
from core.imports.runner import ImportReport, run_import


@post(
    "/v1/import",
    guards=[ADMIN],
    tags=["import"],
    status_code=200,
    summary="Import history (JSON Lines, see kpis.md); a bad line is reported with its number",
)
async def import_history(
    request: Request[Any, Any, Any],
    continue_on_error: Annotated[bool, QueryParameter(name="continue_on_error")] = False,
) -> Response[Any]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if content_type not in {"application/x-ndjson", "application/jsonl", "application/json-lines"}:
        return problem(415, "send the history as application/x-ndjson (one JSON object per line)")
    report: ImportReport = await run_import(runtime_of(request), request.stream(), continue_on_error=continue_on_error)
    if report.errors:
        first = report.errors[0]
        return problem(
            422,
            f"line {first.line}: {first.message} (its batch was not applied; {report.records} records were)",
            slug="import-line-rejected",
            title="Import line rejected",
            errors=[{"line": e.line, "message": e.message} for e in report.errors],
            records=report.records,
            by_kind=report.by_kind,
            skipped_batches=report.skipped_batches,
        )
    return Response(
        {"records": report.records, "by_kind": report.by_kind, "batches": report.batches, "lines": report.lines_read}
    )


@hookimpl
def register_routes(register: Callable[[Any], None]) -> None:
    register(import_history)
