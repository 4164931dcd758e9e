"""The customer's feedback in their 360 (`surveys[]`, registered with `register_customer_sections`):
each survey sent to them with its state and the scores they gave, and answers that came without
a survey of ours (imported history, a storefront's embedded form), newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.domain.time import as_utc
from plugins.feedback.tables import Survey, SurveyResponse


def _iso(value: datetime | None) -> str | None:
    stamped = as_utc(value)
    return stamped.isoformat() if stamped else None


def _answer(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "question": row["question"],
        "score": row["score"],
        "comment": row["comment"],
        "detractor": bool(row["detractor"]),
        "follow_up_case_id": row["follow_up_case_id"],
        "at": _iso(row["at"]),
    }


async def surveys_of_customer(customer_id: str, limit: int) -> list[dict[str, Any]]:
    surveys = (
        await Survey.select(
            Survey.id,
            Survey.kind,
            Survey.status,
            Survey.trigger,
            Survey.case_id,
            Survey.order_id,
            Survey.sent_at,
            Survey.created_at,
        )
        .where(Survey.customer_id == customer_id)
        .order_by(Survey.created_at, ascending=False)
        .limit(limit)
    )
    given = (
        await SurveyResponse.select()
        .where(SurveyResponse.survey_id.is_in([s["id"] for s in surveys]))
        .order_by(SurveyResponse.at)
        if surveys
        else []
    )
    loose = (
        await SurveyResponse.select()
        .where((SurveyResponse.customer_id == customer_id) & SurveyResponse.survey_id.is_null())
        .order_by(SurveyResponse.at, ascending=False)
        .limit(limit)
    )
    by_survey: dict[str, list[dict[str, Any]]] = {}
    for row in given:
        by_survey.setdefault(row["survey_id"], []).append(row)
    items = [
        {
            "id": s["id"],
            "survey": s["kind"],
            "status": s["status"],
            "trigger": s["trigger"],
            "case_id": s["case_id"],
            "order_id": s["order_id"],
            "sent_at": _iso(s["sent_at"]),
            "at": _iso(s["created_at"]),
            "answers": [_answer(a) for a in by_survey.get(s["id"], [])],
        }
        for s in surveys
    ]
    items += [
        {
            "id": a["id"],
            "survey": a["question"],
            "status": "answered",
            "trigger": a["source"],
            "case_id": a["case_id"],
            "order_id": a["order_id"],
            "sent_at": None,
            "at": _iso(a["at"]),
            "answers": [_answer(a)],
        }
        for a in loose
    ]
    items.sort(key=lambda item: item["at"] or "", reverse=True)
    return items[:limit]
