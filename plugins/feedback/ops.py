"""`/ops/feedback`: the ops page of the voice of the customer (new files beside the dashboard,
signed in with the dashboard's session): survey answers with their comments, filtered by survey,
score, channel and agent, and the review moderation queue (publish, reject with a content-policy
reason, reply). Served from this origin only: no CDN, no inline script."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from litestar import MediaType, Response, get
from litestar.params import FromPath

STATIC = Path(__file__).parent / "static"
OPEN = {"exclude_from_auth": True}  # the page and its assets; the data behind them needs the session
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
ASSETS = {"feedback.js": "application/javascript; charset=utf-8", "feedback.css": "text/css; charset=utf-8"}


@cache
def _read(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


@get("/ops/feedback", opt=OPEN, tags=["ops"], summary="Survey results and review moderation (an HTML page)",
     media_type=MediaType.HTML)  # fmt: skip
async def feedback_page() -> Response[str]:
    return Response(_read("feedback.html"), media_type=MediaType.HTML, headers=HEADERS)


@get("/ops/feedback/{asset:str}", opt=OPEN, include_in_schema=False)
async def feedback_asset(asset: FromPath[str]) -> Response[str]:
    if asset not in ASSETS:
        return Response("not found", status_code=404, media_type=MediaType.TEXT, headers=HEADERS)
    return Response(_read(asset), media_type=ASSETS[asset], headers={**HEADERS, "Cache-Control": "no-cache"})


HANDLERS = (feedback_page, feedback_asset)
