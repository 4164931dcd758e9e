"""The default packaging plugin: declares the `packaging` policy kind ops edit, turns a
shipment into a `PackagingPlan` (boxes, inserts and the reasons for each) under that policy, and
renders the packing slip (Greek or English)."""

from __future__ import annotations

from collections.abc import Callable

import msgspec
import structlog

from core.domain.policies import PolicyKind
from core.hookspecs import hookimpl
from core.hookspecs.packaging import PackagingPlan, PackagingRequest, PackingSlip
from plugins.packaging_default.boxes import choose_boxes
from plugins.packaging_default.inserts import choose_inserts
from plugins.packaging_default.policy import DEFAULT_POLICY, PackagingPolicy
from plugins.packaging_default.slip import render_packing_slip

log = structlog.get_logger("emporio.packaging")

PACKAGING = PolicyKind(
    kind="packaging",
    document_type=PackagingPolicy,
    default=DEFAULT_POLICY,
    description=(
        "Which boxes a shipment goes in (fewest boxes, then smallest; reusable boxes first if preferred) "
        "and what goes in with it: a thank-you note per customer segment and language, seasonal "
        "packaging by date, gifts by order value, a return-the-box notice."
    ),
)


def plan_packaging(
    request: PackagingRequest, policy: PackagingPolicy, *, policy_version: int | None = None
) -> PackagingPlan:
    """The packaging plan of one shipment: boxes first, then inserts (the notice needs the boxes)."""
    selection = choose_boxes(
        request.items,
        policy.boxes,
        fill_factor=policy.fill_factor,
        prefer_reusable=policy.reusable.prefer_reusable,
    )
    inserts, reasons = choose_inserts(request, policy, selection.boxes)
    return PackagingPlan(
        boxes=selection.boxes,
        inserts=inserts,
        reasons=(*selection.reasons, *reasons),
        policy_version=policy_version,
    )


@hookimpl
def register_policy_kinds(register: Callable[[PolicyKind], None]) -> None:
    register(PACKAGING)


@hookimpl
def evaluate_packaging(request: PackagingRequest, policy: msgspec.Struct, policy_version: int) -> PackagingPlan | None:
    # The core hands the document already decoded into the kind's type. A document of another
    # type (another packaging plugin declared the kind) is not ours to decide: pass.
    if not isinstance(policy, PackagingPolicy):
        log.warning("packaging.policy_not_ours", order_id=request.order_id, policy=type(policy).__name__)
        return None
    return plan_packaging(request, policy, policy_version=policy_version)


@hookimpl
def resolve_packing_slip(slip: PackingSlip) -> str | None:
    lines = [(line.sku, line.name, line.qty) for line in slip.lines]
    return render_packing_slip(slip.order_id, slip.shipment_id, lines, slip.plan, slip.locale)
