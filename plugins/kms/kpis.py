"""The knowledge base's KPIs and its content gaps, from stored searches and votes.

- `self_service_deflection_rate`: customer searches with a known customer whose 24 hours are over,
  deflected when that customer opened no case in those 24 hours. Whether a search was deflected
  depends on what happens after its day, so these facts are never rolled up (a whole-period source,
  computed afresh on every request).
- `article_helpfulness`: helpful votes ÷ votes, by article; `search_no_result_rate`: customer
  searches that found nothing ÷ customer searches, by locale. Both are fixed once written, so they
  roll up by day like the core's KPIs.
- Content gaps: the customer queries that found nothing, most searched first (`GET /v1/kb/content-gaps`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from datetime import datetime, timedelta

from core.db.database import utcnow
from core.domain.kpis import Fact, FactQuery, FactSource, KPIDefinition, ratio
from core.domain.time import as_utc
from core.service.tables import Case
from plugins.kms.model import ContentGap, ContentGaps
from plugins.kms.tables import KbFeedback, KbSearch

DEFLECTION_WINDOW = timedelta(hours=24)
CUSTOMER_FILTERS = frozenset({"customer_segment"})


def _utc(value: object) -> datetime:
    at = as_utc(value)
    assert at is not None
    return at


async def load_searches(query: FactQuery) -> list[Fact]:
    rows = await KbSearch.select(KbSearch.at, KbSearch.locale, KbSearch.results, KbSearch.customer_id).where(
        (KbSearch.audience == "customer") & (KbSearch.at >= query.start) & (KbSearch.at < query.end)
    )
    return [
        {"at": _utc(r["at"]), "locale": r["locale"], "customer_id": r["customer_id"], "no_result": r["results"] == 0}
        for r in rows
    ]


async def load_votes(query: FactQuery) -> list[Fact]:
    rows = await KbFeedback.select(
        KbFeedback.at, KbFeedback.article_id, KbFeedback.helpful, KbFeedback.customer_id
    ).where((KbFeedback.at >= query.start) & (KbFeedback.at < query.end))
    return [
        {
            "at": _utc(r["at"]),
            "article": r["article_id"],
            "customer_id": r["customer_id"],
            "helpful": bool(r["helpful"]),
        }
        for r in rows
    ]


async def load_deflection(query: FactQuery) -> list[Fact]:
    """Searches by a known customer in P whose window closed by now; deflected when the customer's
    next case (if any) came more than 24 hours later."""
    closed_by = utcnow() - DEFLECTION_WINDOW  # searches at or before this have had their 24 hours
    if closed_by < query.start:
        return []
    rows = await KbSearch.select(KbSearch.at, KbSearch.locale, KbSearch.customer_id).where(
        (KbSearch.audience == "customer")
        & KbSearch.customer_id.is_not_null()
        & (KbSearch.at >= query.start)
        & (KbSearch.at < query.end)
        & (KbSearch.at <= closed_by)
    )
    if not rows:
        return []
    customers = sorted({r["customer_id"] for r in rows})
    opened: dict[str, list[datetime]] = defaultdict(list)
    for c in await Case.select(Case.customer_id, Case.created_at).where(
        Case.customer_id.is_in(customers)
        & (Case.created_at > query.start)
        & (Case.created_at <= min(query.end, closed_by) + DEFLECTION_WINDOW)
    ):
        opened[c["customer_id"]].append(_utc(c["created_at"]))
    for times in opened.values():
        times.sort()
    facts = []
    for r in rows:
        at, times = _utc(r["at"]), opened.get(r["customer_id"], [])
        following = bisect_right(times, at)  # the first case strictly after the search
        deflected = following == len(times) or times[following] > at + DEFLECTION_WINDOW
        facts.append({"at": at, "locale": r["locale"], "customer_id": r["customer_id"], "deflected": deflected})
    return facts


SEARCHES = FactSource(id="kms.searches", load=load_searches, filters=CUSTOMER_FILTERS)
VOTES = FactSource(id="kms.votes", load=load_votes, filters=CUSTOMER_FILTERS)
DEFLECTION = FactSource(id="kms.deflection", load=load_deflection, filters=CUSTOMER_FILTERS, whole_period=True)


def definitions() -> list[KPIDefinition]:
    return [
        KPIDefinition(
            id="self_service_deflection_rate",
            name="Self-service deflection",
            unit="ratio",
            formula=(
                "Customer knowledge-base searches with a known customer, at ∈ P and at + 24 h ≤ now: those after "
                "which the customer opened no case within 24 hours (at < created_at ≤ at + 24 h) ÷ all."
            ),
            facts=DEFLECTION,
            reduce=ratio("deflected"),
            dimensions=("locale",),
        ),
        KPIDefinition(
            id="article_helpfulness",
            name="Article helpfulness",
            unit="ratio",
            formula='"Did this help?" votes with at ∈ P: helpful ÷ all. group_by article.',
            facts=VOTES,
            reduce=ratio("helpful"),
            dimensions=("article",),
        ),
        KPIDefinition(
            id="search_no_result_rate",
            name="Searches without a result",
            unit="ratio",
            formula="Customer knowledge-base searches with at ∈ P: those that found no article ÷ all. group_by locale.",
            facts=SEARCHES,
            reduce=ratio("no_result"),
            dimensions=("locale",),
        ),
    ]


async def content_gaps(start: datetime, end: datetime, *, limit: int = 20) -> ContentGaps:
    """The customer queries in [start, end) that found nothing, grouped by their folded words, most
    searched first (then alphabetically), each with its latest wording."""
    in_period = (KbSearch.audience == "customer") & (KbSearch.at >= start) & (KbSearch.at < end)
    total = await KbSearch.count().where(in_period)
    misses = await KbSearch.select(KbSearch.normalized, KbSearch.query, KbSearch.customer_id, KbSearch.at).where(
        in_period & (KbSearch.results == 0)
    )
    grouped: dict[str, list[dict[str, object]]] = defaultdict(list)
    for r in misses:
        grouped[r["normalized"]].append(r)
    gaps = []
    for normalized, searches in grouped.items():
        latest = max(searches, key=lambda s: (_utc(s["at"]), str(s["query"])))
        gaps.append(
            ContentGap(
                query=str(latest["query"]),
                normalized=normalized,
                searches=len(searches),
                customers=len({s["customer_id"] for s in searches if s["customer_id"] is not None}),
                last_searched_at=_utc(latest["at"]),
            )
        )
    gaps.sort(key=lambda g: (-g.searches, g.normalized))
    return ContentGaps(from_=start, to=end, searches=total, no_result=len(misses), gaps=gaps[:limit])
