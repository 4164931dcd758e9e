"""evaluate_packaging (firstresult): the later-registered plugin is asked first, the first
non-None plan wins, None passes; the policy document reaches the plugin typed, with its version."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec

from core.fulfilment.shipments import plan_packaging
from core.hookspecs import hookimpl
from core.hookspecs.packaging import BoxChoice, Insert, PackagingPlan, PackagingRequest, PackItem
from core.runtime import Runtime
from core.testing.fixtures import inline_plugin
from plugins.packaging_default.policy import DEFAULT_POLICY, PackagingPolicy

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


class OneBox(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A packaging document of the test plugin's own type."""

    box: str
    max_weight_g: int


POLICY = OneBox(box="L", max_weight_g=5000)


class FixedPacker:
    """Puts everything in `box` (echoing the policy version), or passes when `box` is None."""

    def __init__(self, box: str | None) -> None:
        self.box = box
        self.calls: list[tuple[PackagingRequest, msgspec.Struct, int]] = []

    @hookimpl
    def evaluate_packaging(
        self, request: PackagingRequest, policy: msgspec.Struct, policy_version: int
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


async def test_hook_evaluate_packaging_gets_the_typed_document_from_the_core(app_client: Any, runtime: Runtime) -> None:
    """The core decodes the current `packaging` document into the kind's declared type (the
    default plugin's PackagingPolicy, version 0 until ops save one) before asking."""
    packer = FixedPacker("BOX-M")
    with inline_plugin(runtime.host, packer, name="inline-packer"):
        plan = await plan_packaging(runtime, REQUEST)
    assert plan is not None and [b.box for b in plan.boxes] == ["BOX-M"]
    [(request, policy, version)] = packer.calls
    assert (request, version) == (REQUEST, 0)
    assert isinstance(policy, PackagingPolicy) and policy == DEFAULT_POLICY
