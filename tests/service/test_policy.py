"""The service policy, pure: topics matched without accents or case (Greek and English),
order-state rules, SLA due times in business hours across weekends and Greek public holidays,
macros with variables."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from core.domain.service import Channel, Priority
from core.service.policy import (
    DEFAULT_SERVICE_POLICY,
    BusinessHours,
    ServicePolicy,
    add_business_minutes,
    fold,
    match_topic,
    priority_for,
    render_macro,
    sla_target,
)

POLICY = DEFAULT_SERVICE_POLICY
HOURS = BusinessHours()  # Mon–Fri 09:00–17:00 Athens, Greek public holidays


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("Πού είναι η παραγγελία μου;", "delivery"),
        ("ΠΟΥ ΕΙΝΑΙ Η ΠΑΡΑΓΓΕΛΙΑ ΜΟΥ", "delivery"),
        ("που ειναι η παραγγελια μου", "delivery"),
        ("Where is my order?", "delivery"),
        ("Χρεώθηκα δύο φορές στην κάρτα", "payment"),
        ("Θέλω να κάνω ΕΠΙΣΤΡΟΦΉ", "returns"),
        ("I want a refund", "returns"),
        ("Έχετε το νούμερο 42 διαθέσιμο;", "product"),
        ("Ξέχασα τον κωδικό μου", "account"),
        ("Ένα παράπονο για την εξυπηρέτηση", "feedback"),
        ("Καλημέρα", "product"),  # nothing matched: the fallback topic
    ],
)
def test_topics_match_greek_and_english_without_accents_or_case(text: str, topic: str) -> None:
    assert match_topic(POLICY, text, set()).topic == topic


def test_an_order_state_rule_outweighs_a_passing_keyword() -> None:
    matched = match_topic(POLICY, "Μια ερώτηση για το προϊόν", {"delivery_failed"})
    assert (matched.topic, matched.skill) == ("delivery", "delivery")
    assert "order state delivery_failed" in matched.reason


def test_fold_strips_accents_diaeresis_and_final_sigma() -> None:
    assert fold("Ευχαριστώ ΠΟΛΎ, Ϊάσονας") == "ευχαριστω πολυ, ιασονασ"


def test_priority_rules_and_sla_targets_per_channel() -> None:
    assert priority_for(POLICY, topic="payment", channel=Channel.EMAIL, order_states=set(), segments={"vip"}) == (
        Priority.HIGH
    )
    assert priority_for(POLICY, topic="payment", channel=Channel.EMAIL, order_states=set(), segments=set()) == (
        Priority.NORMAL
    )
    chat = sla_target(POLICY, Priority.NORMAL, Channel.CHAT)
    mail = sla_target(POLICY, Priority.NORMAL, Channel.EMAIL)
    assert chat is not None and mail is not None
    assert (chat.first_response_minutes, mail.first_response_minutes) == (5, 240)


def test_due_time_skips_the_night() -> None:
    # Tuesday 2026-12-01 16:30 Athens (14:30 UTC) + 60 business minutes → Wednesday 09:30 Athens.
    due = add_business_minutes(HOURS, datetime(2026, 12, 1, 14, 30, tzinfo=UTC), 60)
    assert due == datetime(2026, 12, 2, 7, 30, tzinfo=UTC)


def test_due_time_skips_christmas_and_the_weekend() -> None:
    # Thursday 24 Dec 16:00 Athens: one hour left that day; Friday 25 and Saturday 26 are public
    # holidays, then the weekend: the second hour is Monday 28 Dec 09:00–10:00 Athens.
    due = add_business_minutes(HOURS, datetime(2026, 12, 24, 14, 0, tzinfo=UTC), 120)
    assert due == datetime(2026, 12, 28, 8, 0, tzinfo=UTC)


def test_due_time_of_a_case_arriving_on_a_friday_evening_before_ohi_day() -> None:
    # Friday 23 Oct 2026 20:00 Athens; Monday 26 and Tuesday 27 are working days; 28 Oct is a holiday.
    due = add_business_minutes(HOURS, datetime(2026, 10, 23, 17, 0, tzinfo=UTC), 8 * 60 * 2 + 30)
    # Thursday 29 Oct 09:30 Athens, which is UTC+2 again: summer time ended on Sunday 25 Oct.
    assert due == datetime(2026, 10, 29, 7, 30, tzinfo=UTC)


def test_macros_render_in_the_case_language_and_refuse_missing_values() -> None:
    macro = next(m for m in POLICY.macros if m.id == "where_is_my_order")
    values = {
        "customer.name": "Μαρία",
        "order.number": "10234",
        "shipment.tracking_url": "https://t.example/1",
        "agent.name": "Γιώργος",
    }
    text = render_macro(macro, "el", values)
    assert "Μαρία" in text and "10234" in text and "{{" not in text
    assert render_macro(macro, "en", values).startswith("Hello Μαρία")
    with pytest.raises(KeyError, match=r"shipment\.tracking_url"):
        render_macro(macro, "el", {k: v for k, v in values.items() if k != "shipment.tracking_url"})


def test_a_broken_policy_is_refused_with_the_field_named() -> None:
    document = msgspec.to_builtins(POLICY)
    document["fallback_topic"] = "nothing"
    with pytest.raises(msgspec.ValidationError, match="fallback_topic"):
        msgspec.convert(document, ServicePolicy)
    document = msgspec.to_builtins(POLICY)
    document["business_hours"]["days"]["mon"] = ["18:00", "09:00"]
    with pytest.raises(msgspec.ValidationError, match="mon"):
        msgspec.convert(document, ServicePolicy)
