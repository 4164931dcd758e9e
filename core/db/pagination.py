"""Keyset pagination: `?limit=&cursor=`, the cursor an opaque token for the last key seen."""

from __future__ import annotations

import base64
import binascii
from typing import Any, Generic, TypeVar

import msgspec

from core.domain.errors import InvalidInput

T = TypeVar("T")

MAX_LIMIT = 200


class Page(msgspec.Struct, Generic[T], frozen=True):
    items: list[T]
    next_cursor: str | None


def encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        # validate=True: a stray character must not silently decode to another (or no) position
        key = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        key = ""
    if not key:
        raise InvalidInput("cursor is not one this API returned; start again without it")
    return key


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}")
    return limit


def page_of(rows: list[dict[str, Any]], limit: int, key: str, items: list[T]) -> Page[T]:
    """`rows` were fetched with limit + 1 to learn whether another page exists."""
    more = len(rows) > limit
    return Page(items=items[:limit], next_cursor=encode_cursor(str(rows[limit - 1][key])) if more else None)
