"""Errors a use case raises; the API turns each into a problem+json response with its status."""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """Base of every error a client can cause. `detail` says what to do about it."""

    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.extra = extra


class InvalidInput(DomainError):
    status = 422
    slug = "invalid-input"
    title = "Invalid input"


class NotFound(DomainError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    slug = "conflict"
    title = "Conflict"


class InsufficientStock(Conflict):
    slug = "insufficient-stock"
    title = "Insufficient stock"


class IllegalTransition(Conflict):
    slug = "illegal-transition"
    title = "Illegal state transition"


class IdempotencyMismatch(DomainError):
    status = 422
    slug = "idempotency-key-reused"
    title = "Idempotency key reused with a different request"
