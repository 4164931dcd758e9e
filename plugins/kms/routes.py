"""The knowledge base over HTTP (service.md §2). Ops write; storefront keys and customer tokens read
published public articles; agents also internal ones; drafts and archived articles only ops."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import AGENT_OR_OPS, OPS, principal_of, requires
from api.deps import runtime_of
from core.db.pagination import Page
from core.domain.auth import Principal, Scope
from core.domain.errors import InvalidInput, NotFound
from core.kpis.engine import period
from core.service.cases import service_policy
from plugins.kms import answers, articles, kpis, versions
from plugins.kms.content import render_markdown
from plugins.kms.model import (
    LOCALE_PATTERN,
    ArticleIn,
    ArticleOut,
    ArticleSummary,
    Audience,
    ContentGaps,
    DiffOut,
    FeedbackIn,
    FeedbackOut,
    LinkOut,
    PreviewIn,
    PublishIn,
    RestoreIn,
    SearchOut,
    VersionDetail,
    VersionList,
)
from plugins.kms.search import MAX_LIMIT

READERS = requires(Scope.STOREFRONT, Scope.AGENT, Scope.OPS, customers=True)
CUSTOMERS = requires(Scope.STOREFRONT, customers=True)
Key = FromPath[str]  # an article's id or its slug
LocaleParam = Annotated[str | None, QueryParameter(name="locale", pattern=LOCALE_PATTERN)]


def audience_of(principal: Principal) -> Audience:
    """Ops (and admin) see drafts; agents published articles, internal ones too; everyone else
    (storefront keys, customer tokens) published public ones."""
    if principal.allows((Scope.OPS,)):
        return "ops"
    if principal.allows((Scope.AGENT,)):
        return "agent"
    return "customer"


def _actor(request: Request[Any, Any, Any]) -> str:
    return principal_of(request).name


def _searcher(principal: Principal, customer_id: str | None) -> tuple[Audience, str | None]:
    """Who a search counts for: a customer token's own customer, or the customer a storefront's
    server names (deflection needs one); staff searches belong to no customer."""
    audience = audience_of(principal)
    if principal.is_customer:
        if customer_id not in (None, principal.customer_id):
            raise InvalidInput("a customer token searches as its own customer; leave customer_id out")
        return "customer", principal.customer_id
    if customer_id is not None and audience != "customer":
        raise InvalidInput(
            "customer_id is for storefront searches (a customer's self-service); staff searches count for no customer",
            errors=[{"field": "customer_id"}],
        )
    return audience, customer_id


@post("/v1/kb/articles", guards=[OPS], tags=["kb"], summary="Write a new article (a draft, version 1)")
async def create_article(request: Request[Any, Any, Any], data: JSONBody[ArticleIn]) -> ArticleOut:
    async with runtime_of(request).unit_of_work():
        return await articles.create_article(data, actor=_actor(request))


@get("/v1/kb/articles", guards=[READERS], tags=["kb"], summary="Articles, newest first (what the caller may read)")
async def list_articles(
    request: Request[Any, Any, Any],
    status: Annotated[str | None, QueryParameter(name="status", pattern=r"^(draft|published|archived)$")] = None,
    visibility: Annotated[str | None, QueryParameter(name="visibility", pattern=r"^(public|internal)$")] = None,
    category: Annotated[str | None, QueryParameter(name="category", max_length=60)] = None,
    limit: Annotated[int, QueryParameter(name="limit", ge=1, le=200)] = 50,
    cursor: Annotated[str | None, QueryParameter(name="cursor", max_length=200)] = None,
) -> Page[ArticleSummary]:
    return await articles.list_articles(
        audience_of(principal_of(request)),
        status=status,
        visibility=visibility,
        category=category,
        limit=limit,
        cursor=cursor,
    )


@get("/v1/kb/articles/{key:str}", guards=[READERS], tags=["kb"], summary="An article by id or slug")
async def get_article(request: Request[Any, Any, Any], key: Key) -> ArticleOut:
    return await articles.get_article(key, audience_of(principal_of(request)))


@put("/v1/kb/articles/{key:str}", guards=[OPS], tags=["kb"], summary="Save the article as its next version")
async def update_article(request: Request[Any, Any, Any], key: Key, data: JSONBody[ArticleIn]) -> ArticleOut:
    async with runtime_of(request).unit_of_work():
        return await articles.update_article(key, data, actor=_actor(request))


@post(
    "/v1/kb/articles/{key:str}/publish",
    guards=[OPS],
    tags=["kb"],
    status_code=200,
    summary="Publish now, or at a later time ({at})",
)
async def publish_article(
    request: Request[Any, Any, Any], key: Key, data: JSONBody[PublishIn | None] = None
) -> ArticleOut:
    async with runtime_of(request).unit_of_work():
        return await articles.publish_article(key, at=data.at if data else None, actor=_actor(request))


@post("/v1/kb/articles/{key:str}/archive", guards=[OPS], tags=["kb"], status_code=200, summary="Take the article down")
async def archive_article(request: Request[Any, Any, Any], key: Key) -> ArticleOut:
    async with runtime_of(request).unit_of_work():
        return await articles.archive_article(key, actor=_actor(request))


@get("/v1/kb/articles/{key:str}/versions", guards=[OPS], tags=["kb"], summary="Every saved version, newest first")
async def list_versions(key: Key) -> VersionList:
    return await versions.list_versions(key)


@get("/v1/kb/articles/{key:str}/versions/{version:int}", guards=[OPS], tags=["kb"], summary="One version's content")
async def get_version(key: Key, version: FromPath[int]) -> VersionDetail:
    return await versions.get_version(key, version)


@get("/v1/kb/articles/{key:str}/diff", guards=[OPS], tags=["kb"], summary="Two versions compared (unified diff)")
async def diff_versions(
    key: Key,
    before: Annotated[int, QueryParameter(name="from", ge=1)],
    after: Annotated[int, QueryParameter(name="to", ge=1)],
) -> DiffOut:
    return await versions.diff_versions(key, before, after)


@post(
    "/v1/kb/articles/{key:str}/restore",
    guards=[OPS],
    tags=["kb"],
    status_code=200,
    summary="Save an older version's content as the next version",
)
async def restore_version(request: Request[Any, Any, Any], key: Key, data: JSONBody[RestoreIn]) -> ArticleOut:
    async with runtime_of(request).unit_of_work():
        return await versions.restore_version(key, data.version, actor=_actor(request))


@get("/v1/kb/search", guards=[READERS], tags=["kb"], summary="Search published articles (Greek and English)")
async def search(
    request: Request[Any, Any, Any],
    q: Annotated[str, QueryParameter(name="q", max_length=10_000)],
    locale: LocaleParam = None,
    limit: Annotated[int, QueryParameter(name="limit", ge=1, le=MAX_LIMIT)] = 10,
    customer_id: Annotated[str | None, QueryParameter(name="customer_id", max_length=100)] = None,
) -> SearchOut:
    """Every search is stored under the `search_id` returned (send it with a vote); a storefront's
    server passes `customer_id` so a search followed by no case counts as deflected."""
    audience, customer = _searcher(principal_of(request), customer_id)
    return await answers.search(
        runtime_of(request), q, audience=audience, locale=locale, limit=limit, customer_id=customer
    )


@post(
    "/v1/kb/articles/{key:str}/feedback",
    guards=[CUSTOMERS],
    tags=["kb"],
    status_code=201,
    summary='A customer\'s "did this help?"',
)
async def feedback(request: Request[Any, Any, Any], key: Key, data: JSONBody[FeedbackIn]) -> FeedbackOut:
    principal = principal_of(request)
    async with runtime_of(request).unit_of_work():
        return await answers.vote(key, data, customer_id=principal.customer_id if principal.is_customer else None)


@get("/v1/kb/content-gaps", guards=[OPS], tags=["kb"], summary="Customer queries that found nothing, most asked first")
async def content_gaps(
    start: Annotated[str, QueryParameter(name="from", min_length=10, max_length=40)],
    end: Annotated[str, QueryParameter(name="to", min_length=10, max_length=40)],
    limit: Annotated[int, QueryParameter(name="limit", ge=1, le=200)] = 20,
) -> ContentGaps:
    s, e = period(start, end)
    return await kpis.content_gaps(s, e, limit=limit)


@get("/v1/kb/links", guards=[AGENT_OR_OPS], tags=["kb"], summary="Public links of articles (a macro's article_ids)")
async def links(
    ids: Annotated[str, QueryParameter(name="ids", max_length=2000)],
    locale: Annotated[str, QueryParameter(name="locale", pattern=LOCALE_PATTERN)] = "el",
) -> dict[str, list[LinkOut]]:
    """Comma-separated article ids; drafts, archived and internal articles have no public link."""
    wanted = [part.strip() for part in ids.split(",") if part.strip()]
    if len(wanted) > 50:
        raise InvalidInput("ask for at most 50 articles at a time", errors=[{"field": "ids"}])
    return {"links": await answers.article_links(wanted, locale)}


@get(
    "/v1/kb/macros/{macro_id:str}/links",
    guards=[AGENT_OR_OPS],
    tags=["kb"],
    summary="The public links of the articles a service-policy macro names",
)
async def macro_links(
    request: Request[Any, Any, Any],
    macro_id: FromPath[str],
    locale: Annotated[str, QueryParameter(name="locale", pattern=LOCALE_PATTERN)] = "el",
) -> dict[str, Any]:
    """What to put under a macro's text in a reply: each published public article of its
    `article_ids` with its title in `locale` and the URL customers read it at."""
    policy = await service_policy(runtime_of(request))
    macro = next((m for m in policy.macros if m.id == macro_id), None)
    if macro is None:
        raise NotFound(f"no macro {macro_id!r} in the service policy; see GET /v1/policies/service")
    return {"macro": macro.id, "links": await answers.article_links(macro.article_ids, locale)}


@post("/v1/kb/preview", guards=[OPS], tags=["kb"], status_code=200, summary="Markdown rendered as it will be shown")
async def preview(data: JSONBody[PreviewIn]) -> dict[str, str]:
    return {"html": render_markdown(data.body)}


HANDLERS = (
    create_article,
    list_articles,
    get_article,
    update_article,
    publish_article,
    archive_article,
    list_versions,
    get_version,
    diff_versions,
    restore_version,
    search,
    feedback,
    content_gaps,
    links,
    macro_links,
    preview,
)
