"""The judged relevance set on both databases: recall@3 ≥ 0.95 (MRR printed), and the same ranking
on SQLite and PostgreSQL for every query."""

from __future__ import annotations

from plugins.kms.search import Hit, IndexedSearch, Visibility
from plugins.kms.search_postgres import PostgresSearchIndex
from plugins.kms.search_sqlite import SqliteSearchIndex
from tests.kms.corpus import ARTICLES, QUERIES, Judged

MIN_RECALL_AT_3 = 0.95


async def _run(index: IndexedSearch, judged: Judged) -> list[Hit]:
    return await index.search(judged.query, locale=judged.locale, limit=10)


def _recall_at_3(hits: list[Hit], judged: Judged) -> float:
    top = {hit.article_id for hit in hits[:3]}
    return len(top & set(judged.relevant)) / min(3, len(judged.relevant))


def _reciprocal_rank(hits: list[Hit], judged: Judged) -> float:
    ranks = [i for i, hit in enumerate(hits, 1) if hit.article_id in judged.relevant]
    return 1.0 / ranks[0] if ranks else 0.0


async def _evaluate(index: IndexedSearch, name: str) -> tuple[float, float]:
    recall = mrr = 0.0
    misses: list[str] = []
    for judged in QUERIES:
        hits = await _run(index, judged)
        recall += _recall_at_3(hits, judged)
        mrr += _reciprocal_rank(hits, judged)
        if _recall_at_3(hits, judged) < 1.0:
            misses.append(f"{judged.query!r} → {[h.article_id for h in hits[:3]]}, wanted {judged.relevant}")
    recall, mrr = recall / len(QUERIES), mrr / len(QUERIES)
    print(
        f"\n{name}: {len(QUERIES)} judged queries, {len(ARTICLES)} articles: recall@3 = {recall:.3f}, MRR = {mrr:.3f}"
    )
    for miss in misses:
        print("  miss:", miss)
    return recall, mrr


def test_the_judged_set_is_big_enough() -> None:
    assert len(ARTICLES) >= 40
    assert len(QUERIES) >= 60
    ids = {article.id for article in ARTICLES}
    assert all(set(judged.relevant) <= ids for judged in QUERIES)


async def test_recall_on_sqlite(sqlite_search: SqliteSearchIndex) -> None:
    recall, _ = await _evaluate(sqlite_search, "SQLite")
    assert recall >= MIN_RECALL_AT_3


async def test_recall_on_postgres(pg_search: PostgresSearchIndex) -> None:
    recall, _ = await _evaluate(pg_search, "PostgreSQL")
    assert recall >= MIN_RECALL_AT_3


async def test_same_ranking_on_both_databases(sqlite_search: SqliteSearchIndex, pg_search: PostgresSearchIndex) -> None:
    answered = 0
    for judged in QUERIES:
        on_sqlite = await _run(sqlite_search, judged)
        on_postgres = await _run(pg_search, judged)
        assert [h.article_id for h in on_sqlite[:1]] == [h.article_id for h in on_postgres[:1]], judged
        # Not only the top result: the whole list, scores and snippets, is the same.
        assert on_sqlite == on_postgres, judged
        answered += bool(on_sqlite)
    assert answered >= len(QUERIES) - 3


INTERNAL_ONLY: tuple[Visibility, ...] = ("internal",)


async def test_internal_articles_only_for_agents(corpus_index: IndexedSearch) -> None:
    public = await corpus_index.search("χειροκίνητη επιστροφή χρημάτων", locale="el")
    agent = await corpus_index.search("χειροκίνητη επιστροφή χρημάτων", locale="el", visibility=("public", "internal"))
    assert "agent-manual-refund" not in [hit.article_id for hit in public]
    assert agent[0].article_id == "agent-manual-refund"
    only_internal = await corpus_index.search("refund", locale="en", visibility=INTERNAL_ONLY)
    assert [hit.article_id for hit in only_internal] == ["agent-manual-refund"]


async def test_locale_filter_and_one_hit_per_article(corpus_index: IndexedSearch) -> None:
    greek = await corpus_index.search("IBAN", locale="el")
    assert {hit.locale for hit in greek} == {"el"}
    english = await corpus_index.search("IBAN", locale="en")
    assert {hit.locale for hit in english} == {"en"}
    anywhere = await corpus_index.search("IBAN")
    assert len({hit.article_id for hit in anywhere}) == len(anywhere)


async def test_titles_weigh_more_than_bodies(corpus_index: IndexedSearch) -> None:
    # "εγγύηση" is the title of the warranty article and a word in the bodies of others.
    hits = await corpus_index.search("εγγύηση", locale="el")
    assert hits[0].article_id == "warranty"
    assert len(hits) > 1


async def test_snippets_mark_the_matched_words(corpus_index: IndexedSearch) -> None:
    hits = await corpus_index.search("epistrofi xrimaton", locale="el")
    assert "<mark>χρημάτων</mark>" in hits[0].snippet or "<mark>χρήματα</mark>" in hits[0].snippet
    english = await corpus_index.search("instalments", locale="en")
    assert "<mark>instalments</mark>" in english[0].snippet


async def test_limit(corpus_index: IndexedSearch) -> None:
    assert len(await corpus_index.search("παραγγελία", locale="el", limit=2)) == 2
    assert len(await corpus_index.search("παραγγελία", locale="el", limit=0)) == 1
    assert len(await corpus_index.search("order", locale="en", limit=10_000)) <= 50
