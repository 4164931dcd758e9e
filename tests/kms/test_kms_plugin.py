"""The knowledge base inside the engine: its migrations built the search index in the engine's own
database, an index write commits or rolls back with the article change that made it, and an index
emptied table by table (as a reset does) keeps working."""

from __future__ import annotations

import pytest

from core.db.schema import PluginMigration
from core.runtime import Runtime
from plugins.kms import articles, indexing
from plugins.kms.model import ArticleIn, TranslationIn
from plugins.kms.search import IndexDoc
from plugins.kms.tables import KbArticle
from tests.conftest import Api
from tests.kms.support import write

GIFT = ArticleIn(translations={"el": TranslationIn(title="Δωροκάρτες", body="Οι δωροκάρτες ισχύουν έναν χρόνο.")})


class _Boom(Exception):
    pass


async def _found(api: Api, q: str, role: str = "agent") -> list[str]:
    return [r["id"] for r in (await api.get("/v1/kb/search", params={"q": q}, as_=role)).json()["results"]]


async def test_the_migrations_are_recorded_under_the_plugins_set(api: Api, runtime: Runtime) -> None:
    rows = (
        await PluginMigration.select(PluginMigration.version, PluginMigration.name)
        .where(PluginMigration.migration_set == "kms")
        .order_by(PluginMigration.version)
    )
    assert [(r["version"], r["name"]) for r in rows] == [(1, "search_index"), (2, "articles")]
    tables = {t._meta.tablename for t in runtime.db.tables}
    assert {"kms_articles", "kms_search_docs", "kms_search_terms", "kms_search_stats"} <= tables
    if runtime.db.is_postgres:
        assert await runtime.db.fetch("SELECT 1 AS ok FROM pg_extension WHERE extname = 'pg_trgm'")
        assert await runtime.db.fetch("SELECT 1 AS ok FROM pg_indexes WHERE indexname = 'kms_search_docs_tsv'")
    else:
        assert await runtime.db.fetch("SELECT 1 AS ok FROM sqlite_master WHERE name = 'kms_search_fts'")


async def test_a_publication_that_fails_leaves_neither_the_article_nor_its_index_entry(
    api: Api, runtime: Runtime
) -> None:
    with pytest.raises(_Boom):
        async with runtime.unit_of_work():
            made = await articles.create_article(GIFT, actor="test")
            await articles.publish_article(made.id, actor="test")
            async with indexing.search_index() as index:  # the unit of work's own connection sees it
                assert [hit.article_id for hit in await index.search("δωροκάρτα")] == [made.id]
            raise _Boom
    assert await KbArticle.count() == 0
    assert await _found(api, "δωροκάρτα") == []


async def test_an_edit_that_fails_keeps_the_published_text_searchable(api: Api, runtime: Runtime) -> None:
    article = await write(api, ("Δωροκάρτες", "Ισχύουν έναν χρόνο."), publish=True)
    edit = ArticleIn(translations={"el": TranslationIn(title="Κουπόνια", body="Ισχύουν έξι μήνες.")})
    with pytest.raises(_Boom):
        async with runtime.unit_of_work():
            await articles.update_article(article["id"], edit, actor="test")
            raise _Boom
    assert await _found(api, "δωροκάρτες") == [article["id"]]
    assert await _found(api, "κουπόνια") == []
    assert (await api.get(f"/v1/kb/articles/{article['id']}", as_="ops")).json()["version"] == 1


async def test_index_writes_only_inside_a_unit_of_work(api: Api) -> None:
    with pytest.raises(RuntimeError, match="unit_of_work"):
        await indexing.replace("kba_x", [IndexDoc(article_id="kba_x", locale="el", title="t", body="b")])


async def test_an_index_emptied_table_by_table_keeps_working(api: Api, runtime: Runtime) -> None:
    first = await write(api, ("Δωροκάρτες", "Ισχύουν έναν χρόνο."), publish=True)
    async with runtime.db.write():
        for table in ("kms_search_docs", "kms_search_terms", "kms_search_stats"):
            await runtime.db.fetch(f"DELETE FROM {table}")
    if not runtime.db.is_postgres:  # the trigger took the full-text rows with their documents
        assert (await runtime.db.fetch("SELECT count(*) AS n FROM kms_search_fts"))[0]["n"] == 0
    assert await _found(api, "δωροκάρτες") == []
    second = await write(api, ("Δωροκάρτες για εταιρείες", "Με τιμολόγιο."), publish=True)
    assert await _found(api, "δωροκάρτες") == [second["id"]]
    await api.post(f"/v1/kb/articles/{first['id']}/archive", as_="ops")
    await api.post(f"/v1/kb/articles/{first['id']}/publish", as_="ops")
    assert set(await _found(api, "δωροκάρτες")) == {first["id"], second["id"]}
    stats = (await runtime.db.fetch("SELECT docs FROM kms_search_stats"))[0]["docs"]
    assert stats == 2
