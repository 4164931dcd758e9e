"""evaluate_packaging (firstresult): the later-registered plugin is asked first, the first
non-None plan wins, None passes; the policy document and its version reach the plugin as given."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from core.hookspecs import hookimpl
from core.hookspecs.packaging import BoxChoice, Insert, PackagingPlan, PackagingRequest, PackItem
from core.runtime import Runtime
from core.testing.fixtures import inline_plugin

REQUEST = PackagingRequest(
    order_id="ord_test",
    shipment_id="shp_test",
    items=[PackItem(sku="VASE-1", qty=1, weight_g=1200, length_mm=300, width_mm=200, height_mm=200, category="home")],
    order_value=9000,
    currency="EUR",
    customer_segment="first_order",
    locale="el",
    on_date=date(2025, 12, 20),
)
POLICY = {"boxes": [{"code": "L", "max_weight_g": 5000}], "thank_you_note": {"segments": ["first_order"]}}


class FixedPacker:
    """Puts everything in `box` (echoing the policy version), or passes when `box` is None."""

    def __init__(self, box: str | None) -> None:
        self.box = box
        self.calls: list[tuple[PackagingRequest, Mapping[str, Any], int]] = []

    @hookimpl
    def evaluate_packaging(
        self, request: PackagingRequest, policy: Mapping[str, Any], policy_version: int
    ) -> PackagingPlan | None:
        self.calls.append((request, policy, policy_version))
        if self.box is None:
            return None
        inserts = [Insert(kind="thank_you_note", code="TY-EL")] if request.customer_segment == "first_order" else []
        box = BoxChoice(box=self.box, items={i.sku: i.qty for i in request.items}, weight_g=1500)
        return PackagingPlan(
            boxes=[box], inserts=inserts, reasons=[f"always {self.box}"], policy_version=policy_version
        )


def evaluate(runtime: Runtime) -> PackagingPlan | None:
    plan: PackagingPlan | None = runtime.host.pm.hook.evaluate_packaging(
        request=REQUEST, policy=POLICY, policy_version=7
    )
    return plan


async def test_hook_evaluate_packaging(runtime: Runtime) -> None:
    baseline = evaluate(runtime)
    first, later = FixedPacker("BOX-L"), FixedPacker("BOX-XL")
    with (
        inline_plugin(runtime.host, first, name="inline-packer-first"),
        inline_plugin(runtime.host, later, name="inline-packer-later"),
    ):
        plan = evaluate(runtime)
        assert plan is not None
        assert [b.box for b in plan.boxes] == ["BOX-XL"]  # registered later, asked first
        assert plan.policy_version == 7  # echoed for traceability
        assert [i.code for i in plan.inserts] == ["TY-EL"]
        assert later.calls == [(REQUEST, POLICY, 7)] and first.calls == []

        later.box = None
        plan = evaluate(runtime)
        assert plan is not None and [b.box for b in plan.boxes] == ["BOX-L"]
        assert plan.boxes[0].items == {"VASE-1": 1}

        first.box = None
        assert evaluate(runtime) == baseline  # both pass: the plugins installed before them decide
    assert evaluate(runtime) == baseline
