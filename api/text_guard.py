"""One check for every endpoint: no text the API takes may contain U+0000 (NUL).

PostgreSQL cannot store NUL in text or JSONB, and SQLite stores it silently, so the same request
was a 500 on one database and a strange row on the other. Refusing it where requests come in —
JSON bodies (values and keys), query and path parameters — gives one answer on both: 422 naming
the field. It runs as the application's `before_request` hook, after authentication and the
route's guards, before the handler decodes the body (which Litestar then reads from its cache).
Litestar keeps the closest `before_request` only: a router or route setting its own must call
`refuse_nul_text` itself.
"""

from __future__ import annotations

import contextlib
from typing import Any

import msgspec
from litestar import Request

from api.middleware import STREAM_BODY_OPT  # routes reading their body as a stream (the history import)
from core.domain.errors import InvalidInput

NUL = "\x00"
JSON_NUL = b"\\u0000"  # how JSON spells it; a raw NUL byte is not JSON at all (Litestar answers 400)
MAX_REPORTED = 10
PROVIDER_WEBHOOKS = "/v1/webhooks/"


def _nul_paths(value: Any, path: str, found: list[str]) -> None:
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack and len(found) < MAX_REPORTED:
        current, where = stack.pop()
        if isinstance(current, str):
            if NUL in current:
                found.append(where or "body")
        elif isinstance(current, dict):
            for key, item in current.items():
                child = f"{where}.{key}" if where else str(key)
                if NUL in str(key):
                    found.append(child)
                stack.append((item, child))
        elif isinstance(current, list):
            stack.extend((item, f"{where}[{i}]") for i, item in enumerate(current))


async def refuse_nul_text(request: Request[Any, Any, Any]) -> None:
    """Raise InvalidInput (422) when a query or path parameter or a JSON body holds a NUL."""
    fields = [f"query.{k}" for k, v in request.query_params.multi_items() if NUL in k or NUL in v]
    fields += [f"path.{k}" for k, v in request.path_params.items() if isinstance(v, str) and NUL in v]
    handler = request.scope.get("route_handler")
    streams = bool(handler is not None and handler.opt.get(STREAM_BODY_OPT))
    # Providers' webhooks (PSPs, couriers, channels, Meta, telephony) are verified and stored raw by
    # their handlers, which dead-letter what they cannot read: a 422 would only make the provider
    # deliver the same body again for days.
    provider = request.url.path.startswith(PROVIDER_WEBHOOKS)
    if (
        request.method in ("POST", "PUT", "PATCH")
        and not streams
        and not provider
        and "json" in request.content_type[0]
    ):
        body = await request.body()
        if JSON_NUL in body:
            with contextlib.suppress(msgspec.DecodeError):  # not JSON: the handler's own decoding answers 400
                _nul_paths(msgspec.json.decode(body), "", fields)
    if fields:
        raise InvalidInput(
            f"{', '.join(fields[:MAX_REPORTED])}: text may not contain the NUL character (U+0000); remove it and send "
            "the request again",
            errors=[{"field": field, "message": "contains U+0000 (NUL)"} for field in fields[:MAX_REPORTED]],
        )


__all__ = ["refuse_nul_text"]
