"""Fixtures for the knowledge-base search tests, independent of the repository's other fixtures:
the judged corpus indexed on SQLite (a temporary file) and on PostgreSQL (a temporary database,
dropped at the end), and empty indexes on both for tests that write.

PostgreSQL: KMS_TEST_DATABASE_URL, else EMPORIO_DATABASE_URL, else
postgresql://postgres@127.0.0.1:5432/test (then the same as root); tests that need it are skipped
when no server answers."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import aiosqlite
import asyncpg
import pytest

from plugins.kms.search import IndexDoc, IndexedSearch, Visibility
from plugins.kms.search_postgres import PostgresSearchIndex
from plugins.kms.search_sqlite import SqliteSearchIndex
from tests.kms.corpus import ARTICLES

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def corpus_docs() -> list[IndexDoc]:
    """Every translation of the judged corpus."""
    docs: list[IndexDoc] = []
    for article in ARTICLES:
        for locale, (title, body) in (("el", article.el), ("en", article.en)):
            visibility: Visibility = "internal" if article.visibility == "internal" else "public"
            docs.append(IndexDoc(article_id=article.id, locale=locale, title=title, body=body, visibility=visibility))
    return docs


def _with_path(url: str, database: str, user: str | None = None) -> str:
    parts = urlparse(url)
    netloc = parts.netloc
    if user is not None:
        netloc = f"{user}@{netloc.rsplit('@', 1)[-1]}"
    return urlunparse(parts._replace(netloc=netloc, path="/" + database))


async def _admin_url() -> str | None:
    """A URL that connects to the PostgreSQL server (as postgres, then root), or None."""
    base = os.environ.get("KMS_TEST_DATABASE_URL") or os.environ.get("EMPORIO_DATABASE_URL") or DEFAULT_URL
    database = urlparse(base).path.lstrip("/") or "postgres"
    for user in (None, "postgres", "root"):
        url = _with_path(base, database, user)
        try:
            conn = await asyncpg.connect(url, timeout=5)
        except (OSError, asyncpg.PostgresError):
            continue
        await conn.close()
        return url
    return None


@pytest.fixture(scope="session")
async def pg_url() -> AsyncIterator[str]:
    """The URL of a new, empty PostgreSQL database for this session (dropped at the end)."""
    admin_url = await _admin_url()
    if admin_url is None:
        pytest.skip("no PostgreSQL server answers (set KMS_TEST_DATABASE_URL)")
    name = f"kms_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield _with_path(admin_url, name)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
async def sqlite_search(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SqliteSearchIndex]:
    """The judged corpus indexed on SQLite."""
    path = tmp_path_factory.mktemp("kms") / "search.db"
    async with aiosqlite.connect(path) as conn:
        index = SqliteSearchIndex(conn)
        await index.create_schema()
        await index.index_many(corpus_docs())
        yield index


@pytest.fixture(scope="session")
async def pg_search(pg_url: str) -> AsyncIterator[PostgresSearchIndex]:
    """The judged corpus indexed on PostgreSQL."""
    pool = await asyncpg.create_pool(pg_url, min_size=1, max_size=2)
    try:
        index = PostgresSearchIndex(pool)
        await index.create_schema()
        await index.index_many(corpus_docs())
        yield index
    finally:
        await pool.close()


async def _empty_sqlite(path: Path) -> AsyncIterator[IndexedSearch]:
    async with aiosqlite.connect(path) as conn:
        index = SqliteSearchIndex(conn)
        await index.create_schema()
        yield index


async def _empty_postgres(url: str) -> AsyncIterator[IndexedSearch]:
    schema = f"kms_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        await conn.execute(f"CREATE SCHEMA {schema}")
        await conn.execute(f"SET search_path = {schema}, public")
        index = PostgresSearchIndex(conn)
        await index.create_schema()
        yield index
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """Each database: ("sqlite", a file path) or ("postgres", the session database's URL)."""
    if request.param == "sqlite":
        return "sqlite", str(tmp_path / "search.db")
    url: str = request.getfixturevalue("pg_url")
    return "postgres", url


@pytest.fixture
async def empty_index(backend: tuple[str, str]) -> AsyncIterator[IndexedSearch]:
    """An empty search index on each database (PostgreSQL: a schema of its own in the session database)."""
    kind, where = backend
    make = _empty_sqlite(Path(where)) if kind == "sqlite" else _empty_postgres(where)
    async for index in make:
        yield index


@pytest.fixture(params=["sqlite", "pg"])
def corpus_index(request: pytest.FixtureRequest) -> IndexedSearch:
    """The judged corpus on each database."""
    index: IndexedSearch = request.getfixturevalue(f"{request.param}_search")
    return index
