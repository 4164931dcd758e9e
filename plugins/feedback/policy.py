"""The `surveys` policy ops edit (versioned like every policy, `GET/PUT /v1/policies/surveys`):
which events send which survey and when, the throttle, how long links live, and which scores
close the loop with a follow-up case. Also the suppression reasons a survey can carry."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from core.domain.policies import PolicyKind
from core.policies.tables import Policy

KIND = "surveys"
Days = Annotated[int, msgspec.Meta(ge=0, le=365)]


class CaseResolvedTrigger(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A resolved case asks how it was handled (CSAT) and, in the same mail, how easy it was (CES)."""

    enabled: bool = True
    questions: Annotated[list[Literal["csat", "ces"]], msgspec.Meta(min_length=1, max_length=2)] = msgspec.field(
        default_factory=lambda: ["csat", "ces"]
    )
    delay_minutes: Annotated[int, msgspec.Meta(ge=0, le=7 * 24 * 60)] = 0


class DeliveredTrigger(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An order delivered `days` ago asks whether the customer would recommend the shop (NPS)."""

    enabled: bool = True
    days: Days = 7


class ReviewRequests(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An order delivered `days` ago asks for reviews of its products not reviewed yet."""

    enabled: bool = True
    days: Days = 10


class FollowUp(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Scores at or below these open a follow-up case (topic `feedback`) and make the customer a
    `detractor` (next best action: call back within 24 h) for `detractor_days`."""

    enabled: bool = True
    csat_max: Annotated[int, msgspec.Meta(ge=0, le=5)] = 2
    nps_max: Annotated[int, msgspec.Meta(ge=-1, le=10)] = 6
    rating_max: Annotated[int, msgspec.Meta(ge=0, le=5)] = 2
    detractor_days: Annotated[int, msgspec.Meta(ge=1, le=365)] = 14


class SurveysPolicy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    throttle_days: Annotated[int, msgspec.Meta(ge=0, le=365)] = 30  # at most one survey per customer per …
    none_while_case_open: bool = True
    link_valid_days: Annotated[int, msgspec.Meta(ge=1, le=90)] = 14
    # An event the worker reaches later than this (a backlog after an outage) sends nothing.
    max_event_age_hours: Annotated[int, msgspec.Meta(ge=1, le=24 * 30)] = 72
    skip_segments: list[str] = msgspec.field(default_factory=list)  # customers in these segments get none
    case_resolved: CaseResolvedTrigger = msgspec.field(default_factory=CaseResolvedTrigger)
    order_delivered: DeliveredTrigger = msgspec.field(default_factory=DeliveredTrigger)
    review_requests: ReviewRequests = msgspec.field(default_factory=ReviewRequests)
    follow_up: FollowUp = msgspec.field(default_factory=FollowUp)


DEFAULT_POLICY = SurveysPolicy()

SURVEYS = PolicyKind(
    kind=KIND,
    document_type=SurveysPolicy,
    default=DEFAULT_POLICY,
    description=(
        "Customer surveys and review requests: a resolved case sends CSAT (+ CES), an order delivered N days ago "
        "sends NPS and a review request; at most one per customer per throttle_days and none while a case of "
        "theirs is open (each suppressed survey says why); links expire after link_valid_days; scores at or "
        "below the follow_up bounds open a follow-up case and suggest calling the customer back."
    ),
)

# Why a survey was not sent: the code stored and shown, and what it means.
REASONS: dict[str, str] = {
    "throttled": "the customer got a survey within the policy's throttle_days",
    "open_case": "a case of the customer's is open; surveys wait until it is resolved",
    "no_email": "the customer has no usable email address",
    "segment": "the customer is in a segment the policy skips",
    "stale_event": "the event was processed too late (max_event_age_hours); history never sends surveys",
    "auto_only": "the case holds only bounces or auto-replies: no person to ask",
    "nothing_to_review": "every delivered product of the order is reviewed already (or nothing was delivered)",
    "mail_failed": "the mail could not be sent for good (address refused, no mail server configured): see detail",
}


async def current() -> tuple[int, SurveysPolicy]:
    """The latest saved version (version 0: the default). Read straight from the policies table:
    the event reactions that need it get no plugin host."""
    row = (
        await Policy.select(Policy.version, Policy.document)
        .where(Policy.kind == KIND)
        .order_by(Policy.version, ascending=False)
        .first()
    )
    if row is None:
        return 0, DEFAULT_POLICY
    document = row["document"]
    decoded = msgspec.json.decode(document) if isinstance(document, str | bytes) else document
    return int(row["version"]), msgspec.convert(decoded, SurveysPolicy)
