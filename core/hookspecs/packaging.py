"""Packaging rules: which boxes a shipment goes in and what goes in with it (notes, gifts)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

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
def evaluate_packaging(request: PackagingRequest, policy: msgspec.Struct, policy_version: int) -> PackagingPlan | None:
    """Decide the packaging plan of a shipment under the shop's current packaging policy.

    When it is called:
        When a shipment is packed, and by `POST /v1/policies/packaging/evaluate` (dry run).
        Pure computation: the request carries item dimensions, order value, segment and date.

    Args:
        request: items with weights and dimensions, order value, customer segment, locale, date.
        policy: the current `packaging` policy document, already decoded into the `document_type`
            its `PolicyKind` declared (the one saved by ops, or the kind's default), so an
            implementation reads typed fields, never a dict. A dry run passes the unsaved draft.
        policy_version: its version number (0: the kind's default, -1: an unsaved draft), to be
            echoed in the plan for traceability.

    Returns:
        The first non-None `PackagingPlan` wins; return None to pass — in particular when
        `policy` is not an instance of your own document type (another plugin declared the kind).

    Example:
        ```python
        @hookimpl
        def evaluate_packaging(request, policy, policy_version):
            if not isinstance(policy, PackagingPolicy):
                return None
            return PackagingPlan(boxes=[BoxChoice(box="M", items={...}, weight_g=900)])
        ```
    """


class SlipLine(msgspec.Struct, frozen=True, kw_only=True):
    sku: str
    name: str
    qty: int  # the units picked (or ordered, before the pick)


class PackingSlip(msgspec.Struct, frozen=True, kw_only=True):
    """What a packing slip shows: a shipment's items and the packaging plan it is packed by."""

    order_id: str
    shipment_id: str | None
    lines: Sequence[SlipLine]
    plan: PackagingPlan
    locale: str  # the language to print in: `?lang=`, else the customer's (e.g. "el", "en")


@hookspec(firstresult=True)
def resolve_packing_slip(slip: PackingSlip) -> str | None:
    """Render the printable packing slip of a shipment: one self-contained HTML page.

    When it is called:
        By `GET /v1/shipments/{id}/packing-slip`, with the plan stored when the shipment was
        packed, or the plan it would get now when it is not packed yet.

    Args:
        slip: the order, the shipment, its lines (SKU, product name, units), the packaging plan
            and the locale to print in; labels in another language are the renderer's choice.

    Returns:
        The first non-None page (HTML text) wins; return None to pass. With no renderer
        installed the endpoint answers 404.

    Example:
        ```python
        @hookimpl
        def resolve_packing_slip(slip):
            rows = "".join(f"<li>{line.qty} × {html.escape(line.sku)}</li>" for line in slip.lines)
            return f"<!doctype html><ul>{rows}</ul>"
        ```
    """
