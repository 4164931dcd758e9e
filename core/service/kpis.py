"""The customer-service KPIs of kpis.md, from cases, messages and worklogs (live or imported).

Three fact sources: cases by `created_at` (volume, tickets per customer, first response time,
channel switch, repeat contact), customer messages by their time (response time), and cases by
`resolved_at` (resolution time, handle time, first-contact resolution, cost per resolution).
"Agent message" = author agent and not internal; notes never count as replies. `channel=`
filters by the case's channel; `segment=` and `location=` do not apply."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from core.domain.kpis import Fact, FactQuery, FactSource, KPIDefinition, count, mean, median, ratio, sum_per_distinct
from core.domain.time import as_utc
from core.hookspecs import hookimpl
from core.service.tables import Agent, Case, CaseMessage, Worklog

REPEAT_WINDOW = timedelta(days=7)


def _minutes(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 60


Conversation = list[tuple[datetime, str, str]]


def _conversations(rows: Iterable[dict[str, Any]]) -> dict[str, Conversation]:
    """case id → [(at, author, channel)] of its non-internal messages, oldest first."""
    out: dict[str, Conversation] = defaultdict(list)
    for r in rows:
        if not r["internal"]:
            at = as_utc(r["created_at"])
            assert at is not None
            out[r["case_id"]].append((at, r["author"], r["channel"]))
    for messages in out.values():
        messages.sort()
    return out


def _first_agent_at(messages: Conversation) -> datetime | None:
    return next((at for at, author, _ in messages if author == "agent"), None)


def _case_filter(query: FactQuery, column: str, alias: str = "c") -> tuple[str, list[Any]]:
    sql = f"{alias}.{column} >= {{}} AND {alias}.{column} < {{}}"
    args: list[Any] = [query.start, query.end]
    if query.channel:
        sql += f" AND {alias}.channel = {{}}"
        args.append(query.channel)
    return sql, args


_CASE_COLUMNS = "c.id, c.customer_id, c.channel, c.topic, c.assignee, c.reopened, c.created_at, c.resolved_at"
_MESSAGES_OF = (
    "SELECT m.case_id, m.created_at, m.author, m.channel, m.internal FROM case_messages m "
    "JOIN cases c ON c.id = m.case_id WHERE "
)


async def load_created(query: FactQuery) -> list[Fact]:
    where, args = _case_filter(query, "created_at")
    cases = await Case.raw(f"SELECT {_CASE_COLUMNS} FROM cases c WHERE {where}", *args)
    messages = _conversations(await CaseMessage.raw(_MESSAGES_OF + where, *args))
    earlier: dict[str, list[datetime]] = defaultdict(list)
    for r in await Case.raw(
        "SELECT customer_id, created_at FROM cases WHERE created_at >= {} AND created_at < {}",
        query.start - REPEAT_WINDOW,
        query.end,
    ):
        at = as_utc(r["created_at"])
        assert at is not None
        earlier[r["customer_id"]].append(at)
    facts = []
    for c in cases:
        created = as_utc(c["created_at"])
        assert created is not None
        conversation = messages.get(c["id"], [])
        first_agent = _first_agent_at(conversation)
        customer_channels = {ch for _, author, ch in conversation if author == "customer"}
        facts.append(
            {
                "at": created,
                "channel": c["channel"],
                "topic": c["topic"],
                "customer_id": c["customer_id"],
                "one": 1,
                "frt": _minutes(first_agent, created) if first_agent else None,
                "switched": len(customer_channels) >= 2,
                "repeat": any(created - REPEAT_WINDOW <= at < created for at in earlier[c["customer_id"]]),
            }
        )
    return facts


async def load_customer_messages(query: FactQuery) -> list[Fact]:
    where, args = _case_filter(query, "created_at", alias="m")
    where = where.replace("m.channel", "c.channel")
    base = (
        "FROM case_messages m JOIN cases c ON c.id = m.case_id "
        f"WHERE m.author = 'customer' AND m.internal = {{}} AND {where}"
    )
    rows = await CaseMessage.raw(f"SELECT m.case_id, m.created_at, c.channel, c.customer_id {base}", False, *args)
    conversations = _conversations(
        await CaseMessage.raw(
            "SELECT case_id, created_at, author, channel, internal FROM case_messages "
            f"WHERE case_id IN (SELECT m.case_id {base})",
            False,
            *args,
        )
    )
    facts = []
    for r in rows:
        at = as_utc(r["created_at"])
        assert at is not None
        reply = next((t for t, author, _ in conversations.get(r["case_id"], []) if author == "agent" and t > at), None)
        facts.append(
            {
                "at": at,
                "channel": r["channel"],
                "customer_id": r["customer_id"],
                "response": _minutes(reply, at) if reply else None,
            }
        )
    return facts


async def load_resolved(query: FactQuery) -> list[Fact]:
    where, args = _case_filter(query, "resolved_at")
    cases = await Case.raw(f"SELECT {_CASE_COLUMNS} FROM cases c WHERE {where}", *args)
    messages = _conversations(await CaseMessage.raw(_MESSAGES_OF + where, *args))
    worklogs = await Worklog.raw(
        f"SELECT w.case_id, w.agent_id, w.minutes FROM case_worklogs w JOIN cases c ON c.id = w.case_id WHERE {where}",
        *args,
    )
    rates = {r["id"]: r["hourly_cost_amount"] or 0 for r in await Agent.select(Agent.id, Agent.hourly_cost_amount)}
    minutes: dict[str, float] = defaultdict(float)
    cost: dict[str, float] = defaultdict(float)
    for w in worklogs:
        minutes[w["case_id"]] += w["minutes"]
        cost[w["case_id"]] += w["minutes"] / 60 * rates.get(w["agent_id"], 0)
    facts = []
    for c in cases:
        created, resolved = as_utc(c["created_at"]), as_utc(c["resolved_at"])
        assert created is not None and resolved is not None
        conversation = messages.get(c["id"], [])
        first_agent = _first_agent_at(conversation)
        answered_again = first_agent is not None and any(
            author == "customer" and at > first_agent for at, author, _ in conversation
        )
        facts.append(
            {
                "at": resolved,
                "channel": c["channel"],
                "agent": c["assignee"],
                "customer_id": c["customer_id"],
                "resolution_h": (resolved - created).total_seconds() / 3600,
                "handle": minutes.get(c["id"], 0),
                "fcr": c["reopened"] == 0 and not answered_again,
                "cost": cost.get(c["id"], 0),
            }
        )
    return facts


CREATED = FactSource(id="service.cases_created", load=load_created, filters=frozenset({"channel", "customer_segment"}))
MESSAGES = FactSource(
    id="service.customer_messages", load=load_customer_messages, filters=frozenset({"channel", "customer_segment"})
)
RESOLVED = FactSource(
    id="service.cases_resolved", load=load_resolved, filters=frozenset({"channel", "customer_segment"})
)


def definitions() -> list[KPIDefinition]:
    return [
        KPIDefinition(
            id="total_tickets",
            name="Tickets",
            unit="count",
            formula="Count of cases whose created_at ∈ P. group_by channel (volume by channel) or topic.",
            facts=CREATED,
            reduce=count(),
            dimensions=("channel", "topic"),
        ),
        KPIDefinition(
            id="tickets_per_customer",
            name="Tickets per customer",
            unit="ratio",
            formula="Cases whose created_at ∈ P ÷ distinct customers among them.",
            facts=CREATED,
            reduce=sum_per_distinct("one", "customer_id"),
            dimensions=("channel", "topic"),
        ),
        KPIDefinition(
            id="first_response_time_minutes",
            name="First response time",
            unit="minutes",
            formula=(
                "Median over cases with created_at ∈ P that have an agent message of "
                "(first agent message − created_at)."
            ),
            facts=CREATED,
            reduce=median("frt"),
            dimensions=("channel", "topic"),
        ),
        KPIDefinition(
            id="channel_switch_rate",
            name="Channel switch rate",
            unit="ratio",
            formula="Cases with created_at ∈ P whose customer messages used ≥ 2 distinct channels ÷ all.",
            facts=CREATED,
            reduce=ratio("switched"),
            dimensions=("channel", "topic"),
        ),
        KPIDefinition(
            id="repeat_contact_rate",
            name="Repeat contact rate",
            unit="ratio",
            formula=(
                "Cases with created_at ∈ P whose customer has another case created in [created_at − 7 days, "
                "created_at) ÷ all."
            ),
            facts=CREATED,
            reduce=ratio("repeat"),
            dimensions=("channel", "topic"),
        ),
        KPIDefinition(
            id="response_time_minutes",
            name="Response time",
            unit="minutes",
            formula=(
                "Median over customer messages with at ∈ P and a later agent message in the same case of "
                "(the first agent message after it − its at)."
            ),
            facts=MESSAGES,
            reduce=median("response"),
            dimensions=("channel",),
        ),
        KPIDefinition(
            id="resolution_time_hours",
            name="Resolution time",
            unit="hours",
            formula="Median over cases with resolved_at ∈ P of resolved_at − created_at.",
            facts=RESOLVED,
            reduce=median("resolution_h"),
            dimensions=("channel", "agent"),
        ),
        KPIDefinition(
            id="average_handle_time_minutes",
            name="Average handle time",
            unit="minutes",
            formula="Mean over cases with resolved_at ∈ P of the Σ minutes of all their worklogs (0 when none).",
            facts=RESOLVED,
            reduce=mean("handle"),
            dimensions=("channel", "agent"),
        ),
        KPIDefinition(
            id="first_contact_resolution_rate",
            name="First contact resolution",
            unit="ratio",
            formula=(
                "Cases with resolved_at ∈ P, reopened = 0 and no customer message after their first agent message "
                "(a case without agent messages counts when reopened = 0) ÷ all."
            ),
            facts=RESOLVED,
            reduce=ratio("fcr"),
            dimensions=("channel", "agent"),
        ),
        KPIDefinition(
            id="cost_per_resolution",
            name="Cost per resolution",
            unit="minor_units",
            formula=(
                "Σ over the worklogs of cases with resolved_at ∈ P of minutes ÷ 60 × the worklog agent's hourly_cost, "
                "÷ the number of those cases."
            ),
            facts=RESOLVED,
            reduce=mean("cost"),
            dimensions=("channel", "agent"),
        ),
    ]


@hookimpl
def register_kpis(register: Callable[[KPIDefinition], None]) -> None:
    for kpi in definitions():
        register(kpi)
