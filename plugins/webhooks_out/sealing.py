"""Endpoint secrets at rest: sealed with Fernet (AES-128-CBC + HMAC-SHA256) under the engine's
key, so the database alone never yields a secret. The key is EMPORIO_WEBHOOK_SEALING_KEY, else one
generated once into the data dir (every process of one host reads the same file)."""

from __future__ import annotations

import base64
import secrets

from cryptography.fernet import Fernet, InvalidToken

from core.access.keyfiles import data_dir_key
from core.settings import read
from plugins.webhooks_out.settings import SEALING_KEY

KEY_FILE = "webhook-sealing-key"
SECRET_PREFIX = "whsec_"


class SealingKeyMismatch(RuntimeError):
    """A sealed secret this engine's key cannot open (the key file was replaced or the setting
    changed): the endpoint's secret must be created again."""


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def seal(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def unseal(sealed: str) -> str:
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise SealingKeyMismatch(
            "this endpoint's secret was sealed with another key (EMPORIO_WEBHOOK_SEALING_KEY or the data dir's "
            f"{KEY_FILE} changed); restore that key, or create the endpoint again"
        ) from None


def _fernet() -> Fernet:
    configured = read(SEALING_KEY)
    return Fernet(configured.encode() if configured else _key_file())


def _key_file() -> bytes:
    return data_dir_key(KEY_FILE, Fernet.generate_key)[1]
