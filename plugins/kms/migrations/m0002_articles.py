"""Articles (one row each, with a translation per locale), every saved version of their content,
the searches people ran (for deflection and content gaps) and the "did this help?" votes."""

NAME = "articles"

STATEMENTS = [
    """CREATE TABLE kms_articles (
        id TEXT PRIMARY KEY, slug TEXT NOT NULL, category TEXT,
        visibility TEXT NOT NULL CHECK (visibility IN ('public', 'internal')),
        status TEXT NOT NULL CHECK (status IN ('draft', 'published', 'archived')),
        version INTEGER NOT NULL, publish_at TIMESTAMPTZ, published_at TIMESTAMPTZ, archived_at TIMESTAMPTZ,
        created_by TEXT NOT NULL, updated_by TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL)""",
    "CREATE UNIQUE INDEX kms_articles_slug ON kms_articles (slug)",
    "CREATE INDEX kms_articles_due ON kms_articles (status, publish_at)",
    """CREATE TABLE kms_translations (
        id TEXT PRIMARY KEY, article_id TEXT NOT NULL REFERENCES kms_articles (id),
        locale TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL)""",
    "CREATE UNIQUE INDEX kms_translations_locale ON kms_translations (article_id, locale)",
    """CREATE TABLE kms_article_versions (
        id TEXT PRIMARY KEY, article_id TEXT NOT NULL REFERENCES kms_articles (id), version INTEGER NOT NULL,
        slug TEXT NOT NULL, category TEXT, visibility TEXT NOT NULL, translations TEXT NOT NULL,
        restored_from INTEGER, created_by TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL)""",
    "CREATE UNIQUE INDEX kms_article_versions_number ON kms_article_versions (article_id, version)",
    """CREATE TABLE kms_searches (
        id TEXT PRIMARY KEY, audience TEXT NOT NULL, customer_id TEXT REFERENCES customers (id),
        query TEXT NOT NULL, normalized TEXT NOT NULL, locale TEXT, results INTEGER NOT NULL,
        top_article_id TEXT, at TIMESTAMPTZ NOT NULL)""",
    "CREATE INDEX kms_searches_at ON kms_searches (at)",
    "CREATE INDEX kms_searches_customer ON kms_searches (customer_id, at)",
    """CREATE TABLE kms_feedback (
        id TEXT PRIMARY KEY, article_id TEXT NOT NULL REFERENCES kms_articles (id),
        search_id TEXT REFERENCES kms_searches (id), customer_id TEXT REFERENCES customers (id),
        helpful BOOLEAN NOT NULL, at TIMESTAMPTZ NOT NULL)""",
    "CREATE UNIQUE INDEX kms_feedback_once ON kms_feedback (search_id, article_id)",
    "CREATE INDEX kms_feedback_at ON kms_feedback (at)",
]
