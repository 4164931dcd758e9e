"""The webhooks plugin's settings: how long a receiver may take to answer, and the key that seals
endpoint secrets at rest (unset: generated once into the data dir, readable by this user only)."""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet

from core.settings import SettingSpec, read


def _timeout(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError("must be a number of seconds") from None
    if not 1 <= value <= 60:
        raise ValueError("must be between 1 and 60 seconds")
    return value


def _sealing_key(raw: str) -> str:
    try:
        Fernet(raw.encode())
    except ValueError:
        raise ValueError(
            "must be a Fernet key: 32 random bytes, url-safe base64, e.g. the output of "
            "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`"
        ) from None
    return raw


TIMEOUT_S: SettingSpec[float] = SettingSpec(
    name="EMPORIO_WEBHOOK_TIMEOUT_S",
    type=float,
    default=10.0,
    doc="seconds a webhook receiver has to answer a delivery (1–60); slower counts as a failed try, retried",
    parse=_timeout,
)
SEALING_KEY: SettingSpec[str | None] = SettingSpec(
    name="EMPORIO_WEBHOOK_SEALING_KEY",
    type=str,
    default=None,
    doc="Fernet key sealing webhook endpoint secrets in the database; unset: generated once into the data dir "
    "(set it when several hosts send webhooks)",
    secret=True,
    parse=_sealing_key,
    default_text="(generated into the data dir)",
)

SETTINGS: tuple[SettingSpec[Any], ...] = (TIMEOUT_S, SEALING_KEY)


def timeout_s() -> float:
    return read(TIMEOUT_S)
