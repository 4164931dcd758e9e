"""The feedback KPIs of kpis.md: `csat`, `ces`, `ces_mean`, `nps`, `average_rating`,
`survey_response_rate` and `top_performing_agents` (groups only: one per agent with resolved cases,
FCR, FRT and CSAT — it reads cases and survey answers, so it lives here, beside the answers).

Answers tied to a case take the case's channel (`channel=` leaves out answers tied to none) and
its assignee (`group_by=agent`); `segment=` and `location=` never apply; `customer_segment=` applies
to everything tied to a customer. Live and imported answers count alike."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from core.db.database import utcnow
from core.domain.kpis import Fact, FactQuery, FactSource, GroupsReducer, KPIDefinition, KPIValue, Reducer, mean, ratio
from core.domain.time import as_utc
from core.kpis import rollups as kpi_rollups
from core.runtime import Runtime
from core.service.tables import Case
from plugins.feedback.tables import SurveyResponse

CASE_FILTERS = frozenset({"channel", "customer_segment"})


def _at(value: Any) -> datetime:
    at = as_utc(value)
    assert at is not None
    return at


def _responses(question: str) -> Callable[[FactQuery], Any]:
    async def load(query: FactQuery) -> list[Fact]:
        rows = await SurveyResponse.raw(
            "SELECT r.score, r.at, r.customer_id, c.channel, c.assignee FROM survey_responses r "
            "LEFT JOIN cases c ON c.id = r.case_id WHERE r.question = {} AND r.at >= {} AND r.at < {}",
            question,
            query.start,
            query.end,
        )
        return [
            {
                "at": _at(r["at"]),
                "channel": r["channel"],
                "agent": r["assignee"],
                "customer_id": r["customer_id"],
                "score": r["score"],
                "satisfied": r["score"] >= 4,  # CSAT 4–5
                "easy": r["score"] >= 5,  # CES 5–7
            }
            for r in rows
        ]

    return load


async def load_sent(query: FactQuery) -> list[Fact]:
    rows = await SurveyResponse.raw(
        "SELECT s.kind, s.delivery, s.sent_at, s.customer_id, c.channel, "
        "EXISTS (SELECT 1 FROM survey_responses r WHERE r.survey_id = s.id) AS responded "
        "FROM surveys s LEFT JOIN cases c ON c.id = s.case_id "
        "WHERE s.status = 'sent' AND s.kind != 'review_request' AND s.sent_at >= {} AND s.sent_at < {}",
        query.start,
        query.end,
    )
    return [
        {
            "at": _at(r["sent_at"]),
            "survey": r["kind"],
            "delivery": r["delivery"],
            "channel": r["channel"],
            "customer_id": r["customer_id"],
            "responded": bool(r["responded"]),
        }
        for r in rows
    ]


async def load_reviews(query: FactQuery) -> list[Fact]:
    rows = await SurveyResponse.raw(
        "SELECT sku, rating, at, customer_id FROM reviews WHERE status = 'published' AND at >= {} AND at < {}",
        query.start,
        query.end,
    )
    return [{"at": _at(r["at"]), "sku": r["sku"], "rating": r["rating"], "customer_id": r["customer_id"]} for r in rows]


async def load_agents(query: FactQuery) -> list[Fact]:
    """Resolved cases with an assignee (FCR and FRT as the service KPIs define them) and the CSAT
    answers whose case has an assignee, each attributed to that agent."""
    cases = await Case.raw(
        "SELECT id, customer_id, channel, assignee, reopened, created_at, resolved_at FROM cases "
        "WHERE resolved_at >= {} AND resolved_at < {} AND assignee IS NOT NULL",
        query.start,
        query.end,
    )
    messages: dict[str, list[tuple[datetime, str]]] = {}
    for m in await Case.raw(
        "SELECT m.case_id, m.created_at, m.author FROM case_messages m JOIN cases c ON c.id = m.case_id "
        "WHERE c.resolved_at >= {} AND c.resolved_at < {} AND c.assignee IS NOT NULL AND m.internal = {}",
        query.start,
        query.end,
        False,
    ):
        messages.setdefault(m["case_id"], []).append((_at(m["created_at"]), m["author"]))
    facts: list[Fact] = []
    for c in cases:
        conversation = sorted(messages.get(c["id"], []))
        first_agent = next((at for at, author in conversation if author == "agent"), None)
        again = first_agent is not None and any(a == "customer" and at > first_agent for at, a in conversation)
        created = _at(c["created_at"])
        facts.append(
            {
                "at": _at(c["resolved_at"]),
                "kind": "case",
                "agent": c["assignee"],
                "channel": c["channel"],
                "customer_id": c["customer_id"],
                "fcr": c["reopened"] == 0 and not again,
                "frt": (first_agent - created).total_seconds() / 60 if first_agent else None,
            }
        )
    for r in await SurveyResponse.raw(
        "SELECT r.score, r.at, r.customer_id, c.channel, c.assignee FROM survey_responses r JOIN cases c "
        "ON c.id = r.case_id WHERE r.question = 'csat' AND c.assignee IS NOT NULL AND r.at >= {} AND r.at < {}",
        query.start,
        query.end,
    ):
        facts.append(
            {
                "at": _at(r["at"]),
                "kind": "csat",
                "agent": r["assignee"],
                "channel": r["channel"],
                "customer_id": r["customer_id"],
                "satisfied": r["score"] >= 4,
            }
        )
    return facts


CSAT = FactSource(id="feedback.csat_responses", load=_responses("csat"), filters=CASE_FILTERS)
CES = FactSource(id="feedback.ces_responses", load=_responses("ces"), filters=CASE_FILTERS)
NPS = FactSource(id="feedback.nps_responses", load=_responses("nps"), filters=CASE_FILTERS)
SENT = FactSource(id="feedback.surveys_sent", load=load_sent, filters=CASE_FILTERS)
REVIEWS = FactSource(id="feedback.reviews_published", load=load_reviews, filters=frozenset({"customer_segment"}))
AGENTS = FactSource(id="feedback.agents", load=load_agents, filters=CASE_FILTERS)


class NetPromoterScore(Reducer):
    """(promoters 9–10 − detractors 0–6) ÷ answers × 100; null without answers."""

    def partial(self, facts: Sequence[Fact]) -> Any:
        return [sum(1 for f in facts if f["score"] >= 9), sum(1 for f in facts if f["score"] <= 6), len(facts)]

    def merge(self, states: Iterable[Any]) -> Any:
        total = [0, 0, 0]
        for state in states:
            total = [a + b for a, b in zip(total, state, strict=True)]
        return total

    def finish(self, state: Any) -> KPIValue:
        promoters, detractors, n = state
        return KPIValue(value=(promoters - detractors) / n * 100 if n else None, n=n)


class AgentBoard(GroupsReducer):
    """Per agent: [resolved, FCR cases, FRT minutes (sorted), satisfied CSAT answers, CSAT answers]."""

    def partial(self, facts: Sequence[Fact]) -> Any:
        board: dict[str, list[Any]] = {}
        for fact in facts:
            entry = board.setdefault(fact["agent"], [0, 0, [], 0, 0])
            if fact["kind"] == "case":
                entry[0] += 1
                entry[1] += int(fact["fcr"])
                if fact["frt"] is not None:
                    entry[2].append(fact["frt"])
            else:
                entry[3] += int(fact["satisfied"])
                entry[4] += 1
        for entry in board.values():
            entry[2].sort()
        return board

    def merge(self, states: Iterable[Any]) -> Any:
        board: dict[str, list[Any]] = {}
        for state in states:
            for agent, (resolved, fcr, frt, satisfied, answers) in state.items():
                entry = board.setdefault(agent, [0, 0, [], 0, 0])
                entry[0] += resolved
                entry[1] += fcr
                entry[2] = sorted([*entry[2], *frt])
                entry[3] += satisfied
                entry[4] += answers
        return board

    def groups(self, state: Any) -> list[dict[str, Any]]:
        rows = [
            {
                "key": agent,
                "resolved": resolved,
                "first_contact_resolution_rate": fcr / resolved,
                "first_response_time_minutes": statistics.median(frt) if frt else None,
                "csat": satisfied / answers if answers else None,
            }
            for agent, (resolved, fcr, frt, satisfied, answers) in state.items()
            if resolved  # the base is resolved cases: an agent with answers only has none
        ]
        return sorted(rows, key=lambda g: (-g["resolved"], g["key"]))


def definitions() -> list[KPIDefinition]:
    return [
        KPIDefinition(
            id="csat", name="Customer satisfaction (CSAT)", unit="ratio",
            formula="CSAT answers with at ∈ P scoring 4–5 ÷ all CSAT answers. group_by channel (the case's).",
            facts=CSAT, reduce=ratio("satisfied"), dimensions=("channel", "agent"),
        ),
        KPIDefinition(
            id="ces", name="Customer effort (CES)", unit="ratio",
            formula="CES answers with at ∈ P scoring 5–7 ÷ all CES answers.",
            facts=CES, reduce=ratio("easy"), dimensions=("channel", "agent"),
        ),
        KPIDefinition(
            id="ces_mean", name="Customer effort, mean score", unit="score",
            formula="Mean score of the CES answers with at ∈ P (1–7).",
            facts=CES, reduce=mean("score"), dimensions=("channel", "agent"),
        ),
        KPIDefinition(
            id="nps", name="Net promoter score (NPS)", unit="score",
            formula="(NPS answers with at ∈ P scoring 9–10 − those scoring 0–6) ÷ all NPS answers × 100.",
            facts=NPS, reduce=NetPromoterScore(), dimensions=("channel",),
        ),
        KPIDefinition(
            id="average_rating", name="Average rating", unit="stars",
            formula="Mean rating of the reviews with status published and at ∈ P. group_by sku.",
            facts=REVIEWS, reduce=mean("rating"), dimensions=("sku",),
        ),
        KPIDefinition(
            id="survey_response_rate", name="Survey response rate", unit="ratio",
            formula="Surveys (CSAT, CES, NPS) sent with sent_at ∈ P that got at least one answer ÷ all of them.",
            facts=SENT, reduce=ratio("responded"), dimensions=("survey", "channel", "delivery"),
        ),
        KPIDefinition(
            id="top_performing_agents", name="Top performing agents", unit="agents",
            formula=(
                "Groups only, one per agent with cases resolved in P: resolved (count), first_contact_resolution_rate "
                "and first_response_time_minutes over those cases, csat over CSAT answers with at ∈ P whose case's "
                "assignee is the agent (null when none); sorted by resolved desc, then agent id."
            ),
            facts=AGENTS, reduce=AgentBoard(), dimensions=("agent",),
        ),
    ]  # fmt: skip


async def mark_days_dirty(runtime: Runtime, source_ids: Sequence[str], stamps: Iterable[Any]) -> None:
    """Rolled-up days whose facts just changed (a late answer to an old survey, a review
    published) are read raw until the rollup job rebuilds them. Call inside a unit of work."""
    plans = kpi_rollups.plans(runtime.host)
    keys = [plans[s].key for s in source_ids if s in plans]
    today = utcnow().date()  # the engine's "today" (its clock), never rolled up
    days = {day for day in (at.date() for at in map(as_utc, stamps) if at is not None) if day < today}
    if keys and days:
        await kpi_rollups.mark_dirty(runtime.db, keys, days)
