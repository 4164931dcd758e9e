"""Knowledge-base search on PostgreSQL: a GIN-indexed tsvector over the normalised tokens narrows
(`ts_rank_cd`, title A over body D), pg_trgm finds typo neighbours, Python ranks (see
`plugins.kms.search`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from plugins.kms.query import Kind, Probes, lexeme, successor, trigram_threshold, within_one_edit
from plugins.kms.ranking import Candidate, Stats
from plugins.kms.schema import POSTGRES_DDL
from plugins.kms.search import (
    DEFAULT_POOL_SIZE,
    IndexedSearch,
    PreparedDoc,
    StoredTokens,
    known_and_stats,
    stats_delta,
    vocabulary_deltas,
)

# ts_rank_cd() weights for {D, C, B, A}: body words, body keys, title keys, title words.
RANK_WEIGHTS = "{0.1, 0.2, 0.4, 1.0}"
# Index writes take this transaction-level advisory lock: one writer at a time keeps the vocabulary's
# counts exact and the (article, locale) replace free of races.
WRITE_LOCK_KEY = 0x6B6D735F73656172  # "kms_sear"

_STORED = """SELECT id, title_words, body_words, title_keys, body_keys, title_len, body_len FROM kms_search_docs
WHERE (article_id, locale) IN (SELECT * FROM unnest($1::text[], $2::text[])) OR article_id = ANY($3::text[])"""
_INSERT = """INSERT INTO kms_search_docs
    (article_id, locale, visibility, title, body, title_words, body_words, title_keys, body_keys, title_len, body_len)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
    $9::text[], $10::int[], $11::int[])"""
_ADD_TERMS = """INSERT INTO kms_search_terms (kind, term, df) SELECT * FROM unnest($1::text[], $2::text[], $3::int[])
ON CONFLICT (kind, term) DO UPDATE SET df = kms_search_terms.df + excluded.df"""
_DROP_TERMS = """DELETE FROM kms_search_terms AS t USING unnest($1::text[], $2::text[]) AS g(kind, term)
WHERE t.kind = g.kind AND t.term = g.term COLLATE "C" AND t.df <= 0"""
_ADD_STATS = """UPDATE kms_search_stats
SET docs = docs + $1, title_tokens = title_tokens + $2, body_tokens = body_tokens + $3 WHERE id = 1"""
_LOOKUP = """SELECT t.kind, t.term, t.df FROM unnest($1::text[], $2::text[]) AS p(kind, term)
    JOIN kms_search_terms AS t ON t.kind = p.kind AND t.term = p.term COLLATE "C"
UNION ALL
SELECT t.kind, t.term, t.df FROM unnest($3::text[], $4::text[], $5::text[], $6::int[]) AS p(kind, low, high, max_chars)
    JOIN kms_search_terms AS t ON t.kind = p.kind AND t.term >= p.low COLLATE "C" AND t.term < p.high COLLATE "C"
    AND char_length(t.term) <= p.max_chars
UNION ALL SELECT '#', 'docs', docs FROM kms_search_stats
UNION ALL SELECT '#', 'title', title_tokens FROM kms_search_stats
UNION ALL SELECT '#', 'body', body_tokens FROM kms_search_stats"""
_TYPOS = """SELECT p.kind, p.term, t.term, t.df FROM unnest($1::text[], $2::text[]) AS p(kind, term)
    JOIN kms_search_terms AS t ON t.kind = p.kind AND t.term % p.term"""
_CANDIDATES = """SELECT id, article_id, locale, title_words, body_words, title_keys, body_keys, title_len, body_len
FROM kms_search_docs WHERE id IN (
    SELECT id FROM kms_search_docs
    WHERE tsv @@ $1::tsquery AND visibility = ANY($2::text[]) AND ($3::text IS NULL OR locale = $3::text)
    {order} LIMIT $4
)"""
_RANKED = _CANDIDATES.format(order=f"ORDER BY ts_rank_cd('{RANK_WEIGHTS}', tsv, $1::tsquery) DESC, id")
_UNRANKED = _CANDIDATES.format(order="")
_BODIES = """SELECT id, CASE WHEN body = '' THEN title ELSE body END FROM kms_search_docs
WHERE id = ANY($1::bigint[])"""


def _lexeme(term: str) -> str:
    """A term quoted as a tsquery lexeme (taken as is: no parser, no dictionary)."""
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def ts_query(terms: Sequence[tuple[Kind, str]]) -> str:
    """The tsquery for any of `terms` (keys carry their mark, so no weight labels: the GIN index answers alone)."""
    return " | ".join(_lexeme(lexeme(kind, term)) for kind, term in terms)


class PostgresSearchIndex(IndexedSearch):
    """The search on an asyncpg pool, or on one connection (used one operation at a time)."""

    def __init__(self, db: asyncpg.Pool | asyncpg.Connection, *, pool_size: int = DEFAULT_POOL_SIZE) -> None:
        super().__init__(pool_size=pool_size)
        self._db = db
        self._connection_lock = asyncio.Lock()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Any]:
        """A connection from the pool, or the one connection once no other operation uses it."""
        if isinstance(self._db, asyncpg.Pool):
            async with self._db.acquire() as conn:
                yield conn
        else:
            async with self._connection_lock:
                yield self._db

    async def create_schema(self) -> None:
        """Create the pg_trgm extension and the search tables if they are missing (`schema.POSTGRES_DDL`)."""
        async with self._connection() as conn, conn.transaction():
            for statement in POSTGRES_DDL:
                await conn.execute(statement)

    async def _write(self, docs: Sequence[PreparedDoc], removals: Sequence[tuple[str, str | None]]) -> None:
        pairs = [(d.article_id, d.locale) for d in docs] + [(a, loc) for a, loc in removals if loc is not None]
        whole = [a for a, loc in removals if loc is None]
        async with self._connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK_KEY)
            rows = await conn.fetch(_STORED, [a for a, _ in pairs], [loc for _, loc in pairs], whole)
            old = {row[0]: StoredTokens(*row[1:]) for row in rows}
            await conn.execute("DELETE FROM kms_search_docs WHERE id = ANY($1::bigint[])", list(old))
            if docs:
                columns = [
                    [d.article_id for d in docs],
                    [d.locale for d in docs],
                    [d.visibility for d in docs],
                    [d.title for d in docs],
                    [d.body for d in docs],
                    *([d.tokens[i] for d in docs] for i in range(6)),
                ]
                await conn.execute(_INSERT, *columns)
            added = [d.tokens for d in docs]
            deltas = vocabulary_deltas(added, old.values())
            if deltas:
                kinds, terms, counts = ([row[i] for row in deltas] for i in range(3))
                await conn.execute(_ADD_TERMS, kinds, terms, counts)
                gone = [(kind, term) for kind, term, n in deltas if n < 0]
                await conn.execute(_DROP_TERMS, [kind for kind, _ in gone], [term for _, term in gone])
            change = stats_delta(added, list(old.values()))
            await conn.execute(_ADD_STATS, *change)

    async def _lookup(self, probes: Probes) -> tuple[dict[tuple[Kind, str], int], Stats]:
        exact = sorted(probes.exact)
        prefixes = sorted(probes.prefixes)
        async with self._connection() as conn:
            rows = await conn.fetch(
                _LOOKUP,
                [kind for kind, _ in exact],
                [term for _, term in exact],
                [kind for kind, _, _ in prefixes],
                [prefix for _, prefix, _ in prefixes],
                [successor(prefix) for _, prefix, _ in prefixes],
                [max_chars for _, _, max_chars in prefixes],
            )
        return known_and_stats(rows)

    async def _typos(self, probes: Sequence[tuple[Kind, str]]) -> dict[tuple[Kind, str], dict[str, int]]:
        threshold = min(trigram_threshold(term) for _, term in probes)
        async with self._connection() as conn, conn.transaction():
            await conn.execute(f"SET LOCAL pg_trgm.similarity_threshold = {threshold:.4f}")
            rows = await conn.fetch(_TYPOS, [kind for kind, _ in probes], [term for _, term in probes])
        found: dict[tuple[Kind, str], dict[str, int]] = {probe: {} for probe in probes}
        for kind, term, near, df in rows:
            if within_one_edit(term, near):
                found[(kind, term)][near] = df
        return found

    async def _candidates(
        self,
        terms: Sequence[tuple[Kind, str]],
        locale: str | None,
        visibility: Sequence[str],
        pool: int,
        *,
        ranked: bool,
    ) -> list[Candidate]:
        async with self._connection() as conn:
            rows = await conn.fetch(_RANKED if ranked else _UNRANKED, ts_query(terms), list(visibility), locale, pool)
        return [Candidate(*row) for row in rows]

    async def _bodies(self, doc_ids: Sequence[int]) -> dict[int, str]:
        if not doc_ids:
            return {}
        async with self._connection() as conn:
            rows = await conn.fetch(_BODIES, list(doc_ids))
        return {row[0]: row[1] for row in rows}
