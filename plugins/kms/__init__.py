"""The knowledge base plugin. Its search understands Greek (accents, final sigma, stemming, stop
words, Greeklish, one-letter typos) and ranks alike on SQLite and PostgreSQL.

The search library:
- `text`: normalisation (pure functions); `query`: a query's words and their index terms;
  `ranking`: BM25F and snippets; `search`: the `SearchIndex` interface and the shared engine;
  `search_sqlite`, `search_postgres`: the two databases; `schema`: their DDL.

The plugin (`plugin`: its hooks), with the index in the engine's own database:
- `tables`, `migrations/`: articles, translations, versions, searches, votes and the index;
  `indexing`: the index on the unit of work's connection (index writes commit with the article);
- `articles`: draft → published → archived, scheduled publication, a version per save;
  `versions`: list, diff, restore; `content`: Markdown → sanitised HTML, slugs, version text;
- `answers`: searches with their `search_id`, votes, the answer source, macro links;
- `kpis`: deflection, helpfulness, no-result rate, content gaps; `jobs`: the scheduler;
- `routes`, `pages`, `static/`: the API (service.md §2), the ops editor and the public page;
  `model`: the API's types; `urls`: where customers read an article (EMPORIO_KB_ARTICLE_URL).
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
