"""Surveys from trigger to decision: a live event (a case resolved, an order delivered) or a request
schedules a survey; when it is due it is either let through (the customer's throttle slot taken
atomically) or suppressed with a reason code. Sending is `sending.py`'s part.

Statuses: `scheduled` (waits for `due_at`) → `pending` (to be mailed) → `sending` (a worker holds it
until `lease_until`) → `sent`; or `suppressed` (with `reason`) or `failed` (the mail server refused
it for good). Embedded surveys (shown by the shop itself) go from `scheduled` straight to `sent`.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import msgspec

from core.customers import segments
from core.customers.tables import Customer
from core.domain.errors import InvalidInput, NotFound
from core.domain.events.feedback import SurveySent, SurveySuppressed
from core.domain.ids import new_id
from core.domain.service import ACTIVE
from core.jobs import outbox
from core.orders.tables import Order
from core.service.tables import Case, CaseMessage
from plugins.feedback import clock
from plugins.feedback.policy import SurveysPolicy
from plugins.feedback.tables import Review, Survey, SurveyThrottle

KINDS = ("csat", "ces", "nps")


class SurveyOut(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    id: str
    survey: str
    status: str
    reason: str | None = None
    questions: list[str]
    customer_id: str
    case_id: str | None = None
    order_id: str | None = None
    trigger: str
    delivery: str
    locale: str
    policy_version: int
    due_at: datetime
    sent_at: datetime | None = None
    expires_at: datetime | None = None
    created_at: datetime


def survey_out(row: dict[str, Any]) -> SurveyOut:
    return SurveyOut(
        id=row["id"],
        survey=row["kind"],
        status=row["status"],
        reason=row["reason"],
        questions=json.loads(row["questions"]),
        customer_id=row["customer_id"],
        case_id=row["case_id"],
        order_id=row["order_id"],
        trigger=row["trigger"],
        delivery=row["delivery"],
        locale=row["locale"],
        policy_version=row["policy_version"],
        due_at=row["due_at"],
        sent_at=row["sent_at"],
        expires_at=row["expires_at"],
        created_at=row["created_at"],
    )


async def survey_row(survey_id: str) -> dict[str, Any]:
    row = await Survey.select().where(Survey.id == survey_id).first()
    if row is None:
        raise NotFound(f"no survey {survey_id}")
    return row


async def schedule(
    *,
    kind: str,
    questions: list[str],
    customer_id: str,
    trigger: str,
    due_at: datetime,
    locale: str,
    policy_version: int,
    case_id: str | None = None,
    order_id: str | None = None,
    trigger_key: str | None = None,
    delivery: str = "email",
) -> str | None:
    """A new survey waiting for `due_at`; None when `trigger_key` was scheduled before (an event
    delivered twice schedules once). Call inside a unit of work."""
    now = clock.now()
    survey_id = new_id("svy")
    inserted = await Survey.raw(
        "INSERT INTO surveys (id, kind, questions, customer_id, case_id, order_id, trigger, delivery, status, locale, "
        "trigger_key, policy_version, due_at, created_at, updated_at) "
        "VALUES ({}, {}, {}, {}, {}, {}, {}, {}, 'scheduled', {}, {}, {}, {}, {}, {}) "
        "ON CONFLICT (trigger_key) DO NOTHING RETURNING id",
        survey_id, kind, json.dumps(questions), customer_id, case_id, order_id, trigger, delivery, locale,
        trigger_key, policy_version, due_at, now, now,
    )  # fmt: skip
    return survey_id if inserted else None


async def suppress(row: dict[str, Any], reason: str) -> None:
    await Survey.update({Survey.status: "suppressed", Survey.reason: reason, Survey.updated_at: clock.now()}).where(
        Survey.id == row["id"]
    )
    await outbox.record(
        SurveySuppressed(survey=row["kind"], trigger=row["trigger"], case_id=row["case_id"], reason=reason),
        subject_id=row["id"],
        customer_id=row["customer_id"],
        order_id=row["order_id"],
    )


# ---------------------------------------------------------------------------------------------
# The decision: throttle, open cases, addresses
# ---------------------------------------------------------------------------------------------


def usable_email(email: str | None) -> bool:
    """Placeholder senders (`…@no-sender.emporio.invalid`) and erased customers have none."""
    return bool(email) and "@" in str(email) and not str(email).lower().endswith(".invalid")


async def reason_to_suppress(row: dict[str, Any], policy: SurveysPolicy, now: datetime) -> str | None:
    """Why this survey must not go out now, or None. Read-only: the slot is taken by `take_slot`."""
    customer = await Customer.select(Customer.email).where(Customer.id == row["customer_id"]).first()
    if row["delivery"] == "email" and (customer is None or not usable_email(customer["email"])):
        return "no_email"
    if policy.skip_segments:
        _, member_of = await segments.of_customer(row["customer_id"])
        if set(member_of) & set(policy.skip_segments):
            return "segment"
    if policy.none_while_case_open and await Case.exists().where(
        (Case.customer_id == row["customer_id"]) & Case.status.is_in(sorted(ACTIVE)) & Case.merged_into.is_null()
    ):
        return "open_case"
    slot = await SurveyThrottle.select().where(SurveyThrottle.customer_id == row["customer_id"]).first()
    if (
        slot is not None
        and slot["survey_id"] != row["id"]
        and slot["claimed_at"] > now - timedelta(days=policy.throttle_days)
    ):
        return "throttled"
    return None


async def take_slot(customer_id: str, survey_id: str, now: datetime, throttle_days: int) -> bool:
    """Take the customer's survey slot unless another survey took it within `throttle_days`: one
    statement, so two triggers at the same moment cannot both pass the throttle."""
    rows = await SurveyThrottle.raw(
        "INSERT INTO survey_throttle (customer_id, survey_id, claimed_at) VALUES ({}, {}, {}) "
        "ON CONFLICT (customer_id) DO UPDATE SET survey_id = excluded.survey_id, claimed_at = excluded.claimed_at "
        "WHERE survey_throttle.claimed_at <= {} OR survey_throttle.survey_id = excluded.survey_id "
        "RETURNING customer_id",
        customer_id,
        survey_id,
        now,
        now - timedelta(days=throttle_days),
    )
    return bool(rows)


async def release_slot(customer_id: str, survey_id: str) -> None:
    """A survey that never reached the customer gives the slot back to the last one that did."""
    latest = (
        await Survey.select(Survey.id, Survey.sent_at)
        .where((Survey.customer_id == customer_id) & (Survey.status == "sent") & (Survey.id != survey_id))
        .order_by(Survey.sent_at, ascending=False)
        .first()
    )
    held = (SurveyThrottle.customer_id == customer_id) & (SurveyThrottle.survey_id == survey_id)
    if latest is None:
        await SurveyThrottle.delete().where(held)
    else:
        await SurveyThrottle.update(
            {SurveyThrottle.survey_id: latest["id"], SurveyThrottle.claimed_at: latest["sent_at"]}
        ).where(held)


async def _items_to_review(row: dict[str, Any]) -> list[str]:
    """`review:<sku>` for every delivered line of the order its customer has not reviewed."""
    delivered = await delivered_skus(row["order_id"])
    reviewed = {r["sku"] for r in await Review.select(Review.sku).where(Review.order_id == row["order_id"])}
    return [f"review:{sku}" for sku in sorted(delivered - reviewed)]


async def delivered_skus(order_id: str) -> set[str]:
    """SKUs of the order with a delivered unit: a delivered shipment holds them, or the order line
    counts them delivered (orders imported without shipments)."""
    rows = await Order.raw(
        "SELECT sl.sku FROM shipment_lines sl JOIN shipments s ON s.id = sl.shipment_id "
        "WHERE sl.order_id = {} AND s.delivered_at IS NOT NULL AND s.is_return = {} AND sl.qty > 0 "
        "UNION SELECT sku FROM order_lines WHERE order_id = {} AND qty_delivered > 0",
        order_id,
        False,
        order_id,
    )
    cancelled = await Order.exists().where((Order.id == order_id) & Order.cancelled_at.is_not_null())
    return set() if cancelled else {r["sku"] for r in rows}


async def advance(row: dict[str, Any], policy: SurveysPolicy) -> dict[str, Any]:
    """A due `scheduled` survey becomes `pending` (or `sent`, when embedded) with the slot taken,
    or `suppressed` with its reason. Call inside a unit of work; returns the row as it is now."""
    now = clock.now()
    if row["status"] != "scheduled" or row["due_at"] > now:
        return row
    # Take the row for this unit of work: a second worker advancing it at the same moment waits,
    # then finds it no longer scheduled (so one decision, one event).
    mine = await Survey.raw(
        "UPDATE surveys SET updated_at = {} WHERE id = {} AND status = 'scheduled' RETURNING id", now, row["id"]
    )
    if not mine:
        return await survey_row(row["id"])
    if row["kind"] == "review_request":
        items = await _items_to_review(row)
        if not items:
            await suppress(row, "nothing_to_review")
            return await survey_row(row["id"])
        await Survey.update({Survey.questions: json.dumps(items)}).where(Survey.id == row["id"])
    reason = await reason_to_suppress(row, policy, now)
    if reason is None and not await take_slot(row["customer_id"], row["id"], now, policy.throttle_days):
        reason = "throttled"  # another survey took the slot a moment ago
    if reason is not None:
        await suppress(row, reason)
        return await survey_row(row["id"])
    expires = now + timedelta(days=policy.link_valid_days)
    if row["delivery"] == "embedded":
        await Survey.update(
            {Survey.status: "sent", Survey.sent_at: now, Survey.expires_at: expires, Survey.updated_at: now}
        ).where(Survey.id == row["id"])
        await outbox.record(
            SurveySent(survey=row["kind"], trigger=row["trigger"], case_id=row["case_id"], delivery="embedded"),
            subject_id=row["id"],
            customer_id=row["customer_id"],
            order_id=row["order_id"],
        )
    else:
        await Survey.update({Survey.status: "pending", Survey.expires_at: expires, Survey.updated_at: now}).where(
            Survey.id == row["id"]
        )
    return await survey_row(row["id"])


# ---------------------------------------------------------------------------------------------
# Triggers
# ---------------------------------------------------------------------------------------------


def too_late(occurred_at: datetime, policy: SurveysPolicy) -> bool:
    return clock.now() - occurred_at > timedelta(hours=policy.max_event_age_hours)


async def after_case_resolved(
    case_id: str, event_id: str, occurred_at: datetime, policy: SurveysPolicy, version: int
) -> str | None:
    """Schedule the case's CSAT (+ CES) survey; the id when it should be dispatched now."""
    trigger = policy.case_resolved
    case = await Case.select().where(Case.id == case_id).first()
    if not trigger.enabled or case is None:
        return None
    survey_id = await schedule(
        kind="csat" if "csat" in trigger.questions else "ces",
        questions=list(trigger.questions),
        customer_id=case["customer_id"],
        case_id=case_id,
        trigger="case_resolved",
        trigger_key=f"case_resolved:{event_id}",
        due_at=occurred_at + timedelta(minutes=trigger.delay_minutes),
        locale=case["locale"],
        policy_version=version,
    )
    if survey_id is None:
        return None
    spoken = await CaseMessage.exists().where(
        (CaseMessage.case_id == case_id) & (CaseMessage.author == "customer") & CaseMessage.auto.is_null()
    )
    if not spoken or too_late(occurred_at, policy):  # no mail loops: nobody but a mailer wrote
        await suppress(await survey_row(survey_id), "stale_event" if spoken else "auto_only")
        return None
    return survey_id


async def after_order_delivered(
    order_id: str, event_id: str, occurred_at: datetime, policy: SurveysPolicy, version: int
) -> list[str]:
    """Schedule the order's NPS survey and review request for N days after delivery."""
    order = await Order.select(Order.customer_id).where(Order.id == order_id).first()
    if order is None:
        return []
    customer = await Customer.select(Customer.locale).where(Customer.id == order["customer_id"]).first()
    locale = customer["locale"] if customer else "el"
    planned = []
    if policy.order_delivered.enabled:
        planned.append(("nps", ["nps"], policy.order_delivered.days, "order_delivered"))
    if policy.review_requests.enabled:
        planned.append(("review_request", [], policy.review_requests.days, "review_request"))
    scheduled = []
    for kind, questions, days, trigger in planned:
        survey_id = await schedule(
            kind=kind,
            questions=questions,
            customer_id=order["customer_id"],
            order_id=order_id,
            trigger=trigger,
            trigger_key=f"{trigger}:{event_id}",
            due_at=occurred_at + timedelta(days=days),
            locale=locale,
            policy_version=version,
        )
        if survey_id is None:
            continue
        if too_late(occurred_at, policy):
            await suppress(await survey_row(survey_id), "stale_event")
        else:
            scheduled.append(survey_id)
    return scheduled


async def request_survey(
    *,
    kind: str,
    customer_id: str,
    case_id: str | None,
    order_id: str | None,
    delivery: str,
    locale: str | None,
    policy: SurveysPolicy,
    version: int,
) -> dict[str, Any]:
    """`POST /v1/surveys`: one survey now, throttling applying. Call inside a unit of work."""
    if kind not in KINDS:
        raise InvalidInput(f"survey must be one of {', '.join(KINDS)}", errors=[{"field": "survey"}])
    customer = await Customer.select(Customer.id, Customer.locale).where(Customer.id == customer_id).first()
    if customer is None:
        raise InvalidInput(f"no customer {customer_id}", errors=[{"field": "customer_id", "message": "unknown"}])
    case_locale = None
    if case_id is not None:
        case = await Case.select(Case.customer_id, Case.locale).where(Case.id == case_id).first()
        if case is None or case["customer_id"] != customer_id:
            raise InvalidInput(f"no case {case_id} of customer {customer_id}", errors=[{"field": "case_id"}])
        case_locale = case["locale"]
    if order_id is not None:
        order = await Order.select(Order.customer_id).where(Order.id == order_id).first()
        if order is None or order["customer_id"] != customer_id:
            raise InvalidInput(f"no order {order_id} of customer {customer_id}", errors=[{"field": "order_id"}])
    survey_id = await schedule(
        kind=kind,
        questions=[kind],
        customer_id=customer_id,
        case_id=case_id,
        order_id=order_id,
        trigger="manual" if delivery == "email" else "embedded",
        due_at=clock.now(),
        locale=locale or case_locale or customer["locale"],
        policy_version=version,
        delivery=delivery,
    )
    assert survey_id is not None  # no trigger key: never a duplicate
    return await advance(await survey_row(survey_id), policy)
