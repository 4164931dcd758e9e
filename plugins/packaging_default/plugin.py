"""The default packaging plugin: declares the `packaging` policy kind ops edit, and turns a
shipment into a `PackagingPlan` (boxes, inserts and the reasons for each) under that policy."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import msgspec
import structlog

from core.domain.policies import PolicyKind
from core.hookspecs import hookimpl
from core.hookspecs.packaging import PackagingPlan, PackagingRequest
from plugins.packaging_default.boxes import choose_boxes
from plugins.packaging_default.inserts import choose_inserts
from plugins.packaging_default.policy import DEFAULT_POLICY, PackagingPolicy

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
def evaluate_packaging(
    request: PackagingRequest, policy: Mapping[str, Any], policy_version: int
) -> PackagingPlan | None:
    # The document was validated when ops saved it; converting again gives the typed policy.
    # A document of another shape (another packaging plugin's) is not ours to decide: pass.
    try:
        document = msgspec.convert(dict(policy), type=PackagingPolicy)
    except msgspec.ValidationError as exc:
        log.warning("packaging.policy_not_understood", order_id=request.order_id, error=str(exc))
        return None
    return plan_packaging(request, document, policy_version=policy_version)
