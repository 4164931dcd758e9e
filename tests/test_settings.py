"""Settings: every EMPORIO_* variable is declared once (the core's in core/settings.py, a plugin's
through `register_settings`), read only through `core.settings.read`, documented in README by
the generated table, and secrets never show up in errors or reprs."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path

import pytest

from core import settings_reference
from core.plugins import PluginHost
from core.settings import (
    CORE_SETTINGS,
    DATABASE_URL,
    DISPATCH_TIMES,
    KPI_ROLLUPS,
    OPS_SESSION_HOURS,
    SettingSpec,
    load_settings,
    read,
    shown,
)
from plugins.psp_stripe.plugin import API_KEY as STRIPE_API_KEY

ROOT = Path(__file__).resolve().parents[1]
ENVIRONMENT_READ = re.compile(r"\bos\.environ\b|\bgetenv\b|^\s*from os import .*\benviron\b")
NAME = re.compile(r"\bEMPORIO_[A-Z0-9_]*[A-Z0-9]\b")


def sources() -> list[Path]:
    """The engine's own code: core, api and plugins (tests and bench may set the environment)."""
    return sorted(p for top in ("core", "api", "plugins") for p in (ROOT / top).rglob("*.py"))


@pytest.fixture(scope="module")
def host() -> PluginHost:
    return PluginHost()


def test_readme_settings_table_is_generated_from_the_declarations(host: PluginHost) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = settings_reference.render(host)
    assert settings_reference.replace_section(readme, table) == readme, (
        "README's settings table is out of date; run `python -m core.settings_reference --write README.md`"
    )
    for spec, _ in settings_reference.declared(host):
        assert f"| `{spec.name}` |" in readme


def test_the_environment_is_read_only_by_core_settings() -> None:
    readers = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sources()
        if path != ROOT / "core" / "settings.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if ENVIRONMENT_READ.search(line)
    ]
    assert readers == [], "read settings with core.settings.read(SPEC), not from os.environ: " + ", ".join(readers)


def test_every_setting_the_code_names_is_declared(host: PluginHost) -> None:
    declared = {spec.name for spec, _ in settings_reference.declared(host)}
    examples = ROOT / "core" / "hookspecs"  # hook docs show plugins that do not exist (Skroutz, BoxNow)
    named = {
        (name, str(path.relative_to(ROOT)))
        for path in sources()
        if examples not in path.parents
        for name in NAME.findall(path.read_text(encoding="utf-8"))
    }
    undeclared = sorted(f"{name} ({where})" for name, where in named if name not in declared)
    assert undeclared == [], "declare these settings (core/settings.py or the plugin's register_settings)"
    assert len(declared) == len(CORE_SETTINGS) + len(host.settings)  # one declaration per name


def test_defaults_are_the_engines_defaults() -> None:
    settings = load_settings({})
    assert settings.data_dir == Path("./var").resolve()
    assert (settings.database_url, settings.redis_url, settings.trace_plugins) == (None, None, False)
    assert (settings.log_level, settings.disabled_plugins, settings.idempotency_ttl_hours) == ("info", (), 24)
    assert (settings.promise_ship_days, settings.promise_delivery_days) == (1, 3)
    assert read(DISPATCH_TIMES, {}) == (time(13, 0), time(18, 0))
    assert read(KPI_ROLLUPS, {}) is True and read(OPS_SESSION_HOURS, {}) == 12.0


def test_values_are_typed_and_blank_means_the_default_unless_blank_is_a_choice() -> None:
    env = {
        "EMPORIO_TRACE_PLUGINS": "yes",
        "EMPORIO_DISABLED_PLUGINS": " psp-cod, ,courier-acs ",
        "EMPORIO_PROMISE_SHIP_DAYS": "2",
        "EMPORIO_LOG_LEVEL": "DEBUG",
        "EMPORIO_IDEMPOTENCY_TTL_HOURS": "  ",
    }
    settings = load_settings(env)
    assert settings.trace_plugins is True and settings.disabled_plugins == ("psp-cod", "courier-acs")
    assert (settings.promise_ship_days, settings.log_level, settings.idempotency_ttl_hours) == (2, "debug", 24)
    assert read(DISPATCH_TIMES, {"EMPORIO_DISPATCH_TIMES": "18:00, 09:30"}) == (time(9, 30), time(18, 0))
    assert read(DISPATCH_TIMES, {"EMPORIO_DISPATCH_TIMES": ""}) == ()  # blank: no automatic closes
    assert read(KPI_ROLLUPS, {"EMPORIO_KPI_ROLLUPS": "0"}) is False


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "EMPORIO_IDEMPOTENCY_TTL_HOURS",
            "12",
            "EMPORIO_IDEMPOTENCY_TTL_HOURS must be a whole number of hours, at least 24 (got '12')",
        ),
        ("EMPORIO_PROMISE_SHIP_DAYS", "two", "EMPORIO_PROMISE_SHIP_DAYS must be a whole number (got 'two')"),
        ("EMPORIO_TRACE_PLUGINS", "maybe", "EMPORIO_TRACE_PLUGINS must be on or off"),
        ("EMPORIO_TIMEZONE", "Mars/Olympus", "EMPORIO_TIMEZONE must be an IANA time zone"),
        (
            "EMPORIO_DATABASE_URL",
            "mysql://shop:hunter2@db/shop",
            "EMPORIO_DATABASE_URL must start with postgresql:// or sqlite:///",
        ),
    ],
)
def test_a_bad_value_is_refused_naming_the_variable(name: str, value: str, message: str) -> None:
    spec = next(s for s in CORE_SETTINGS if s.name == name)
    with pytest.raises(ValueError) as refused:
        read(spec, {name: value})
    assert message in str(refused.value)
    assert "hunter2" not in str(refused.value)


def test_secrets_never_show() -> None:
    secret = "sk_live_do_not_print"
    with pytest.raises(ValueError) as refused:
        read(
            SettingSpec(name="EMPORIO_TEST_SECRET_NUMBER", type=int, default=0, doc="a secret number", secret=True),
            {"EMPORIO_TEST_SECRET_NUMBER": secret},
        )
    assert secret not in str(refused.value) and "EMPORIO_TEST_SECRET_NUMBER must be a whole number" in str(
        refused.value
    )
    assert shown(STRIPE_API_KEY, {"EMPORIO_STRIPE_API_KEY": secret}) == "(set)"
    assert shown(STRIPE_API_KEY, {}) == "(unset)"
    settings = load_settings({"EMPORIO_DATABASE_URL": "postgresql://shop:hunter2@db/shop"})
    assert settings.database_url == "postgresql://shop:hunter2@db/shop"
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings)
    assert read(DATABASE_URL, {"EMPORIO_DATABASE_URL": "sqlite:////tmp/x.sqlite3"}) == "sqlite:////tmp/x.sqlite3"


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"name": "STRIPE_KEY"}, "must be an upper-case name starting with EMPORIO_"),
        ({"doc": "two\nlines"}, "the doc must be one line"),
        ({"type": list}, "give `parse` for a list value"),
    ],
)
def test_a_malformed_declaration_is_refused(kwargs: dict[str, object], problem: str) -> None:
    spec: dict[str, object] = {"name": "EMPORIO_X", "type": str, "default": None, "doc": "x"}
    with pytest.raises(ValueError, match=re.escape(problem)):
        SettingSpec(**{**spec, **kwargs})  # type: ignore[arg-type]
