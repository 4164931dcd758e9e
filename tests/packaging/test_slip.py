"""The packing slip: self-contained, well-formed, escaped, and labelled in Greek or English."""

from __future__ import annotations

from datetime import date
from html.parser import HTMLParser

import pytest

from core.hookspecs.packaging import BoxChoice, Insert, PackagingPlan, PackagingRequest, PackItem
from plugins.packaging_default.plugin import plan_packaging
from plugins.packaging_default.policy import DEFAULT_POLICY, OVERSIZE
from plugins.packaging_default.slip import render_packing_slip

VOID = {"meta", "br", "link", "img", "input", "hr"}


class Structure(HTMLParser):
    """Checks that every element is closed in order and collects what the page would load."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.tags: list[str] = []
        self.external: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.external += [v or "" for k, v in attrs if k in {"src", "href"}]
        if tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1] if self.open else None}>"
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> Structure:
    structure = Structure()
    structure.feed(page)
    structure.close()
    assert structure.open == []
    return structure


LINES = [("MUG", "Κούπα πορσελάνης", 1), ("TSHIRT", "T-shirt <organic>", 2)]


def valentines_plan() -> PackagingPlan:
    items = [
        PackItem(sku="MUG", qty=1, weight_g=400, length_mm=120, width_mm=90, height_mm=90),
        PackItem(sku="TSHIRT", qty=2, weight_g=250, length_mm=300, width_mm=200, height_mm=20),
    ]
    req = PackagingRequest(
        order_id="ord_1",
        shipment_id="shp_1",
        items=items,
        order_value=6_200,
        currency="EUR",
        customer_segment="first_order",
        locale="el",
        on_date=date(2025, 2, 10),
    )
    return plan_packaging(req, DEFAULT_POLICY, policy_version=3)


def test_a_greek_slip_lists_items_boxes_and_inserts() -> None:
    page = render_packing_slip("ord_1", "shp_1", LINES, valentines_plan(), "el-GR")
    structure = parse(page)
    assert '<html lang="el">' in page
    text = " ".join(structure.text)
    for label in ("Δελτίο συσκευασίας", "Παραγγελία", "Κουτιά", "Ένθετα", "Σημείωμα ευχαριστίας", "Δώρο"):
        assert label in text
    for content in ("ord_1", "shp_1", "Κούπα πορσελάνης", "VALENTINE-WRAP", "CINEMA-1+1", "1,15 kg"):
        assert content in text
    assert "Σύνολο τεμαχίων" in text and "3" in text
    assert OVERSIZE not in text


def test_an_english_slip_for_any_other_locale() -> None:
    for locale in ("en", "de"):
        page = render_packing_slip("ord_1", None, LINES, valentines_plan(), locale)
        text = " ".join(parse(page).text)
        assert '<html lang="en">' in page
        for label in ("Packing slip", "Shipment", "Boxes", "Inserts", "Thank-you note", "1.15 kg", "—"):
            assert label in text


def test_the_slip_is_self_contained() -> None:
    page = render_packing_slip("ord_1", "shp_1", LINES, valentines_plan(), "el")
    structure = parse(page)
    assert structure.external == []
    assert not {"script", "link", "img", "iframe"} & set(structure.tags)
    assert "url(" not in page and "@import" not in page


@pytest.mark.parametrize("locale", ["el", "en"])
def test_everything_is_escaped(locale: str) -> None:
    evil = '<script>alert("x")</script>'
    plan = PackagingPlan(
        boxes=(BoxChoice(box=f"B{evil}", items={f"S{evil}": 1}, weight_g=100),),
        inserts=(Insert(kind=evil, code=f"C{evil}", text=f"T{evil}"),),
        policy_version=1,
    )
    page = render_packing_slip(f"O{evil}", f"H{evil}", [(f"S{evil}", f"N{evil}", 1)], plan, locale)
    structure = parse(page)
    assert "script" not in structure.tags
    assert "<script>" not in page
    # title, order, shipment, line sku and name, box, box contents sku and name, insert kind, code, text
    assert page.count("&lt;script&gt;") == 11
    assert "&quot;x&quot;" in page


def test_oversize_units_are_flagged_for_the_packer() -> None:
    plan = PackagingPlan(boxes=(BoxChoice(box=OVERSIZE, items={"SOFA": 1}, weight_g=45_000),))
    page = render_packing_slip("ord_1", "shp_1", [("SOFA", "Καναπές", 1)], plan, "el")
    assert "συσκευάστε τα με το χέρι" in page
    assert "45,00 kg" in page


def test_an_empty_plan_says_so() -> None:
    page = render_packing_slip("ord_1", "shp_1", [], PackagingPlan(boxes=()), "en")
    text = " ".join(parse(page).text)
    assert text.count("None") == 2
