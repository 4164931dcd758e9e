"""Every error is application/problem+json (RFC 9457): type, title, status, detail, errors."""

from __future__ import annotations

import sqlite3
from typing import Any

import structlog
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from core.access.ratelimits import RateLimited
from core.domain.errors import DomainError
from core.fulfilment.courier_setup import setup_error
from core.hookspecs.couriers import CourierMisconfigured, CourierRejected, CourierUnavailable

log = structlog.get_logger("emporio.api")

PROBLEM = "application/problem+json"
TYPE_BASE = "https://emporio.dev/problems/"

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
}


def problem(
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    title: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[Any]:
    body: dict[str, Any] = {
        "type": TYPE_BASE + (slug or str(status)),
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    body.update({k: v for k, v in extra.items() if k not in body})
    return Response(content=body, status_code=status, media_type=PROBLEM, headers=headers)


_RESERVED = frozenset({"type", "title", "status", "detail", "errors", "slug", "headers"})


def problem_of(exc: DomainError) -> Response[Any]:
    # An extra named like a problem member (e.g. status=…) must not turn a 4xx into a 500.
    extra = {k: v for k, v in exc.extra.items() if k not in _RESERVED}
    return problem(exc.status, exc.detail, slug=exc.slug, title=exc.title, errors=exc.errors, **extra)


def domain_error(_: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    return problem_of(exc)


def rate_limited(_: Request[Any, Any, Any], exc: RateLimited) -> Response[Any]:
    response = problem_of(exc)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def courier_problem(
    exc: CourierUnavailable | CourierRejected, courier: str | None, *, unavailable: str, refused: str
) -> Response[Any]:
    """A courier call that failed, as the person who asked needs it: a misconfigured courier is
    502/503 naming the setting to fix; an outage 503 with `unavailable` (what to do: retry…);
    a refusal 409 after `refused` (what was refused)."""
    if isinstance(exc, CourierMisconfigured):
        return problem_of(setup_error(exc, courier, outcome="nothing was changed for that courier"))
    if isinstance(exc, CourierUnavailable):
        return problem(503, f"the courier did not answer: {exc}; {unavailable}")
    return problem(409, f"{refused}: {exc}")


def validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    errors = exc.extra if isinstance(exc.extra, list) else ([exc.extra] if exc.extra else None)
    errors = _names_sent(request, errors)
    return problem(400, exc.detail or "the request body or parameters are not valid", slug="validation", errors=errors)


def _names_sent(request: Request[Any, Any, Any], errors: list[Any] | None) -> list[Any] | None:
    """Litestar names a parameter by the handler's argument (`start`); the client sent its name
    on the wire (`from`), and that is the name it must read in the error."""
    try:
        parameters = request.route_handler.parsed_fn_signature.parameters
    except (AttributeError, KeyError):
        return errors
    for error in errors or []:
        if not isinstance(error, dict) or error.get("source") not in ("query", "header", "cookie"):
            continue
        field = parameters.get(error.get("key", ""))
        definition = getattr(field, "kwarg_definition", None)
        sent = getattr(definition, "name", None) or getattr(definition, error["source"], None)
        if isinstance(sent, str) and sent:
            error["key"] = sent
    return errors


def http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    detail = exc.detail if exc.detail and exc.detail != _TITLES.get(status) else _TITLES.get(status, "Error")
    return problem(status, str(detail), headers=exc.headers)


def integrity_error(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # A unique or check constraint caught a race the use case's own checks could not see.
    log.warning("api.integrity_conflict", error=str(exc))
    return problem(
        409,
        "the change conflicts with the current state (a concurrent change, or a duplicate); "
        "read the resource again and retry",
        slug="conflict",
    )


def unstorable_text(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    return problem(
        422, "a text value contains a character that cannot be stored (such as U+0000, NUL)", slug="invalid-input"
    )


def recursion_error(request: Request[Any, Any, Any], exc: RecursionError) -> Response[Any]:
    # msgspec refuses JSON nested deeper than it can decode with a RecursionError, which Litestar
    # does not turn into a 400 like other decode errors: the client sent it, so it is bad input.
    if "deserializ" in str(exc):
        return problem(400, "the JSON body is nested too deeply", slug="validation")
    return internal_error(request, exc)


def internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.error("api.unhandled", path=request.url.path, error=repr(exc), exc_info=exc)
    return problem(
        HTTP_500_INTERNAL_SERVER_ERROR, "an unexpected error occurred; it has been logged with the request id"
    )


def exception_handlers() -> dict[Any, Any]:
    handlers: dict[Any, Any] = {
        DomainError: domain_error,
        RateLimited: rate_limited,
        ValidationException: validation_error,
        HTTPException: http_error,
        sqlite3.IntegrityError: integrity_error,
        RecursionError: recursion_error,
        Exception: internal_error,
    }
    try:
        import asyncpg

        handlers[asyncpg.IntegrityConstraintViolationError] = integrity_error
        # PostgreSQL text and JSONB cannot hold U+0000: a client's NUL (in a body field, a query
        # parameter, a cursor) is bad input there, not a server error.
        handlers[asyncpg.CharacterNotInRepertoireError] = unstorable_text
        handlers[asyncpg.UntranslatableCharacterError] = unstorable_text
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        pass
    return handlers


__all__ = ["PROBLEM", "MediaType", "courier_problem", "exception_handlers", "problem", "problem_of"]
