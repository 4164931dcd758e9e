"""Events of the voice of the customer (the feedback plugin): surveys sent or suppressed (with
why), answers, and product reviews written, moderated and answered by the shop."""

from __future__ import annotations

from core.domain.events.base import EventPayload, EventType, SubjectType


class _SurveyEvent(EventPayload, frozen=True, kw_only=True):
    subject = SubjectType.SURVEY
    survey: str  # csat | ces | nps | review_request
    trigger: str  # case_resolved | order_delivered | manual | embedded
    case_id: str | None = None


class SurveySent(_SurveyEvent, frozen=True, kw_only=True):
    """The survey mail left (or an embedded survey was handed to the shop)."""

    event_type = EventType.SURVEY_SENT
    delivery: str  # email | embedded
    message_id: str | None = None  # the mail's Message-ID


class SurveySuppressed(_SurveyEvent, frozen=True, kw_only=True):
    """The survey was not sent: throttled, a case of the customer's open, no address…"""

    event_type = EventType.SURVEY_SUPPRESSED
    reason: str  # a code of the surveys policy, e.g. throttled, open_case, no_email


class SurveyAnswered(EventPayload, frozen=True, kw_only=True):
    """A customer answered one question of a survey (each question once)."""

    event_type = EventType.SURVEY_ANSWERED
    subject = SubjectType.SURVEY
    response_id: str
    question: str  # csat | ces | nps
    score: int
    source: str  # link | embedded
    detractor: bool
    follow_up_case_id: str | None = None  # the case opened to call the customer back


class _ReviewEvent(EventPayload, frozen=True, kw_only=True):
    subject = SubjectType.REVIEW
    sku: str


class ReviewSubmitted(_ReviewEvent, frozen=True, kw_only=True):
    """A verified buyer reviewed a product; it waits for moderation."""

    event_type = EventType.REVIEW_SUBMITTED
    rating: int
    source: str  # api | link
    follow_up_case_id: str | None = None


class ReviewModerated(_ReviewEvent, frozen=True, kw_only=True):
    """Published, or rejected with a reason code of the published content policy."""

    event_type = EventType.REVIEW_MODERATED
    decision: str  # publish | reject
    reason: str | None = None
    by: str


class ReviewReplied(_ReviewEvent, frozen=True, kw_only=True):
    """The shop answered the review publicly."""

    event_type = EventType.REVIEW_REPLIED
    by: str


PAYLOADS: tuple[type[EventPayload], ...] = (
    SurveySent,
    SurveySuppressed,
    SurveyAnswered,
    ReviewSubmitted,
    ReviewModerated,
    ReviewReplied,
)

__all__ = ["ReviewModerated", "ReviewReplied", "ReviewSubmitted", "SurveyAnswered", "SurveySent", "SurveySuppressed"]
