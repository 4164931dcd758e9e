"""The feedback plugin's settings: where survey links point (EMPORIO_PUBLIC_URL) and the key that
signs them (EMPORIO_FEEDBACK_SECRET). Without a configured key one is generated once and kept in
the data dir, so the API processes and the worker of one host sign and check alike; the key is
never logged, shown or returned."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from core.access.keyfiles import data_dir_key
from core.settings import SettingSpec, read

SECRET_FILE = "feedback-link-secret"
MIN_SECRET = 32


def _public_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError("must be the shop's public base URL, e.g. https://shop.gr or http://127.0.0.1:8000")
    return raw.rstrip("/")


def _secret(raw: str) -> str:
    if len(raw) < MIN_SECRET:
        raise ValueError(
            f"must be at least {MIN_SECRET} characters, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
        )
    return raw


PUBLIC_URL: SettingSpec[str] = SettingSpec(
    name="EMPORIO_PUBLIC_URL",
    type=str,
    default="http://127.0.0.1:8000",
    doc="the engine's public base URL: survey and review links in mails point to {PUBLIC_URL}/s/…",
    parse=_public_url,
)
FEEDBACK_SECRET: SettingSpec[str | None] = SettingSpec(
    name="EMPORIO_FEEDBACK_SECRET",
    type=str,
    default=None,
    doc="key signing survey links (≥ 32 characters); unset: generated once into the data dir (set it when "
    "several hosts serve /s/…)",
    secret=True,
    parse=_secret,
    default_text="(generated into the data dir)",
)

SETTINGS: tuple[SettingSpec[Any], ...] = (PUBLIC_URL, FEEDBACK_SECRET)


def public_url() -> str:
    return read(PUBLIC_URL)


def link_secret() -> bytes:
    """EMPORIO_FEEDBACK_SECRET, else the key kept in the data dir (created on first use, readable
    by this user only; two processes creating it at once end up with the same one)."""
    configured = read(FEEDBACK_SECRET)
    if configured:
        return configured.encode()
    path, key = data_dir_key(SECRET_FILE, lambda: secrets.token_urlsafe(48).encode())
    if len(key) < MIN_SECRET:
        raise RuntimeError(
            f"{path} holds no usable key: delete it (links sent so far stop working) or set EMPORIO_FEEDBACK_SECRET"
        )
    return key
