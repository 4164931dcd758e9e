"""Catalogue and locations as the API sees them."""

from __future__ import annotations

import enum
from typing import Annotated

import msgspec

from core.domain.money import Money


class LocationType(enum.StrEnum):
    WAREHOUSE = "warehouse"
    STORE = "store"


Sku = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-/]*$")]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")]
Currency = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")]
Amount = Annotated[int, msgspec.Meta(ge=0, le=10**12)]
Grams = Annotated[int, msgspec.Meta(ge=0, le=10**7)]
Millimetres = Annotated[int, msgspec.Meta(ge=0, le=10**5)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]


class PriceIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    amount: Amount
    currency: Currency


class Dimensions(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    l: Millimetres  # noqa: E741 - the API's field name
    w: Millimetres
    h: Millimetres


class ProductIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    sku: Sku
    name: Name
    price: PriceIn
    category: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    weight_g: Grams = 0
    dims_mm: Dimensions | None = None
    preorder: bool = False
    backorder: bool = False


class ProductOut(msgspec.Struct, frozen=True, kw_only=True):
    sku: str
    name: str
    category: str | None
    price: Money
    weight_g: int
    dims_mm: Dimensions
    preorder: bool
    backorder: bool


class AddressIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    line1: Annotated[str, msgspec.Meta(max_length=300)] | None = None
    city: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    postcode: Annotated[str, msgspec.Meta(max_length=20)] | None = None
    country: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$")] | None = None


class LocationIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    code: Code
    name: Name
    type: LocationType
    address: AddressIn | None = None
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)] | None = None
    lon: Annotated[float, msgspec.Meta(ge=-180, le=180)] | None = None
    ships: bool = True
    pickup: bool = False
    priority: Annotated[int, msgspec.Meta(ge=0, le=10_000)] = 100


class LocationOut(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name: str
    type: str
    address: AddressIn
    lat: float | None
    lon: float | None
    ships: bool
    pickup: bool
    priority: int


class ChannelOut(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name: str
    kind: str
    capture_at_authorization: bool
