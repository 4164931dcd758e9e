"""Closing the loop: a low score (an NPS detractor, a CSAT of 1–2, a review of 1–2 stars, by the
policy's bounds) opens a follow-up case with topic `feedback`, routed like any case, with the
score and the customer's words in an internal note, linked to the answer; while that case is
open (and for the policy's `detractor_days` at most) the customer is a `detractor`, so the
`actions` policy suggests calling them back within 24 hours."""

from __future__ import annotations

from datetime import timedelta

from core.domain.events.service import CaseNoteAdded
from core.domain.ids import new_id
from core.domain.service import ACTIVE, Author, Channel, Direction
from core.jobs import outbox
from core.runtime import Runtime
from core.service import cases
from core.service.tables import CaseMessage
from plugins.feedback import clock, policy
from plugins.feedback.policy import FollowUp
from plugins.feedback.tables import SurveyResponse

SUBJECTS = {
    "el": {"survey": "Χαμηλή βαθμολογία {what}: {score}", "review": "Κριτική {score}★ για {sku}"},
    "en": {"survey": "Low {what} score: {score}", "review": "{score}★ review of {sku}"},
}


def is_detractor(question: str, score: int, bounds: FollowUp) -> bool:
    if question == "nps":
        return score <= bounds.nps_max
    if question == "csat":
        return score <= bounds.csat_max
    if question == "review":
        return score <= bounds.rating_max
    return False  # CES says how easy it was, not whether the customer is unhappy with us


async def open_follow_up(
    runtime: Runtime,
    *,
    customer_id: str,
    locale: str,
    order_id: str | None,
    subject: str,
    note: str,
    channel: Channel,
    link_kind: str,
    link_id: str,
) -> str:
    """A new case (never threaded into an earlier one: the earlier one may be the very case the
    customer just rated) with the note; returns its id. Call inside a unit of work."""
    service_policy = await cases.service_policy(runtime)
    case = await cases.create_case_row(
        runtime,
        service_policy,
        customer_id=customer_id,
        channel=channel,
        subject=subject,
        text=f"{subject}\n{note}",
        locale=locale,
        order_ids=[order_id] if order_id else [],
        topic="feedback",
        auto=None,
    )
    message_id = new_id("msg")
    await CaseMessage.insert(
        CaseMessage(
            id=message_id,
            case_id=case["id"],
            direction=Direction.OUT.value,
            channel=channel.value,
            author=Author.SYSTEM.value,
            internal=True,
            body=note,
            created_at=clock.now(),
        )
    )
    await outbox.record(
        CaseNoteAdded(number=case["number"], message_id=message_id, agent_id=None),
        subject_id=case["id"],
        customer_id=customer_id,
    )
    if order_id:
        await cases.link(case["id"], "order", [order_id])
    await cases.link(case["id"], link_kind, [link_id])
    return str(case["id"])


async def detractor_facts(customer_id: str) -> set[str]:
    """`detractor` while a live low score's follow-up case is still open, within the policy's
    `detractor_days` (imported history never makes one). The policy and one indexed query: it
    runs on every case view."""
    _, current = await policy.current()
    since = clock.now() - timedelta(days=current.follow_up.detractor_days)
    active = tuple(sorted(ACTIVE))
    low = (
        "SELECT 1 AS hit FROM {table} r JOIN cases c ON c.id = r.follow_up_case_id WHERE r.customer_id = {{}} "
        "AND r.detractor = {{}} AND r.source != 'import' AND r.at >= {{}} AND c.status IN ({{}}, {{}}, {{}})"
    )
    rows = await SurveyResponse.raw(
        low.format(table="survey_responses") + " UNION ALL " + low.format(table="reviews") + " LIMIT 1",
        *(customer_id, True, since, *active) * 2,
    )
    return {"detractor"} if rows else set()


__all__ = ["SUBJECTS", "detractor_facts", "is_detractor", "open_follow_up"]
