"""Knowledge-base search on SQLite: FTS5 over the normalised tokens narrows, Python ranks
(see `plugins.kms.search`)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager

import aiosqlite

from plugins.kms.query import Kind, Probes, edits1, lexeme, successor
from plugins.kms.ranking import Candidate, Stats
from plugins.kms.schema import SQLITE_DDL
from plugins.kms.search import (
    DEFAULT_POOL_SIZE,
    IndexedSearch,
    PreparedDoc,
    StoredTokens,
    known_and_stats,
    stats_delta,
    vocabulary_deltas,
)

# bm25() column weights: title words, body words, title keys, body keys (keys: Greeklish matches).
BM25_WEIGHTS = "4.0, 1.0, 2.0, 0.5"

_STORED = """SELECT d.id, f.title, f.body, f.title_k, f.body_k, d.title_len, d.body_len
FROM kms_search_docs AS d JOIN kms_search_fts AS f ON f.rowid = d.id WHERE """
_BY_PAIR = """(d.article_id, d.locale) IN
(SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))"""
_BY_ARTICLE = "d.article_id IN (SELECT value FROM json_each(?))"
_INSERT_DOC = """INSERT INTO kms_search_docs (id, article_id, locale, visibility, title, body, title_len, body_len)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)"""
_INSERT_FTS = "INSERT INTO kms_search_fts (rowid, title, body, title_k, body_k) VALUES (?, ?, ?, ?, ?)"
_ADD_TERM = """INSERT INTO kms_search_terms (kind, term, df) VALUES (?, ?, ?)
ON CONFLICT (kind, term) DO UPDATE SET df = df + excluded.df"""
_DROP_TERM = "DELETE FROM kms_search_terms WHERE kind = ? AND term = ? AND df <= 0"
_ADD_STATS = """UPDATE kms_search_stats
SET docs = docs + ?, title_tokens = title_tokens + ?, body_tokens = body_tokens + ? WHERE id = 1"""
_STATS = """SELECT '#', 'docs', docs FROM kms_search_stats
UNION ALL SELECT '#', 'title', title_tokens FROM kms_search_stats
UNION ALL SELECT '#', 'body', body_tokens FROM kms_search_stats"""
_TERMS = "SELECT kind, term, df FROM kms_search_terms WHERE kind = ? AND term IN (SELECT value FROM json_each(?))"
_TERM_RANGE = """SELECT kind, term, df FROM kms_search_terms
WHERE kind = ? AND term >= ? AND term < ? AND length(term) <= ?"""
_CANDIDATES = """WITH top AS (
    SELECT f.rowid AS id FROM kms_search_fts AS f JOIN kms_search_docs AS d ON d.id = f.rowid
    WHERE kms_search_fts MATCH ? AND d.visibility IN (SELECT value FROM json_each(?)) AND (? IS NULL OR d.locale = ?)
    {order} LIMIT ?
)
SELECT d.id, d.article_id, d.locale, f.title, f.body, f.title_k, f.body_k, d.title_len, d.body_len
FROM top JOIN kms_search_docs AS d ON d.id = top.id JOIN kms_search_fts AS f ON f.rowid = top.id"""
_RANKED = _CANDIDATES.format(order=f"ORDER BY bm25(kms_search_fts, {BM25_WEIGHTS}), f.rowid")
_UNRANKED = _CANDIDATES.format(order="")
_BODIES = """SELECT id, CASE WHEN body = '' THEN title ELSE body END FROM kms_search_docs
WHERE id IN (SELECT value FROM json_each(?))"""


def _json(values: Iterable[object]) -> str:
    """A JSON array to bind as one parameter (read back with json_each)."""
    return json.dumps(list(values), ensure_ascii=False)


def _fts_phrase(term: str) -> str:
    """A term quoted for an FTS5 query: never read as syntax (NEAR, *, column filters)."""
    return '"' + term.replace('"', '""') + '"'


def fts_query(terms: Sequence[tuple[Kind, str]]) -> str:
    """The FTS5 MATCH expression for any of `terms`: stems in the word columns, keys in the key columns."""
    parts: list[str] = []
    for kind, columns in (("w", "{title body}"), ("k", "{title_k body_k}")):
        quoted = [_fts_phrase(lexeme(k, term)) for k, term in terms if k == kind]
        if quoted:
            parts.append(f"{columns} : ({' OR '.join(quoted)})")
    return " OR ".join(parts)


class SqliteSearchIndex(IndexedSearch):
    """The search on an aiosqlite connection (give it its own; writes join an open transaction)."""

    def __init__(self, conn: aiosqlite.Connection, *, pool_size: int = DEFAULT_POOL_SIZE) -> None:
        super().__init__(pool_size=pool_size)
        self._conn = conn
        self._write_lock = asyncio.Lock()

    async def create_schema(self) -> None:
        """Create the search tables if they are missing (`schema.SQLITE_DDL`)."""
        async with self._transaction():
            for statement in SQLITE_DDL:
                await self._conn.execute(statement)

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[None]:
        """An IMMEDIATE transaction, or a savepoint inside the caller's open transaction."""
        async with self._write_lock:
            nested = self._conn.in_transaction
            await self._conn.execute("SAVEPOINT kms_search" if nested else "BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                if nested:
                    await self._conn.execute("ROLLBACK TO kms_search")
                    await self._conn.execute("RELEASE kms_search")
                else:
                    await self._conn.rollback()
                raise
            if nested:
                await self._conn.execute("RELEASE kms_search")
            else:
                await self._conn.commit()

    async def _stored(
        self, docs: Sequence[PreparedDoc], removals: Sequence[tuple[str, str | None]]
    ) -> dict[int, StoredTokens]:
        """The stored tokens of the translations these writes replace or remove, by row id."""
        pairs = [(d.article_id, d.locale) for d in docs] + [(a, loc) for a, loc in removals if loc is not None]
        whole = [a for a, loc in removals if loc is None]
        found: dict[int, StoredTokens] = {}
        queries = ((_BY_PAIR, pairs), (_BY_ARTICLE, whole))
        for condition, values in queries:
            if values:
                async with self._conn.execute(_STORED + condition, (_json(values),)) as cursor:
                    for row in await cursor.fetchall():
                        found[row[0]] = StoredTokens(*row[1:])
        return found

    async def _write(self, docs: Sequence[PreparedDoc], removals: Sequence[tuple[str, str | None]]) -> None:
        async with self._transaction():
            old = await self._stored(docs, removals)
            ids = [(doc_id,) for doc_id in old]
            await self._conn.executemany("DELETE FROM kms_search_fts WHERE rowid = ?", ids)
            await self._conn.executemany("DELETE FROM kms_search_docs WHERE id = ?", ids)
            async with self._conn.execute("SELECT coalesce(max(id), 0) FROM kms_search_docs") as cursor:
                row = await cursor.fetchone()
            first = (row[0] if row else 0) + 1
            await self._conn.executemany(
                _INSERT_DOC,
                [
                    (first + i, d.article_id, d.locale, d.visibility, d.title, d.body, *d.tokens[4:])
                    for i, d in enumerate(docs)
                ],
            )
            await self._conn.executemany(_INSERT_FTS, [(first + i, *d.tokens[:4]) for i, d in enumerate(docs)])
            added = [d.tokens for d in docs]
            deltas = vocabulary_deltas(added, old.values())
            await self._conn.executemany(_ADD_TERM, deltas)
            await self._conn.executemany(_DROP_TERM, [(kind, term) for kind, term, n in deltas if n < 0])
            await self._conn.execute(_ADD_STATS, stats_delta(added, list(old.values())))

    async def _lookup(self, probes: Probes) -> tuple[dict[tuple[Kind, str], int], Stats]:
        selects: list[str] = [_STATS]
        params: list[object] = []
        for kind in ("w", "k"):
            selects.append(_TERMS)
            params += [kind, _json(sorted(term for k, term in probes.exact if k == kind))]
        for kind, prefix, max_chars in sorted(probes.prefixes):
            selects.append(_TERM_RANGE)
            params += [kind, prefix, successor(prefix), max_chars]
        async with self._conn.execute(" UNION ALL ".join(selects), params) as cursor:
            rows = await cursor.fetchall()
        return known_and_stats(rows)

    async def _typos(self, probes: Sequence[tuple[Kind, str]]) -> dict[tuple[Kind, str], dict[str, int]]:
        variants = {probe: edits1(probe[1]) for probe in probes}
        found: dict[Kind, dict[str, int]] = {}
        for kind in ("w", "k"):
            wanted: set[str] = set().union(*(v for (k, _), v in variants.items() if k == kind))
            if wanted:
                async with self._conn.execute(_TERMS, (kind, _json(sorted(wanted)))) as cursor:
                    found[kind] = {row[1]: row[2] for row in await cursor.fetchall()}
        return {
            probe: {term: df for term, df in found.get(probe[0], {}).items() if term in near}
            for probe, near in variants.items()
        }

    async def _candidates(
        self,
        terms: Sequence[tuple[Kind, str]],
        locale: str | None,
        visibility: Sequence[str],
        pool: int,
        *,
        ranked: bool,
    ) -> list[Candidate]:
        params = (fts_query(terms), _json(visibility), locale, locale, pool)
        async with self._conn.execute(_RANKED if ranked else _UNRANKED, params) as cursor:
            return [Candidate(*row) for row in await cursor.fetchall()]

    async def _bodies(self, doc_ids: Sequence[int]) -> dict[int, str]:
        if not doc_ids:
            return {}
        async with self._conn.execute(_BODIES, (_json(doc_ids),)) as cursor:
            return {row[0]: row[1] for row in await cursor.fetchall()}
