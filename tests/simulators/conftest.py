"""Fixtures for the API simulators' own tests (the simulators live beside their plugins, in
plugins/*/simulator/)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from plugins.courier_acs.simulator.simulator import ACSSimulator
from plugins.psp_stripe.simulator.simulator import RunningStripeSimulator, run_stripe_simulator


@pytest.fixture
def acs_simulator() -> Iterator[ACSSimulator]:
    """A fresh ACS simulator served on a free localhost port."""
    simulator = ACSSimulator()
    with simulator.running():
        yield simulator


@pytest.fixture
def stripe_simulator() -> Iterator[RunningStripeSimulator]:
    """A fresh Stripe simulator on a free localhost port: `.base_url` and `.simulator`."""
    with run_stripe_simulator() as running:
        yield running
