"""The search tables of the knowledge base, as plain SQL statements for numbered migrations.

- `kms_search_docs`: one row per article translation (article id + locale): visibility, the plain
  title and body (for snippets) and token counts; on PostgreSQL also the normalised token strings and
  their weighted `tsvector` (title words A, title keys B, body keys C, body words D) under a GIN index.
- `kms_search_fts` (SQLite): an FTS5 table over the same normalised token strings, rowid = docs.id.
- `kms_search_terms`: the vocabulary, `(kind, term)` → document frequency, kept on every index
  write; it drives BM25's idf, the stem families and one-letter typos (GIN trigram index on PostgreSQL;
  `COLLATE "C"` so prefix ranges order by code point, as SQLite's BINARY does).
- `kms_search_stats`: one row of corpus totals for BM25's average lengths.

Every statement is idempotent (`IF NOT EXISTS`); run them in order.
"""

from __future__ import annotations

SQLITE_DDL: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS kms_search_docs (
    id INTEGER PRIMARY KEY,
    article_id TEXT NOT NULL,
    locale TEXT NOT NULL,
    visibility TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    title_len INTEGER NOT NULL,
    body_len INTEGER NOT NULL,
    UNIQUE (article_id, locale)
)""",
    """CREATE VIRTUAL TABLE IF NOT EXISTS kms_search_fts USING fts5(
    title, body, title_k, body_k, tokenize = 'unicode61 remove_diacritics 0'
)""",
    """CREATE TABLE IF NOT EXISTS kms_search_terms (
    kind TEXT NOT NULL,
    term TEXT NOT NULL,
    df INTEGER NOT NULL,
    PRIMARY KEY (kind, term)
) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS kms_search_stats (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    docs INTEGER NOT NULL,
    title_tokens INTEGER NOT NULL,
    body_tokens INTEGER NOT NULL
)""",
    """INSERT INTO kms_search_stats (id, docs, title_tokens, body_tokens) VALUES (1, 0, 0, 0)
ON CONFLICT (id) DO NOTHING""",
)

POSTGRES_DDL: tuple[str, ...] = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """CREATE TABLE IF NOT EXISTS kms_search_docs (
    id bigserial PRIMARY KEY,
    article_id text NOT NULL,
    locale text NOT NULL,
    visibility text NOT NULL,
    title text NOT NULL,
    body text NOT NULL,
    title_words text NOT NULL,
    body_words text NOT NULL,
    title_keys text NOT NULL,
    body_keys text NOT NULL,
    title_len integer NOT NULL,
    body_len integer NOT NULL,
    tsv tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, title_words), 'A')
        || setweight(to_tsvector('simple'::regconfig, title_keys), 'B')
        || setweight(to_tsvector('simple'::regconfig, body_keys), 'C')
        || setweight(to_tsvector('simple'::regconfig, body_words), 'D')
    ) STORED,
    UNIQUE (article_id, locale)
)""",
    "CREATE INDEX IF NOT EXISTS kms_search_docs_tsv ON kms_search_docs USING gin (tsv)",
    """CREATE TABLE IF NOT EXISTS kms_search_terms (
    kind text NOT NULL,
    term text COLLATE "C" NOT NULL,
    df integer NOT NULL,
    PRIMARY KEY (kind, term)
)""",
    "CREATE INDEX IF NOT EXISTS kms_search_terms_trgm ON kms_search_terms USING gin (term gin_trgm_ops)",
    """CREATE TABLE IF NOT EXISTS kms_search_stats (
    id smallint PRIMARY KEY CHECK (id = 1),
    docs bigint NOT NULL,
    title_tokens bigint NOT NULL,
    body_tokens bigint NOT NULL
)""",
    """INSERT INTO kms_search_stats (id, docs, title_tokens, body_tokens) VALUES (1, 0, 0, 0)
ON CONFLICT (id) DO NOTHING""",
)
