"""Sending surveys, at least once and never as two different mails: a worker takes a `pending`
survey for `LEASE` (status `sending`), hands the mail to the outbound SMTP server, then marks it
`sent`. A worker that dies mid-send leaves the lease to run out and the next try sends the same
mail (same Message-ID, so the customer's client shows one). A 5xx answer marks it `failed` and
gives the customer's throttle slot back; anything else is retried."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog

from core.domain.events.feedback import SurveySent
from core.hookspecs.contact import ChannelSendFailed
from core.jobs import outbox
from core.runtime import Runtime
from plugins.contact_email.outbound import transmit
from plugins.feedback import clock, mailing, policy
from plugins.feedback.surveys import advance, release_slot, survey_row
from plugins.feedback.tables import Survey

log = structlog.get_logger("emporio.feedback")

DISPATCH_JOB = "feedback.dispatch"
DUE_JOB = "feedback.dispatch_due"
LEASE = timedelta(minutes=5)
STUCK = timedelta(minutes=1)  # a pending survey nobody picked up this long after it was decided
BATCH = 200


async def _take(survey_id: str) -> dict[str, Any] | None:
    """Move the survey to `sending` for this worker, when it is pending or its lease ran out."""
    now = clock.now()
    rows = await Survey.raw(
        "UPDATE surveys SET status = 'sending', lease_until = {}, tries = tries + 1, updated_at = {} "
        "WHERE id = {} AND (status = 'pending' OR (status = 'sending' AND lease_until < {})) RETURNING id",
        now + LEASE,
        now,
        survey_id,
        now,
    )
    return await survey_row(survey_id) if rows else None


async def dispatch(runtime: Runtime, survey_id: str) -> str:
    """Decide (if due) and send one survey. Returns what happened; raises ChannelSendFailed when a
    try failed and should be retried."""
    async with runtime.unit_of_work():
        row = await Survey.select().where(Survey.id == survey_id).first()
        if row is None:
            return "gone"
        if row["status"] == "scheduled":
            _, current = await policy.current()
            row = await advance(row, current)
        taken = await _take(survey_id) if row["status"] in ("pending", "sending") else None
        if taken is None:
            return str(row["status"])
        try:
            message = await mailing.compose(taken)
        except ChannelSendFailed as exc:
            await _failed(taken, str(exc))
            return "failed"
    try:
        await transmit(message, about=f"survey {survey_id}")
    except ChannelSendFailed as exc:
        async with runtime.unit_of_work():
            if exc.permanent:
                await _failed(taken, str(exc))
                log.warning("feedback.survey_failed", survey=survey_id, error=str(exc))
                return "failed"
            await Survey.update({Survey.status: "pending", Survey.lease_until: None}).where(
                (Survey.id == survey_id) & (Survey.status == "sending")
            )
        raise
    async with runtime.unit_of_work():
        now = clock.now()
        await Survey.update(
            {
                Survey.status: "sent",
                Survey.sent_at: now,
                Survey.message_id: str(message["Message-ID"]),
                Survey.lease_until: None,
                Survey.updated_at: now,
            }
        ).where(Survey.id == survey_id)
        await outbox.record(
            SurveySent(
                survey=taken["kind"],
                trigger=taken["trigger"],
                case_id=taken["case_id"],
                delivery="email",
                message_id=str(message["Message-ID"]),
            ),
            subject_id=survey_id,
            customer_id=taken["customer_id"],
            order_id=taken["order_id"],
        )
    return "sent"


async def _failed(row: dict[str, Any], detail: str) -> None:
    await Survey.update(
        {
            Survey.status: "failed",
            Survey.reason: "mail_failed",
            Survey.detail: detail[:1000],
            Survey.lease_until: None,
            Survey.updated_at: clock.now(),
        }
    ).where(Survey.id == row["id"])
    await release_slot(row["customer_id"], row["id"])


async def due(runtime: Runtime) -> dict[str, int]:
    """Every survey that is due, was left pending, or whose sender died: dispatched one by one
    (a failed try stays for the next run). Returns how many ended in each status."""
    now = clock.now()
    rows = (
        await Survey.select(Survey.id)
        .where(
            ((Survey.status == "scheduled") & (Survey.due_at <= now))
            | ((Survey.status == "pending") & (Survey.updated_at < now - STUCK))
            | ((Survey.status == "sending") & (Survey.lease_until < now))
        )
        .order_by(Survey.due_at)
        .limit(BATCH)
    )
    outcomes: dict[str, int] = {}
    for row in rows:
        try:
            outcome = await dispatch(runtime, row["id"])
        except ChannelSendFailed as exc:
            log.warning("feedback.survey_retry", survey=row["id"], error=str(exc))
            outcome = "retry"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


async def dispatch_job(ctx: dict[str, Any], survey_id: str) -> str:
    return await dispatch(ctx["runtime"], survey_id)


async def due_job(ctx: dict[str, Any]) -> dict[str, int]:
    return await due(ctx["runtime"])
