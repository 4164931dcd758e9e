"""Engine settings, read once from the environment (every name starts with EMPORIO_)."""

from __future__ import annotations

import os
from pathlib import Path

import msgspec


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """What an operator can configure. Unset values pick the embedded default."""

    data_dir: Path
    database_url: str | None
    redis_url: str | None
    trace_plugins: bool
    log_level: str
    disabled_plugins: tuple[str, ...]
    idempotency_ttl_hours: int
    promise_ship_days: int = 1
    promise_delivery_days: int = 3
    stripe_api_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str = "https://api.stripe.com"

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "emporio.sqlite3"

    @property
    def is_postgres(self) -> bool:
        return bool(self.database_url) and self.database_url.startswith(("postgres://", "postgresql://"))  # type: ignore[union-attr]


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Build settings from the environment; a bad value raises a ValueError naming the variable."""
    env = os.environ if environ is None else environ
    database_url = env.get("EMPORIO_DATABASE_URL") or None
    if database_url and not database_url.startswith(("postgres://", "postgresql://", "sqlite:///")):
        raise ValueError(
            "EMPORIO_DATABASE_URL must start with postgresql:// or sqlite:/// "
            f"(got {database_url.split(':', 1)[0]}://…)"
        )
    ttl = env.get("EMPORIO_IDEMPOTENCY_TTL_HOURS", "24")
    if not ttl.isdigit() or int(ttl) < 24:
        raise ValueError("EMPORIO_IDEMPOTENCY_TTL_HOURS must be a whole number of hours, at least 24")
    disabled = tuple(p.strip() for p in env.get("EMPORIO_DISABLED_PLUGINS", "").split(",") if p.strip())
    return Settings(
        data_dir=Path(env.get("EMPORIO_DATA_DIR", "./var")).resolve(),
        database_url=database_url,
        redis_url=env.get("EMPORIO_REDIS_URL") or None,
        trace_plugins=env.get("EMPORIO_TRACE_PLUGINS", "") in {"1", "true", "yes"},
        log_level=env.get("EMPORIO_LOG_LEVEL", "info").lower(),
        disabled_plugins=disabled,
        idempotency_ttl_hours=int(ttl),
        promise_ship_days=_whole(env, "EMPORIO_PROMISE_SHIP_DAYS", 1),
        promise_delivery_days=_whole(env, "EMPORIO_PROMISE_DELIVERY_DAYS", 3),
        stripe_api_key=env.get("EMPORIO_STRIPE_API_KEY") or None,
        stripe_webhook_secret=env.get("EMPORIO_STRIPE_WEBHOOK_SECRET") or None,
        stripe_api_base=env.get("EMPORIO_STRIPE_API_BASE", "https://api.stripe.com"),
    )


def _whole(env: os._Environ[str] | dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, str(default))
    if not raw.isdigit():
        raise ValueError(f"{name} must be a whole number (got {raw!r})")
    return int(raw)
