"""`GET /s/{token}?score=N` and `POST /s/{token}`: the survey link a mail carries.

GET only shows the page (a mail scanner following every link records nothing); the page's one
button POSTs `score` and `comment` (form-encoded) and that answer is recorded once: a second POST
with the same token changes nothing. A tampered link is a 400 page, an expired one a 410 page, an
answered one says so (409 on POST), and nothing is recorded for any of them. Requests count
against the `survey` rate limit per client address."""

from __future__ import annotations

import json
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, QueryParameter

from api.auth import client_address, count
from api.deps import runtime_of
from core.access.ratelimits import SURVEY, RateLimited
from core.catalogue.tables import Product
from core.domain.errors import Conflict, DomainError, InvalidInput
from core.service.tables import Case
from plugins.feedback import clock, reviews
from plugins.feedback.links import LinkError, link_for, read_token
from plugins.feedback.page import CSS, CSS_PATH, bilingual_page, form_page, message_page, thanks_page
from plugins.feedback.responses import ANSWERABLE, AlreadyAnswered, LinkExpired, answer, answered
from plugins.feedback.settings import public_url
from plugins.feedback.tables import Review, Survey
from plugins.feedback.texts import SCALES, locale_of, question_of, ui

OPEN = {"exclude_from_auth": True}
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",  # the token is in the URL: never hand it to another site
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
Lang = Annotated[str | None, QueryParameter(name="lang", max_length=5)]


def _html(body: str, status: int = 200, extra: dict[str, str] | None = None) -> Response[str]:
    return Response(
        body, status_code=status, media_type="text/html; charset=utf-8", headers={**HEADERS, **(extra or {})}
    )


class _Refused(Exception):
    """A link or request that ends in a page of its own (nothing recorded)."""

    def __init__(self, response: Response[str]) -> None:
        self.response = response


async def _open(request: Request[Any, Any, Any], token: str, lang: str | None) -> tuple[dict[str, Any], str, str]:
    """(survey, item, locale) of a usable link, or _Refused with the page to show."""
    try:
        await count(request, SURVEY, client_address(request))
    except RateLimited as exc:
        page = message_page(lang or "el", "slow_down", seconds=exc.retry_after)
        raise _Refused(_html(page, 429, {"Retry-After": str(exc.retry_after)})) from None
    try:
        survey_id, item = read_token(token)
    except LinkError as exc:
        if not exc.expired:
            raise _Refused(_html(bilingual_page("invalid"), 400)) from None
        known = await Survey.select(Survey.locale).where(Survey.id == (exc.survey_id or "")).first()
        raise _Refused(_html(message_page(lang or (known or {}).get("locale", "el"), "expired"), 410)) from None
    survey = await Survey.select().where(Survey.id == survey_id).first()
    locale = locale_of(lang or (survey or {}).get("locale"))
    if survey is None or survey["status"] not in ANSWERABLE or question_of(item) not in SCALES:
        raise _Refused(_html(message_page(locale, "unknown"), 404))
    if survey["expires_at"] is not None and clock.now() > survey["expires_at"]:
        raise _Refused(_html(message_page(locale, "expired"), 410))
    return survey, item, locale


async def _is_answered(survey: dict[str, Any], item: str) -> bool:
    if question_of(item) == "review":
        sku = item.split(":", 1)[1]
        return bool(await Review.exists().where((Review.order_id == survey["order_id"]) & (Review.sku == sku)))
    return question_of(item) in await answered(survey["id"])


async def _heading(survey: dict[str, Any], item: str, locale: str) -> str | None:
    if question_of(item) == "review":
        sku = item.split(":", 1)[1]
        product = await Product.select(Product.name).where(Product.sku == sku).first()
        return ui(locale, "product", name=product["name"] if product else sku)
    if survey["case_id"]:
        case = await Case.select(Case.number).where(Case.id == survey["case_id"]).first()
        return ui(locale, "case", number=case["number"]) if case else None
    return None


def _score(raw: str | None, question: str) -> int | None:
    low, high = SCALES[question]
    if raw is None or not raw.strip().isdigit():
        return None
    value = int(raw.strip())
    return value if low <= value <= high else None


@get("/s/{token:str}", opt=OPEN, tags=["surveys"], summary="The survey page of a mail link (HTML; records nothing)")
async def survey_page(
    request: Request[Any, Any, Any],
    token: FromPath[str],
    score: Annotated[str | None, QueryParameter(name="score", max_length=4)] = None,
    lang: Lang = None,
) -> Response[str]:
    try:
        survey, item, locale = await _open(request, token, lang)
    except _Refused as refused:
        return refused.response
    if await _is_answered(survey, item):
        return _html(message_page(locale, "already"))
    question = question_of(item)
    return _html(
        form_page(
            locale=locale,
            action=f"/s/{token}" + (f"?lang={locale}" if lang else ""),
            question=question,
            chosen=_score(score, question),
            heading_note=await _heading(survey, item, locale),
            review=question == "review",
        )
    )


@post("/s/{token:str}", opt=OPEN, tags=["surveys"], summary="Answer a survey (the page's form)", status_code=200)
async def survey_answer(request: Request[Any, Any, Any], token: FromPath[str], lang: Lang = None) -> Response[str]:
    try:
        survey, item, locale = await _open(request, token, lang)
    except _Refused as refused:
        return refused.response
    form = await request.form()
    question = question_of(item)
    score = _score(_first(form, "score"), question)
    comment, title = _first(form, "comment") or "", _first(form, "title") or ""
    low, high = SCALES[question]

    def again(error: str, status: int) -> Response[str]:
        page = form_page(
            locale=locale, action=f"/s/{token}", question=question, chosen=score, comment=comment[:5000],
            error=error, review=question == "review", title=title[:200],
        )  # fmt: skip
        return _html(page, status)

    if score is None:
        return again(ui(locale, "pick_score", low=low, high=high), 422)
    runtime = runtime_of(request)
    follow_up = False
    try:
        async with runtime.unit_of_work():
            if question == "review":
                data = reviews.ReviewIn(
                    order_id=survey["order_id"], sku=item.split(":", 1)[1], rating=score, body=comment[:5001],
                    title=title[:201] or None, locale="en" if locale == "en" else "el",
                )  # fmt: skip
                written = await reviews.submit(
                    runtime, data, customer_id=survey["customer_id"], source="link", survey_id=survey["id"]
                )
                follow_up = written.follow_up_case_id is not None
            else:
                recorded = await answer(runtime, survey, item, score, comment, source="link")
                follow_up = recorded.follow_up_case_id is not None
    except (AlreadyAnswered, reviews.AlreadyReviewed):
        return _html(message_page(locale, "already"), 409)
    except LinkExpired:
        return _html(message_page(locale, "expired"), 410)
    except InvalidInput as exc:
        return again(_invalid(exc, locale), 422)
    except Conflict:
        return _html(message_page(locale, "unknown"), 409)
    except DomainError as exc:  # anything else a use case refuses: said plainly, nothing recorded
        return _html(message_page(locale, "unknown"), exc.status if 400 <= exc.status < 500 else 400)
    return _html(
        thanks_page(locale, review=question == "review", follow_up=follow_up, next_question=await _next(survey, item))
    )


def _first(form: Any, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None


def _invalid(exc: InvalidInput, locale: str) -> str:
    fields = {e.get("field") for e in exc.errors or []}
    if "body" in fields and "longer" not in exc.detail:
        return ui(locale, "need_body")
    if fields & {"body", "title", "comment"}:
        return ui(locale, "too_long", max=5000 if "body" in fields else 2000)
    return exc.detail


async def _next(survey: dict[str, Any], item: str) -> tuple[str, list[tuple[int, str]]] | None:
    """The survey's next unanswered question (CES after CSAT), as score links."""
    items: list[str] = json.loads(survey["questions"])
    done = await answered(survey["id"])
    for other in items:
        question = question_of(other)
        if other == item or question == "review" or question in done:
            continue
        low, high = SCALES[question]
        return question, [
            (s, link_for(survey["id"], other, s).removeprefix(public_url())) for s in range(low, high + 1)
        ]
    return None


@get(CSS_PATH, opt=OPEN, include_in_schema=False)
async def survey_css() -> Response[str]:
    return Response(CSS, media_type="text/css; charset=utf-8", headers={"Cache-Control": "public, max-age=3600"})


HANDLERS = (survey_page, survey_answer, survey_css)
