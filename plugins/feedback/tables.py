"""The feedback plugin's tables (their schema comes from plugins/feedback/migrations)."""

from __future__ import annotations

from piccolo.columns import Boolean, Integer, Text
from piccolo.table import Table

from core.db.columns import timestamp


class Survey(Table, tablename="surveys"):
    """One survey or review request for one customer: scheduled, sent, suppressed (with a reason
    code) or failed. `questions` is a JSON list: ["csat", "ces"], ["nps"], ["review:<sku>", …]."""

    id = Text(primary_key=True)
    kind = Text()
    questions = Text(default="[]")
    customer_id = Text()
    case_id = Text(null=True, default=None)
    order_id = Text(null=True, default=None)
    trigger = Text()
    delivery = Text(default="email")
    status = Text()
    reason = Text(null=True, default=None)
    detail = Text(null=True, default=None)
    locale = Text(default="el")
    trigger_key = Text(null=True, default=None)
    policy_version = Integer(default=0)
    due_at = timestamp(null=False)
    lease_until = timestamp()
    sent_at = timestamp()
    expires_at = timestamp()
    message_id = Text(null=True, default=None)
    tries = Integer(default=0)
    created_at = timestamp(null=False)
    updated_at = timestamp(null=False)


class SurveyResponse(Table, tablename="survey_responses"):
    """One answer to one question; a survey's question is answered once (unique index)."""

    id = Text(primary_key=True)
    survey_id = Text(null=True, default=None)
    question = Text()
    score = Integer()
    comment = Text(null=True, default=None)
    customer_id = Text()
    case_id = Text(null=True, default=None)
    order_id = Text(null=True, default=None)
    source = Text()
    detractor = Boolean(default=False)
    follow_up_case_id = Text(null=True, default=None)
    external_ref = Text(null=True, default=None)
    at = timestamp(null=False)


class Review(Table, tablename="reviews"):
    """A product review by a customer who received it: one per order line."""

    id = Text(primary_key=True)
    customer_id = Text()
    order_id = Text()
    sku = Text()
    rating = Integer()
    title = Text(null=True, default=None)
    body = Text(default="")
    status = Text()
    reason = Text(null=True, default=None)
    moderation_note = Text(null=True, default=None)
    moderated_by = Text(null=True, default=None)
    moderated_at = timestamp()
    reply = Text(null=True, default=None)
    replied_by = Text(null=True, default=None)
    replied_at = timestamp()
    locale = Text(default="el")
    source = Text()
    survey_id = Text(null=True, default=None)
    detractor = Boolean(default=False)
    follow_up_case_id = Text(null=True, default=None)
    external_ref = Text(null=True, default=None)
    at = timestamp(null=False)
    updated_at = timestamp(null=False)


class SurveyThrottle(Table, tablename="survey_throttle"):
    """The customer's latest survey slot: taken atomically, so two triggers at once send one mail."""

    customer_id = Text(primary_key=True)
    survey_id = Text()
    claimed_at = timestamp(null=False)


TABLES: tuple[type[Table], ...] = (Survey, SurveyResponse, Review, SurveyThrottle)

__all__ = ["TABLES", "Review", "Survey", "SurveyResponse", "SurveyThrottle"]
