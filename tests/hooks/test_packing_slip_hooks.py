"""resolve_packing_slip (firstresult): the later-registered renderer is asked first, the first
non-None page wins, None passes; the default packaging plugin renders Greek or English."""

from __future__ import annotations

from core.hookspecs import hookimpl
from core.hookspecs.packaging import BoxChoice, Insert, PackagingPlan, PackingSlip, SlipLine
from core.runtime import Runtime
from core.testing.fixtures import inline_plugin

SLIP = PackingSlip(
    order_id="ord_test",
    shipment_id="shp_test",
    lines=[SlipLine(sku="VASE-1", name="Βάζο", qty=2)],
    plan=PackagingPlan(
        boxes=[BoxChoice(box="BOX-M", items={"VASE-1": 2}, weight_g=2500)],
        inserts=[Insert(kind="thank_you_note", code="TY-EL", text="Ευχαριστούμε!")],
        policy_version=3,
    ),
    locale="el",
)


class FixedRenderer:
    """Answers `page`, or passes when `page` is None; remembers what it was asked."""

    def __init__(self, page: str | None) -> None:
        self.page = page
        self.asked: list[PackingSlip] = []

    @hookimpl
    def resolve_packing_slip(self, slip: PackingSlip) -> str | None:
        self.asked.append(slip)
        return self.page


def render(runtime: Runtime, slip: PackingSlip = SLIP) -> str | None:
    page: str | None = runtime.host.pm.hook.resolve_packing_slip(slip=slip)
    return page


async def test_hook_resolve_packing_slip(runtime: Runtime) -> None:
    default = render(runtime)
    assert default is not None and '<html lang="el">' in default and "Δελτίο συσκευασίας" in default
    assert "BOX-M" in default and "TY-EL" in default and "Βάζο" in default
    english = render(runtime, PackingSlip(**{**{f: getattr(SLIP, f) for f in SLIP.__struct_fields__}, "locale": "en"}))
    assert english is not None and '<html lang="en">' in english and "Packing slip" in english

    first, later = FixedRenderer("<p>first</p>"), FixedRenderer("<p>later</p>")
    with (
        inline_plugin(runtime.host, first, "inline-slip-first"),
        inline_plugin(runtime.host, later, "inline-slip-later"),
    ):
        assert render(runtime) == "<p>later</p>"  # registered later, asked first
        assert later.asked == [SLIP] and first.asked == []
        later.page = None
        assert render(runtime) == "<p>first</p>"  # None passes to the next
        first.page = None
        assert render(runtime) == default  # both pass: the default plugin renders
    assert render(runtime) == default
