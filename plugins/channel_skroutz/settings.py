"""The Skroutz plugin's EMPORIO_SKROUTZ_* settings, declared once (`register_settings`) and read
with `core.settings.read` when the connector is built."""

from __future__ import annotations

import re
from typing import Any, Final

from core.settings import SettingSpec

DEFAULT_API_BASE: Final = "https://api.skroutz.gr"
_LOCATION_CODE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def _seconds(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value <= 120:  # also refuses nan
        raise ValueError("must be a number of seconds in (0, 120]")
    return value


def _pickup_locations(raw: str) -> tuple[tuple[str, str], ...]:
    """`WH-ATH=YlpD0KROym, ST-CHQ=wgO1N22OaQ`: our location code = Skroutz's pickup location id."""
    pairs: list[tuple[str, str]] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        location, sep, pickup = (side.strip() for side in item.partition("="))
        if not sep or not _LOCATION_CODE.fullmatch(location) or not pickup:
            raise ValueError(
                f"must list location=pickup_location_id pairs separated by commas, e.g. WH-ATH=YlpD0KROym; "
                f"{item!r} is not one"
            )
        if location in dict(pairs):
            raise ValueError(f"names location {location} twice")
        pairs.append((location, pickup))
    return tuple(pairs)


TOKEN: SettingSpec[str | None] = SettingSpec(
    name="EMPORIO_SKROUTZ_TOKEN",
    type=str,
    default=None,
    doc="Skroutz Merchants API token (Smart Cart); unset, the Skroutz plugin registers nothing",
    secret=True,
)
API_BASE: SettingSpec[str] = SettingSpec(
    name="EMPORIO_SKROUTZ_API_BASE",
    type=str,
    default=DEFAULT_API_BASE,
    doc="Skroutz Merchants API address (the simulator's in tests and the demo)",
)
TIMEOUT_S: SettingSpec[float] = SettingSpec(
    name="EMPORIO_SKROUTZ_TIMEOUT_S",
    type=float,
    default=10.0,
    doc="seconds before a Skroutz API call times out (up to 120)",
    parse=_seconds,
)
PICKUP_LOCATIONS: SettingSpec[tuple[tuple[str, str], ...]] = SettingSpec(
    name="EMPORIO_SKROUTZ_PICKUP_LOCATIONS",
    type=tuple,
    default=(),
    doc="Skroutz pickup location per dispatching location, e.g. WH-ATH=YlpD0KROym,ST-CHQ=wgO1N22OaQ",
    parse=_pickup_locations,
    default_text="(none: matched by address, else the first offered)",
)

SETTINGS: tuple[SettingSpec[Any], ...] = (TOKEN, API_BASE, TIMEOUT_S, PICKUP_LOCATIONS)
