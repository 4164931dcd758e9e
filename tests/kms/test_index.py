"""Index writes on both databases: re-indexing replaces, removing forgets, and the vocabulary and
corpus totals that the ranking reads stay exact."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from plugins.kms.query import Probes
from plugins.kms.ranking import Stats
from plugins.kms.search import IndexDoc, IndexedSearch
from plugins.kms.search_sqlite import SqliteSearchIndex

RETURNS = IndexDoc(article_id="returns", locale="el", title="Επιστροφές", body="Επιστροφή σε **14** ημέρες.")
RETURNS_EN = IndexDoc(article_id="returns", locale="en", title="Returns", body="Return within 14 days.")
COD = IndexDoc(article_id="cod", locale="el", title="Αντικαταβολή", body="Πληρωμή στον κούριερ, 14 ευρώ το πολύ.")


async def _df(index: IndexedSearch, term: str) -> int:
    found, _ = await index._lookup(Probes(frozenset({("w", term)}), frozenset()))
    return found.get(("w", term), 0)


async def _stats(index: IndexedSearch) -> Stats:
    _, stats = await index._lookup(Probes(frozenset(), frozenset()))
    return stats


async def test_index_search_replace_remove(empty_index: IndexedSearch) -> None:
    await empty_index.index_many([RETURNS, RETURNS_EN, COD])
    assert await _stats(empty_index) == Stats(3, 3, 11)
    assert await _df(empty_index, "14") == 3
    assert [h.article_id for h in await empty_index.search("αντικαταβολή")] == ["cod"]

    await empty_index.index(IndexDoc(article_id="cod", locale="el", title="Πληρωμή με κάρτα", body="Visa, Mastercard."))
    assert await empty_index.search("αντικαταβολή") == []
    assert [h.article_id for h in await empty_index.search("κάρτα")] == ["cod"]
    assert await _df(empty_index, "14") == 2
    assert await _df(empty_index, "αντικαταβολ") == 0

    await empty_index.remove("returns", "en")
    assert [h.locale for h in await empty_index.search("14")] == ["el"]
    await empty_index.remove("returns")
    await empty_index.remove("cod")
    assert await _stats(empty_index) == Stats(0, 0, 0)
    assert await _df(empty_index, "14") == 0
    assert await empty_index.search("14") == []


async def test_reindexing_the_same_document_changes_nothing(empty_index: IndexedSearch) -> None:
    await empty_index.index_many([RETURNS, COD])
    before = (await _stats(empty_index), await empty_index.search("επιστροφή 14"))
    await empty_index.index(RETURNS)
    await empty_index.index_many([RETURNS, RETURNS])
    assert (await _stats(empty_index), await empty_index.search("επιστροφή 14")) == before


async def test_sqlite_writes_join_the_callers_transaction(tmp_path: Path) -> None:
    async with aiosqlite.connect(tmp_path / "search.db") as conn:
        index = SqliteSearchIndex(conn)
        await index.create_schema()
        await conn.execute("BEGIN")
        await index.index(RETURNS)
        assert conn.in_transaction
        await conn.rollback()
        assert await index.search("επιστροφή") == []
        await index.index(COD)
        assert not conn.in_transaction
        assert [h.article_id for h in await index.search("αντικαταβολή")] == ["cod"]
