"""Skroutz Smart Cart (the Skroutz marketplace, Greece) as sales channel `skroutz`.

Orders come by Skroutz's unsigned webhook at `POST /v1/webhooks/channels/skroutz`, are read again
from the Merchants API v3 and taken in by the core (reserved, then accepted or rejected line by
line, `set_as_ready` once packed, cancelled when Skroutz cancels or expires them).

Settings: EMPORIO_SKROUTZ_TOKEN (without it the plugin registers nothing),
EMPORIO_SKROUTZ_API_BASE (default https://api.skroutz.gr), EMPORIO_SKROUTZ_TIMEOUT_S,
EMPORIO_SKROUTZ_PICKUP_LOCATIONS (our location code = Skroutz pickup location id, …).

Skroutz has no sandbox to script: `plugins.channel_skroutz.simulator` (``emporio simulate
skroutz``) speaks the same API. See README.md beside this file for what was assumed.
"""

from plugins.channel_skroutz.connector import CODE, SkroutzSmartCart

__all__ = ["CODE", "SkroutzSmartCart"]
