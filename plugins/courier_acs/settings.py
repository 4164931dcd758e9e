"""The ACS plugin's EMPORIO_ACS_* settings, declared once (`register_settings`) and read with
`core.settings.read` by `AcsSettings.from_env`."""

from __future__ import annotations

from typing import Any, Final

from core.settings import SettingSpec

DEFAULT_API_BASE: Final = "https://webservices.acscourier.net/ACSRestServices/api"


def _seconds(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value <= 300:  # also refuses nan
        raise ValueError("must be a number of seconds in (0, 300]")
    return value


def _pace(raw: str) -> int:
    if not raw.isdigit():
        raise ValueError("must be a whole number, 0 for no limit")
    return int(raw)


def _print_type(raw: str) -> int:
    if raw not in {"1", "2"}:
        raise ValueError("must be 1 (thermal) or 2 (laser)")
    return int(raw)


def _unset() -> None:
    return None


def _account(name: str, doc: str, *, secret: bool = False) -> SettingSpec[str | None]:
    return SettingSpec(name=name, type=str, default=None, doc=doc, secret=secret)


API_KEY = _account("EMPORIO_ACS_API_KEY", "ACS API key; unset, the ACS plugin registers nothing", secret=True)
COMPANY_ID = _account("EMPORIO_ACS_COMPANY_ID", "ACS company id (required with a key)")
COMPANY_PASSWORD = _account("EMPORIO_ACS_COMPANY_PASSWORD", "ACS company password (required with a key)", secret=True)
USER_ID = _account("EMPORIO_ACS_USER_ID", "ACS user id (required with a key)")
USER_PASSWORD = _account("EMPORIO_ACS_USER_PASSWORD", "ACS user password (required with a key)", secret=True)
BILLING_CODE = _account("EMPORIO_ACS_BILLING_CODE", "ACS billing code (required with a key)")
API_BASE: SettingSpec[str] = SettingSpec(
    name="EMPORIO_ACS_API_BASE", type=str, default=DEFAULT_API_BASE, doc="ACS REST address (the simulator's in tests)"
)
TIMEOUT_S: SettingSpec[float] = SettingSpec(
    name="EMPORIO_ACS_TIMEOUT_S",
    type=float,
    default=15.0,
    doc="seconds before an ACS call times out (up to 300)",
    parse=_seconds,
)
MAX_CALLS_PER_SECOND: SettingSpec[int] = SettingSpec(
    name="EMPORIO_ACS_MAX_CALLS_PER_SECOND",
    type=int,
    default=8,
    doc="per-process pacing under ACS's limit of 10 calls a second (0: no limit)",
    parse=_pace,
)
PRINT_TYPE: SettingSpec[int] = SettingSpec(
    name="EMPORIO_ACS_PRINT_TYPE", type=int, default=2, doc='labels: 1 thermal 4x6", 2 laser A4', parse=_print_type
)
LANGUAGE: SettingSpec[str | None] = SettingSpec(
    name="EMPORIO_ACS_LANGUAGE",
    type=str,
    default="GR",
    doc="language of ACS's answers (blank: ACS's own)",
    blank=_unset,
)
SENDER: SettingSpec[str | None] = SettingSpec(
    name="EMPORIO_ACS_SENDER",
    type=str,
    default=None,
    doc="sender name printed on labels (default: the shipping location)",
)
WITH_RETURN_VOUCHER: SettingSpec[bool] = SettingSpec(
    name="EMPORIO_ACS_WITH_RETURN_VOUCHER",
    type=bool,
    default=False,
    doc="every outbound voucher comes with a return voucher",
)
CY_CONTENT_TYPE_ID: SettingSpec[str | None] = SettingSpec(
    name="EMPORIO_ACS_CY_CONTENT_TYPE_ID",
    type=str,
    default=None,
    doc="ACS's content type code, mandatory for parcels to Cyprus",
)

SETTINGS: tuple[SettingSpec[Any], ...] = (
    API_KEY,
    COMPANY_ID,
    COMPANY_PASSWORD,
    USER_ID,
    USER_PASSWORD,
    BILLING_CODE,
    API_BASE,
    TIMEOUT_S,
    MAX_CALLS_PER_SECOND,
    PRINT_TYPE,
    LANGUAGE,
    SENDER,
    WITH_RETURN_VOUCHER,
    CY_CONTENT_TYPE_ID,
)
