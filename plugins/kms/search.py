"""Knowledge-base search: the `SearchIndex` interface and the engine shared by its SQLite and
PostgreSQL implementations (`search_sqlite.SqliteSearchIndex`, `search_postgres.PostgresSearchIndex`).

How a query is answered, the same way on both databases:

1. Normalisation happens in Python (`plugins.kms.text`): the database only ever sees folded,
   stemmed tokens — stems ("w" terms) and, for Greek words, phonetic keys ("k" terms) that
   Greeklish queries are matched against. Neither FTS5's tokenizer nor PostgreSQL's `simple`
   configuration changes them.
2. The query's words become alternative terms (`plugins.kms.query`), looked up in the vocabulary
   table kept on every index write: exact terms, the stem family (τιμολογι ~ τιμολο, where the
   Greek stemmer is inconsistent) and, for a word that meets nothing, the terms one edit away
   (SQLite: every one-edit variant looked up; PostgreSQL: a pg_trgm search with a similarity
   threshold low enough to include every one-edit neighbour, then filtered to one edit in Python —
   the same set), plus the stems of the word with a letter dropped or two swapped (instalmnets).
3. The database narrows the candidates to `pool_size` translations. When the matches of all the
   query's terms add up to no more than that (by the vocabulary's frequencies), it returns every
   match unranked — the same set on both. Otherwise it ranks: an FTS5 `MATCH` (every term quoted)
   ordered by `bm25()` with the title weighted over the body, or a `tsvector @@ tsquery` on a GIN
   index ordered by `ts_rank_cd()` with the title weighted A over the body D. Phonetic keys are
   stored with a mark (`query.KEY_MARK`), so the tsquery needs no weight labels and the GIN index
   answers without rechecking rows.
4. Python ranks the candidates (`plugins.kms.ranking`): BM25F over the stored title and body tokens
   with the vocabulary's document frequencies, the best term per query word, times the share of
   query words met, plus a bonus for covering the title; ties by article id. The inputs are the
   same integers on both databases, so the ranking is the same — always when the matches fit in
   the pool; beyond it, only as far as the two native rankers put the same documents in their pools
   (the benchmark measures how often the top result agrees: 98–99 % over 20,000 translations).
5. Snippets mark the matched words in the plain body text (`<mark>`, the rest HTML-escaped).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from typing import Any, Literal, NamedTuple, Protocol

import msgspec

from plugins.kms import ranking, text
from plugins.kms.query import Kind, Probes, QueryError, lexeme, near_probes, parse, probes, resolve, typo_probes
from plugins.kms.ranking import Candidate, Stats

__all__ = [
    "Hit",
    "IndexDoc",
    "IndexedSearch",
    "PreparedDoc",
    "QueryError",
    "SearchIndex",
    "StoredTokens",
    "Visibility",
]

Visibility = Literal["public", "internal"]
VISIBILITIES: frozenset[str] = frozenset({"public", "internal"})
PUBLIC: tuple[Visibility, ...] = ("public",)
MAX_LIMIT = 50
MAX_FIELD_TOKENS = 20_000  # a field's tokens past this are not indexed (PostgreSQL's tsvector stays far below 1 MB)
DEFAULT_POOL_SIZE = 200


class IndexDoc(msgspec.Struct, frozen=True, kw_only=True):
    """One translation of an article to index: its id, locale, title, Markdown body and visibility."""

    article_id: str
    locale: str
    title: str
    body: str
    visibility: Visibility = "public"


class Hit(msgspec.Struct, frozen=True):
    """A search result: the article translation, its score (higher is better) and an HTML snippet."""

    article_id: str
    locale: str
    score: float
    snippet: str


class SearchIndex(Protocol):
    """What the knowledge base needs from a search: keep translations indexed, answer queries."""

    async def index(self, doc: IndexDoc) -> None:
        """Index (or re-index) one translation of an article."""
        ...

    async def remove(self, article_id: str, locale: str | None = None) -> None:
        """Remove one translation of an article, or all of them when `locale` is None."""
        ...

    async def search(
        self, query: str, *, locale: str | None = None, limit: int = 10, visibility: Collection[Visibility] = PUBLIC
    ) -> list[Hit]:
        """The best hits for `query`, best first; one per article when `locale` is None.

        Raises `QueryError` for an over-long query; an empty or meaningless one returns [].
        """
        ...


class StoredTokens(NamedTuple):
    """The token strings and lengths an indexed translation was stored with."""

    title_words: str
    body_words: str
    title_keys: str
    body_keys: str
    title_len: int
    body_len: int

    def terms(self) -> set[tuple[Kind, str]]:
        """The distinct vocabulary terms of the translation."""
        words: set[tuple[Kind, str]] = {("w", t) for t in (self.title_words + " " + self.body_words).split()}
        keys: set[tuple[Kind, str]] = {("k", t[1:]) for t in (self.title_keys + " " + self.body_keys).split()}
        return words | keys


class PreparedDoc(NamedTuple):
    """A translation ready to store: plain text for snippets and its normalised tokens."""

    article_id: str
    locale: str
    visibility: Visibility
    title: str
    body: str
    tokens: StoredTokens


def prepare_doc(doc: IndexDoc) -> PreparedDoc:
    """Plain text and normalised tokens of a translation; refuses an empty id or locale or an unknown visibility."""
    article_id, locale = text.clean(doc.article_id).strip(), text.clean(doc.locale).strip()
    if not article_id or not locale:
        raise ValueError("a knowledge-base translation needs an article_id and a locale")
    if doc.visibility not in VISIBILITIES:
        raise ValueError(f"article {doc.article_id}: visibility must be public or internal, not {doc.visibility!r}")
    title = " ".join(text.clean(doc.title).split())
    body = text.markdown_to_text(doc.body)
    title_text, body_text = (text.analyse(field).truncated(MAX_FIELD_TOKENS) for field in (title, body))
    tokens = StoredTokens(
        " ".join(title_text.words),
        " ".join(body_text.words),
        " ".join(lexeme("k", key) for key in title_text.keys),
        " ".join(lexeme("k", key) for key in body_text.keys),
        len(title_text.words),
        len(body_text.words),
    )
    return PreparedDoc(article_id, locale, doc.visibility, title, body, tokens)


def vocabulary_deltas(added: Iterable[StoredTokens], removed: Iterable[StoredTokens]) -> list[tuple[Kind, str, int]]:
    """Document-frequency changes from translations added and removed, sorted (a stable lock order)."""
    deltas: Counter[tuple[Kind, str]] = Counter()
    for doc in added:
        deltas.update(doc.terms())
    for doc in removed:
        deltas.subtract(doc.terms())
    return [(kind, term, n) for (kind, term), n in sorted(deltas.items()) if n]


def known_and_stats(rows: Iterable[Sequence[Any]]) -> tuple[dict[tuple[Kind, str], int], Stats]:
    """Vocabulary rows `(kind, term, df)`, and the corpus totals given as kind '#' rows."""
    known: dict[tuple[Kind, str], int] = {}
    totals: dict[str, int] = {}
    for kind, term, count in rows:
        if kind == "#":
            totals[term] = count
        else:
            known[(kind, term)] = count
    return known, Stats(totals.get("docs", 0), totals.get("title", 0), totals.get("body", 0))


def stats_delta(added: Sequence[StoredTokens], removed: Sequence[StoredTokens]) -> Stats:
    """Corpus totals' change from translations added and removed."""
    return Stats(
        len(added) - len(removed),
        sum(d.title_len for d in added) - sum(d.title_len for d in removed),
        sum(d.body_len for d in added) - sum(d.body_len for d in removed),
    )


class IndexedSearch(ABC):
    """The search engine over a database; subclasses supply the storage and the native narrowing."""

    def __init__(self, *, pool_size: int = DEFAULT_POOL_SIZE) -> None:
        self.pool_size = pool_size

    async def index(self, doc: IndexDoc) -> None:
        """Index (or re-index) one translation of an article."""
        await self.index_many([doc])

    async def index_many(self, docs: Iterable[IndexDoc]) -> None:
        """Index (or re-index) many translations in one transaction; the last of duplicates wins."""
        prepared = {(d.article_id, d.locale): d for d in map(prepare_doc, docs)}
        if prepared:
            await self._write(list(prepared.values()), [])

    async def remove(self, article_id: str, locale: str | None = None) -> None:
        """Remove one translation of an article, or all of them when `locale` is None."""
        await self._write([], [(article_id, locale)])

    async def search(
        self, query: str, *, locale: str | None = None, limit: int = 10, visibility: Collection[Visibility] = PUBLIC
    ) -> list[Hit]:
        """The best hits for `query`, best first; one per article when `locale` is None."""
        words = parse(query)
        allowed = sorted(set(visibility) & VISIBILITIES)
        if not words or not allowed:
            return []
        known, stats = await self._lookup(probes(words))
        if stats.docs <= 0:
            return []
        misspelt = typo_probes(words, known)
        typos = await self._typos(misspelt) if misspelt else {}
        near = near_probes(words, known)
        if near:
            known |= (await self._lookup(Probes(near, frozenset())))[0]
        groups = resolve(words, known, typos)
        if not groups:
            return []
        frequencies = {(t.kind, t.term): t.df for group in groups for t in group}
        terms = sorted(frequencies)
        limit = max(1, min(limit, MAX_LIMIT))
        pool = max(self.pool_size, limit)
        # When every match fits in the pool, the database need not rank: both fetch the same set.
        candidates = await self._candidates(terms, locale, allowed, pool, ranked=sum(frequencies.values()) > pool)
        ranked = ranking.rank(groups, candidates, stats, per_article=locale is None)[:limit]
        bodies = await self._bodies([r.candidate.doc_id for r in ranked])
        matched = set(terms)
        return [
            Hit(
                r.candidate.article_id,
                r.candidate.locale,
                round(r.score, 6),
                ranking.snippet(bodies[r.candidate.doc_id], matched),
            )
            for r in ranked
        ]

    @abstractmethod
    async def _write(self, docs: Sequence[PreparedDoc], removals: Sequence[tuple[str, str | None]]) -> None:
        """Store translations (replacing any with the same article and locale) and remove others, in one
        transaction that also keeps the vocabulary and the corpus totals."""

    @abstractmethod
    async def _lookup(self, probes: Probes) -> tuple[dict[tuple[Kind, str], int], Stats]:
        """The vocabulary terms the probes find, with their document frequency, and the corpus totals
        (one round trip)."""

    @abstractmethod
    async def _typos(self, probes: Sequence[tuple[Kind, str]]) -> dict[tuple[Kind, str], dict[str, int]]:
        """For each probe, the vocabulary terms of its kind exactly one edit away, with their frequency."""

    @abstractmethod
    async def _candidates(
        self,
        terms: Sequence[tuple[Kind, str]],
        locale: str | None,
        visibility: Sequence[str],
        pool: int,
        *,
        ranked: bool,
    ) -> list[Candidate]:
        """Up to `pool` translations containing any of `terms`: the best by the database's own ranking
        when `ranked`, else every match (the caller knows there are at most `pool`)."""

    @abstractmethod
    async def _bodies(self, doc_ids: Sequence[int]) -> dict[int, str]:
        """The plain body (or the title, when the body is empty) of the given translations."""
