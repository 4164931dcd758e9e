"""The access domain's settings: request body limits and rate limits (declared through the
access plugin's `register_settings`, read with `core.settings.read` when a request needs them, so
a changed environment applies without a restart)."""

from __future__ import annotations

import re

from limits import parse as parse_limit

from core.settings import SettingSpec

OFF = "off"
_SIZE = re.compile(r"^(\d+)\s*(B|KiB|MiB|GiB)?$", re.IGNORECASE)
_UNITS = {"b": 1, "kib": 1024, "mib": 1024**2, "gib": 1024**3}


def parse_size(raw: str) -> int:
    """`1MiB`, `512KiB`, `50MiB` or a number of bytes."""
    match = _SIZE.match(raw.strip())
    if match is None or int(match.group(1)) <= 0:
        raise ValueError("must be a size such as 1MiB, 512KiB or a number of bytes")
    return int(match.group(1)) * _UNITS[(match.group(2) or "b").lower()]


def parse_rate(raw: str) -> str:
    """`100/minute`, `10 per second`, `5000/hour` (the `limits` notation), or `off`."""
    text = raw.strip().lower()
    if text == OFF:
        return OFF
    try:
        parse_limit(text)
    except ValueError:
        raise ValueError("must be a rate such as 100/minute, 10/second or 5000/hour, or off") from None
    return text


def _size_setting(name: str, default: int, text: str, doc: str) -> SettingSpec[int]:
    return SettingSpec(name=name, type=int, default=default, doc=doc, parse=parse_size, default_text=text)


def _rate_setting(name: str, default: str, doc: str) -> SettingSpec[str]:
    return SettingSpec(name=name, type=str, default=default, doc=doc, parse=parse_rate)


MAX_BODY = _size_setting(
    "EMPORIO_MAX_BODY",
    1024**2,
    "1MiB",
    "largest request body an endpoint takes unless it declares its own (JSON bodies); 413 beyond, while streaming",
)
IMPORT_MAX_BODY = _size_setting(
    "EMPORIO_IMPORT_MAX_BODY",
    50 * 1024**2,
    "50MiB",
    "largest `POST /v1/import` body (larger histories: `emporio import FILE`)",
)
RATE_FAILED_AUTH = _rate_setting(
    "EMPORIO_RATE_LIMIT_FAILED_AUTH",
    "100/minute",
    "failed authentications per client address (e.g. `100/minute`, `off`); 429 with Retry-After beyond",
)
RATE_OPS_SIGN_IN = _rate_setting(
    "EMPORIO_RATE_LIMIT_OPS_SIGN_IN", "10/minute", "failed ops dashboard sign-ins per client address"
)
RATE_SURVEY = _rate_setting(
    "EMPORIO_RATE_LIMIT_SURVEY", "30/minute", "survey link requests (`/s/…`) per client address"
)
RATE_CHAT = _rate_setting("EMPORIO_RATE_LIMIT_CHAT", "60/minute", "chat messages per customer token or client address")
RATE_STOREFRONT_WRITES = _rate_setting(
    "EMPORIO_RATE_LIMIT_STOREFRONT_WRITES",
    "6000/minute",
    "writes (POST, PUT, PATCH, DELETE) per storefront key or customer token",
)

ACCESS_SETTINGS: tuple[SettingSpec[int] | SettingSpec[str], ...] = (
    MAX_BODY,
    IMPORT_MAX_BODY,
    RATE_FAILED_AUTH,
    RATE_OPS_SIGN_IN,
    RATE_SURVEY,
    RATE_CHAT,
    RATE_STOREFRONT_WRITES,
)

__all__ = ["ACCESS_SETTINGS", "IMPORT_MAX_BODY", "MAX_BODY", "parse_rate", "parse_size"]
