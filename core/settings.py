"""Every EMPORIO_* setting the core reads, declared once (name, type, default, one-line doc), and
`read`, the one function through which the core and the plugins read the environment.

Plugins declare their own settings with the same `SettingSpec` through the `register_settings`
hook, so the core names no vendor's setting; README's settings table is generated from both
(`python -m core.settings_reference`). `load_settings` reads what the engine needs at start;
settings a use case needs at call time (the shop's time zone, the default courier…) are read with
`read(SPEC)` where they are used, so a changed environment takes effect without a restart.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import time
from pathlib import Path
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

T = TypeVar("T")

PREFIX = "EMPORIO_"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class SettingSpec(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    """One environment variable: how it is read, what it defaults to and what it means.

    `type` is the Python type the text becomes (`str`, `int`, `float`, `bool`, `Path`); a setting
    whose text needs more than that (a list, a range, a URL scheme) gives `parse`, which raises a
    ValueError saying what is wrong ("must be …"). A `secret` is never shown in errors, listings or
    reprs. A blank value means the default, unless `blank` is given: then a blank value is a choice
    of its own (`EMPORIO_DISPATCH_TIMES=` means "no automatic closes").
    """

    name: str
    type: type[Any]
    default: T
    doc: str
    secret: bool = False
    parse: Callable[[str], T] | None = None
    blank: Callable[[], T] | None = None
    default_text: str | None = None  # how the README shows a default that is not a literal

    def __post_init__(self) -> None:
        if not self.name.startswith(PREFIX) or not self.name.isupper():
            raise ValueError(f"setting {self.name!r} must be an upper-case name starting with {PREFIX}")
        if not self.doc.strip() or "\n" in self.doc:
            raise ValueError(f"setting {self.name}: the doc must be one line")
        if self.parse is None and self.type not in _PARSERS:
            raise ValueError(f"setting {self.name}: give `parse` for a {self.type.__name__} value")


def _parse_int(raw: str) -> int:
    if not raw.isdigit():
        raise ValueError("must be a whole number")
    return int(raw)


def _parse_float(raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise ValueError("must be a number") from None


def _parse_bool(raw: str) -> bool:
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise ValueError("must be on or off (1/0, true/false, yes/no)")


_PARSERS: dict[type[Any], Callable[[str], Any]] = {
    str: str,
    int: _parse_int,
    float: _parse_float,
    bool: _parse_bool,
    Path: Path,
}


def read(spec: SettingSpec[T], environ: Mapping[str, str] | None = None) -> T:
    """The setting's value from the environment (or `environ`), else its default. A malformed
    value raises a ValueError naming the variable (and, unless secret, the value given)."""
    env = os.environ if environ is None else environ
    raw = env.get(spec.name)
    if raw is None:
        return spec.default
    text = raw.strip()
    if not text:
        return spec.blank() if spec.blank is not None else spec.default
    parse = spec.parse or _PARSERS[spec.type]
    try:
        return parse(text)
    except ValueError as exc:
        shown = "" if spec.secret else f" (got {text!r})"
        raise ValueError(f"{spec.name} {exc}{shown}") from None


def shown(spec: SettingSpec[Any], environ: Mapping[str, str] | None = None) -> str:
    """The value as a listing may print it: secrets only say whether they are set."""
    env = os.environ if environ is None else environ
    raw = env.get(spec.name)
    if spec.secret:
        return "(set)" if raw and raw.strip() else "(unset)"
    return raw if raw is not None else f"(default: {default_text(spec)})"


def default_text(spec: SettingSpec[Any]) -> str:
    if spec.default_text is not None:
        return spec.default_text
    value = spec.default
    if value is None:
        return "(unset)"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return ",".join(v.isoformat("minutes") if isinstance(v, time) else str(v) for v in value) or "(empty)"
    return str(value)


# -- the core's settings -------------------------------------------------------------------------


def _database_url(raw: str) -> str:
    if not raw.startswith(("postgres://", "postgresql://", "sqlite:///")):
        raise ValueError(f"must start with postgresql:// or sqlite:/// (got {raw.split(':', 1)[0]}://…)")
    return raw


def _names(raw: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in raw.split(",") if p.strip())


def _ttl_hours(raw: str) -> int:
    if not raw.isdigit() or int(raw) < 24:
        raise ValueError("must be a whole number of hours, at least 24")
    return int(raw)


def _zone(raw: str) -> str:
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("must be an IANA time zone such as Europe/Athens") from None
    return raw


def _session_hours(raw: str) -> float:
    try:
        hours = float(raw)
    except ValueError:
        raise ValueError("must be a number of hours, e.g. 12") from None
    if not 0 < hours <= 24 * 30:  # also refuses nan and inf
        raise ValueError("must be between 0 and 720 hours")
    return hours


def _times(raw: str) -> tuple[time, ...]:
    try:
        return tuple(sorted(time.fromisoformat(t.strip()) for t in raw.split(",") if t.strip()))
    except ValueError:
        raise ValueError("must be HH:MM times separated by commas") from None


def _no_times() -> tuple[time, ...]:
    return ()


DATA_DIR: SettingSpec[Path] = SettingSpec(
    name="EMPORIO_DATA_DIR",
    type=Path,
    default=Path("./var"),
    doc="SQLite file, embedded Redis socket, demo keys",
    default_text="./var",
)
DATABASE_URL: SettingSpec[str | None] = SettingSpec(
    name="EMPORIO_DATABASE_URL",
    type=str,
    default=None,
    doc="`postgresql://user@host:5432/db` or `sqlite:///path`",
    secret=True,  # a DSN may carry a password
    parse=_database_url,
    default_text="(SQLite in the data dir)",
)
REDIS_URL: SettingSpec[str | None] = SettingSpec(
    name="EMPORIO_REDIS_URL",
    type=str,
    default=None,
    doc="`redis://host:6379/0`",
    secret=True,
    default_text="(embedded Redis)",
)
TRACE_PLUGINS: SettingSpec[bool] = SettingSpec(
    name="EMPORIO_TRACE_PLUGINS", type=bool, default=False, doc="`1` logs every hook call"
)
DISABLED_PLUGINS: SettingSpec[tuple[str, ...]] = SettingSpec(
    name="EMPORIO_DISABLED_PLUGINS",
    type=tuple,
    default=(),
    doc="comma-separated plugin names not to load",
    parse=_names,
)
IDEMPOTENCY_TTL_HOURS: SettingSpec[int] = SettingSpec(
    name="EMPORIO_IDEMPOTENCY_TTL_HOURS",
    type=int,
    default=24,
    doc="how long `Idempotency-Key`s are kept (≥ 24)",
    parse=_ttl_hours,
)
PROMISE_SHIP_DAYS: SettingSpec[int] = SettingSpec(
    name="EMPORIO_PROMISE_SHIP_DAYS", type=int, default=1, doc="business days for an order's `promised_ship_by`"
)
PROMISE_DELIVERY_DAYS: SettingSpec[int] = SettingSpec(
    name="EMPORIO_PROMISE_DELIVERY_DAYS",
    type=int,
    default=3,
    doc="business days for an order's `promised_delivery_by`",
)
LOG_LEVEL: SettingSpec[str] = SettingSpec(
    name="EMPORIO_LOG_LEVEL",
    type=str,
    default="info",
    doc="structlog JSON logs to stderr, with the request id (debug, info, warning, error)",
    parse=str.lower,
)
TIMEZONE: SettingSpec[str] = SettingSpec(
    name="EMPORIO_TIMEZONE",
    type=str,
    default="Europe/Athens",
    doc="the shop's time zone: local dates of pickup lists, dispatch times, business days",
    parse=_zone,
)
QUEUE_NAME: SettingSpec[str] = SettingSpec(
    name="EMPORIO_QUEUE_NAME",
    type=str,
    default="emporio:queue",
    doc="the Redis queue's name; separates engines (or test sessions) sharing one Redis",
)
OPS_SESSION_HOURS: SettingSpec[float] = SettingSpec(
    name="EMPORIO_OPS_SESSION_HOURS",
    type=float,
    default=12.0,
    doc="how long an ops dashboard sign-in lasts (hours, up to 720)",
    parse=_session_hours,
)
KPI_ROLLUPS: SettingSpec[bool] = SettingSpec(
    name="EMPORIO_KPI_ROLLUPS",
    type=bool,
    default=True,
    doc="read closed days' KPIs from the daily rollups (`0` computes every KPI from raw facts)",
)
DISPATCH_TIMES: SettingSpec[tuple[time, ...]] = SettingSpec(
    name="EMPORIO_DISPATCH_TIMES",
    type=tuple,
    default=(time(13, 0), time(18, 0)),
    doc="local HH:MM times the day's pickup lists close automatically (blank: never, close by hand)",
    parse=_times,
    blank=_no_times,
)
DEFAULT_COURIER: SettingSpec[str | None] = SettingSpec(
    name="EMPORIO_DEFAULT_COURIER",
    type=str,
    default=None,
    doc="the courier new shipments get (default: the first installed courier other than store pickup)",
)

CORE_SETTINGS: tuple[SettingSpec[Any], ...] = (
    DATA_DIR,
    DATABASE_URL,
    REDIS_URL,
    TRACE_PLUGINS,
    DISABLED_PLUGINS,
    IDEMPOTENCY_TTL_HOURS,
    PROMISE_SHIP_DAYS,
    PROMISE_DELIVERY_DAYS,
    LOG_LEVEL,
    TIMEZONE,
    QUEUE_NAME,
    OPS_SESSION_HOURS,
    KPI_ROLLUPS,
    DISPATCH_TIMES,
    DEFAULT_COURIER,
)


def shop_zone() -> ZoneInfo:
    """The shop's time zone (EMPORIO_TIMEZONE)."""
    return ZoneInfo(read(TIMEZONE))


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """What the engine reads once at start. Unset values pick the embedded default."""

    data_dir: Path
    database_url: str | None
    redis_url: str | None
    trace_plugins: bool
    log_level: str
    disabled_plugins: tuple[str, ...]
    idempotency_ttl_hours: int
    promise_ship_days: int = 1
    promise_delivery_days: int = 3

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "emporio.sqlite3"

    @property
    def is_postgres(self) -> bool:
        return bool(self.database_url) and self.database_url.startswith(("postgres://", "postgresql://"))  # type: ignore[union-attr]

    def __repr__(self) -> str:
        # The URLs may carry passwords: a logged or printed Settings must not show them.
        hidden = {"database_url", "redis_url"}
        fields = ", ".join(
            f"{f}={'***' if f in hidden and getattr(self, f) else repr(getattr(self, f))}"
            for f in self.__struct_fields__
        )
        return f"Settings({fields})"

    __str__ = __repr__


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from the environment; a bad value raises a ValueError naming the variable."""
    return Settings(
        data_dir=read(DATA_DIR, environ).resolve(),
        database_url=read(DATABASE_URL, environ),
        redis_url=read(REDIS_URL, environ),
        trace_plugins=read(TRACE_PLUGINS, environ),
        log_level=read(LOG_LEVEL, environ),
        disabled_plugins=read(DISABLED_PLUGINS, environ),
        idempotency_ttl_hours=read(IDEMPOTENCY_TTL_HOURS, environ),
        promise_ship_days=read(PROMISE_SHIP_DAYS, environ),
        promise_delivery_days=read(PROMISE_DELIVERY_DAYS, environ),
    )


def put_environment(values: Mapping[str, str]) -> None:
    """Set settings for this process and the plugins it loads later (the demo points the Stripe
    and ACS plugins at its simulators this way). Only declared-style EMPORIO_* names."""
    for name in values:
        if not name.startswith(PREFIX):
            raise ValueError(f"{name} is not an Emporio setting (they start with {PREFIX})")
    os.environ.update(values)


def environment() -> dict[str, str]:
    """A copy of the EMPORIO_* variables as they are now (for code that hands settings on, such
    as the demo telling its services which accounts the shop already has)."""
    return {name: value for name, value in os.environ.items() if name.startswith(PREFIX)}


def child_environment(overrides: Mapping[str, str]) -> dict[str, str]:
    """The environment for a child process the engine starts (PATH and all, not only settings),
    with `overrides` on top — e.g. the settings that point a helper process at a port."""
    return {**os.environ, **overrides}


def is_set(name: str, environ: Mapping[str, str] | None = None) -> bool:
    """Whether the variable has a non-blank value (without reading or showing it)."""
    env = os.environ if environ is None else environ
    return bool(env.get(name, "").strip())


__all__ = [
    "CORE_SETTINGS",
    "SettingSpec",
    "Settings",
    "child_environment",
    "default_text",
    "environment",
    "is_set",
    "load_settings",
    "put_environment",
    "read",
    "shop_zone",
    "shown",
]
