"""Reading cases back: one case with its conversation, links, SLA clocks and the customer 360;
the agents' case lists with filters; an attachment's bytes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.customers.context import customer_context
from core.customers.tables import Customer
from core.db.database import utcnow
from core.db.pagination import Page, check_limit, decode_cursor, page_of
from core.domain.errors import InvalidInput, NotFound
from core.domain.service import (
    ACTIVE,
    AttachmentOut,
    CaseCustomer,
    CaseLinks,
    CaseOut,
    CaseStatus,
    Channel,
    Direction,
    MessageOut,
    Priority,
    SlaOut,
)
from core.plugins import PluginHost
from core.service.tables import Case, CaseAttachment, CaseLink, CaseMessage


def sla_of(row: dict[str, Any]) -> SlaOut:
    now = utcnow()
    first_late = row["first_response_due"] is not None and (
        (row["first_response_at"] or now) > row["first_response_due"]
    )
    resolved_at = row["resolved_at"] or (row["closed_at"] if row["status"] == CaseStatus.CLOSED.value else None)
    late = row["resolution_due"] is not None and (resolved_at or now) > row["resolution_due"]
    return SlaOut(
        first_response_due=row["first_response_due"],
        resolution_due=row["resolution_due"],
        first_response_breached=bool(row["first_response_breached"]) or first_late,
        resolution_breached=bool(row["resolution_breached"]) or late,
    )


async def _links(case_id: str) -> CaseLinks:
    grouped: dict[str, list[str]] = {"order": [], "shipment": [], "return": []}
    for row in (
        await CaseLink.select(CaseLink.kind, CaseLink.ref_id)
        .where(CaseLink.case_id == case_id)
        .order_by(CaseLink.created_at)
    ):
        grouped.setdefault(row["kind"], []).append(row["ref_id"])
    return CaseLinks(orders=grouped["order"], shipments=grouped["shipment"], returns=grouped["return"])


async def messages_of(case_id: str, *, include_internal: bool = True) -> list[MessageOut]:
    rows = await CaseMessage.select().where(CaseMessage.case_id == case_id).order_by(CaseMessage.created_at)
    if not include_internal:
        rows = [r for r in rows if not r["internal"]]
    files: dict[str, list[AttachmentOut]] = {}
    if rows:
        for a in await CaseAttachment.select().where(CaseAttachment.message_id.is_in([r["id"] for r in rows])):
            files.setdefault(a["message_id"], []).append(
                AttachmentOut(id=a["id"], filename=a["filename"], content_type=a["content_type"], size=a["size"])
            )
    return [
        MessageOut(
            id=r["id"],
            direction=Direction(r["direction"]),
            channel=Channel(r["channel"]),
            author=f"agent:{r['agent_id']}" if r["author"] == "agent" and r["agent_id"] else r["author"],
            internal=bool(r["internal"]),
            body=r["body"],
            html=r["html"],
            attachments=files.get(r["id"], []),
            message_id=r["message_id"],
            created_at=r["created_at"],
            auto=r["auto"],
        )
        for r in rows
    ]


async def case_out(row: dict[str, Any], *, full: bool, host: PluginHost | None = None) -> CaseOut:
    customer = await Customer.select().where(Customer.id == row["customer_id"]).first()
    return CaseOut(
        id=row["id"],
        number=row["number"],
        status=CaseStatus(row["status"]),
        channel=Channel(row["channel"]),
        topic=row["topic"],
        skill=row["skill"],
        priority=Priority(row["priority"]),
        subject=row["subject"],
        locale=row["locale"],
        customer=CaseCustomer(
            id=row["customer_id"],
            email=customer["email"] if customer else None,
            name=customer["name"] if customer else "",
            phone=customer["phone"] if customer else None,
        ),
        assignee=row["assignee"],
        links=await _links(row["id"]),
        sla=sla_of(row),
        channels=[Channel(c) for c in json.loads(row["channels"])],
        merged_into=row["merged_into"],
        reopened=row["reopened"],
        created_at=row["created_at"],
        resolved_at=row["resolved_at"],
        messages=await messages_of(row["id"]) if full else [],
        context=await customer_context(row["customer_id"], host) if full else None,
    )


async def get_case(case_id: str, host: PluginHost | None = None) -> CaseOut:
    row = await Case.select().where(Case.id == case_id).first()
    if row is None:
        raise NotFound(f"no case with id {case_id}")
    return await case_out(row, full=True, host=host)


async def list_cases(
    *,
    status: str | None = None,
    assignee: str | None = None,
    topic: str | None = None,
    customer: str | None = None,
    order: str | None = None,
    breaching: bool | None = None,
    skills: list[str] | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[CaseOut]:
    """Newest first. `assignee=none` lists the unassigned queue; `skills` narrows it to cases that
    need one of them (an agent's "unassigned in my skills")."""
    check_limit(limit)
    query = Case.select()
    where: Any = Case.merged_into.is_null()
    if status:
        try:
            where &= Case.status == CaseStatus(status).value
        except ValueError:
            raise InvalidInput(f"status must be one of {', '.join(CaseStatus)}", errors=[{"field": "status"}]) from None
    if assignee == "none":
        where &= Case.assignee.is_null()
    elif assignee:
        where &= Case.assignee == assignee
    if topic:
        where &= Case.topic == topic
    if customer:
        where &= Case.customer_id == customer
    if skills is not None:
        where &= Case.skill.is_in(skills or ["\x00none"])
    if order:
        where &= Case.id.is_in(
            CaseLink.select(CaseLink.case_id).where((CaseLink.kind == "order") & (CaseLink.ref_id == order))
        )
    if breaching:
        now = utcnow()
        where &= Case.status.is_in(sorted(ACTIVE)) & (
            (Case.first_response_at.is_null() & (Case.first_response_due < now)) | (Case.resolution_due < now)
        )
    after = decode_cursor(cursor)
    if after:
        where &= Case.id < after
    rows = await query.where(where).order_by(Case.id, ascending=False).limit(limit + 1)
    items = [await case_out(r, full=False) for r in rows[:limit]]
    return page_of(rows, limit, "id", items)


async def attachment(case_id: str, attachment_id: str, data_dir: Path) -> tuple[dict[str, Any], bytes]:
    row = await CaseAttachment.select().where(CaseAttachment.id == attachment_id).first()
    if row is None:
        raise NotFound(f"no attachment {attachment_id}")
    owner = await CaseMessage.select(CaseMessage.case_id).where(CaseMessage.id == row["message_id"]).first()
    if owner is None or owner["case_id"] != case_id:
        raise NotFound(f"case {case_id} has no attachment {attachment_id}")
    return row, (data_dir / row["storage_path"]).read_bytes()
