"""Agents: who works the desk, with skills, languages, capacity and hourly cost; the identity an
agent-scoped API key acts as; and the least-loaded choice among those who can take a case."""

from __future__ import annotations

import json
from typing import Any

from core.db.database import utcnow
from core.domain.auth import Principal
from core.domain.errors import Conflict, NotFound
from core.domain.ids import new_id
from core.domain.service import ACTIVE, AgentIn, AgentOut, Money
from core.service.tables import Agent, Case


def agent_out(row: dict[str, Any], open_cases: int = 0) -> AgentOut:
    cost = None
    if row["hourly_cost_amount"] is not None:
        cost = Money(amount=row["hourly_cost_amount"], currency=row["hourly_cost_currency"])
    return AgentOut(
        id=row["id"],
        name=row["name"],
        email=row["email"],
        skills=json.loads(row["skills"]),
        languages=json.loads(row["languages"]),
        capacity=row["capacity"],
        hourly_cost=cost,
        active=bool(row["active"]),
        open_cases=open_cases,
    )


async def open_loads() -> dict[str, int]:
    """Open cases per assignee."""
    rows = await Case.raw(
        "SELECT assignee, COUNT(*) AS n FROM cases WHERE assignee IS NOT NULL AND status IN ({}, {}, {}) "
        "GROUP BY assignee",
        *sorted(ACTIVE),
    )
    return {r["assignee"]: int(r["n"]) for r in rows}


async def save_agent(data: AgentIn, agent_id: str | None = None) -> AgentOut:
    """Create an agent, or replace one's profile (PUT semantics) when `agent_id` is given."""
    fields: dict[str, Any] = dict(
        name=data.name,
        email=data.email.strip().lower() if data.email else None,
        skills=json.dumps(sorted(set(data.skills))),
        languages=json.dumps(sorted(set(data.languages))),
        capacity=data.capacity,
        hourly_cost_amount=data.hourly_cost.amount if data.hourly_cost else None,
        hourly_cost_currency=data.hourly_cost.currency if data.hourly_cost else None,
        active=data.active,
    )
    target = agent_id or data.id
    if target and await Agent.exists().where(Agent.id == target):
        await Agent.update({getattr(Agent, k): v for k, v in fields.items()}).where(Agent.id == target)
    elif agent_id:
        raise NotFound(f"no agent with id {agent_id}")
    else:
        target = target or new_id("agt")
        await Agent.insert(Agent(id=target, created_at=utcnow(), **fields))
    return await get_agent(target)


async def get_agent(agent_id: str) -> AgentOut:
    rows = await Agent.select().where(Agent.id == agent_id)
    if not rows:
        raise NotFound(f"no agent with id {agent_id}")
    return agent_out(rows[0], (await open_loads()).get(agent_id, 0))


async def list_agents() -> list[AgentOut]:
    loads = await open_loads()
    rows = await Agent.select().order_by(Agent.name)
    return [agent_out(r, loads.get(r["id"], 0)) for r in rows]


async def agent_for(principal: Principal) -> str:
    """The agent an API key acts as: the agent record tied to the key, or one made for the key on
    first use (named after it), so claiming and replying need no setup."""
    rows = await Agent.select(Agent.id).where(Agent.key_id == principal.key_id)
    if rows:
        return str(rows[0]["id"])
    agent_id = f"agt_key_{principal.key_id}"
    await Agent.raw(
        "INSERT INTO agents (id, name, skills, languages, capacity, active, key_id, created_at) "
        "VALUES ({}, {}, '[]', '[\"el\", \"en\"]', 10, TRUE, {}, {}) ON CONFLICT DO NOTHING",
        agent_id,
        principal.name,
        principal.key_id,
        utcnow(),
    )
    return agent_id


async def require_agent(agent_id: str) -> dict[str, Any]:
    rows = await Agent.select().where(Agent.id == agent_id)
    if not rows:
        raise NotFound(f"no agent with id {agent_id}; create it with POST /v1/agents")
    if not rows[0]["active"]:
        raise Conflict(f"agent {agent_id} is not active; activate them first")
    return rows[0]


async def least_loaded(skill: str | None, language: str) -> str | None:
    """The active agent with the skill and the language who has the fewest open cases under their
    capacity (ties: the agent id, for a stable answer); None → the case waits in the queue."""
    loads = await open_loads()
    candidates: list[tuple[int, str]] = []
    for row in await Agent.select().where(Agent.active == True):  # noqa: E712 (Piccolo builds SQL)
        skills, languages = json.loads(row["skills"]), json.loads(row["languages"])
        if skill is not None and skill not in skills:
            continue
        if language not in languages:
            continue
        load = loads.get(row["id"], 0)
        if load < row["capacity"]:
            candidates.append((load, row["id"]))
    return min(candidates)[1] if candidates else None
