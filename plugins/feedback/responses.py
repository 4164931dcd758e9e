"""Answers to surveys: each question of a survey is answered once (a unique index makes the
second answer change nothing), a low score closes the loop with a follow-up case, and ops read
the answers with their comments by score, channel and agent."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import msgspec

from core.db.pagination import Page, check_limit, decode_cursor, page_of
from core.domain.errors import Conflict, DomainError, InvalidInput
from core.domain.events.feedback import SurveyAnswered
from core.domain.ids import new_id
from core.domain.service import Channel
from core.domain.time import as_utc
from core.jobs import outbox
from core.runtime import Runtime
from plugins.feedback import clock, kpis, policy
from plugins.feedback.followup import SUBJECTS, is_detractor, open_follow_up
from plugins.feedback.tables import Survey, SurveyResponse
from plugins.feedback.texts import SCALES, locale_of, question_of

MAX_COMMENT = 2000
ANSWERABLE = ("sent", "sending")  # `sending`: the mail left but the worker died before marking it


class AlreadyAnswered(Conflict):
    slug = "already-answered"
    title = "Already answered"


class LinkExpired(DomainError):
    status = 410
    slug = "survey-expired"
    title = "Survey expired"


class ResponseIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    score: int
    comment: str | None = None
    question: str | None = None  # which question of the survey; default its first


class ResponseOut(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    survey_id: str | None
    question: str
    score: int
    comment: str | None
    customer_id: str
    case_id: str | None
    order_id: str | None
    source: str
    detractor: bool
    follow_up_case_id: str | None
    at: datetime
    channel: str | None = None  # the case's, for answers tied to a case
    agent: str | None = None  # the case's assignee
    case_number: int | None = None
    customer_name: str | None = None


def response_out(row: dict[str, Any]) -> ResponseOut:
    at = as_utc(row["at"])
    assert at is not None
    return ResponseOut(
        id=row["id"],
        survey_id=row["survey_id"],
        question=row["question"],
        score=row["score"],
        comment=row["comment"],
        customer_id=row["customer_id"],
        case_id=row["case_id"],
        order_id=row["order_id"],
        source=row["source"],
        detractor=bool(row["detractor"]),
        follow_up_case_id=row["follow_up_case_id"],
        at=at,
        channel=row.get("channel"),
        agent=row.get("agent"),
        case_number=row.get("case_number"),
        customer_name=row.get("customer_name"),
    )


def clean_comment(comment: str | None) -> str | None:
    text = (comment or "").replace("\x00", "").strip()
    if len(text) > MAX_COMMENT:
        raise InvalidInput(f"comment is longer than {MAX_COMMENT} characters", errors=[{"field": "comment"}])
    return text or None


def check_score(question: str, score: int) -> None:
    low, high = SCALES[question]
    if not low <= score <= high:
        raise InvalidInput(
            f"a {question} score is a whole number from {low} to {high}",
            errors=[{"field": "score", "message": f"between {low} and {high}"}],
        )


async def answer(
    runtime: Runtime, survey: dict[str, Any], item: str, score: int, comment: str | None, *, source: str
) -> ResponseOut:
    """Record the answer to one question of a sent survey. Call inside a unit of work.
    AlreadyAnswered (409) when the question was answered before: nothing changes then."""
    now = clock.now()
    items: list[str] = json.loads(survey["questions"])
    question = question_of(item)
    if item not in items or question == "review":
        raise InvalidInput(
            f"survey {survey['id']} asks {', '.join(items) or 'nothing'}; answer one of those",
            errors=[{"field": "question"}],
        )
    if survey["status"] not in ANSWERABLE:
        raise Conflict(f"survey {survey['id']} is {survey['status']}, not sent: it cannot be answered")
    if survey["expires_at"] is not None and now > survey["expires_at"]:
        raise LinkExpired(f"survey {survey['id']} expired on {survey['expires_at']:%Y-%m-%d}; answers are closed")
    check_score(question, score)
    text = clean_comment(comment)
    _, current = await policy.current()
    low = is_detractor(question, score, current.follow_up)
    response_id = new_id("srs")
    inserted = await SurveyResponse.raw(
        "INSERT INTO survey_responses (id, survey_id, question, score, comment, customer_id, case_id, order_id, "
        "source, detractor, at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}) "
        "ON CONFLICT (survey_id, question) DO NOTHING RETURNING id",
        response_id, survey["id"], question, score, text, survey["customer_id"], survey["case_id"], survey["order_id"],
        source, low, now,
    )  # fmt: skip
    if not inserted:
        raise AlreadyAnswered(f"the {question} question of survey {survey['id']} is answered already; nothing changed")
    follow_up = None
    if low and current.follow_up.enabled:
        locale = locale_of(survey["locale"])
        follow_up = await open_follow_up(
            runtime,
            customer_id=survey["customer_id"],
            locale=locale,
            order_id=survey["order_id"],
            subject=SUBJECTS[locale]["survey"].format(what=question.upper(), score=score),
            note=f"{question.upper()} {score} ({survey['kind']}, {survey['trigger']})\n\n{text or '—'}",
            channel=Channel.EMAIL,
            link_kind="survey_response",
            link_id=response_id,
        )
        await SurveyResponse.update({SurveyResponse.follow_up_case_id: follow_up}).where(
            SurveyResponse.id == response_id
        )
    await outbox.record(
        SurveyAnswered(
            response_id=response_id,
            question=question,
            score=score,
            source=source,
            detractor=low,
            follow_up_case_id=follow_up,
        ),
        subject_id=survey["id"],
        customer_id=survey["customer_id"],
        order_id=survey["order_id"],
    )
    if survey["sent_at"] is not None:  # the survey's day now counts a response
        await kpis.mark_days_dirty(runtime, [kpis.SENT.id], [survey["sent_at"]])
    row = await SurveyResponse.select().where(SurveyResponse.id == response_id).first()
    assert row is not None
    return response_out(row)


async def answered(survey_id: str) -> set[str]:
    rows = await SurveyResponse.select(SurveyResponse.question).where(SurveyResponse.survey_id == survey_id)
    return {r["question"] for r in rows}


async def survey_for_embedding(survey_id: str) -> dict[str, Any] | None:
    return await Survey.select().where(Survey.id == survey_id).first()


_LIST = (
    "SELECT r.*, c.channel AS channel, c.assignee AS agent, c.number AS case_number, cu.name AS customer_name "
    "FROM survey_responses r LEFT JOIN cases c ON c.id = r.case_id JOIN customers cu ON cu.id = r.customer_id"
)


async def list_responses(
    *,
    question: str | None = None,
    score: int | None = None,
    max_score: int | None = None,
    channel: str | None = None,
    agent: str | None = None,
    customer: str | None = None,
    with_comment: bool | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[ResponseOut]:
    """Newest first (ops: survey results with comments, filtered)."""
    check_limit(limit)
    if channel is not None and channel not in {c.value for c in Channel}:
        raise InvalidInput(
            f"channel must be one of {', '.join(c.value for c in Channel)}", errors=[{"field": "channel"}]
        )
    where: list[str] = []
    args: list[Any] = []
    for clause, value in (
        ("r.question = {}", question),
        ("r.score = {}", score),
        ("r.score <= {}", max_score),
        ("c.channel = {}", channel),
        ("c.assignee = {}", agent),
        ("r.customer_id = {}", customer),
        ("r.at >= {}", start),
        ("r.at < {}", end),
        ("r.id < {}", decode_cursor(cursor)),
    ):
        if value is not None:
            where.append(clause)
            args.append(value)
    if with_comment is not None:
        where.append("r.comment IS NOT NULL" if with_comment else "r.comment IS NULL")
    sql = _LIST + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY r.id DESC LIMIT {}"
    rows = await SurveyResponse.raw(sql, *args, limit + 1)
    return page_of(rows, limit, "id", [response_out(r) for r in rows])
