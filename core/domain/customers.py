"""Customers as the API sees them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

Email = Annotated[str, msgspec.Meta(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Phone = Annotated[str, msgspec.Meta(max_length=40, pattern=r"^[0-9+()\-. ]{3,40}$")]
Locale = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2}$")]


class CustomerIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    email: Email
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    phone: Phone | None = None
    locale: Locale = "el"


class CustomerOut(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    email: str | None
    name: str
    phone: str | None
    locale: str
    created_at: datetime
    rfm: dict[str, int] | None = None  # recency, frequency, monetary: 1–5, as of the last segment build
    segments: list[str] = msgspec.field(default_factory=list)
