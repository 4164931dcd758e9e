"""Inventory levels and cycle counts as the API sees them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from core.domain.catalogue import Code, Sku

Quantity = Annotated[int, msgspec.Meta(ge=0, le=10_000_000)]


class SetOnHand(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    on_hand: Quantity


class LevelOut(msgspec.Struct, frozen=True, kw_only=True):
    location: str
    sku: str
    on_hand: int
    reserved: int
    available: int


class CycleCountIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    location: Code
    sku: Sku
    counted_qty: Quantity
    counted_by: Annotated[str, msgspec.Meta(max_length=100)] | None = None


class CycleCountOut(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    location: str
    sku: str
    system_qty: int
    counted_qty: int
    counted_at: datetime
    accurate: bool
    level: LevelOut
    shortfall: int = 0
