"""Parsing and formatting of ACS wire values, and the simulator's two error types.

ACS is lenient about JSON types (the manual's own samples send zip codes and phones
as numbers) and strict about formats (``YYYY-MM-DD`` dates, decimals with a dot), so
readers here accept both spellings of a value and reject malformed ones.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final
from zoneinfo import ZoneInfo

ATHENS: Final = ZoneInfo("Europe/Athens")


class BusinessError(Exception):
    """An ACS business rule failed; ``message`` is the Greek text for the error field."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ControlError(Exception):
    """The control API was misused (HTTP ``status``: 400 bad input, 404 unknown voucher...)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Params:
    """ACSInputParameters with case-insensitive names (the manual itself mixes ``Company_ID``
    and ``Company_Id``) and lenient typing: ACS accepts ``17778`` as well as ``"17778"``."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = dict(raw)
        self._lower = {str(key).lower(): value for key, value in raw.items()}

    def get(self, name: str) -> Any:
        return self._lower.get(name.lower())

    def text(self, name: str) -> str | None:
        """The value as stripped text; None for null/empty. ``7.0`` reads as ``"7"``."""
        value = self.get(name)
        if value is None or isinstance(value, bool | dict | list):
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(value).strip()
        return text or None

    def decimal(self, name: str) -> Decimal | None:
        """A JSON number (or numeric string with a dot) as an exact Decimal; None if absent/bad."""
        text = self.text(name)
        if text is None:
            return None
        try:
            # repr-of-float round-trips, so 12.5 on the wire stays exactly 12.5 here.
            number = Decimal(repr(self.get(name))) if isinstance(self.get(name), float) else Decimal(text)
        except InvalidOperation:
            return None
        return number if number.is_finite() else None

    def integer(self, name: str) -> int | None:
        number = self.decimal(name)
        if number is None or number != number.to_integral_value():
            return None
        return int(number)


def parse_day(text: str | None) -> date | None:
    """ACS dates are ``YYYY-MM-DD``; a time part (``2019-01-10T00:00:00``) is tolerated."""
    if text is None or not re.fullmatch(r"\d{4}-\d{2}-\d{2}(T[\d:.]+)?", text):
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def split_vouchers(value: Any) -> list[str]:
    """``"a, b"`` / ``7227889174`` / ``" 7227889174"`` → bare 10-digit strings (blank dropped)."""
    if value is None or isinstance(value, bool):
        return []
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return [part.strip() for part in str(value).split(",") if part.strip()]


def wire_datetime(moment: datetime) -> str:
    """ACS prints local (Athens) time without offset and with milliseconds."""
    local = moment.astimezone(ATHENS) if moment.tzinfo else moment
    return local.replace(tzinfo=None).isoformat(timespec="milliseconds")


def wire_day(day: date) -> str:
    return f"{day.isoformat()}T00:00:00"
