"""Fixtures of the feedback tests: the plugin's clock pinned, the survey rate limit lifted, and an
SMTP sink (aiosmtpd) standing in for the shop's outbound mail server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from plugins.contact_email.settings import Listen
from plugins.feedback import clock
from tests.contact_email.support import SUPPORT, Sink, running_sink
from tests.feedback.support import Clock


@pytest.fixture
def pinned(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    # A minute ahead of the wall clock, so what the test does now (stamped by the core's clock) is due.
    fixed = Clock(datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1))
    monkeypatch.setattr(clock, "now", fixed)
    yield fixed


@pytest.fixture
def generous_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    """The /s/ pages count against the survey rate limit per address: tests make many requests."""
    monkeypatch.setenv("EMPORIO_RATE_LIMIT_SURVEY", "off")


@pytest.fixture(scope="module")
async def sink() -> AsyncIterator[tuple[Sink, Listen]]:
    async with running_sink() as running:
        yield running


@pytest.fixture
def mailbox(sink: tuple[Sink, Listen], monkeypatch: pytest.MonkeyPatch) -> Sink:
    """Survey mails go to the sink, from the support address."""
    box, address = sink
    box.reset()
    monkeypatch.setenv("EMPORIO_SMTP_URL", f"smtp://{address}")
    monkeypatch.setenv("EMPORIO_SUPPORT_ADDRESSES", SUPPORT)
    monkeypatch.delenv("EMPORIO_MAIL_FROM", raising=False)
    return box
