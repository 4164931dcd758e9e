"""The default return policy: every rule, in Greek and English, at its boundaries; the document's
validation naming the field at fault; and the plugin's hooks as the host calls them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest

from core.domain.errors import InvalidInput
from core.hookspecs.returns import ReturnDecision, ReturnLineRequest, ReturnRequestContext, ReturnVerdict
from core.policies import policies
from core.runtime import Runtime
from plugins.returns_default import (
    DEFAULT_POLICY,
    RETURNS,
    CategoryRule,
    RestockingFee,
    ReturnPolicy,
    days_between,
    decide,
)
from tests.conftest import Api

DELIVERED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # 12:00 in Athens
ATHENS = ZoneInfo(DEFAULT_POLICY.timezone)


def line(
    sku: str = "TEE-BLK-M",
    *,
    qty: int = 1,
    reason: str = "changed_mind",
    resolution: str = "refund",
    category: str | None = "apparel",
    opened: bool | None = None,
    unit_price: int = 2000,
) -> ReturnLineRequest:
    return ReturnLineRequest(
        sku=sku,
        qty=qty,
        reason=reason,
        resolution=resolution,
        category=category,
        opened=opened,
        unit_price=unit_price,
    )


def request(
    *lines: ReturnLineRequest,
    days: float = 3,
    locale: str = "el",
    method: str = "courier",
    delivered_at: datetime | None = DELIVERED,
    requested_at: datetime | None = None,
) -> ReturnRequestContext:
    return ReturnRequestContext(
        order_id="ord_1",
        delivered_at=delivered_at,
        requested_at=requested_at or DELIVERED + timedelta(days=days),
        method=method,
        locale=locale,
        lines=list(lines) or [line()],
    )


def policy(**changes: Any) -> ReturnPolicy:
    return msgspec.structs.replace(DEFAULT_POLICY, **changes)


def evaluate(req: ReturnRequestContext, pol: ReturnPolicy = DEFAULT_POLICY) -> ReturnDecision:
    return decide(req, pol, 3)


def declined(req: ReturnRequestContext, pol: ReturnPolicy = DEFAULT_POLICY) -> str:
    decision = evaluate(req, pol)
    assert decision.verdict == ReturnVerdict.DECLINED, decision
    assert decision.reason
    return decision.reason


# ---------------------------------------------------------------------------------------------
# The window
# ---------------------------------------------------------------------------------------------


def test_a_return_on_day_14_is_approved_on_the_terms_of_the_policy() -> None:
    decision = evaluate(request(line(qty=2), days=14))
    assert decision == ReturnDecision(
        verdict=ReturnVerdict.APPROVED,
        reason=None,
        shop_pays_shipping=False,
        restocking_fee=0,
        resolutions_offered=("refund", "replacement", "repair", "store_credit"),
        policy_version=3,
    )


def test_on_day_15_the_window_has_expired_in_greek_and_in_english() -> None:
    el = declined(request(days=15))
    assert el == (
        "Η προθεσμία επιστροφής για το TEE-BLK-M έχει λήξει: οι επιστροφές γίνονται δεκτές έως 14 ημέρες "
        "από την παράδοση, και η παραγγελία σας παραδόθηκε στις 02/03/2026. Αν το προϊόν είναι "
        "ελαττωματικό, επιλέξτε ως λόγο «ελαττωματικό» και θα το εξετάσουμε στο πλαίσιο της εγγύησης."
    )
    en = declined(request(days=15, locale="en"))
    assert en.startswith("The return period for TEE-BLK-M has ended: returns are accepted up to 14 days")
    assert "delivered on 02/03/2026" in en


def test_a_locale_without_messages_falls_back_to_greek() -> None:
    assert declined(request(days=15, locale="de")) == declined(request(days=15, locale="el"))


def test_days_are_calendar_days_in_the_shops_time_zone() -> None:
    late_evening = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)  # already 2 March, 01:30, in Athens
    last_minute = datetime(2026, 3, 16, 21, 59, tzinfo=UTC)  # 16 March, 23:59 in Athens: day 14
    midnight = datetime(2026, 3, 16, 22, 0, tzinfo=UTC)  # 17 March, 00:00 in Athens: day 15
    assert days_between(late_evening, last_minute, ATHENS) == 14
    ok = evaluate(request(delivered_at=late_evening, requested_at=last_minute))
    assert ok.verdict == ReturnVerdict.APPROVED
    assert "02/03/2026" in declined(request(delivered_at=late_evening, requested_at=midnight))
    # In UTC the same instants are 15 calendar days apart: the zone is the policy's choice.
    utc = policy(timezone="UTC")
    assert "01/03/2026" in declined(request(delivered_at=late_evening, requested_at=last_minute), utc)


def test_a_longer_window_is_the_shops_choice() -> None:
    generous = policy(window_days=30)
    assert evaluate(request(days=30), generous).verdict == ReturnVerdict.APPROVED
    assert "έως 30 ημέρες" in declined(request(days=31), generous)


def test_defects_are_accepted_beyond_the_window_until_the_guarantee_ends() -> None:
    for reason in ("defective", "wrong_item", "damaged_in_transit", "not_as_described"):
        decision = evaluate(request(line(reason=reason), days=200))
        assert decision.verdict == ReturnVerdict.APPROVED, reason
        assert decision.shop_pays_shipping is True
    assert evaluate(request(line(reason="defective"), days=730)).verdict == ReturnVerdict.APPROVED
    el = declined(request(line(reason="defective"), days=731))
    assert el.startswith("Δυστυχώς δεν μπορούμε να δεχτούμε την επιστροφή του TEE-BLK-M: τα ελαττώματα")
    assert "έως 730 ημέρες" in el
    en = declined(request(line(reason="defective"), days=731, locale="en"))
    assert "defects are covered for 730 days after delivery" in en


def test_an_order_not_delivered_cannot_be_returned() -> None:
    el = declined(request(delivered_at=None))
    assert el.startswith("Η παραγγελία ord_1 δεν έχει παραδοθεί ακόμη")
    en = declined(request(delivered_at=None, locale="en"))
    assert en.startswith("Order ord_1 has not been delivered yet, so it cannot be returned.")


# ---------------------------------------------------------------------------------------------
# Reasons, methods, resolutions
# ---------------------------------------------------------------------------------------------


def test_a_reason_the_policy_does_not_accept_is_refused() -> None:
    el = declined(request(line(reason="found_cheaper")))
    assert el.startswith("Ο λόγος επιστροφής που επιλέξατε για το TEE-BLK-M δεν γίνεται δεκτός.")
    en = declined(request(line(reason="found_cheaper"), locale="en"))
    assert en.startswith("The reason you gave for returning TEE-BLK-M is not one we can accept.")
    narrower = policy(accepted_reasons=("defective",), defect_reasons=("defective",))
    assert evaluate(request(line(reason="changed_mind")), DEFAULT_POLICY).verdict == ReturnVerdict.APPROVED
    assert "δεν γίνεται δεκτός" in declined(request(line(reason="changed_mind")), narrower)


def test_a_method_the_policy_does_not_offer_is_refused() -> None:
    courier_only = policy(methods=("courier",))
    assert evaluate(request(method="courier"), courier_only).verdict == ReturnVerdict.APPROVED
    assert declined(request(method="store"), courier_only).startswith(
        "Ο τρόπος επιστροφής που επιλέξατε δεν είναι διαθέσιμος."
    )
    assert declined(request(method="store", locale="en"), courier_only).startswith(
        "The return method you chose is not available."
    )


def test_a_resolution_the_policy_does_not_offer_is_refused() -> None:
    no_repairs = policy(resolutions_offered=("refund", "store_credit"))
    decision = evaluate(request(line(resolution="store_credit")), no_repairs)
    assert decision.verdict == ReturnVerdict.APPROVED
    assert decision.resolutions_offered == ("refund", "store_credit")
    assert declined(request(line(resolution="repair")), no_repairs).startswith(
        "Η λύση που ζητήσατε για το TEE-BLK-M δεν είναι διαθέσιμη."
    )
    assert declined(request(line(resolution="repair"), locale="en"), no_repairs).startswith(
        "The outcome you asked for TEE-BLK-M is not available."
    )


# ---------------------------------------------------------------------------------------------
# Category rules
# ---------------------------------------------------------------------------------------------


def soap(sku: str = "SOAP-OLIVE", **kw: Any) -> ReturnLineRequest:
    return line(sku, category="hygiene", unit_price=450, **kw)


def headphones(sku: str = "HEADPHONES-BT", **kw: Any) -> ReturnLineRequest:
    return line(sku, category="electronics", unit_price=6000, **kw)


def test_an_opened_hygiene_item_is_never_returnable() -> None:
    assert evaluate(request(soap(opened=False))).verdict == ReturnVerdict.APPROVED
    assert evaluate(request(soap(opened=None))).verdict == ReturnVerdict.APPROVED  # checked on receipt
    el = declined(request(soap(opened=True)))
    assert el == (
        "Το SOAP-OLIVE δεν μπορεί να επιστραφεί, επειδή η συσκευασία του έχει ανοιχτεί: για λόγους υγιεινής "
        "και ασφάλειας, τα προϊόντα αυτά επιστρέφονται μόνο σφραγισμένα."
    )
    en = declined(request(soap(opened=True), locale="en"))
    assert en.startswith("SOAP-OLIVE cannot be returned because its packaging has been opened")
    # Not even when defective: that is what sets not_if_opened apart.
    assert "ανοιχτεί" in declined(request(soap(opened=True, reason="defective")))


def test_opened_electronics_are_returnable_only_when_defective() -> None:
    assert evaluate(request(headphones(opened=False))).verdict == ReturnVerdict.APPROVED
    el = declined(request(headphones(opened=True)))
    assert el.startswith("Το HEADPHONES-BT έχει ανοιχτεί, οπότε μπορεί να επιστραφεί μόνο αν είναι ελαττωματικό.")
    en = declined(request(headphones(opened=True), locale="en"))
    assert en.startswith("HEADPHONES-BT has been opened, so it can only be returned if it is faulty.")
    defective = evaluate(request(headphones(opened=True, reason="defective")))
    assert defective.verdict == ReturnVerdict.APPROVED
    assert defective.shop_pays_shipping is True
    assert defective.restocking_fee == 0


def test_opened_food_only_when_defective_and_opened_apparel_always() -> None:
    oil = line("OLIVE-OIL-1L", category="food", unit_price=1300, opened=True)
    assert "μόνο αν είναι ελαττωματικό" in declined(request(oil))
    bad_oil = line("OLIVE-OIL-1L", category="food", unit_price=1300, opened=True, reason="defective")
    assert evaluate(request(bad_oil)).verdict == ReturnVerdict.APPROVED
    assert evaluate(request(line(opened=True))).verdict == ReturnVerdict.APPROVED
    assert evaluate(request(line(category=None, opened=True))).verdict == ReturnVerdict.APPROVED


def test_every_problem_is_told_once_in_the_order_of_the_lines() -> None:
    req = request(soap(opened=True), headphones(opened=True), soap(sku="SOAP-2", opened=True), line(), days=5)
    reason = declined(req)
    parts = [
        "Το SOAP-OLIVE δεν μπορεί να επιστραφεί",
        "Το HEADPHONES-BT έχει ανοιχτεί",
        "Το SOAP-2 δεν μπορεί να επιστραφεί",
    ]
    positions = [reason.index(p) for p in parts]
    assert positions == sorted(positions)
    assert reason.count("TEE-BLK-M") == 0
    assert evaluate(req) == evaluate(req)  # deterministic


def test_a_review_rule_sends_the_request_to_review_with_a_message() -> None:
    reviewed = policy(
        category_rules=(*DEFAULT_POLICY.category_rules[:3], CategoryRule(category="electronics", review=True))
    )
    decision = evaluate(request(line(), headphones(opened=True)), reviewed)
    assert decision.verdict == ReturnVerdict.PENDING_REVIEW
    assert decision.reason == (
        "Λάβαμε το αίτημα επιστροφής σας. Οι επιστροφές του HEADPHONES-BT ελέγχονται από την ομάδα μας πριν "
        "εγκριθούν· θα σας ενημερώσουμε σύντομα."
    )
    assert decision.policy_version == 3 and decision.resolutions_offered
    en = evaluate(request(headphones(), locale="en"), reviewed)
    assert en.reason is not None and en.reason.startswith("We have received your return request. Returns of")
    # A refusal wins over a review.
    assert evaluate(request(headphones(), days=15), reviewed).verdict == ReturnVerdict.DECLINED


def test_requests_worth_more_than_review_above_go_to_review() -> None:
    capped = policy(review_above=4000)
    assert evaluate(request(line(qty=2)), capped).verdict == ReturnVerdict.APPROVED  # 4000 is not above
    above = evaluate(request(line(qty=2, unit_price=2001)), capped)
    assert above.verdict == ReturnVerdict.PENDING_REVIEW
    assert above.reason is not None and "Λόγω της αξίας της" in above.reason
    assert evaluate(request(line(qty=1000, unit_price=9999))).verdict == ReturnVerdict.APPROVED  # null: never


# ---------------------------------------------------------------------------------------------
# Restocking fee and shipping
# ---------------------------------------------------------------------------------------------


def test_the_restocking_fee_is_charged_on_lines_that_are_not_defects() -> None:
    fee = policy(restocking_fee=RestockingFee(percent_bp=1000, fixed=200))
    # 10% of 2 × 1999 = 399.8 → 400 (half up), + 200 fixed; the defective headphones are not charged.
    decision = evaluate(request(line(qty=2, unit_price=1999), headphones(reason="defective")), fee)
    assert decision.restocking_fee == 600
    assert decision.shop_pays_shipping is True
    assert evaluate(request(headphones(reason="defective")), fee).restocking_fee == 0
    assert evaluate(request(line(qty=1, unit_price=100)), fee).restocking_fee == 100  # never above the value
    assert (
        evaluate(
            request(line(qty=3, unit_price=5)), policy(restocking_fee=RestockingFee(percent_bp=2500))
        ).restocking_fee
        == 4
    )
    no_fee = evaluate(request(line(qty=2)))
    assert no_fee.restocking_fee == 0 and no_fee.shop_pays_shipping is False


# ---------------------------------------------------------------------------------------------
# The document
# ---------------------------------------------------------------------------------------------


def refused_document(document: dict[str, Any]) -> str:
    with pytest.raises(InvalidInput) as refused:
        policies.validate(RETURNS, document)
    return refused.value.detail


def default_document(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = msgspec.to_builtins(DEFAULT_POLICY)
    document.update(changes)
    return document


def test_the_default_document_round_trips_and_an_empty_one_means_the_defaults() -> None:
    assert policies.validate(RETURNS, default_document()) == DEFAULT_POLICY
    parsed = policies.validate(RETURNS, {})
    assert isinstance(parsed, ReturnPolicy)
    assert parsed.window_days == 14 and parsed.defect_window_days == 730 and parsed.category_rules == ()
    assert [r.category for r in DEFAULT_POLICY.category_rules] == ["food", "apparel", "hygiene", "electronics"]


@pytest.mark.parametrize(
    ("changes", "names"),
    [
        ({"window_days": 13}, ["window_days is 13", "below 14"]),
        ({"defect_window_days": 10}, ["defect_window_days (10)", "window_days (14)"]),
        ({"timezone": "Mars/Olympus"}, ["timezone 'Mars/Olympus'"]),
        ({"windw_days": 30}, ["windw_days"]),
        ({"accepted_reasons": ["wrong_size", "wrong_size"]}, ["accepted_reasons", "'wrong_size' appears twice"]),
        ({"accepted_reasons": ["Wrong Size"]}, ["$.accepted_reasons[0]"]),
        ({"defect_reasons": ["defective", "broken"]}, ["defect_reasons: broken not in accepted_reasons"]),
        (
            {"category_rules": [{"category": "hygiene", "not_if_opened": True}, {"category": "hygiene"}]},
            ["category_rules: category 'hygiene' appears twice"],
        ),
        (
            {"category_rules": [{"category": "x", "not_if_opened": True, "only_if_unopened_or_defect": True}]},
            ["category 'x' sets both not_if_opened and only_if_unopened_or_defect", "$.category_rules[0]"],
        ),
        ({"category_rules": [{"category": "x", "opened": True}]}, ["$.category_rules[0]", "opened"]),
        ({"resolutions_offered": ["refund", "exchange"]}, ["$.resolutions_offered[1]", "exchange"]),
        ({"resolutions_offered": []}, ["$.resolutions_offered"]),
        ({"methods": ["courier", "drone"]}, ["$.methods[1]"]),
        ({"restocking_fee": {"percent_bp": 10_001}}, ["$.restocking_fee.percent_bp"]),
        ({"restocking_fee": {"fixed": -1}}, ["$.restocking_fee.fixed"]),
        ({"review_above": -5}, ["$.review_above"]),
        ({"review_above": "100"}, ["$.review_above"]),
        ({"messages": {"window_expired": {"el": "Έληξε."}}}, ["messages.window_expired: missing the en text"]),
        (
            {"messages": {"opened": {"el": "Ανοιγμένο {product}.", "en": "Opened."}}},
            ["messages.opened.el: unknown placeholder {product}"],
        ),
        ({"messages": {"opened": {"el": "Ανοιγμένο {sku.", "en": "Opened."}}}, ["messages.opened.el"]),
        ({"messages": {"openned": {"el": "x", "en": "y"}}}, ["openned"]),
    ],
)
def test_an_invalid_document_is_refused_naming_the_field(changes: dict[str, Any], names: list[str]) -> None:
    detail = refused_document(default_document(**changes))
    assert detail.startswith("the returns policy is not valid: ")
    for name in names:
        assert name in detail, (name, detail)


def test_messages_may_be_overridden_one_at_a_time() -> None:
    parsed = policies.validate(
        RETURNS, default_document(messages={"window_expired": {"el": "Πέρασαν {days} ημέρες.", "en": "{days} days."}})
    )
    assert isinstance(parsed, ReturnPolicy)
    assert declined(request(days=15), parsed) == "Πέρασαν 14 ημέρες."
    assert declined(request(days=15, locale="en"), parsed) == "14 days."
    assert declined(request(soap(opened=True)), parsed).startswith("Το SOAP-OLIVE δεν μπορεί")


# ---------------------------------------------------------------------------------------------
# The hooks, through the plugin host and the API
# ---------------------------------------------------------------------------------------------


def test_the_plugin_registers_the_returns_policy_kind(runtime: Runtime) -> None:
    registered = runtime.host.policy_kinds["returns"]
    assert registered.value is RETURNS
    assert registered.value.default is DEFAULT_POLICY
    assert registered.value.description


def test_the_hook_decides_from_the_document_as_the_core_passes_it(runtime: Runtime) -> None:
    document = policy(window_days=20)  # typed: the core decodes the saved document into ReturnPolicy
    decision = runtime.host.pm.hook.evaluate_return_request(request=request(days=20), policy=document, policy_version=7)
    assert decision.verdict == ReturnVerdict.APPROVED and decision.policy_version == 7
    refused = runtime.host.pm.hook.evaluate_return_request(request=request(days=21), policy=document, policy_version=7)
    assert refused.verdict == ReturnVerdict.DECLINED and "έως 20 ημέρες" in refused.reason


async def test_ops_read_save_and_are_refused_a_policy_over_the_api(api: Api) -> None:
    current = await api.get("/v1/policies/returns", as_="ops")
    assert current.status_code == 200, current.text
    assert current.json()["version"] == 0
    assert current.json()["document"] == msgspec.json.decode(msgspec.json.encode(DEFAULT_POLICY))
    bad = await api.put("/v1/policies/returns", json=default_document(window_days=7), as_="ops")
    assert bad.status_code == 422, bad.text
    assert "window_days is 7" in bad.json()["detail"]
    saved = await api.put("/v1/policies/returns", json=default_document(window_days=30), as_="ops")
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == 1
    again = await api.get("/v1/policies/returns", as_="ops")
    assert again.json()["version"] == 1 and again.json()["document"]["window_days"] == 30
