"""Inserts: the thank-you note by segment and language, the seasonal edition by date, the gift by
order value and currency, the return-the-box notice, and whole plans (reasons, reproducibility)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import msgspec
import pytest

from core.hookspecs.packaging import BoxChoice, Insert, PackagingPlan, PackagingRequest, PackItem
from plugins.packaging_default.inserts import choose_inserts, language_of, money, text_for
from plugins.packaging_default.plugin import plan_packaging
from plugins.packaging_default.policy import (
    DEFAULT_POLICY,
    Box,
    CustomerSegment,
    GiftProgramme,
    GiftTier,
    PackagingPolicy,
    ReusablePackaging,
    SeasonalEdition,
    ThankYouNote,
)

MUG = PackItem(sku="MUG", qty=1, weight_g=400, length_mm=120, width_mm=90, height_mm=90)
SPRING = date(2025, 5, 12)


def request(
    *,
    segment: str = "first_order",
    locale: str = "el",
    on: date = SPRING,
    value: int = 2_000,
    currency: str = "EUR",
    items: Sequence[PackItem] = (MUG,),
) -> PackagingRequest:
    return PackagingRequest(
        order_id="ord_1",
        shipment_id="shp_1",
        items=items,
        order_value=value,
        currency=currency,
        customer_segment=segment,
        locale=locale,
        on_date=on,
    )


def inserts_of(req: PackagingRequest, policy: PackagingPolicy = DEFAULT_POLICY) -> dict[str, Insert]:
    inserts, _ = choose_inserts(req, policy, ())
    return {i.kind: i for i in inserts}


def reasons_of(req: PackagingRequest, policy: PackagingPolicy = DEFAULT_POLICY) -> tuple[str, ...]:
    return choose_inserts(req, policy, ())[1]


def with_(policy: PackagingPolicy = DEFAULT_POLICY, **changes: object) -> PackagingPolicy:
    return msgspec.structs.replace(policy, **changes)


# -- thank-you notes ---------------------------------------------------------------------------


@pytest.mark.parametrize("segment", [s.value for s in CustomerSegment])
@pytest.mark.parametrize("locale", ["el", "en"])
def test_each_segment_gets_its_note_in_the_customers_language(segment: str, locale: str) -> None:
    note = inserts_of(request(segment=segment, locale=locale))["thank_you_note"]
    expected = next(n for n in DEFAULT_POLICY.thank_you_notes if n.segment.value == segment)
    assert note == Insert(kind="thank_you_note", code=expected.code, text=expected.texts[locale])
    assert f"thank-you note {expected.code} for a {segment} customer, in {locale}" in reasons_of(
        request(segment=segment, locale=locale)
    )


def test_a_regional_locale_uses_its_language() -> None:
    assert language_of("el-GR") == "el" and language_of("en_GB") == "en" and language_of("EL") == "el"
    note = inserts_of(request(locale="en-GB"))["thank_you_note"]
    assert note.text is not None and note.text.startswith("Thank you so much")


def test_a_missing_language_falls_back_to_greek_then_english() -> None:
    assert inserts_of(request(locale="de"))["thank_you_note"].text == DEFAULT_POLICY.thank_you_notes[0].texts["el"]
    assert any("in el (no de text)" in r for r in reasons_of(request(locale="de")))
    english_only = with_(
        thank_you_notes=(ThankYouNote(segment=CustomerSegment.FIRST_ORDER, code="T", texts={"en": "Thanks!"}),)
    )
    assert inserts_of(request(locale="el"), english_only)["thank_you_note"].text == "Thanks!"
    assert text_for({"fr": "Merci"}, "fr") == ("fr", "Merci")
    assert text_for({"fr": "Merci"}, "de") is None
    assert text_for(None, "el") is None


def test_no_note_without_a_text_the_customer_can_read() -> None:
    french_only = with_(
        thank_you_notes=(ThankYouNote(segment=CustomerSegment.FIRST_ORDER, code="T", texts={"fr": "Merci"}),)
    )
    assert "thank_you_note" not in inserts_of(request(locale="de"), french_only)
    assert "no thank-you note: T has no text in de, el, en" in reasons_of(request(locale="de"), french_only)


def test_no_note_for_an_unknown_segment_or_one_without_a_note() -> None:
    assert "thank_you_note" not in inserts_of(request(segment="vip"))
    assert any(
        "segment 'vip' is not one of first_order, returning, reactivated" in r
        for r in reasons_of(request(segment="vip"))
    )
    only_first = with_(thank_you_notes=DEFAULT_POLICY.thank_you_notes[:1])
    assert "thank_you_note" not in inserts_of(request(segment="returning"), only_first)
    assert "no thank-you note: the policy has none for returning customers" in reasons_of(
        request(segment="returning"), only_first
    )


# -- seasonal editions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "seasonal"),
    [(date(2025, 1, 31), False), (date(2025, 2, 1), True), (date(2025, 2, 14), True), (date(2025, 2, 15), False)],
)
def test_the_valentines_edition_runs_1_to_14_february(day: date, seasonal: bool) -> None:
    found = inserts_of(request(on=day)).get("seasonal")
    if seasonal:
        assert found is not None and found.code == "VALENTINE-WRAP"
        assert found.text is not None and "ερωτευμένους" in found.text
        assert any('seasonal edition "Valentine\'s Day" (02-01 to 02-14)' in r for r in reasons_of(request(on=day)))
    else:
        assert found is None
        assert f"no seasonal edition on {day.isoformat()}" in reasons_of(request(on=day))


CHRISTMAS = SeasonalEdition(
    code="christmas",
    name="Christmas",
    starts_on="12-15",
    ends_on="01-06",
    packaging_code="XMAS-BOX",
    texts={"el": "Καλά Χριστούγεννα!", "en": "Merry Christmas!"},
)


@pytest.mark.parametrize(
    ("day", "seasonal"),
    [
        (date(2025, 12, 14), False),
        (date(2025, 12, 15), True),
        (date(2025, 12, 31), True),
        (date(2026, 1, 1), True),
        (date(2026, 1, 6), True),
        (date(2026, 1, 7), False),
    ],
)
def test_an_edition_across_new_year(day: date, seasonal: bool) -> None:
    policy = with_(seasonal_editions=(CHRISTMAS,))
    found = inserts_of(request(on=day, locale="en"), policy).get("seasonal")
    assert (found == Insert(kind="seasonal", code="XMAS-BOX", text="Merry Christmas!")) is seasonal
    assert (found is None) is not seasonal


def test_an_edition_without_a_card_still_sets_the_packaging() -> None:
    plain = msgspec.structs.replace(CHRISTMAS, texts=None)
    found = inserts_of(request(on=date(2025, 12, 24)), with_(seasonal_editions=(plain,)))["seasonal"]
    assert found == Insert(kind="seasonal", code="XMAS-BOX", text=None)


def test_no_season_reason_when_the_policy_has_no_editions() -> None:
    assert not any("seasonal" in r for r in reasons_of(request(), with_(seasonal_editions=())))


# -- gifts -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "gift"),
    [(0, "COFFEE-1+1"), (1, "COFFEE-1+1"), (4_999, "COFFEE-1+1"), (5_000, "CINEMA-1+1"), (25_000, "CINEMA-1+1")],
)
def test_cinema_from_50_euros_coffee_below(value: int, gift: str) -> None:
    found = inserts_of(request(value=value))["gift"]
    assert found.code == gift
    assert found.text is not None and "1+1" in found.text


def test_the_gift_reason_gives_the_threshold_and_the_next_tier() -> None:
    reasons = reasons_of(request(value=4_999, locale="en"))
    assert (
        "gift COFFEE-1+1 (plus-one): the order's 49.99 EUR is at least 0.00 EUR, "
        "below CINEMA-1+1 from 50.00 EUR, card in en" in reasons
    )
    assert "gift CINEMA-1+1 (plus-one): the order's 50.00 EUR is at least 50.00 EUR, card in el" in reasons_of(
        request(value=5_000)
    )


def test_a_mismatched_currency_gets_no_gift_and_a_reason() -> None:
    assert "gift" not in inserts_of(request(value=9_000, currency="USD"))
    assert "no plus-one gift: the order is in USD, but the programme's thresholds are in EUR" in reasons_of(
        request(value=9_000, currency="USD")
    )
    assert inserts_of(request(value=9_000, currency="eur"))["gift"].code == "CINEMA-1+1"


def test_below_the_lowest_threshold_gets_no_gift() -> None:
    programme = GiftProgramme(code="big-spender", currency="EUR", tiers=(GiftTier(code="G", min_order_value=10_000),))
    policy = with_(gifts=(programme,))
    assert "gift" not in inserts_of(request(value=9_999), policy)
    assert "no big-spender gift: the order's 99.99 EUR is below the lowest threshold, 100.00 EUR" in reasons_of(
        request(value=9_999), policy
    )
    assert inserts_of(request(value=10_000), policy)["gift"] == Insert(kind="gift", code="G", text=None)


def test_a_gift_programme_may_run_only_during_an_edition() -> None:
    seasonal = msgspec.structs.replace(DEFAULT_POLICY.gifts[0], during_edition="valentines")
    policy = with_(gifts=(seasonal,))
    assert inserts_of(request(on=date(2025, 2, 14), value=6_000), policy)["gift"].code == "CINEMA-1+1"
    assert "gift" not in inserts_of(request(on=date(2025, 2, 15), value=6_000), policy)
    assert "no plus-one gift: it runs only during the valentines edition" in reasons_of(
        request(on=date(2025, 2, 15)), policy
    )


def test_money_is_shown_in_major_units() -> None:
    assert money(5_000, "EUR") == "50.00 EUR"
    assert money(5, "EUR") == "0.05 EUR"
    assert money(-150, "EUR") == "-1.50 EUR"
    assert money(500, "JPY") == "500 JPY"


# -- reusable packaging ------------------------------------------------------------------------


def test_a_reusable_box_comes_with_the_return_the_box_notice() -> None:
    boxes = (BoxChoice(box="M-R", items={"MUG": 1}, weight_g=600, reusable=True),)
    inserts, reasons = choose_inserts(request(locale="en"), DEFAULT_POLICY, boxes)
    notice = inserts[-1]
    assert notice.kind == "reusable_packaging_notice" and notice.code == "RETURN-THE-BOX"
    assert notice.text is not None and "send it back" in notice.text
    assert "return-the-box notice RETURN-THE-BOX in en: reusable box M-R" in reasons
    plain = (BoxChoice(box="M", items={"MUG": 1}, weight_g=600),)
    assert all(i.kind != "reusable_packaging_notice" for i in choose_inserts(request(), DEFAULT_POLICY, plain)[0])


def reusable_policy(prefer: bool) -> PackagingPolicy:
    return with_(
        boxes=(
            *DEFAULT_POLICY.boxes,
            Box(code="M-R", length_mm=350, width_mm=250, height_mm=150, max_weight_g=10_000, reusable=True),
        ),
        reusable=ReusablePackaging(prefer_reusable=prefer),
    )


def test_preferring_reusable_boxes_packs_in_one_and_adds_the_notice() -> None:
    plan = plan_packaging(request(), reusable_policy(prefer=True))
    assert [(b.box, b.reusable) for b in plan.boxes] == [("M-R", True)]
    assert [i.kind for i in plan.inserts][-1] == "reusable_packaging_notice"
    plan = plan_packaging(request(), reusable_policy(prefer=False))
    assert [b.box for b in plan.boxes] == ["S"]
    assert "reusable_packaging_notice" not in [i.kind for i in plan.inserts]


# -- whole plans -------------------------------------------------------------------------------


def test_a_valentines_plan_for_a_first_order() -> None:
    items = [MUG, PackItem(sku="TSHIRT", qty=2, weight_g=250, length_mm=300, width_mm=200, height_mm=20)]
    plan = plan_packaging(request(on=date(2025, 2, 10), value=6_200, items=items), DEFAULT_POLICY, policy_version=3)
    assert plan == PackagingPlan(
        boxes=(BoxChoice(box="M", items={"MUG": 1, "TSHIRT": 2}, weight_g=1_150),),
        inserts=plan.inserts,
        reasons=plan.reasons,
        policy_version=3,
    )
    assert [(i.kind, i.code) for i in plan.inserts] == [
        ("thank_you_note", "THANKS-FIRST"),
        ("seasonal", "VALENTINE-WRAP"),
        ("gift", "CINEMA-1+1"),
    ]
    # A reason for the box, one for the box count, and one for each insert.
    assert len(plan.reasons) == 2 + len(plan.inserts)


def test_plans_are_reproducible() -> None:
    items = [
        PackItem(sku=f"P{i}", qty=1 + i % 3, weight_g=200 + 90 * i, length_mm=90 + 20 * i, width_mm=80, height_mm=60)
        for i in range(8)
    ]
    req = request(items=items, on=date(2025, 2, 3), value=7_777)
    first = msgspec.json.encode(plan_packaging(req, DEFAULT_POLICY, policy_version=1))
    again = msgspec.structs.replace(req, items=list(reversed(items)))
    assert msgspec.json.encode(plan_packaging(again, DEFAULT_POLICY, policy_version=1)) == first
