"""The knowledge base plugin. Its search understands Greek (accents, final sigma, stemming, stop
words, Greeklish, one-letter typos) and ranks alike on SQLite and PostgreSQL.

- `text`: normalisation (pure functions); `query`: a query's words and their index terms;
  `ranking`: BM25F and snippets; `search`: the `SearchIndex` interface and the shared engine;
  `search_sqlite`, `search_postgres`: the two databases; `schema`: their DDL.
"""

from plugins.kms.query import QueryError
from plugins.kms.schema import POSTGRES_DDL, SQLITE_DDL
from plugins.kms.search import Hit, IndexDoc, IndexedSearch, SearchIndex, Visibility
from plugins.kms.search_postgres import PostgresSearchIndex
from plugins.kms.search_sqlite import SqliteSearchIndex

__all__ = [
    "POSTGRES_DDL",
    "SQLITE_DDL",
    "Hit",
    "IndexDoc",
    "IndexedSearch",
    "PostgresSearchIndex",
    "QueryError",
    "SearchIndex",
    "SqliteSearchIndex",
    "Visibility",
]
