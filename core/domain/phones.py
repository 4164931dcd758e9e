"""Phone numbers as customers type them, normalised to E.164 (the `phonenumbers` library)."""

from __future__ import annotations

import phonenumbers


def e164(raw: str, region: str = "GR") -> str | None:
    """`+30 697 123 4567`, `0030-697-1234567`, `697.123.4567`, `2101234567` → `+306971234567`;
    None when it is no valid number."""
    cleaned = raw.strip()
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    try:
        number = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
