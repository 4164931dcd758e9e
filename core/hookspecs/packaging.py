"""Packaging rules: which boxes a shipment goes in and what goes in with it (notes, gifts)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import msgspec

from core.hookspecs import hookspec


class PackItem(msgspec.Struct, frozen=True, kw_only=True):
    sku: str
    qty: int
    weight_g: int
    length_mm: int
    width_mm: int
    height_mm: int
    category: str | None = None


class PackagingRequest(msgspec.Struct, frozen=True, kw_only=True):
    order_id: str
    shipment_id: str | None
    items: Sequence[PackItem]
    order_value: int
    currency: str
    customer_segment: str  # "first_order" | "returning" | "reactivated"
    locale: str  # "el" | "en"
    on_date: date


class BoxChoice(msgspec.Struct, frozen=True, kw_only=True):
    box: str
    items: dict[str, int]
    weight_g: int
    reusable: bool = False


class Insert(msgspec.Struct, frozen=True, kw_only=True):
    kind: str  # "thank_you_note" | "seasonal" | "gift" | "reusable_packaging_notice"
    code: str
    text: str | None = None


class PackagingPlan(msgspec.Struct, frozen=True, kw_only=True):
    boxes: Sequence[BoxChoice]
    inserts: Sequence[Insert] = ()
    reasons: Sequence[str] = ()
    policy_version: int | None = None


@hookspec(firstresult=True)
def evaluate_packaging(
    request: PackagingRequest, policy: Mapping[str, Any], policy_version: int
) -> PackagingPlan | None:
    """Decide the packaging plan of a shipment under the shop's current packaging policy.

    When it is called:
        When a shipment is packed, and by `POST /v1/policies/packaging/evaluate` (dry run).
        Pure computation: the request carries item dimensions, order value, segment and date.

    Args:
        request: items with weights and dimensions, order value, customer segment, locale, date.
        policy: the current policy document (as validated when ops saved it).
        policy_version: its version number, to be echoed in the plan for traceability.

    Returns:
        The first non-None `PackagingPlan` wins; return None to pass.

    Example:
        ```python
        @hookimpl
        def evaluate_packaging(request, policy, policy_version):
            return PackagingPlan(boxes=[BoxChoice(box="M", items={...}, weight_g=900)])
        ```
    """
