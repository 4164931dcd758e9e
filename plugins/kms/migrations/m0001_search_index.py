"""The search index in the engine's own database, as `plugins.kms.schema` describes it (frozen
here, as a released migration must be), with two changes for living among the engine's tables:

- SQLite: a trigger removes a translation's full-text row with its document row, so emptying
  `kms_search_docs` (a reset, a repair) can never leave FTS rows behind to collide with new ids;
- the counters' types are the same on both databases (integer id, bigint totals), so one Piccolo
  table mirrors them.
"""

NAME = "search_index"

STATEMENTS_SQLITE = [
    """CREATE TABLE kms_search_docs (
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
    """CREATE VIRTUAL TABLE kms_search_fts USING fts5(
    title, body, title_k, body_k, tokenize = 'unicode61 remove_diacritics 0'
)""",
    """CREATE TRIGGER kms_search_docs_drop_fts AFTER DELETE ON kms_search_docs
BEGIN DELETE FROM kms_search_fts WHERE rowid = old.id; END""",
    """CREATE TABLE kms_search_terms (
    kind TEXT NOT NULL,
    term TEXT NOT NULL,
    df INTEGER NOT NULL,
    PRIMARY KEY (kind, term)
) WITHOUT ROWID""",
    """CREATE TABLE kms_search_stats (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    docs BIGINT NOT NULL,
    title_tokens BIGINT NOT NULL,
    body_tokens BIGINT NOT NULL
)""",
    "INSERT INTO kms_search_stats (id, docs, title_tokens, body_tokens) VALUES (1, 0, 0, 0)",
]

STATEMENTS_POSTGRES = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """CREATE TABLE kms_search_docs (
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
    "CREATE INDEX kms_search_docs_tsv ON kms_search_docs USING gin (tsv)",
    """CREATE TABLE kms_search_terms (
    kind text NOT NULL,
    term text COLLATE "C" NOT NULL,
    df integer NOT NULL,
    PRIMARY KEY (kind, term)
)""",
    "CREATE INDEX kms_search_terms_trgm ON kms_search_terms USING gin (term gin_trgm_ops)",
    """CREATE TABLE kms_search_stats (
    id integer PRIMARY KEY CHECK (id = 1),
    docs bigint NOT NULL,
    title_tokens bigint NOT NULL,
    body_tokens bigint NOT NULL
)""",
    "INSERT INTO kms_search_stats (id, docs, title_tokens, body_tokens) VALUES (1, 0, 0, 0)",
]
