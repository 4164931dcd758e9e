"""The `emporio` command, run as a real child process against the session's database: keys,
migrate, plugins, and the one-line human errors (never a traceback) for mistakes a person makes."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path
from typing import Any

from core.plugins import DEFAULT_PLUGINS


async def emporio(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "core.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def assert_one_line_error(code: int, err: str, *fragments: str) -> None:
    assert code != 0
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, err
    for fragment in fragments:
        assert fragment in errors[0], err


async def test_keys_create_prints_a_working_key_alone_on_the_last_line(api: Any, test_env: dict[str, str]) -> None:
    code, out, err = await emporio(
        test_env, "keys", "create", "--name", "warehouse-tablet", "--scope", "ops", "--scope", "agent"
    )
    assert code == 0, err
    last = out.strip().splitlines()[-1]
    assert re.fullmatch(r"emp_[A-Za-z0-9_\-]{20,}", last), out
    assert "warehouse-tablet" in err and "ops, agent" in err  # the chatter goes to stderr; stdout is the key
    headers = {"Authorization": f"Bearer {last}"}
    assert (await api.client.get("/v1/products", headers=headers)).status_code == 200  # ops
    assert (await api.client.get("/v1/customers/cus_x/timeline", headers=headers)).status_code == 404  # agent
    assert (await api.client.get("/v1/plugins", headers=headers)).status_code == 403  # not admin
    assert (await api.client.get("/v1/products", headers={"Authorization": "Bearer emp_forged"})).status_code == 401


async def test_human_errors_are_one_line_without_a_traceback(test_env: dict[str, str], tmp_path: Path) -> None:
    bad_scope, missing_file, bad_url = await asyncio.gather(
        emporio(test_env, "keys", "create", "--name", "x", "--scope", "wizard"),
        emporio(test_env, "import", str(tmp_path / "nowhere.jsonl")),
        emporio({**test_env, "EMPORIO_DATABASE_URL": "mysql://db/shop"}, "migrate"),
    )
    code, out, err = bad_scope
    assert_one_line_error(code, err, "unknown scope(s) wizard", "admin, agent, ops, storefront")
    assert out == ""  # no key printed
    code, _, err = missing_file
    assert_one_line_error(code, err, "nowhere.jsonl", "does not exist")
    code, _, err = bad_url
    assert_one_line_error(code, err, "EMPORIO_DATABASE_URL must start with postgresql:// or sqlite:///")


async def test_migrate_twice_is_up_to_date(test_env: dict[str, str], tmp_path: Path, app_client: Any) -> None:
    # The session's database was migrated when the runtime started (`app_client`), so it is up to date. A fresh
    # database: the first run applies every migration, the second has nothing to do.
    fresh = {**test_env, "EMPORIO_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}"}
    session, fresh_first = await asyncio.gather(emporio(test_env, "migrate"), emporio(fresh, "migrate"))
    fresh_second = await emporio(fresh, "migrate")
    for code, out, err in (session, fresh_second):
        assert (code, out.strip()) == (0, "the database is up to date"), err
    code, out, err = fresh_first
    assert code == 0, err
    applied = out.strip().removeprefix("applied: ").split(", ")
    core = [name for name in applied if ":" not in name]
    assert applied[0] == "0001_foundation" and applied[: len(core)] == sorted(core) and len(core) >= 4, out
    # Then each plugin's set, in plugin order, its own migrations in their order.
    sets: dict[str, list[str]] = {}
    for name in applied[len(core) :]:
        owner, _, migration = name.partition(":")
        sets.setdefault(owner, []).append(migration)
    assert sets and all(steps == sorted(steps) for steps in sets.values()), out


async def test_plugins_lists_the_builtins(test_env: dict[str, str]) -> None:
    code, out, err = await emporio(test_env, "plugins")
    assert code == 0, err
    listed = {line.split(" ", 1)[0]: line for line in out.strip().splitlines()}
    assert set(DEFAULT_PLUGINS) <= set(listed)
    assert listed["core.jobs.plugin"].endswith("(builtin): register_jobs, register_tables")
    assert "register_routes" in listed["api-orders"]


async def test_kpis_prints_every_kpi_as_a_table_and_one_as_csv(test_env: dict[str, str], api: Any) -> None:
    # `api`: an empty database, so the period has no order
    code, out, err = await emporio(test_env, "kpis", "--from", "2026-11-01", "--to", "2026-12-01")
    assert code == 0, err
    assert "2026-11-01 00:00 → 2026-12-01 00:00 UTC" in out
    assert "average_order_value" in out and "minor_units" in out
    code, out, err = await emporio(
        test_env, "kpis", "--from", "2026-11-01", "--to", "2026-12-01", "--kpi", "orders_placed", "--format", "csv"
    )
    assert code == 0, err
    assert out.splitlines() == [
        "kpi,unit,value,numerator,denominator,n,from,to",
        "orders_placed,count,0,,,,2026-11-01T00:00:00Z,2026-12-01T00:00:00Z",
    ]
