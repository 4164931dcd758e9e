"""Cases: creating them under the service policy, what agents do to them (reply, note, claim,
assign, resolve, reopen, close, merge, log work), and reading them back."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, cast

from core.db.database import utcnow
from core.domain.errors import Conflict, InvalidInput, NotFound
from core.domain.events.service import (
    CaseAssigned,
    CaseClosed,
    CaseCreated,
    CaseMerged,
    CaseNoteAdded,
    CaseReopened,
    CaseReplied,
    CaseResolved,
    CaseWorklogged,
)
from core.domain.ids import new_id
from core.domain.service import Author, CaseStatus, Channel, Direction, MessageIn, check_case_transition
from core.jobs import outbox
from core.policies import policies
from core.runtime import Runtime
from core.service import agents, triage
from core.service.macros import macro_context
from core.service.policy import ServicePolicy, match_topic, render_macro
from core.service.tables import Case, CaseLink, CaseMessage, ServiceSequence, Worklog


async def service_policy(runtime: Runtime) -> ServicePolicy:
    _, document = await policies.current(runtime.host, "service")
    return cast(ServicePolicy, document)


async def topic_of(policy: ServicePolicy, text: str, order_ids: list[str], given: str | None) -> str:
    if given and any(t.id == given for t in policy.topics):
        return given
    states = await triage.order_states(order_ids[0]) if order_ids else set()
    return match_topic(policy, text, states).topic


async def next_number() -> int:
    """Case numbers customers quote: a database sequence row, atomic on both databases."""
    rows = await ServiceSequence.raw(
        "INSERT INTO service_sequences (name, value) VALUES ('case_number', 10001) "
        "ON CONFLICT (name) DO UPDATE SET value = service_sequences.value + 1 RETURNING value"
    )
    return int(rows[0]["value"])


async def link(case_id: str, kind: str, ref_ids: list[str]) -> None:
    for ref in ref_ids:
        await CaseLink.raw(
            "INSERT INTO case_links (id, case_id, kind, ref_id, created_at) VALUES ({}, {}, {}, {}, {}) "
            "ON CONFLICT DO NOTHING",
            new_id("lnk"),
            case_id,
            kind,
            ref,
            utcnow(),
        )


async def create_case_row(
    runtime: Runtime,
    policy: ServicePolicy,
    *,
    customer_id: str,
    channel: Channel,
    subject: str,
    text: str,
    locale: str,
    order_ids: list[str],
    topic: str | None,
    auto: str | None,
    previous_case_id: str | None = None,
) -> dict[str, Any]:
    now = utcnow()
    decided = await triage.triage(
        policy,
        text=text,
        channel=channel,
        locale=locale,
        order_id=order_ids[0] if order_ids else None,
        at=now,
        topic=topic,
        auto=auto is not None,
    )
    row: dict[str, Any] = dict(
        id=new_id("cas"),
        number=await next_number(),
        customer_id=customer_id,
        status=CaseStatus.NEW.value,
        channel=channel.value,
        topic=decided.topic,
        skill=decided.skill,
        priority=decided.priority.value,
        subject=subject[:300],
        locale=locale,
        assignee=decided.agent,
        first_response_due=decided.first_response_due,
        resolution_due=decided.resolution_due,
        previous_case_id=previous_case_id,
        channels=json.dumps([channel.value]),
        created_at=now,
        updated_at=now,
    )
    await Case.insert(Case(**row))
    row.update(
        merged_into=None, reopened=0, resolved_at=None, first_response_at=None, closed_at=None, escalated_at=None
    )
    await outbox.record(
        CaseCreated(
            number=row["number"],
            channel=channel.value,
            topic=decided.topic,
            priority=decided.priority.value,
            assignee=decided.agent,
            previous_case_id=previous_case_id,
        ),
        subject_id=row["id"],
        customer_id=customer_id,
        order_id=order_ids[0] if order_ids else None,
    )
    if decided.agent:
        await outbox.record(
            CaseAssigned(number=row["number"], agent_id=decided.agent, by="routing"),
            subject_id=row["id"],
            customer_id=customer_id,
        )
    return row


async def case_row(case_id: str, *, follow_merge: bool = False) -> dict[str, Any]:
    row = await Case.select().where(Case.id == case_id).first()
    if row is None:
        raise NotFound(f"no case with id {case_id}")
    if follow_merge and row["merged_into"]:
        return await case_row(row["merged_into"])
    return row


async def _transition(case: dict[str, Any], target: CaseStatus, **changes: Any) -> None:
    check_case_transition(case["number"], CaseStatus(case["status"]), target)
    updated = await Case.raw(
        "UPDATE cases SET status = {}, updated_at = {} WHERE id = {} AND status = {} RETURNING id",
        target.value,
        utcnow(),
        case["id"],
        case["status"],
    )
    if not updated:  # somebody else moved it between our read and our write
        raise Conflict(f"case #{case['number']} changed meanwhile; read it again and retry")
    if changes:
        await Case.update({getattr(Case, k): v for k, v in changes.items()}).where(Case.id == case["id"])


# ---------------------------------------------------------------------------------------------
# Agent actions
# ---------------------------------------------------------------------------------------------


async def reply(runtime: Runtime, case_id: str, agent_id: str, data: MessageIn) -> str:
    """An agent's answer (sent on the case's channel, or `data.channel`) or internal note."""
    case = await case_row(case_id, follow_merge=True)
    if case["status"] == CaseStatus.CLOSED.value:
        raise Conflict(f"case #{case['number']} is closed; the customer's next message opens a new case")
    body = data.body
    if data.macro:
        policy = await service_policy(runtime)
        macro = next((m for m in policy.macros if m.id == data.macro), None)
        if macro is None:
            raise InvalidInput(f"no macro {data.macro!r} in the service policy", errors=[{"field": "macro"}])
        try:
            body = render_macro(macro, case["locale"], await macro_context(case, agent_id))
        except KeyError as missing:
            raise InvalidInput(
                f"macro {data.macro!r} needs {missing.args[0]}, which this case does not have; "
                "write the reply yourself",
                errors=[{"field": "macro", "message": f"missing {missing.args[0]}"}],
            ) from None
        if data.body.strip() and data.body.strip() != body.strip():
            body = f"{body}\n\n{data.body}"
    channel = data.channel or Channel(case["channel"])
    now = utcnow()
    message_id = new_id("msg")
    await CaseMessage.insert(
        CaseMessage(
            id=message_id,
            case_id=case["id"],
            direction=Direction.OUT.value,
            channel=channel.value,
            author=Author.AGENT.value,
            agent_id=agent_id,
            internal=data.internal,
            body=body,
            duration_s=data.duration_s,
            send_state=None if data.internal else "pending",
            created_at=now,
        )
    )
    if data.internal:
        await outbox.record(
            CaseNoteAdded(number=case["number"], message_id=message_id, agent_id=agent_id),
            subject_id=case["id"],
            customer_id=case["customer_id"],
        )
        return message_id
    changes: dict[Any, Any] = {Case.updated_at: now}
    if case["first_response_at"] is None:
        changes[Case.first_response_at] = now
    if case["status"] in (CaseStatus.NEW.value, CaseStatus.OPEN.value):
        changes[Case.status] = CaseStatus.PENDING.value
    if case["assignee"] is None:
        changes[Case.assignee] = agent_id
    await Case.update(changes).where(Case.id == case["id"])
    await outbox.record(
        CaseReplied(number=case["number"], message_id=message_id, channel=channel.value, agent_id=agent_id),
        subject_id=case["id"],
        customer_id=case["customer_id"],
    )
    return message_id


async def claim(case_id: str, agent_id: str) -> None:
    """Take the case. Two agents at once: one wins, the other gets 409 naming the holder."""
    case = await case_row(case_id)
    taken = await Case.raw(
        "UPDATE cases SET assignee = {}, updated_at = {} WHERE id = {} AND (assignee IS NULL OR assignee = {}) "
        "RETURNING id",
        agent_id,
        utcnow(),
        case_id,
        agent_id,
    )
    if not taken:
        holder = await Case.select(Case.assignee).where(Case.id == case_id).first()
        raise Conflict(
            f"case #{case['number']} is held by agent {holder['assignee'] if holder else '?'}; ask them, or assign it",
            assignee=holder["assignee"] if holder else None,
        )
    if case["assignee"] != agent_id:
        await outbox.record(
            CaseAssigned(number=case["number"], agent_id=agent_id, by="claim"),
            subject_id=case_id,
            customer_id=case["customer_id"],
        )


async def assign(case_id: str, agent_id: str, by: str) -> None:
    case = await case_row(case_id)
    await agents.require_agent(agent_id)
    if case["assignee"] == agent_id:
        return
    await Case.update({Case.assignee: agent_id, Case.updated_at: utcnow()}).where(Case.id == case_id)
    await outbox.record(
        CaseAssigned(number=case["number"], agent_id=agent_id, by=by),
        subject_id=case_id,
        customer_id=case["customer_id"],
    )


async def resolve(case_id: str, by: str) -> None:
    case = await case_row(case_id)
    await _transition(case, CaseStatus.RESOLVED, resolved_at=utcnow())
    await outbox.record(CaseResolved(number=case["number"], by=by), subject_id=case_id, customer_id=case["customer_id"])


async def reopen(case_id: str, by: str) -> None:
    case = await case_row(case_id)
    await _transition(case, CaseStatus.OPEN, reopened=case["reopened"] + 1, resolved_at=None)
    await outbox.record(
        CaseReopened(number=case["number"], by=by, reopened=case["reopened"] + 1),
        subject_id=case_id,
        customer_id=case["customer_id"],
    )


async def close(case_id: str, by: str) -> None:
    case = await case_row(case_id)
    await _transition(case, CaseStatus.CLOSED, closed_at=utcnow())
    await outbox.record(CaseClosed(number=case["number"], by=by), subject_id=case_id, customer_id=case["customer_id"])


async def merge(case_id: str, into: str, by: str) -> None:
    """Messages, links and worklogs move to the surviving case; the merged one points to it."""
    if case_id == into:
        raise InvalidInput("a case cannot be merged into itself", errors=[{"field": "into"}])
    case, survivor = await case_row(case_id), await case_row(into)
    if survivor["merged_into"]:
        raise Conflict(f"case #{survivor['number']} was itself merged into another; merge into that one")
    if case["customer_id"] != survivor["customer_id"]:
        raise Conflict(f"cases #{case['number']} and #{survivor['number']} belong to different customers")
    if case["merged_into"]:
        raise Conflict(f"case #{case['number']} is already merged")
    await CaseMessage.update({CaseMessage.case_id: into}).where(CaseMessage.case_id == case_id)
    await Worklog.update({Worklog.case_id: into}).where(Worklog.case_id == case_id)
    for row in await CaseLink.select().where(CaseLink.case_id == case_id):
        await link(into, row["kind"], [row["ref_id"]])
    await CaseLink.delete().where(CaseLink.case_id == case_id)
    channels = list(dict.fromkeys([*json.loads(survivor["channels"]), *json.loads(case["channels"])]))
    await Case.update({Case.channels: json.dumps(channels), Case.updated_at: utcnow()}).where(Case.id == into)
    await Case.update(
        {
            Case.merged_into: into,
            Case.status: CaseStatus.CLOSED.value,
            Case.closed_at: utcnow(),
            Case.updated_at: utcnow(),
        }
    ).where(Case.id == case_id)
    await outbox.record(
        CaseMerged(number=case["number"], into=into, into_number=survivor["number"], by=by),
        subject_id=case_id,
        customer_id=case["customer_id"],
    )


async def log_work(case_id: str, agent_id: str, minutes: float, at: datetime | None = None) -> str:
    case = await case_row(case_id, follow_merge=True)
    worklog_id = new_id("wlg")
    await Worklog.insert(
        Worklog(id=worklog_id, case_id=case["id"], agent_id=agent_id, minutes=minutes, at=at or utcnow())
    )
    await outbox.record(
        CaseWorklogged(number=case["number"], agent_id=agent_id, minutes=minutes),
        subject_id=case["id"],
        customer_id=case["customer_id"],
    )
    return worklog_id
