"""What the demo's mail catcher kept, for ops (`GET /v1/mail/outbox`): the replies the desk
sent, with the headers that thread the customer's answer back."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from litestar import Request, get
from litestar.params import QueryParameter

from api.auth import OPS
from api.deps import runtime_of
from core.db.pagination import Page
from plugins.contact_email.catcher import CATCHER_DIR, CaughtMail, caught


@get("/v1/mail/outbox", guards=[OPS], tags=["service"], summary="Mail the demo's mail catcher kept, newest first")
async def mail_outbox(
    request: Request[Any, Any, Any],
    limit: Annotated[int, QueryParameter(name="limit", ge=1, le=200)] = 50,
) -> Page[CaughtMail]:
    """Empty unless the engine's mail goes to the catcher (`emporio serve --demo` without
    EMPORIO_SMTP_URL, or `emporio mail catch` with this data dir)."""
    directory = runtime_of(request).settings.data_dir / CATCHER_DIR
    return Page(items=await asyncio.to_thread(caught, directory, limit=limit), next_cursor=None)
