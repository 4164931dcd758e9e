"""The Meta channel's settings: the app secret that signs webhooks, the token Meta echoes in the
subscription handshake, the Page access token replies are sent with, and the Graph API address
(the simulator's in tests and the demo)."""

from __future__ import annotations

from typing import Any

from core.settings import SettingSpec


def _graph_base(raw: str) -> str:
    if not raw.startswith(("https://", "http://")):
        raise ValueError("must be an http(s) URL such as https://graph.facebook.com/v25.0")
    return raw.rstrip("/")


APP_SECRET: SettingSpec[str | None] = SettingSpec(
    name="EMPORIO_META_APP_SECRET",
    type=str,
    default=None,
    doc="Meta app secret: checks `X-Hub-Signature-256` on Messenger/Instagram webhooks (unset: they are refused)",
    secret=True,
)
VERIFY_TOKEN: SettingSpec[str | None] = SettingSpec(
    name="EMPORIO_META_VERIFY_TOKEN",
    type=str,
    default=None,
    doc="the Verify Token entered in Meta's webhook setup, echoed back in the `hub.verify_token` handshake",
    secret=True,
)
PAGE_TOKEN: SettingSpec[str | None] = SettingSpec(
    name="EMPORIO_META_PAGE_TOKEN",
    type=str,
    default=None,
    doc="Page access token replies are sent with (Messenger, and Instagram through the linked Page)",
    secret=True,
)
GRAPH_BASE: SettingSpec[str] = SettingSpec(
    name="EMPORIO_META_GRAPH_BASE",
    type=str,
    default="https://graph.facebook.com/v25.0",
    doc="Graph API address with its version (the simulator's in tests and the demo)",
    parse=_graph_base,
)

SETTINGS: tuple[SettingSpec[Any], ...] = (APP_SECRET, VERIFY_TOKEN, PAGE_TOKEN, GRAPH_BASE)
