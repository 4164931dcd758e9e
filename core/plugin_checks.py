"""What the plugin host checks of each registration before it accepts it: a message naming what
is wrong, or "" when the value is fine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from piccolo.table import Table

from core.db.migrations import MigrationSet
from core.hookspecs.couriers import Courier, CourierCapabilities
from core.hookspecs.customers import CustomerSection
from core.settings import CORE_SETTINGS, SettingSpec


def satisfies(proto: type[Any]) -> Callable[[Any], str]:
    # Data members (`name: str`) exist only as annotations, so dir() alone would not list them.
    members = set(dir(proto)) | {a for klass in proto.__mro__ for a in getattr(klass, "__annotations__", {})}

    def check(value: Any) -> str:
        if not isinstance(value, proto):
            missing = sorted(m for m in members if not m.startswith("_") and not hasattr(value, m))
            return f"{type(value).__name__} does not satisfy {proto.__name__} (missing: {', '.join(missing)})"
        return ""

    return check


def courier(value: Any) -> str:
    """The protocol, and capabilities the core can read (it routes by them, never by name)."""
    problem = satisfies(Courier)(value)
    if not problem and not isinstance(value.capabilities, CourierCapabilities):
        problem = f"{type(value).__name__}.capabilities must be a CourierCapabilities, got {value.capabilities!r}"
    return problem


def migration_set(value: Any) -> str:
    if not isinstance(value, MigrationSet):
        return f"expected MigrationSet, got {type(value).__name__}"
    try:
        value.migrations()
    except (ValueError, ImportError) as exc:
        return f"migration set {value.name!r}: {exc}"
    return ""


_CORE_SETTING_NAMES = frozenset(spec.name for spec in CORE_SETTINGS)


def setting(value: Any) -> str:
    if not isinstance(value, SettingSpec):
        return f"expected SettingSpec, got {type(value).__name__}"
    if value.name in _CORE_SETTING_NAMES:
        return f"{value.name} is a core setting (core/settings.py); a plugin declares only its own"
    return ""


def parser(value: Any) -> str:
    if not isinstance(getattr(value, "name", None), str) or not callable(getattr(value, "parse_webhook", None)):
        return f"{type(value).__name__} needs a `name` and `parse_webhook(headers, body)`"
    return ""


def named(value: Any) -> str:
    if not isinstance(getattr(value, "name", None), str) or not callable(getattr(value, "suggest", None)):
        return f"{type(value).__name__} needs a `name` and an async `suggest(text, *, locale, limit, internal, …)`"
    return ""


def table(value: Any) -> str:
    if not (isinstance(value, type) and issubclass(value, Table)):
        return f"expected a piccolo Table subclass, got {value!r}"
    return ""


def instance_of(kind: type[Any], *, strict_type: str | None = None) -> Callable[[Any], str]:
    """`strict_type` names the field holding a Struct type whose documents must refuse unknown
    fields (the hookspecs promise a typo is rejected, never silently ignored)."""

    def check(value: Any) -> str:
        if not isinstance(value, kind):
            return f"expected {kind.__name__}, got {type(value).__name__}"
        if strict_type is not None:
            declared = getattr(value, strict_type)
            if not (isinstance(declared, type) and issubclass(declared, msgspec.Struct)):
                return f"{strict_type} must be a msgspec.Struct type, got {declared!r}"
            if not declared.__struct_config__.forbid_unknown_fields:
                return (
                    f"{declared.__name__} accepts unknown fields; declare it with forbid_unknown_fields=True "
                    "so a typo is rejected instead of silently ignored"
                )
        return ""

    return check


# The lists of the customer 360 the core fills itself; a plugin's section takes another key.
CORE_CUSTOMER_LISTS = frozenset(
    {"customer", "segments", "rfm", "orders", "shipments", "payments", "returns", "cases", "next_best_actions"}
)


def customer_section(value: Any) -> str:
    if not isinstance(value, CustomerSection):
        return f"expected CustomerSection, got {type(value).__name__}"
    if not value.name.isidentifier() or value.name != value.name.lower():
        return f"a section's name is a lower-case key of the customer 360, not {value.name!r}"
    if value.name in CORE_CUSTOMER_LISTS:
        return f"{value.name!r} is a list the core keeps; name the section after what it holds"
    return ""
