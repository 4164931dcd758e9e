"""A database of a test's own, built by migrations, on the dialect the session runs on (a temp
SQLite file, or a new PostgreSQL database beside the session's), so a test can migrate from
scratch without touching the shared one."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import msgspec

from core.db.database import Database
from core.db.migrations import MigrationSet
from core.runtime import Runtime
from tests.conftest import _pg_admin, _with_db


@contextlib.asynccontextmanager
async def fresh_database(
    runtime: Runtime, tmp_path: Path, migration_sets: Sequence[tuple[str, MigrationSet]] = ()
) -> AsyncIterator[Database]:
    """An empty database (nothing migrated). The ledger tables are bound to it while the block
    runs, then bound back to the session's database."""
    settings = runtime.settings
    created = None
    if settings.is_postgres:
        assert settings.database_url is not None
        created = f"emporio_fresh_{uuid.uuid4().hex[:10]}"
        await _pg_admin(settings.database_url, f'CREATE DATABASE "{created}"')
        url = _with_db(settings.database_url, created)
    else:
        url = f"sqlite:///{tmp_path / f'fresh-{uuid.uuid4().hex[:8]}.sqlite3'}"
    database = Database(msgspec.structs.replace(settings, database_url=url), (), migration_sets)
    await database.start(pool_size=2)
    try:
        yield database
    finally:
        await database.stop()
        for table in runtime.db.tables:  # every table the session's runtime queries, back to it
            table._meta.db = runtime.db.engine
        if created is not None:
            assert settings.database_url is not None
            await _pg_admin(settings.database_url, f'DROP DATABASE IF EXISTS "{created}" WITH (FORCE)')
