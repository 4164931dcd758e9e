"""The `segments` and `actions` policies ops edit: rule-defined customer segments over RFM scores
and order history, and next best actions suggested for a customer, each with its reason. Pure."""

from __future__ import annotations

from typing import Annotated

import msgspec

from core.domain.policies import PolicyKind

Score = Annotated[int, msgspec.Meta(ge=1, le=5)]
Count = Annotated[int, msgspec.Meta(ge=0)]
SegmentId = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,40}$")]


class Profile(msgspec.Struct, frozen=True, kw_only=True):
    """What the rules can read about a customer with at least one non-cancelled order."""

    orders: int
    spent: int  # Σ merchandise value, minor units
    days_since_last_order: int
    days_since_first_order: int
    recency: int  # RFM scores, 1–5
    frequency: int
    monetary: int


class Condition(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Every bound given must hold (inclusive)."""

    recency_min: Score | None = None
    recency_max: Score | None = None
    frequency_min: Score | None = None
    frequency_max: Score | None = None
    monetary_min: Score | None = None
    monetary_max: Score | None = None
    orders_min: Count | None = None
    orders_max: Count | None = None
    spent_min: Count | None = None
    days_since_last_order_min: Count | None = None
    days_since_last_order_max: Count | None = None
    days_since_first_order_min: Count | None = None
    days_since_first_order_max: Count | None = None

    def holds(self, p: Profile) -> bool:
        bounds = (
            (p.recency, self.recency_min, self.recency_max),
            (p.frequency, self.frequency_min, self.frequency_max),
            (p.monetary, self.monetary_min, self.monetary_max),
            (p.orders, self.orders_min, self.orders_max),
            (p.spent, self.spent_min, None),
            (p.days_since_last_order, self.days_since_last_order_min, self.days_since_last_order_max),
            (p.days_since_first_order, self.days_since_first_order_min, self.days_since_first_order_max),
        )
        return all((low is None or value >= low) and (high is None or value <= high) for value, low, high in bounds)


class SegmentRule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: SegmentId
    name: dict[str, str]  # locale → label
    when: Condition = msgspec.field(default_factory=Condition)
    fallback: bool = False  # only for customers no other rule matched


class SegmentsPolicy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    segments: list[SegmentRule]

    def __post_init__(self) -> None:
        ids = [s.id for s in self.segments]
        if len(ids) != len(set(ids)):
            raise ValueError("segments: every segment id must be unique")


def segments_of(policy: SegmentsPolicy, profile: Profile) -> list[str]:
    """Every segment whose rule holds, in policy order; the fallback ones when none did."""
    matched = [s.id for s in policy.segments if not s.fallback and s.when.holds(profile)]
    if matched:
        return matched
    return [s.id for s in policy.segments if s.fallback and s.when.holds(profile)]


DEFAULT_SEGMENTS = SegmentsPolicy(
    segments=[
        SegmentRule(id="vip", name={"el": "VIP", "en": "VIP"}, when=Condition(monetary_min=5, frequency_min=4)),
        SegmentRule(id="loyal", name={"el": "Πιστοί", "en": "Loyal"}, when=Condition(frequency_min=4, recency_min=3)),
        SegmentRule(
            id="at_risk",
            name={"el": "Σε κίνδυνο", "en": "At risk"},
            when=Condition(recency_max=2, frequency_min=3, days_since_last_order_max=365),
        ),
        SegmentRule(
            id="churned", name={"el": "Χαμένοι", "en": "Churned"}, when=Condition(days_since_last_order_min=366)
        ),
        SegmentRule(id="one_time", name={"el": "Μία αγορά", "en": "One-time"}, when=Condition(orders_max=1)),
        SegmentRule(id="new", name={"el": "Νέοι", "en": "New"}, when=Condition(days_since_first_order_max=30)),
        SegmentRule(id="regular", name={"el": "Τακτικοί", "en": "Regular"}, fallback=True),
    ]
)

SEGMENTS = PolicyKind(
    kind="segments",
    document_type=SegmentsPolicy,
    default=DEFAULT_SEGMENTS,
    description=(
        "Customer segments: each rule bounds RFM scores (recency, frequency, monetary, 1–5 quintiles over the "
        "shop's customers), the number of orders, the amount spent and the days since the first and last order; "
        "a customer is in every segment whose rule holds, or in the fallback segment when none does."
    ),
)


# ---------------------------------------------------------------------------------------------
# Next best actions
# ---------------------------------------------------------------------------------------------


class ActionRule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Suggest `action` when the customer has every fact in `when` (facts such as `detractor`,
    `failed_delivery`, `return_not_received_14d`, `open_case`, or `segment:<id>`)."""

    action: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,60}$")]
    when: Annotated[list[str], msgspec.Meta(min_length=1)]
    title: dict[str, str]
    reason: dict[str, str]
    priority: Annotated[int, msgspec.Meta(ge=1, le=100)] = 50


class ActionsPolicy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    actions: list[ActionRule]


DEFAULT_ACTIONS = ActionsPolicy(
    actions=[
        ActionRule(
            action="call_back",
            when=["detractor"],
            priority=90,
            title={"el": "Τηλεφωνήστε μέσα σε 24 ώρες", "en": "Call back within 24 hours"},
            reason={"el": "Έδωσε χαμηλή βαθμολογία πρόσφατα", "en": "Gave a low score recently"},
        ),
        ActionRule(
            action="proactive_message",
            when=["segment:vip", "failed_delivery"],
            priority=80,
            title={"el": "Ενημερώστε τον πριν ρωτήσει", "en": "Tell them before they ask"},
            reason={"el": "VIP πελάτης με αποτυχημένη παράδοση", "en": "A VIP customer with a failed delivery"},
        ),
        ActionRule(
            action="retention_coupon",
            when=["segment:at_risk"],
            priority=60,
            title={"el": "Προσφέρετε κουπόνι παραμονής", "en": "Offer a retention coupon"},
            reason={"el": "Αγόραζε συχνά αλλά όχι πρόσφατα", "en": "Used to buy often, not lately"},
        ),
        ActionRule(
            action="return_reminder",
            when=["return_not_received_14d"],
            priority=50,
            title={"el": "Υπενθύμιση επιστροφής", "en": "Remind them of the return"},
            reason={
                "el": "Εγκρίθηκε επιστροφή πριν από 14+ ημέρες και δεν έχει παραληφθεί",
                "en": "A return approved 14+ days ago has not arrived",
            },
        ),
    ]
)

ACTIONS = PolicyKind(
    kind="actions",
    document_type=ActionsPolicy,
    default=DEFAULT_ACTIONS,
    description=(
        "Next best actions shown beside a customer: each rule names the facts that must all hold (detractor, "
        "failed_delivery, return_not_received_14d, open_case, segment:<id>) and the action with its title and "
        "reason in Greek and English."
    ),
)


class NextBestAction(msgspec.Struct, frozen=True, kw_only=True):
    action: str
    title: str
    reason: str
    priority: int


def next_best_actions(policy: ActionsPolicy, facts: set[str], locale: str) -> list[NextBestAction]:
    found = [
        NextBestAction(
            action=rule.action,
            title=rule.title.get(locale) or rule.title.get("el") or rule.action,
            reason=rule.reason.get(locale) or rule.reason.get("el") or "",
            priority=rule.priority,
        )
        for rule in policy.actions
        if all(fact in facts for fact in rule.when)
    ]
    return sorted(found, key=lambda a: (-a.priority, a.action))
