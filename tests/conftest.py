"""Fixtures: one runtime and app per session on SQLite + embedded Redis by default, or on a
fresh PostgreSQL database + Redis when EMPORIO_DATABASE_URL / EMPORIO_REDIS_URL are set."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlparse, urlunparse

import httpx
import pytest

from api.app import create_app
from core.access import apikeys
from core.catalogue.catalogue import ensure_channels
from core.db import introspect, schema
from core.db.introspect import children_first
from core.runtime import Runtime

# The contract suites' helpers and assertion rewriting, as any plugin's own tests load them.
pytest_plugins = ("core.testing.fixtures",)

ROLES = ("admin", "ops", "agent", "storefront")


def _with_db(url: str, name: str) -> str:
    parts = urlparse(url)
    return urlunparse(parts._replace(path="/" + name))


async def _pg_admin(url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def test_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Point the engine at throwaway storage: a temp data dir, and on PostgreSQL a new database."""
    saved = dict(os.environ)
    os.environ["EMPORIO_DATA_DIR"] = str(tmp_path_factory.mktemp("emporio-data"))
    # No automatic daily closes during tests: a test closes the dispatch itself when it wants to.
    os.environ["EMPORIO_DISPATCH_TIMES"] = ""
    # A queue of this session's own: sessions sharing one Redis never take each other's jobs.
    os.environ["EMPORIO_QUEUE_NAME"] = f"emporio:test:{uuid.uuid4().hex[:8]}"
    base = os.environ.get("EMPORIO_DATABASE_URL", "")
    created = None
    if base.startswith(("postgres://", "postgresql://")):
        created = f"emporio_test_{uuid.uuid4().hex[:10]}"
        asyncio.run(_pg_admin(base, f'CREATE DATABASE "{created}"'))
        os.environ["EMPORIO_DATABASE_URL"] = _with_db(base, created)
    try:
        yield dict(os.environ)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        if created:
            asyncio.run(_pg_admin(base, f'DROP DATABASE IF EXISTS "{created}" WITH (FORCE)'))


@pytest.fixture(scope="session")
async def runtime(test_env: dict[str, str]) -> AsyncIterator[Runtime]:
    yield Runtime()


@pytest.fixture(scope="session")
async def app_client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The app served in-process on the test's own event loop (Litestar's AsyncTestClient would run
    the lifespan and every request on a portal thread with its own loop: PostgreSQL pools created
    there cannot be used by fixtures, and concurrent requests would be serialised)."""
    app = create_app(runtime)
    started, stop = asyncio.Event(), asyncio.Event()

    async def lifespan() -> None:  # entered and left in one task (its task group requires that)
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(lifespan())
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
    if not started.is_set():
        waiter.cancel()
        task.result()  # startup failed: raise its error here
    try:
        # httpx types an ASGI app with plain MutableMapping scopes, Litestar with TypedDicts: the same protocol.
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
            base_url="http://testserver.local",
            timeout=60,
        ) as client:
            yield client
    finally:
        stop.set()
        await task


class Api:
    """The test client plus one API key per scope: `await api.post(path, json=…, as_="ops")`."""

    def __init__(self, client: httpx.AsyncClient, keys: dict[str, str]) -> None:
        self.client = client
        self.keys = keys

    def headers(self, as_: str | None, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = dict(extra or {})
        if as_ is not None:
            headers["Authorization"] = f"Bearer {self.keys[as_]}"
        return headers

    async def get(self, path: str, *, as_: str | None = "admin", **kw: Any) -> Any:
        return await self.client.get(path, headers=self.headers(as_, kw.pop("headers", None)), **kw)

    async def post(self, path: str, *, as_: str | None = "admin", **kw: Any) -> Any:
        return await self.client.post(path, headers=self.headers(as_, kw.pop("headers", None)), **kw)

    async def put(self, path: str, *, as_: str | None = "admin", **kw: Any) -> Any:
        return await self.client.put(path, headers=self.headers(as_, kw.pop("headers", None)), **kw)

    async def patch(self, path: str, *, as_: str | None = "admin", **kw: Any) -> Any:
        return await self.client.patch(path, headers=self.headers(as_, kw.pop("headers", None)), **kw)


async def reset_database(runtime: Runtime) -> None:
    if runtime.queue is not None:  # jobs of earlier tests (and of workers they killed) go too
        await runtime.queue.clear()
        # … and the agents an earlier test marked online (their presence outlives the test)
        async for key in runtime.queue.pool.scan_iter(match=f"{runtime.queue.name}:presence:*", count=500):
            await runtime.queue.pool.delete(key)
    tables = [t._meta.tablename for t in runtime.db.tables if t not in schema.TABLES]
    async with runtime.db.write():
        if runtime.db.is_postgres:
            await runtime.db.fetch("TRUNCATE " + ", ".join(tables) + " CASCADE")
        else:
            # Children first: SQLite checks each deleted parent row against the tables referring to it.
            if "reset_order" not in runtime.state:
                runtime.state["reset_order"] = children_first(tables, await introspect.foreign_keys(runtime.db))
            for table in runtime.state["reset_order"]:
                await runtime.db.fetch(f"DELETE FROM {table}")
        await ensure_channels({code: r.value.name for code, r in runtime.host.channels.items()})


@pytest.fixture
async def api(app_client: httpx.AsyncClient, runtime: Runtime) -> Api:
    """A clean database and fresh keys for every test."""
    await reset_database(runtime)
    keys = {}
    async with runtime.db.write():
        for role in ROLES:
            keys[role] = (await apikeys.create_key(f"test-{role}", [role])).key
    return Api(app_client, keys)


@pytest.fixture
async def worker(runtime: Runtime, api: Api) -> AsyncIterator[Runtime]:
    """Run the background worker beside the API for one test."""
    from core.jobs.worker import run_worker

    stop = asyncio.Event()
    task = asyncio.create_task(run_worker(runtime, stop))
    try:
        yield runtime
    finally:
        stop.set()
        await task
