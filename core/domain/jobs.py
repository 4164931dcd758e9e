"""Background job declarations, contributed through the `register_jobs` hook."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

JobFunction = Callable[..., Awaitable[Any]]


class Cron(msgspec.Struct, frozen=True, kw_only=True):
    """When a periodic job runs (UTC). Empty tuples mean "every"."""

    minute: tuple[int, ...] = ()
    hour: tuple[int, ...] = ()
    second: int | tuple[int, ...] = 0


class JobSpec(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    function: JobFunction
    cron: Cron | None = None
    max_tries: int = 8
    timeout_s: int = 120
    plugin: str = ""
