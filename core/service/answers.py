"""Suggested answers from every registered answer source (the knowledge base…), merged by score:
for customers while they write, for agents beside a case."""

from __future__ import annotations

from core.hookspecs.contact import Suggestion
from core.plugins import PluginHost
from core.service.tables import Case, CaseMessage


async def suggest(
    host: PluginHost, text: str, *, locale: str, limit: int = 5, internal: bool, customer_id: str | None = None
) -> list[Suggestion]:
    text = text.strip()[:500]
    if not text:
        return []
    found: list[Suggestion] = []
    for registered in host.answer_sources.values():
        found.extend(
            await registered.value.suggest(text, locale=locale, limit=limit, internal=internal, customer_id=customer_id)
        )
    return sorted(found, key=lambda s: -s.score)[:limit]


async def for_case(host: PluginHost, case_id: str, limit: int = 5) -> list[Suggestion]:
    """For the agent: answers to the case's subject and its customers' latest messages."""
    case = await Case.select(Case.subject, Case.locale, Case.topic, Case.customer_id).where(Case.id == case_id).first()
    if case is None:
        return []
    latest = (
        await CaseMessage.select(CaseMessage.body)
        .where((CaseMessage.case_id == case_id) & (CaseMessage.author == "customer"))
        .order_by(CaseMessage.created_at, ascending=False)
        .limit(2)
    )
    text = " ".join([case["subject"], *(m["body"] for m in latest)])
    return await suggest(host, text, locale=case["locale"], limit=limit, internal=True, customer_id=case["customer_id"])
