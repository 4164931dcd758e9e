"""History-import kinds of the service desk (service.md): `agent`, `case`, `message`, `worklog`.

Keyed by the shop's ids (`external_ref`; a worklog by case, agent, time and minutes), so running a
file twice changes nothing. Imported cases get case numbers like live ones.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from core.customers.tables import Customer
from core.db import bulk
from core.db.database import utcnow
from core.domain.ids import new_id
from core.domain.imports import ImportContext, ImportKind, ImportLineError, ImportRow
from core.domain.service import Channel
from core.hookspecs import hookimpl
from core.imports.kinds import external_to_internal, refused_reference
from core.orders.tables import Order
from core.service.tables import Agent, Case, CaseLink, CaseMessage, ServiceSequence, Worklog

Utc = Annotated[datetime, msgspec.Meta(tz=True)]
ExtId = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=60)]


class AgentRecord(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: Literal["agent"]
    id: ExtId
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    email: Annotated[str, msgspec.Meta(max_length=320)] | None = None
    skills: list[Label] = msgspec.field(default_factory=list)
    languages: list[Annotated[str, msgspec.Meta(pattern="^[a-z]{2}$")]] = msgspec.field(default_factory=list)
    hourly_cost: Annotated[int, msgspec.Meta(ge=0, le=10**9)] | None = None
    currency: Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$")] | None = None
    capacity: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 10


class CaseRecord(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: Literal["case"]
    id: ExtId
    customer_id: ExtId
    channel: Channel
    created_at: Utc
    order_id: ExtId | None = None
    topic: Label | None = None
    resolved_at: Utc | None = None
    assignee: ExtId | None = None
    reopened: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 0


class MessageRecord(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: Literal["message"]
    id: ExtId
    case_id: ExtId
    at: Utc
    author: Literal["customer", "agent"]
    channel: Channel
    agent_id: ExtId | None = None
    internal: bool = False


class WorklogRecord(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: Literal["worklog"]
    case_id: ExtId
    at: Utc
    minutes: Annotated[float, msgspec.Meta(gt=0, le=24 * 60)]
    agent_id: ExtId | None = None


def _unknown(row: ImportRow, what: str, kind: str, ref: str) -> ImportLineError:
    return ImportLineError(
        row.line_no, f"{what} refers to {kind} {ref}, which is neither earlier in the file nor in the database"
    )


async def apply_agents(rows: Sequence[ImportRow], ctx: ImportContext) -> None:
    known = await external_to_internal(Agent, ctx, "agent", {r.record.id for r in rows})
    fresh: list[tuple[Any, ...]] = []
    for row in rows:
        rec: AgentRecord = row.record
        if rec.id in known:
            continue
        if (rec.hourly_cost is None) != (rec.currency is None):
            raise ImportLineError(row.line_no, f"agent {rec.id}: give hourly_cost and currency together")
        internal = known[rec.id] = ctx.refs[("agent", rec.id)] = new_id("agt")
        ctx.born[("agent", rec.id)] = row.line_no
        fresh.append(
            (
                internal, rec.id, rec.name, rec.email, json.dumps(sorted(set(rec.skills))),
                json.dumps(sorted(set(rec.languages)) or ["el"]), rec.capacity, rec.hourly_cost, rec.currency, True,
                utcnow(),
            )
        )  # fmt: skip
    await bulk.insert(
        Agent,
        ("id", "external_ref", "name", "email", "skills", "languages", "capacity", "hourly_cost_amount",
         "hourly_cost_currency", "active", "created_at"),
        fresh,
    )  # fmt: skip


async def _numbers(count: int) -> range:
    """`count` consecutive case numbers taken from the sequence at once."""
    if not count:
        return range(0)
    rows = await ServiceSequence.raw(
        "INSERT INTO service_sequences (name, value) VALUES ('case_number', {}) "
        "ON CONFLICT (name) DO UPDATE SET value = service_sequences.value + {} RETURNING value",
        10000 + count,
        count,
    )
    last = int(rows[0]["value"])
    return range(last - count + 1, last + 1)


async def apply_cases(rows: Sequence[ImportRow], ctx: ImportContext) -> None:
    known = await external_to_internal(Case, ctx, "case", {r.record.id for r in rows})
    customers = await external_to_internal(Customer, ctx, "customer", {r.record.customer_id for r in rows})
    orders = await external_to_internal(Order, ctx, "order", {r.record.order_id for r in rows if r.record.order_id})
    agents = await external_to_internal(Agent, ctx, "agent", {r.record.assignee for r in rows if r.record.assignee})
    todo = [row for row in rows if row.record.id not in known]
    numbers = iter(await _numbers(len(todo)))
    cases: list[tuple[Any, ...]] = []
    links: list[tuple[Any, ...]] = []
    for row in todo:
        rec: CaseRecord = row.record
        if refused_reference(ctx, row, "customer", rec.customer_id, customers):
            raise _unknown(row, f"case {rec.id}", "customer", rec.customer_id)
        if rec.order_id and refused_reference(ctx, row, "order", rec.order_id, orders):
            raise _unknown(row, f"case {rec.id}", "order", rec.order_id)
        if rec.assignee and refused_reference(ctx, row, "agent", rec.assignee, agents):
            raise _unknown(row, f"case {rec.id}", "agent", rec.assignee)
        if rec.resolved_at is not None and rec.resolved_at < rec.created_at:
            raise ImportLineError(row.line_no, f"case {rec.id}: resolved_at is before created_at")
        internal = known[rec.id] = ctx.refs[("case", rec.id)] = new_id("cas")
        ctx.born[("case", rec.id)] = row.line_no
        status = "resolved" if rec.resolved_at else "open"
        cases.append(
            (
                internal, next(numbers), rec.id, customers[rec.customer_id], status, rec.channel.value, rec.topic,
                agents.get(rec.assignee) if rec.assignee else None, rec.reopened, json.dumps([rec.channel.value]),
                rec.created_at, rec.resolved_at or rec.created_at, rec.resolved_at,
            )
        )  # fmt: skip
        if rec.order_id:
            links.append((new_id("lnk"), internal, "order", orders[rec.order_id], rec.created_at))
    await bulk.insert(
        Case,
        ("id", "number", "external_ref", "customer_id", "status", "channel", "topic", "assignee", "reopened",
         "channels", "created_at", "updated_at", "resolved_at"),
        cases,
    )  # fmt: skip
    await bulk.insert(CaseLink, ("id", "case_id", "kind", "ref_id", "created_at"), links)


async def apply_messages(rows: Sequence[ImportRow], ctx: ImportContext) -> None:
    known = await external_to_internal(CaseMessage, ctx, "message", {r.record.id for r in rows})
    cases = await external_to_internal(Case, ctx, "case", {r.record.case_id for r in rows})
    agents = await external_to_internal(Agent, ctx, "agent", {r.record.agent_id for r in rows if r.record.agent_id})
    fresh: list[tuple[Any, ...]] = []
    for row in rows:
        rec: MessageRecord = row.record
        if rec.id in known:
            continue
        if refused_reference(ctx, row, "case", rec.case_id, cases):
            raise _unknown(row, f"message {rec.id}", "case", rec.case_id)
        if rec.agent_id and refused_reference(ctx, row, "agent", rec.agent_id, agents):
            raise _unknown(row, f"message {rec.id}", "agent", rec.agent_id)
        internal = known[rec.id] = ctx.refs[("message", rec.id)] = new_id("msg")
        direction = "in" if rec.author == "customer" else "out"
        fresh.append(
            (
                internal, cases[rec.case_id], rec.id, direction, rec.channel.value, rec.author,
                agents.get(rec.agent_id) if rec.agent_id else None, rec.internal, rec.at,
            )
        )  # fmt: skip
    await bulk.insert(
        CaseMessage,
        ("id", "case_id", "external_ref", "direction", "channel", "author", "agent_id", "internal", "created_at"),
        fresh,
    )


async def apply_worklogs(rows: Sequence[ImportRow], ctx: ImportContext) -> None:
    cases = await external_to_internal(Case, ctx, "case", {r.record.case_id for r in rows})
    agents = await external_to_internal(Agent, ctx, "agent", {r.record.agent_id for r in rows if r.record.agent_id})
    keys = {
        f"{r.record.case_id}|{r.record.agent_id or ''}|{r.record.at.isoformat()}|{r.record.minutes!r}": r for r in rows
    }
    seen = {ref for (ref,) in await bulk.select_in(Worklog, ("external_ref",), "external_ref", set(keys))}
    fresh: list[tuple[Any, ...]] = []
    for key, row in keys.items():
        rec: WorklogRecord = row.record
        if key in seen:
            continue
        if refused_reference(ctx, row, "case", rec.case_id, cases):
            raise _unknown(row, "worklog", "case", rec.case_id)
        if rec.agent_id and refused_reference(ctx, row, "agent", rec.agent_id, agents):
            raise _unknown(row, "worklog", "agent", rec.agent_id)
        agent = agents.get(rec.agent_id) if rec.agent_id else None
        fresh.append((new_id("wlg"), cases[rec.case_id], agent, rec.minutes, rec.at, key))
    await bulk.insert(Worklog, ("id", "case_id", "agent_id", "minutes", "at", "external_ref"), fresh)


@hookimpl
def register_import_kinds(register: Callable[[ImportKind], None]) -> None:
    register(ImportKind(kind="agent", record_type=AgentRecord, apply=apply_agents, depends_on=frozenset()))
    register(
        ImportKind(
            kind="case",
            record_type=CaseRecord,
            apply=apply_cases,
            depends_on=frozenset({"customer", "order", "agent"}),
        )
    )
    register(
        ImportKind(
            kind="message", record_type=MessageRecord, apply=apply_messages, depends_on=frozenset({"case", "agent"})
        )
    )
    register(
        ImportKind(
            kind="worklog", record_type=WorklogRecord, apply=apply_worklogs, depends_on=frozenset({"case", "agent"})
        )
    )
