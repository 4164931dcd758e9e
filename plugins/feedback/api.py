"""The feedback API: surveys sent on demand (`POST /v1/surveys`, throttling applying) or embedded
in the shop (answered with `POST /v1/surveys/{id}/responses`), answers for ops, reviews (written by
verified buyers, moderated, answered), the public list per product and the content policy."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import OPS, hide_unless_own, principal_of, requires
from api.deps import runtime_of
from core.db.pagination import Page, check_limit, decode_cursor, page_of
from core.domain.auth import Principal, Scope
from core.domain.errors import InvalidInput, NotFound
from core.hookspecs.contact import ChannelSendFailed
from core.kpis.engine import parse_instant
from plugins.feedback import content_policy, policy, responses, reviews, sending, surveys
from plugins.feedback.tables import Survey

STAFF = requires(Scope.AGENT, Scope.OPS)
SHOP = requires(Scope.STOREFRONT, Scope.AGENT, Scope.OPS, customers=True)
Limit = Annotated[int, QueryParameter(name="limit", ge=1, le=200)]
Cursor = Annotated[str | None, QueryParameter(name="cursor", max_length=200)]
Opt = Annotated[str | None, QueryParameter(max_length=100)]


class SurveyIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    survey: Literal["csat", "ces", "nps"]
    customer_id: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None
    case_id: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None
    order_id: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None
    delivery: Literal["email", "embedded"] = "email"
    locale: Literal["el", "en"] | None = None


class SurveyView(msgspec.Struct, frozen=True, kw_only=True):
    survey: surveys.SurveyOut
    answered: list[str]


def _staff(principal: Principal) -> bool:
    return not principal.is_customer and principal.allows((Scope.AGENT, Scope.OPS))


@post("/v1/surveys", guards=[SHOP], tags=["surveys"], summary="Send a survey now (throttling applies)")
async def create_survey(request: Request[Any, Any, Any], data: JSONBody[SurveyIn]) -> surveys.SurveyOut:
    """Staff send by email or make an embedded survey; the shop (storefront key, customer token)
    makes embedded ones only. 201 with `status: sent | suppressed (reason) | pending | failed`."""
    principal = principal_of(request)
    customer_id = data.customer_id
    if principal.is_customer:
        if customer_id not in (None, principal.customer_id):
            raise NotFound(f"no customer {customer_id}")
        customer_id = principal.customer_id
    if customer_id is None:
        raise InvalidInput("name the customer (customer_id)", errors=[{"field": "customer_id", "message": "required"}])
    if data.delivery == "email" and not _staff(principal):
        raise InvalidInput(
            "only staff send surveys by email; the shop asks for an embedded one (delivery: embedded)",
            errors=[{"field": "delivery"}],
        )
    runtime = runtime_of(request)
    async with runtime.unit_of_work():
        version, current = await policy.current()
        row = await surveys.request_survey(
            kind=data.survey, customer_id=customer_id, case_id=data.case_id, order_id=data.order_id,
            delivery=data.delivery, locale=data.locale, policy=current, version=version,
        )  # fmt: skip
    if row["status"] == "pending":
        with contextlib.suppress(ChannelSendFailed):  # it stays pending: the worker's next run retries it
            await sending.dispatch(runtime, row["id"])
    return surveys.survey_out(await surveys.survey_row(row["id"]))


@get("/v1/surveys", guards=[STAFF], tags=["surveys"], summary="Surveys, newest first (sent, suppressed with why…)")
async def list_surveys(
    customer: Opt = None, status: Opt = None, survey: Opt = None, limit: Limit = 50, cursor: Cursor = None
) -> Page[surveys.SurveyOut]:
    check_limit(limit)
    query = Survey.select()
    for column, value in ((Survey.customer_id, customer), (Survey.status, status), (Survey.kind, survey)):
        if value is not None:
            query = query.where(column == value)
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(Survey.id < after)
    rows = await query.order_by(Survey.id, ascending=False).limit(limit + 1)
    return page_of(rows, limit, "id", [surveys.survey_out(r) for r in rows])


@get("/v1/surveys/{survey_id:str}", guards=[SHOP], tags=["surveys"], summary="One survey and what is answered")
async def get_survey(request: Request[Any, Any, Any], survey_id: FromPath[str]) -> SurveyView:
    row = await surveys.survey_row(survey_id)
    hide_unless_own(request, row["customer_id"], f"no survey {survey_id}")
    return SurveyView(survey=surveys.survey_out(row), answered=sorted(await responses.answered(survey_id)))


@post(
    "/v1/surveys/{survey_id:str}/responses",
    guards=[SHOP],
    tags=["surveys"],
    summary="Answer a survey embedded in the shop (each question once)",
)
async def respond(
    request: Request[Any, Any, Any], survey_id: FromPath[str], data: JSONBody[responses.ResponseIn]
) -> responses.ResponseOut:
    runtime = runtime_of(request)
    async with runtime.unit_of_work():
        row = await surveys.survey_row(survey_id)
        hide_unless_own(request, row["customer_id"], f"no survey {survey_id}")
        item = data.question or _first_open(row, await responses.answered(survey_id))
        return await responses.answer(runtime, row, item, data.score, data.comment, source="embedded")


def _first_open(row: dict[str, Any], done: set[str]) -> str:
    items: list[str] = msgspec.json.decode(row["questions"])
    return next((i for i in items if i not in done), items[0] if items else "")


@get("/v1/survey-responses", guards=[STAFF], tags=["surveys"], summary="Survey answers with comments, filtered")
async def list_responses(
    question: Annotated[str | None, QueryParameter(name="survey", max_length=10)] = None,
    score: Annotated[int | None, QueryParameter(name="score", ge=0, le=10)] = None,
    max_score: Annotated[int | None, QueryParameter(name="max_score", ge=0, le=10)] = None,
    channel: Annotated[str | None, QueryParameter(name="channel", max_length=20)] = None,
    agent: Opt = None,
    customer: Opt = None,
    with_comment: Annotated[bool | None, QueryParameter(name="with_comment")] = None,
    start: Annotated[str | None, QueryParameter(name="from", max_length=40)] = None,
    end: Annotated[str | None, QueryParameter(name="to", max_length=40)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[responses.ResponseOut]:
    return await responses.list_responses(
        question=question, score=score, max_score=max_score, channel=channel, agent=agent, customer=customer,
        with_comment=with_comment, start=_instant(start, "from"), end=_instant(end, "to"), limit=limit, cursor=cursor,
    )  # fmt: skip


def _instant(value: str | None, field: str) -> datetime | None:
    return parse_instant(value, field) if value else None


# ---------------------------------------------------------------------------------------------
# Reviews
# ---------------------------------------------------------------------------------------------


@post("/v1/reviews", guards=[SHOP], tags=["reviews"], summary="Review a product received (verified purchase only)")
async def create_review(request: Request[Any, Any, Any], data: JSONBody[reviews.ReviewIn]) -> reviews.ReviewOut:
    principal = principal_of(request)
    runtime = runtime_of(request)
    async with runtime.unit_of_work():
        return await reviews.submit(
            runtime, data, customer_id=principal.customer_id if principal.is_customer else None, source="api"
        )


@get("/v1/reviews", guards=[STAFF], tags=["reviews"], summary="Reviews: the moderation queue (status=pending) and more")
async def review_queue(
    status: Opt = None,
    sku: Opt = None,
    max_rating: Annotated[int | None, QueryParameter(name="max_rating", ge=1, le=5)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[reviews.ReviewOut]:
    return await reviews.queue(status=status, sku=sku, max_rating=max_rating, limit=limit, cursor=cursor)


@get(
    "/v1/reviews/content-policy",
    opt={"exclude_from_auth": True},
    tags=["reviews"],
    summary="The published content policy: the only reasons a review is rejected",
)
async def published_content_policy() -> content_policy.ContentPolicyOut:
    return content_policy.published()


@get("/v1/reviews/{review_id:str}", guards=[STAFF], tags=["reviews"], summary="One review")
async def get_review(review_id: FromPath[str]) -> reviews.ReviewOut:
    return reviews.review_out(await reviews.review_row(review_id))


@post(
    "/v1/reviews/{review_id:str}/moderate",
    guards=[OPS],
    tags=["reviews"],
    status_code=200,
    summary="Publish, or reject with a content-policy reason",
)
async def moderate(
    request: Request[Any, Any, Any], review_id: FromPath[str], data: JSONBody[reviews.ModerateIn]
) -> reviews.ReviewOut:
    runtime = runtime_of(request)
    async with runtime.unit_of_work():
        return await reviews.moderate(runtime, review_id, data, principal_of(request).key_id)


@post(
    "/v1/reviews/{review_id:str}/reply",
    guards=[STAFF],
    tags=["reviews"],
    status_code=200,
    summary="The shop's public answer to a review",
)
async def reply(
    request: Request[Any, Any, Any], review_id: FromPath[str], data: JSONBody[reviews.ReplyIn]
) -> reviews.ReviewOut:
    async with runtime_of(request).unit_of_work():
        return await reviews.reply(review_id, data, principal_of(request).key_id)


@get(
    "/v1/products/{sku:str}/reviews",
    guards=[SHOP],
    tags=["reviews"],
    summary="Published reviews of a product with the average and distribution",
)
async def product_reviews(sku: FromPath[str], limit: Limit = 20, cursor: Cursor = None) -> reviews.ProductReviews:
    return await reviews.product_reviews(sku, limit=limit, cursor=cursor)


HANDLERS = (
    create_survey,
    list_surveys,
    get_survey,
    respond,
    list_responses,
    create_review,
    review_queue,
    published_content_policy,
    get_review,
    moderate,
    reply,
    product_reviews,
)
