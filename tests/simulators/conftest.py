"""Fixtures for the API simulators' own tests (the simulators live beside their plugins, in
plugins/*/simulator/)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from plugins.courier_acs.simulator.simulator import ACSSimulator
from plugins.psp_stripe.simulator.simulator import RunningStripeSimulator, run_stripe_simulator
from tests.clock import running_from

# The ACS simulator's clock: a Wednesday morning in Athens (ACS's business day is Athens's).
ACS_NOW = datetime(2026, 6, 10, 10, 0, tzinfo=ZoneInfo("Europe/Athens"))


@pytest.fixture
def acs_simulator() -> Iterator[ACSSimulator]:
    """A fresh ACS simulator served on a free localhost port, its clock pinned (it refuses pickup
    dates before its own day in Athens)."""
    simulator = ACSSimulator(clock=running_from(ACS_NOW))
    with simulator.running():
        yield simulator


@pytest.fixture
def stripe_simulator() -> Iterator[RunningStripeSimulator]:
    """A fresh Stripe simulator on a free localhost port: `.base_url` and `.simulator`."""
    with run_stripe_simulator() as running:
        yield running
