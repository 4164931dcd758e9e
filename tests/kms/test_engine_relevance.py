"""The judged relevance set (tests/kms/corpus.py) written, published and searched through the API on
the engine's own database — the session's SQLite or PostgreSQL: recall@3 ≥ 0.95 with MRR printed,
and for every query exactly the results the search library gives on SQLite and on PostgreSQL over
the same articles (so the engine ranks the same on both databases)."""

from __future__ import annotations

import time
from collections.abc import Iterable

from plugins.kms.search_postgres import PostgresSearchIndex
from plugins.kms.search_sqlite import SqliteSearchIndex
from tests.conftest import Api
from tests.kms.corpus import ARTICLES, QUERIES
from tests.kms.support import write
from tests.kms.test_relevance import MIN_RECALL_AT_3


def _by_score(results: Iterable[tuple[float, str, str, str]]) -> list[tuple[float, frozenset[tuple[str, str, str]]]]:
    """Results as (score, the set of those with that score), best first."""
    groups: dict[float, set[tuple[str, str, str]]] = {}
    for score, *rest in results:
        groups.setdefault(score, set()).add((rest[0], rest[1], rest[2]))
    return [(score, frozenset(groups[score])) for score in sorted(groups, reverse=True)]


async def _publish_corpus(api: Api) -> None:
    for article in ARTICLES:
        await write(api, article.el, article.en, slug=article.id, visibility=article.visibility, publish=True)


async def test_the_judged_set_through_the_http_search(
    api: Api, sqlite_search: SqliteSearchIndex, pg_search: PostgresSearchIndex
) -> None:
    await _publish_corpus(api)
    recall = mrr = 0.0
    misses, latencies = [], []
    for judged in QUERIES:
        params = {"q": judged.query, "limit": 10, **({"locale": judged.locale} if judged.locale else {})}
        started = time.perf_counter()
        answered = await api.get("/v1/kb/search", params=params, as_="storefront")
        latencies.append(time.perf_counter() - started)
        assert answered.status_code == 200, answered.text
        results = answered.json()["results"]
        found = [r["slug"] for r in results]  # the corpus ids were given as slugs
        top = set(found[:3]) & set(judged.relevant)
        recall += len(top) / min(3, len(judged.relevant))
        ranks = [i for i, slug in enumerate(found, 1) if slug in judged.relevant]
        mrr += 1 / ranks[0] if ranks else 0.0
        if len(top) < min(3, len(judged.relevant)):
            misses.append(f"{judged.query!r} → {found[:3]}, wanted {judged.relevant}")
        # The same results, scores and snippets as the library on either database. Equal scores are
        # ordered by article id, and the engine's ids are not the corpus's: compare within ties as sets.
        for library in (sqlite_search, pg_search):
            hits = await library.search(judged.query, locale=judged.locale, limit=10)
            assert _by_score((r["score"], r["slug"], r["locale"], r["snippet"]) for r in results) == _by_score(
                (h.score, h.article_id, h.locale, h.snippet) for h in hits
            ), (judged, type(library).__name__)
    recall, mrr = recall / len(QUERIES), mrr / len(QUERIES)
    latencies.sort()
    print(
        f"\nengine HTTP search: {len(QUERIES)} judged queries, {len(ARTICLES)} articles: recall@3 = {recall:.3f}, "
        f"MRR = {mrr:.3f}; latency p50 = {latencies[len(latencies) // 2] * 1000:.1f} ms, "
        f"p95 = {latencies[int(len(latencies) * 0.95)] * 1000:.1f} ms"
    )
    for miss in misses:
        print("  miss:", miss)
    assert recall >= MIN_RECALL_AT_3
