"""Helpers for the knowledge base's engine tests: write articles through the API, mint customers
and their tokens, and a clock the tests can move."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import core.db.database
import core.domain.time
import core.kpis.engine
from tests.conftest import Api


async def write(
    api: Api,
    el: tuple[str, str] | None = None,
    en: tuple[str, str] | None = None,
    *,
    publish: bool = False,
    **fields: Any,
) -> dict[str, Any]:
    """A new article (published when asked), as ops wrote it."""
    translations = {}
    if el:
        translations["el"] = {"title": el[0], "body": el[1]}
    if en:
        translations["en"] = {"title": en[0], "body": en[1]}
    created = await api.post("/v1/kb/articles", json={"translations": translations, **fields}, as_="ops")
    assert created.status_code == 201, created.text
    article: dict[str, Any] = created.json()
    if publish:
        published = await api.post(f"/v1/kb/articles/{article['id']}/publish", as_="ops")
        assert published.status_code == 200, published.text
        article = published.json()
    return article


async def customer(api: Api, name: str = "Μαρία Παπαδοπούλου") -> str:
    email = f"{name.split()[0].lower()}.{datetime.now(UTC).timestamp():.6f}@example.gr"
    made = await api.post("/v1/customers", json={"email": email, "name": name}, as_="storefront")
    assert made.status_code == 201, made.text
    customer_id: str = made.json()["id"]
    return customer_id


async def customer_token(api: Api, customer_id: str) -> str:
    minted = await api.post("/v1/customer-tokens", json={"customer_id": customer_id}, as_="storefront")
    assert minted.status_code == 201, minted.text
    token: str = minted.json()["token"]
    return token


class _AnyDatetime(type):
    def __instancecheck__(cls, instance: object) -> bool:
        return isinstance(instance, datetime)


class MovableClock(datetime, metaclass=_AnyDatetime):
    """`datetime` whose `now()` is `MovableClock.at` (set by the test); what it builds is a plain datetime."""

    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        return datetime(*args, **kwargs)

    @classmethod
    def now(cls, tz: Any = None) -> Any:
        return cls.at.astimezone(tz) if tz is not None else cls.at.replace(tzinfo=None)

    @classmethod
    def advance(cls, **delta: float) -> None:
        cls.at += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[MovableClock]]:
    """The engine's clock (`utcnow()` and everything reading `datetime.now` through it) pinned and movable."""
    MovableClock.at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    # The modules that read the wall clock: utcnow(), the shop's local date, the KPI engine's "today".
    for module in (core.db.database, core.domain.time, core.kpis.engine):
        monkeypatch.setattr(module, "datetime", MovableClock)
    yield MovableClock
