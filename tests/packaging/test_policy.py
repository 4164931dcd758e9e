"""The packaging policy document: the default validates, invalid documents are refused with a
message naming the field, seasonal ranges (incl. across New Year), and the plugin's hooks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import msgspec
import pytest

from core.domain.errors import InvalidInput
from core.hookspecs.packaging import PackagingPlan, PackagingRequest, PackItem
from core.plugins import PluginHost
from core.policies.policies import validate
from plugins.packaging_default.plugin import PACKAGING
from plugins.packaging_default.policy import (
    DEFAULT_POLICY,
    Box,
    CustomerSegment,
    PackagingPolicy,
    SeasonalEdition,
)

Document = dict[str, Any]


def default_document() -> Document:
    """The default as ops would send it: JSON."""
    document: Document = msgspec.json.decode(msgspec.json.encode(DEFAULT_POLICY))
    return document


# -- the default -------------------------------------------------------------------------------


def test_the_default_policy_validates_as_ops_would_save_it() -> None:
    assert validate(PACKAGING, default_document()) == DEFAULT_POLICY
    assert validate(PACKAGING, msgspec.to_builtins(DEFAULT_POLICY)) == DEFAULT_POLICY


def test_the_default_is_a_greek_e_shop_starting_point() -> None:
    assert [b.code for b in DEFAULT_POLICY.boxes] == ["ENVELOPE", "S", "M", "L", "XL"]
    notes = {n.segment: n for n in DEFAULT_POLICY.thank_you_notes}
    assert set(notes) == set(CustomerSegment)
    for note in notes.values():
        assert set(note.texts) == {"el", "en"}
    for language in ("el", "en"):
        assert len({n.texts[language] for n in notes.values()}) == 3, "each segment has its own note"
    assert "αξιολόγηση" in notes[CustomerSegment.FIRST_ORDER].texts["el"]
    assert "survey" in notes[CustomerSegment.RETURNING].texts["en"]
    (valentines,) = DEFAULT_POLICY.seasonal_editions
    assert (valentines.starts_on, valentines.ends_on) == ("02-01", "02-14")
    (plus_one,) = DEFAULT_POLICY.gifts
    assert plus_one.currency == "EUR"
    assert {t.code: t.min_order_value for t in plus_one.tiers} == {"COFFEE-1+1": 0, "CINEMA-1+1": 5_000}
    assert DEFAULT_POLICY.fill_factor == 0.9


def test_every_field_of_the_document_is_described() -> None:
    schema = msgspec.json.schema(PackagingPolicy)
    for name, definition in schema["$defs"].items():
        if "properties" not in definition:
            continue
        for field, spec in definition["properties"].items():
            assert spec.get("description"), f"{name}.{field} has no description"


# -- refusals ----------------------------------------------------------------------------------


def set_path(path: str, value: Any) -> Callable[[Document], None]:
    def change(document: Document) -> None:
        *parents, last = path.split(".")
        target: Any = document
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if last.isdigit():
            target[int(last)] = value
        else:
            target[last] = value

    return change


def duplicate_box(document: Document) -> None:
    document["boxes"].append(dict(document["boxes"][1]))


def second_edition(starts_on: str, ends_on: str) -> Callable[[Document], None]:
    def change(document: Document) -> None:
        edition = dict(document["seasonal_editions"][0], code="other", starts_on=starts_on, ends_on=ends_on)
        document["seasonal_editions"].append(edition)

    return change


def duplicate_note(document: Document) -> None:
    document["thank_you_notes"].append(dict(document["thank_you_notes"][0], code="AGAIN"))


INVALID: list[tuple[str, Callable[[Document], None], str]] = [
    ("zero length", set_path("boxes.0.length_mm", 0), "$.boxes[0].length_mm"),
    ("negative height", set_path("boxes.2.height_mm", -5), "$.boxes[2].height_mm"),
    ("zero max weight", set_path("boxes.1.max_weight_g", 0), "$.boxes[1].max_weight_g"),
    ("negative own weight", set_path("boxes.1.own_weight_g", -1), "$.boxes[1].own_weight_g"),
    ("negative cost", set_path("boxes.1.cost", -1), "$.boxes[1].cost"),
    ("a number as text", set_path("boxes.0.width_mm", "250"), "$.boxes[0].width_mm"),
    ("duplicate box codes", duplicate_box, "boxes[5].code: 'S' is already used by boxes[1]"),
    ("the reserved box code", set_path("boxes.0.code", "OVERSIZE"), "code 'OVERSIZE' is reserved"),
    ("no boxes", set_path("boxes", []), "$.boxes"),
    ("a typo in a field", set_path("boxes.0.lenght_mm", 10), "unknown field `lenght_mm`"),
    ("a typo at the top", set_path("boxs", []), "unknown field `boxs`"),
    ("fill factor zero", set_path("fill_factor", 0), "$.fill_factor"),
    ("fill factor above one", set_path("fill_factor", 1.2), "$.fill_factor"),
    ("unknown segment", set_path("thank_you_notes.0.segment", "vip"), "$.thank_you_notes[0].segment"),
    ("two notes for a segment", duplicate_note, "thank_you_notes[3].segment: 'first_order' is already used"),
    ("an upper-case locale", set_path("thank_you_notes.0.texts", {"EL": "Γεια"}), "$.thank_you_notes[0].texts"),
    ("an empty text", set_path("thank_you_notes.1.texts", {"el": ""}), "$.thank_you_notes[1].texts"),
    ("no texts", set_path("thank_you_notes.1.texts", {}), "$.thank_you_notes[1].texts"),
    ("a malformed day", set_path("seasonal_editions.0.starts_on", "2-1"), "$.seasonal_editions[0].starts_on"),
    ("month 13", set_path("seasonal_editions.0.starts_on", "13-01"), "starts_on '13-01' of edition 'valentines'"),
    ("30 February", set_path("seasonal_editions.0.ends_on", "02-30"), "ends_on '02-30' of edition 'valentines'"),
    ("day zero", set_path("seasonal_editions.0.ends_on", "03-00"), "is not a day of the year"),
    ("overlapping editions", second_edition("02-10", "02-20"), "'valentines' and 'other' overlap on 02-10"),
    ("overlap across new year", second_edition("12-01", "02-01"), "overlap on 02-01"),
    ("negative threshold", set_path("gifts.0.tiers.0.min_order_value", -1), "$.gifts[0].tiers[0].min_order_value"),
    ("equal thresholds", set_path("gifts.0.tiers.1.min_order_value", 0), "two tiers with min_order_value 0"),
    ("no tiers", set_path("gifts.0.tiers", []), "$.gifts[0].tiers"),
    ("a lower-case currency", set_path("gifts.0.currency", "eur"), "$.gifts[0].currency"),
    ("unknown edition", set_path("gifts.0.during_edition", "xmas"), "during_edition 'xmas' of programme 'plus-one'"),
    ("a code with spaces", set_path("reusable.notice_code", "RETURN THE BOX"), "$.reusable.notice_code"),
]


@pytest.mark.parametrize(("change", "field"), [(c, f) for _, c, f in INVALID], ids=[i for i, _, _ in INVALID])
def test_an_invalid_document_is_refused_naming_the_field(change: Callable[[Document], None], field: str) -> None:
    document = default_document()
    change(document)
    with pytest.raises(msgspec.ValidationError) as refused:
        msgspec.convert(document, type=PackagingPolicy, strict=True)
    assert field in str(refused.value)
    # The core reports the same message as a 422 problem.
    with pytest.raises(InvalidInput) as invalid:
        validate(PACKAGING, document)
    assert invalid.value.status == 422
    assert field in invalid.value.detail
    assert invalid.value.errors is not None and field in invalid.value.errors[0]["message"]


def test_rules_across_fields_hold_when_built_in_python_too() -> None:
    box = Box(code="S", length_mm=10, width_mm=10, height_mm=10, max_weight_g=100)
    with pytest.raises(ValueError, match=r"boxes\[1\].code: 'S' is already used by boxes\[0\]"):
        PackagingPolicy(boxes=(box, box))
    with pytest.raises(ValueError, match="is not a day of the year"):
        SeasonalEdition(code="x", name="X", starts_on="04-31", ends_on="05-01", packaging_code="X")


# -- seasonal ranges ---------------------------------------------------------------------------


def edition(starts_on: str, ends_on: str) -> SeasonalEdition:
    return SeasonalEdition(code="e", name="E", starts_on=starts_on, ends_on=ends_on, packaging_code="E")


@pytest.mark.parametrize(
    ("day", "on"),
    [
        (date(2025, 1, 31), False),
        (date(2025, 2, 1), True),
        (date(2025, 2, 10), True),
        (date(2025, 2, 14), True),
        (date(2025, 2, 15), False),
        (date(2026, 2, 14), True),
    ],
)
def test_a_range_includes_both_ends(day: date, on: bool) -> None:
    assert edition("02-01", "02-14").is_on(day) is on


@pytest.mark.parametrize(
    ("day", "on"),
    [
        (date(2025, 12, 19), False),
        (date(2025, 12, 20), True),
        (date(2025, 12, 31), True),
        (date(2026, 1, 1), True),
        (date(2026, 1, 6), True),
        (date(2026, 1, 7), False),
        (date(2026, 7, 1), False),
    ],
)
def test_a_range_may_wrap_the_year(day: date, on: bool) -> None:
    christmas = edition("12-20", "01-06")
    assert christmas.wraps_year
    assert christmas.is_on(day) is on


def test_a_one_day_edition_and_29_february() -> None:
    assert edition("03-08", "03-08").is_on(date(2025, 3, 8))
    assert not edition("03-08", "03-08").is_on(date(2025, 3, 9))
    leap_day = edition("02-29", "02-29")
    assert leap_day.is_on(date(2024, 2, 29))
    assert not leap_day.is_on(date(2025, 2, 28)) and not leap_day.is_on(date(2025, 3, 1))
    assert edition("02-20", "02-29").is_on(date(2025, 2, 28))
    assert len(edition("12-20", "01-06").days()) == 18
    assert len(edition("01-01", "12-31").days()) == 366


def test_adjacent_editions_do_not_overlap() -> None:
    policy = PackagingPolicy(
        boxes=DEFAULT_POLICY.boxes,
        seasonal_editions=(
            SeasonalEdition(code="a", name="A", starts_on="12-01", ends_on="12-31", packaging_code="A"),
            SeasonalEdition(code="b", name="B", starts_on="01-01", ends_on="01-31", packaging_code="B"),
        ),
    )
    assert policy.edition_on(date(2025, 12, 31)) is policy.seasonal_editions[0]
    assert policy.edition_on(date(2026, 1, 1)) is policy.seasonal_editions[1]
    assert policy.edition_on(date(2026, 2, 1)) is None


# -- the plugin's hooks ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def host() -> PluginHost:
    return PluginHost(builtins=("plugins.packaging_default.plugin",), entry_points=False)


def test_the_packaging_policy_kind_is_registered(host: PluginHost) -> None:
    registered = host.policy_kinds["packaging"]
    assert registered.plugin == "plugins.packaging_default.plugin"
    kind = registered.value
    assert kind.document_type is PackagingPolicy
    assert kind.default is DEFAULT_POLICY
    assert "thank-you note" in kind.description


def test_evaluate_packaging_applies_a_saved_document_and_echoes_its_version(host: PluginHost) -> None:
    document = default_document()
    document["gifts"] = []
    request = PackagingRequest(
        order_id="ord_1",
        shipment_id="shp_1",
        items=[PackItem(sku="MUG", qty=2, weight_g=400, length_mm=120, width_mm=90, height_mm=90)],
        order_value=2_400,
        currency="EUR",
        customer_segment="returning",
        locale="en",
        on_date=date(2025, 6, 1),
    )
    typed = validate(PACKAGING, document)  # the core decodes the saved document before the hook
    plan = host.pm.hook.evaluate_packaging(request=request, policy=typed, policy_version=7)
    assert isinstance(plan, PackagingPlan)
    assert plan.policy_version == 7
    assert [b.box for b in plan.boxes] == ["S"]
    assert [(i.kind, i.code) for i in plan.inserts] == [("thank_you_note", "THANKS-AGAIN")]


class OtherPackagingPolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Another plugin's packaging document, declared under the same kind."""

    boxes: list[str]


def test_evaluate_packaging_passes_on_a_document_of_another_type(host: PluginHost) -> None:
    request = PackagingRequest(
        order_id="ord_1",
        shipment_id=None,
        items=[],
        order_value=0,
        currency="EUR",
        customer_segment="first_order",
        locale="el",
        on_date=date(2025, 6, 1),
    )
    other = OtherPackagingPolicy(boxes=["L"])
    assert host.pm.hook.evaluate_packaging(request=request, policy=other, policy_version=1) is None
