"""Rate limits kept in Redis, so every API process counts against the same budget.

A limit is a named `Policy` (failed authentication, dashboard sign-in, survey links, chat,
storefront writes) whose rate comes from a declared setting; code opts in by name
(`await limiter.hit("survey", client_address)`, or the `rate_limit` guard in api/auth.py).
Counting uses the `limits` library's sliding-window counter (one Redis script call per hit).

When Redis cannot be reached the limiter lets requests through and logs it: a rate limit
protects the shop, it must not become the outage.
"""

from __future__ import annotations

import functools
import math
import time

import msgspec
import structlog
from limits import RateLimitItem
from limits import parse as parse_limit
from limits.aio.storage import RedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from core.access.settings import (
    OFF,
    RATE_CHAT,
    RATE_FAILED_AUTH,
    RATE_OPS_SIGN_IN,
    RATE_STOREFRONT_WRITES,
    RATE_SURVEY,
)
from core.domain.errors import DomainError
from core.settings import SettingSpec, read

log = structlog.get_logger("emporio.ratelimits")

REDIS_TIMEOUT_S = 0.5


class Policy(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    setting: SettingSpec[str]
    what: str  # how the 429 names what was limited, e.g. "failed authentications from 10.0.0.7"


FAILED_AUTH = "failed-auth"
OPS_SIGN_IN = "ops-sign-in"
SURVEY = "survey"
CHAT = "chat"
STOREFRONT_WRITES = "storefront-writes"

POLICIES: dict[str, Policy] = {
    p.name: p
    for p in (
        Policy(name=FAILED_AUTH, setting=RATE_FAILED_AUTH, what="failed authentications from this address"),
        Policy(name=OPS_SIGN_IN, setting=RATE_OPS_SIGN_IN, what="failed dashboard sign-ins from this address"),
        Policy(name=SURVEY, setting=RATE_SURVEY, what="survey requests from this address"),
        Policy(name=CHAT, setting=RATE_CHAT, what="chat messages"),
        Policy(name=STOREFRONT_WRITES, setting=RATE_STOREFRONT_WRITES, what="writes with this key"),
    )
}


class RateLimited(DomainError):
    status = 429
    slug = "rate-limited"
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.retry_after = retry_after


@functools.lru_cache(maxsize=64)
def _item(rate: str) -> RateLimitItem:
    return parse_limit(rate)


def limits_url(redis_url: str) -> str:
    """The `limits` storage URL for a redis-py URL (`redis://`, `rediss://`, `unix://`)."""
    if redis_url.startswith("unix://"):
        return "async+redis+unix://" + redis_url[len("unix://") :]
    if redis_url.startswith(("redis://", "rediss://")):
        return "async+" + redis_url
    raise ValueError(
        f"cannot rate-limit with Redis at {redis_url.split(':', 1)[0]}://…; use redis://, rediss://, unix://"
    )


class RateLimiter:
    """One per API process (made in the app's lifespan); the counts live in Redis under
    `namespace` so engines (or test sessions) sharing one Redis keep separate budgets."""

    def __init__(self, redis_url: str, *, namespace: str) -> None:
        self.storage = RedisStorage(
            limits_url(redis_url),
            implementation="redispy",
            key_prefix=f"{namespace}:limits",
            socket_timeout=REDIS_TIMEOUT_S,
            socket_connect_timeout=REDIS_TIMEOUT_S,
        )
        self.strategy = SlidingWindowCounterRateLimiter(self.storage)

    async def hit(self, policy: str, identity: str) -> None:
        """Count one event for `identity` under `policy`; RateLimited (429) once the policy's
        rate is spent, with the seconds until a slot frees up."""
        spec = POLICIES[policy]
        rate = read(spec.setting)
        if rate == OFF:
            return
        item = _item(rate)
        try:
            if await self.strategy.hit(item, policy, identity):
                return
            stats = await self.strategy.get_window_stats(item, policy, identity)
        except Exception as exc:  # Redis down or slow: let the request through (see the module docstring)
            log.warning("ratelimit.unavailable", policy=policy, error=repr(exc))
            return
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimited(
            f"too many {spec.what} (at most {rate.replace('/', ' per ')}); retry after {retry_after} s",
            retry_after=retry_after,
        )

    async def reset(self, policy: str, identity: str) -> None:
        """Forget `identity`'s count (tests; an operator lifting a block)."""
        rate = read(POLICIES[policy].setting)
        if rate != OFF:
            await self.strategy.clear(_item(rate), policy, identity)

    async def close(self) -> None:
        bridge = getattr(self.storage, "bridge", None)
        client = getattr(bridge, "storage", None)
        if client is not None and hasattr(client, "aclose"):
            await client.aclose()


__all__ = ["POLICIES", "Policy", "RateLimited", "RateLimiter"]
