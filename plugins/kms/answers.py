"""The knowledge base for people: searches (each customer search stored with its `search_id`, the
base of deflection and content gaps), "did this help?" votes, the answer source the service desk
suggests from (chat widget, case view) and the public links of articles named by macros."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from core.customers.tables import Customer
from core.db.database import utcnow
from core.domain.errors import Conflict, InvalidInput
from core.domain.ids import new_id
from core.hookspecs.contact import Suggestion
from core.runtime import Runtime
from plugins.kms import indexing, text
from plugins.kms.articles import not_found, visible_to
from plugins.kms.model import Audience, FeedbackIn, FeedbackOut, LinkOut, SearchOut, SearchResult, Visibility
from plugins.kms.query import QueryError, prepare
from plugins.kms.search import Hit
from plugins.kms.tables import KbArticle, KbFeedback, KbSearch, KbTranslation
from plugins.kms.urls import article_url

MAX_STORED_QUERY = 500
FALLBACK_LOCALES = ("el", "en")  # a link in a locale the article lacks: Greek, else English, else any


def visibilities(audience: Audience) -> tuple[Visibility, ...]:
    return ("public",) if audience == "customer" else ("public", "internal")


def cleaned_query(query: str) -> str:
    """The query as searched and stored (control characters gone, spaces collapsed); a clear 422 when
    it is empty or too long."""
    try:
        cleaned = prepare(query)
    except QueryError as exc:
        raise InvalidInput(str(exc), errors=[{"field": "q", "message": "too long"}]) from None
    if not cleaned:
        raise InvalidInput(
            "q is empty; send the words to look for, e.g. ?q=επιστροφή χρημάτων", errors=[{"field": "q"}]
        )
    return cleaned


async def find(query: str, *, locale: str | None, limit: int, visibility: Collection[Visibility]) -> list[SearchResult]:
    """The best published articles for `query`, best first, with their title in the matched locale."""
    async with indexing.search_index() as index:
        hits = await index.search(query, locale=locale, limit=limit, visibility=visibility)
    return await _results(hits, visibility)


async def _results(hits: Sequence[Hit], visibility: Collection[Visibility]) -> list[SearchResult]:
    """Hits joined to their articles; anything no longer published (or not visible) is dropped, so an
    index entry a crash left behind can never show an article it should not."""
    if not hits:
        return []
    ids = sorted({h.article_id for h in hits})
    articles = {
        a["id"]: a
        for a in await KbArticle.select(KbArticle.id, KbArticle.slug, KbArticle.visibility, KbArticle.status).where(
            KbArticle.id.is_in(ids)
        )
    }
    titles = {
        (t["article_id"], t["locale"]): t["title"]
        for t in await KbTranslation.select(KbTranslation.article_id, KbTranslation.locale, KbTranslation.title).where(
            KbTranslation.article_id.is_in(ids)
        )
    }
    results = []
    for hit in hits:
        article = articles.get(hit.article_id)
        title = titles.get((hit.article_id, hit.locale))
        if article is None or title is None or article["status"] != "published":
            continue
        if article["visibility"] not in visibility:
            continue
        public = article["visibility"] == "public"
        results.append(
            SearchResult(
                id=hit.article_id,
                slug=article["slug"],
                title=title,
                snippet=hit.snippet,
                score=hit.score,
                locale=hit.locale,
                url=article_url(article["slug"], hit.locale) if public else None,
            )
        )
    return results


async def search(
    runtime: Runtime, query: str, *, audience: Audience, locale: str | None, limit: int, customer_id: str | None
) -> SearchOut:
    """Search and store the search (who, what, how many results) under the `search_id` returned.
    `customer_id` (customers only) ties it to the customer for deflection."""
    cleaned = cleaned_query(query)
    if customer_id is not None and await Customer.count().where(Customer.id == customer_id) == 0:
        raise InvalidInput(
            f"no customer {customer_id!r}; pass the engine's customer id (or leave customer_id out)",
            errors=[{"field": "customer_id", "message": "unknown customer"}],
        )
    results = await find(cleaned, locale=locale, limit=limit, visibility=visibilities(audience))
    normalized = " ".join(text.tokens(cleaned))[:MAX_STORED_QUERY]
    if not normalized:  # punctuation only: nothing was searched, nothing to learn from
        return SearchOut(search_id=None, results=results)
    search_id = new_id("kbs")
    async with runtime.unit_of_work():
        await KbSearch.insert(
            KbSearch(
                id=search_id,
                audience=audience,
                customer_id=customer_id if audience == "customer" else None,
                query=cleaned[:MAX_STORED_QUERY],
                normalized=normalized,
                locale=locale,
                results=len(results),
                top_article_id=results[0].id if results else None,
                at=utcnow(),
            )
        )
    return SearchOut(search_id=search_id, results=results)


async def vote(article_key: str, data: FeedbackIn, *, customer_id: str | None) -> FeedbackOut:
    """A customer's "did this help?" for a published public article, once per search it came from.
    Call inside a unit of work."""
    article = (
        await KbArticle.select(KbArticle.id, KbArticle.status, KbArticle.visibility)
        .where((KbArticle.id == article_key) | (KbArticle.slug == article_key))
        .first()
    )
    if article is None or not visible_to("customer", article["status"], article["visibility"]):
        raise not_found(article_key)
    voter = customer_id
    if data.search_id is not None:
        searched = (
            await KbSearch.select(KbSearch.customer_id, KbSearch.audience).where(KbSearch.id == data.search_id).first()
        )
        if searched is None or searched["audience"] != "customer":
            raise InvalidInput(
                f"no customer search {data.search_id!r}; send the search_id GET /v1/kb/search returned, or none",
                errors=[{"field": "search_id", "message": "unknown search"}],
            )
        if customer_id is not None and searched["customer_id"] not in (None, customer_id):
            raise InvalidInput("that search was another customer's", errors=[{"field": "search_id"}])
        voter = voter or searched["customer_id"]
        already = await KbFeedback.count().where(
            (KbFeedback.search_id == data.search_id) & (KbFeedback.article_id == article["id"])
        )
        if already:
            raise Conflict(f"search {data.search_id} already rated article {article['id']}; one vote per search")
    vote_id, now = new_id("kbf"), utcnow()
    await KbFeedback.insert(
        KbFeedback(
            id=vote_id,
            article_id=article["id"],
            search_id=data.search_id,
            customer_id=voter,
            helpful=data.helpful,
            at=now,
        )
    )
    return FeedbackOut(id=vote_id, article_id=article["id"], helpful=data.helpful, search_id=data.search_id, at=now)


async def article_links(article_ids: Sequence[str], locale: str) -> list[LinkOut]:
    """Public links of the published public articles among `article_ids` (in their order), titled in
    `locale` when the article has it: what a macro's `article_ids` become in a reply."""
    wanted = list(dict.fromkeys(article_ids))
    if not wanted:
        return []
    articles = {
        a["id"]: a
        for a in await KbArticle.select(KbArticle.id, KbArticle.slug).where(
            KbArticle.id.is_in(wanted) & (KbArticle.status == "published") & (KbArticle.visibility == "public")
        )
    }
    titles: dict[str, dict[str, str]] = {}
    if articles:
        for t in await KbTranslation.select(KbTranslation.article_id, KbTranslation.locale, KbTranslation.title).where(
            KbTranslation.article_id.is_in(list(articles))
        ):
            titles.setdefault(t["article_id"], {})[t["locale"]] = t["title"]
    links = []
    for article_id in wanted:
        if article_id not in articles or not titles.get(article_id):
            continue
        own = titles[article_id]
        chosen = next((loc for loc in (locale, *FALLBACK_LOCALES) if loc in own), sorted(own)[0])
        slug = articles[article_id]["slug"]
        links.append(LinkOut(id=article_id, slug=slug, title=own[chosen], url=article_url(slug, chosen), locale=chosen))
    return links


class KnowledgeBaseAnswers:
    """The answer source of `register_answer_sources`: published articles for a text, public only
    for customers. Suggestions are not stored as searches: a widget asks while the customer types."""

    name = "kms"

    async def suggest(
        self, text: str, *, locale: str, limit: int, internal: bool, customer_id: str | None
    ) -> list[Suggestion]:
        visibility: tuple[Visibility, ...] = ("public", "internal") if internal else ("public",)
        try:
            found = await find(text, locale=locale, limit=limit, visibility=visibility)
            if not found:  # nothing in the customer's language: an answer in another beats none
                found = await find(text, locale=None, limit=limit, visibility=visibility)
        except QueryError:
            return []
        return [Suggestion(id=r.id, title=r.title, snippet=r.snippet, url=r.url, score=r.score) for r in found]
