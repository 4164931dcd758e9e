"""The `service` policy ops edit: topics (Greek and English keywords, order-state rules) and the
skill each needs, priority rules, SLA targets per priority and channel, business hours in the
shop's time zone with public holidays, and reply macros. Pure: no I/O."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Annotated
from zoneinfo import ZoneInfo

import holidays
import msgspec

from core.domain.policies import PolicyKind
from core.domain.service import Channel, Priority

Minutes = Annotated[int, msgspec.Meta(ge=1, le=60 * 24 * 365)]
HHMM = Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Topic(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,40}$")]
    skill: str
    keywords: dict[str, list[str]] = msgspec.field(default_factory=dict)  # locale → word prefixes or phrases
    order_states: list[str] = msgspec.field(default_factory=list)  # e.g. "delivery_failed", "payment_failed"


class PriorityRule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The first rule whose every given condition holds sets the priority."""

    priority: Priority
    topic: str | None = None
    channel: Channel | None = None
    order_state: str | None = None
    segment: str | None = None


class SlaTarget(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Business minutes to the first agent reply and to resolution; `channel` None = any channel."""

    priority: Priority
    first_response_minutes: Minutes
    resolution_minutes: Minutes
    channel: Channel | None = None


class BusinessHours(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    timezone: str = "Europe/Athens"
    # weekday → [open, close] local times; a day left out is closed.
    days: dict[str, tuple[HHMM, HHMM]] = msgspec.field(
        default_factory=lambda: {d: ("09:00", "17:00") for d in WEEKDAYS[:5]}
    )
    holidays_country: str | None = "GR"  # public holidays from the `holidays` library
    closed_dates: list[date] = msgspec.field(default_factory=list)  # the shop's own closures


class Macro(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,60}$")]
    title: dict[str, str]
    body: dict[str, str]  # locale → text with {{customer.name}}, {{order.number}}, {{shipment.tracking_url}}…
    article_ids: list[str] = msgspec.field(default_factory=list)  # knowledge-base articles to link


class ServicePolicy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    topics: list[Topic]
    fallback_topic: str = "product"
    priority_rules: list[PriorityRule] = msgspec.field(default_factory=list)
    default_priority: Priority = Priority.NORMAL
    sla: list[SlaTarget] = msgspec.field(default_factory=list)
    business_hours: BusinessHours = msgspec.field(default_factory=BusinessHours)
    macros: list[Macro] = msgspec.field(default_factory=list)
    reopen_days: Annotated[int, msgspec.Meta(ge=0, le=365)] = 7  # a reply later than this opens a new case
    same_case_days: Annotated[int, msgspec.Meta(ge=0, le=365)] = 7  # another channel, same problem → same case

    def __post_init__(self) -> None:
        ids = [t.id for t in self.topics]
        if len(ids) != len(set(ids)):
            raise ValueError("topics: every topic id must be unique")
        if self.fallback_topic not in ids:
            raise ValueError(f"fallback_topic {self.fallback_topic!r} is not one of the topics")
        for day in self.business_hours.days:
            if day not in WEEKDAYS:
                raise ValueError(f"business_hours.days: {day!r} is not one of {', '.join(WEEKDAYS)}")
        for day, (opens, closes) in self.business_hours.days.items():
            if opens >= closes:
                raise ValueError(f"business_hours.days.{day}: opens at {opens}, after it closes at {closes}")
        try:
            ZoneInfo(self.business_hours.timezone)
        except Exception as exc:
            raise ValueError(f"business_hours.timezone {self.business_hours.timezone!r} is unknown") from exc
        macro_ids = [m.id for m in self.macros]
        if len(macro_ids) != len(set(macro_ids)):
            raise ValueError("macros: every macro id must be unique")


# ---------------------------------------------------------------------------------------------
# Matching text without accents or case
# ---------------------------------------------------------------------------------------------


def fold(text: str) -> str:
    """Lower case, accents and diaeresis removed, final sigma folded: `Πού ΕΊΝΑΙ` → `που ειναι`."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.replace("ς", "σ")


def _pattern(keyword: str) -> re.Pattern[str]:
    # A keyword matches at a word start; it may be a stem ("επιστροφ") or a phrase ("που ειναι").
    return re.compile(r"(?<!\w)" + r"\s+".join(re.escape(w) for w in fold(keyword).split()))


@lru_cache(maxsize=4096)
def _compiled(keyword: str) -> re.Pattern[str]:
    return _pattern(keyword)


class TopicMatch(msgspec.Struct, frozen=True, kw_only=True):
    topic: str
    skill: str
    reason: str


def match_topic(policy: ServicePolicy, text: str, order_states: set[str]) -> TopicMatch:
    """The topic with most keyword hits in the text, an order-state rule counting as two hits
    (a case about an order whose delivery failed is about delivery); ties go to the topic listed
    first; nothing matched → the fallback topic."""
    folded = fold(text)
    best: tuple[int, int, Topic, str] | None = None
    for index, topic in enumerate(policy.topics):
        hits: list[str] = []
        for words in topic.keywords.values():
            hits.extend(k for k in words if _compiled(k).search(folded))
        states = sorted(order_states & set(topic.order_states))
        score = len(hits) + 2 * len(states)
        if score and (best is None or score > best[0] or (score == best[0] and index < best[1])):
            reason = ", ".join([*(f"keyword {k!r}" for k in hits), *(f"order state {s}" for s in states)])
            best = (score, index, topic, reason)
    if best is None:
        fallback = next(t for t in policy.topics if t.id == policy.fallback_topic)
        return TopicMatch(topic=fallback.id, skill=fallback.skill, reason="no keyword matched: fallback topic")
    return TopicMatch(topic=best[2].id, skill=best[2].skill, reason=best[3])


def skill_of(policy: ServicePolicy, topic: str) -> str | None:
    return next((t.skill for t in policy.topics if t.id == topic), None)


def priority_for(
    policy: ServicePolicy, *, topic: str, channel: Channel, order_states: set[str], segments: set[str]
) -> Priority:
    for rule in policy.priority_rules:
        if rule.topic is not None and rule.topic != topic:
            continue
        if rule.channel is not None and rule.channel != channel:
            continue
        if rule.order_state is not None and rule.order_state not in order_states:
            continue
        if rule.segment is not None and rule.segment not in segments:
            continue
        return rule.priority
    return policy.default_priority


def sla_target(policy: ServicePolicy, priority: Priority, channel: Channel) -> SlaTarget | None:
    """The target for this channel, else the one for any channel."""
    exact = [t for t in policy.sla if t.priority == priority and t.channel == channel]
    general = [t for t in policy.sla if t.priority == priority and t.channel is None]
    found = exact or general
    return found[0] if found else None


# ---------------------------------------------------------------------------------------------
# Business hours
# ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, years=year).keys())


def is_working_day(hours: BusinessHours, day: date) -> bool:
    if WEEKDAYS[day.weekday()] not in hours.days or day in hours.closed_dates:
        return False
    return not (hours.holidays_country and day in _holidays(hours.holidays_country, day.year))


def add_business_minutes(hours: BusinessHours, start: datetime, minutes: int) -> datetime:
    """`start` (aware) plus `minutes` counted only inside business hours, in the shop's zone:
    a case arriving on Friday evening before a Monday holiday starts counting on Tuesday."""
    zone = ZoneInfo(hours.timezone)
    local = start.astimezone(zone)
    left = timedelta(minutes=minutes)
    day = local.date()
    for _ in range(3 * 366):  # a year of closures at most; a policy with no open day is refused below
        if is_working_day(hours, day):
            opens_s, closes_s = hours.days[WEEKDAYS[day.weekday()]]
            opens = datetime.combine(day, time.fromisoformat(opens_s), zone)
            closes = datetime.combine(day, time.fromisoformat(closes_s), zone)
            begin = max(opens, local)
            if begin < closes:
                available = closes - begin
                if left <= available:
                    return (begin + left).astimezone(UTC)
                left -= available
        day += timedelta(days=1)
        local = datetime.combine(day, time(0, 0), zone)
    raise ValueError("business hours have no open day in the next three years; check the service policy")


# ---------------------------------------------------------------------------------------------
# Macros
# ---------------------------------------------------------------------------------------------

_VARIABLE = re.compile(r"\{\{\s*([a-z_]+(?:\.[a-z_]+)*)\s*\}\}")


def variables_of(text: str) -> list[str]:
    return _VARIABLE.findall(text)


def render_macro(macro: Macro, locale: str, values: dict[str, str]) -> str:
    """The macro's text in the case's language (Greek when it has none) with its variables filled;
    a variable without a value raises KeyError naming it (the agent must fill it in)."""
    body = macro.body.get(locale) or macro.body.get("el") or next(iter(macro.body.values()), "")
    missing = [v for v in variables_of(body) if v not in values]
    if missing:
        raise KeyError(", ".join(sorted(set(missing))))
    return _VARIABLE.sub(lambda m: values[m.group(1)], body)


DEFAULT_SERVICE_POLICY = ServicePolicy(
    topics=[
        Topic(
            id="delivery",
            skill="delivery",
            keywords={
                "el": [
                    "που ειναι",
                    "παραδοσ",
                    "παραδοθ",
                    "αποστολ",
                    "κουριερ",
                    "δεμα",
                    "παραλαβ",
                    "καθυστερ",
                    "δεν ηρθε",
                    "δεν εφτασε",
                    "δεν εχει ερθει",
                    "ταχυδρομ",
                    "locker",
                    "θυριδ",
                ],
                "en": [
                    "where is my order",
                    "delivery",
                    "deliver",
                    "shipping",
                    "shipment",
                    "parcel",
                    "package",
                    "tracking",
                    "courier",
                    "late",
                    "not arrived",
                    "hasn't arrived",
                    "locker",
                ],
            },
            order_states=["delivery_failed", "returned_to_sender", "lost", "held"],
        ),
        Topic(
            id="payment",
            skill="payment",
            keywords={
                "el": ["πληρωμ", "χρεωσ", "χρεωθ", "καρτα", "αντικαταβολ", "τιμολογ", "αποδειξ", "πληρωσα"],
                "en": ["payment", "paid", "charge", "card", "invoice", "receipt", "cash on delivery", "billing"],
            },
            order_states=["payment_failed", "payment_requires_action"],
        ),
        Topic(
            id="returns",
            skill="returns",
            keywords={
                "el": [
                    "επιστροφ",
                    "επιστρεψ",
                    "αλλαγη",
                    "ελαττωματ",
                    "χαλασμεν",
                    "σπασμεν",
                    "λαθος προιον",
                    "χρηματα πισω",
                    "αποζημιωσ",
                ],
                "en": ["return", "refund", "exchange", "defective", "broken", "damaged", "wrong item", "money back"],
            },
            order_states=["return_open"],
        ),
        Topic(
            id="product",
            skill="product",
            keywords={
                "el": ["προιον", "μεγεθ", "νουμερο", "διαθεσιμ", "αποθεμα", "χρωμα", "υλικο", "συνθεσ"],
                "en": ["product", "size", "stock", "available", "availability", "colour", "color", "material"],
            },
        ),
        Topic(
            id="account",
            skill="account",
            keywords={
                "el": ["λογαριασμ", "κωδικ", "συνδεσ", "συνδεθ", "στοιχεια μου", "διαγραφ", "newsletter"],
                "en": ["account", "password", "log in", "login", "sign in", "my data", "delete my", "unsubscribe"],
            },
        ),
        Topic(
            id="feedback",
            skill="feedback",
            keywords={
                "el": ["παραπον", "ευχαριστ", "κριτικ", "προτασ", "εξυπηρετησ", "απογοητευσ"],
                "en": ["complaint", "complain", "feedback", "review", "suggestion", "thank", "disappointed"],
            },
        ),
    ],
    priority_rules=[
        PriorityRule(priority=Priority.HIGH, segment="vip"),
        PriorityRule(priority=Priority.HIGH, order_state="delivery_failed"),
        PriorityRule(priority=Priority.HIGH, topic="feedback", order_state="detractor"),
    ],
    sla=[
        SlaTarget(priority=Priority.URGENT, first_response_minutes=30, resolution_minutes=4 * 60),
        SlaTarget(priority=Priority.HIGH, first_response_minutes=60, resolution_minutes=8 * 60),
        SlaTarget(priority=Priority.NORMAL, first_response_minutes=4 * 60, resolution_minutes=24 * 60),
        SlaTarget(priority=Priority.LOW, first_response_minutes=8 * 60, resolution_minutes=40 * 60),
        SlaTarget(priority=Priority.NORMAL, channel=Channel.CHAT, first_response_minutes=5, resolution_minutes=8 * 60),
        SlaTarget(priority=Priority.HIGH, channel=Channel.CHAT, first_response_minutes=2, resolution_minutes=4 * 60),
    ],
    macros=[
        Macro(
            id="where_is_my_order",
            title={"el": "Πού είναι η παραγγελία", "en": "Where is my order"},
            body={
                "el": "Γεια σας {{customer.name}},\n\nη παραγγελία σας {{order.number}} είναι καθ' οδόν. "
                "Μπορείτε να την παρακολουθείτε εδώ: {{shipment.tracking_url}}\n\n{{agent.name}}",
                "en": "Hello {{customer.name}},\n\nyour order {{order.number}} is on its way. "
                "You can follow it here: {{shipment.tracking_url}}\n\n{{agent.name}}",
            },
        ),
        Macro(
            id="thanks",
            title={"el": "Ευχαριστούμε", "en": "Thank you"},
            body={
                "el": "Γεια σας {{customer.name}},\n\nσας ευχαριστούμε που επικοινωνήσατε μαζί μας.\n\n{{agent.name}}",
                "en": "Hello {{customer.name}},\n\nthank you for contacting us.\n\n{{agent.name}}",
            },
        ),
    ],
)

SERVICE = PolicyKind(
    kind="service",
    document_type=ServicePolicy,
    default=DEFAULT_SERVICE_POLICY,
    description=(
        "How the service desk routes and times cases: topics recognised from Greek and English keywords "
        "(accents and case ignored) and the order's state, the skill each topic needs, priority rules, SLA "
        "targets in business minutes per priority and channel, business hours in the shop's time zone with "
        "public holidays, and reply macros with variables."
    ),
)
