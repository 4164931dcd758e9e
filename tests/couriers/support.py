"""Helpers shared by the courier tests: ACS settings for a simulator, Athens dates, requests."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from core.hookspecs.couriers import Address, Parcel, VoucherRequest
from plugins.courier_acs import AcsSettings
from plugins.courier_acs.simulator.simulator import ACSSimulator

ATHENS = ZoneInfo("Europe/Athens")


def athens_today() -> date:
    """ACS's business day (the simulator refuses pickup dates before it)."""
    return datetime.now(ATHENS).date()


def acs_settings(sim: ACSSimulator, **overrides: Any) -> AcsSettings:
    """Settings matching a running simulator's account (demo/demo unless it was built otherwise)."""
    settings = AcsSettings(
        api_key=sim.api_key,
        company_id=sim.credentials["Company_ID"],
        company_password=sim.credentials["Company_Password"],
        user_id=sim.credentials["User_ID"],
        user_password=sim.credentials["User_Password"],
        billing_code=sim.billing_code,
        api_base=f"{sim.base_url}/ACSRestServices/api",
        timeout_s=3.0,  # a loaded machine still answers in time; fault tests pass their own
    )
    return dataclasses.replace(settings, **overrides)


def voucher_request(
    shipment_id: str = "shp_1",
    *,
    pickup_date: date | None = None,
    parcels: list[Parcel] | None = None,
    **overrides: Any,
) -> VoucherRequest:
    recipient = overrides.pop(
        "recipient",
        Address(
            name="Μαρία Παπαδοπούλου",
            line1="Π. Ράλλη 45",
            city="Ταύρος",
            postcode="177 78",
            country="GR",
            phone="+30 699 999 9999",
            email="maria@example.com",
        ),
    )
    return VoucherRequest(
        shipment_id=shipment_id,
        order_id=overrides.pop("order_id", f"ord_{shipment_id}"),
        sender_location="athens-wh",
        pickup_date=pickup_date or athens_today(),
        recipient=recipient,
        parcels=parcels or [Parcel(weight_g=1200, length_mm=300, width_mm=200, height_mm=150)],
        **overrides,
    )


class RecordingTransport(httpx.AsyncBaseTransport):
    """Forwards to the network and keeps every request, to check what went on the wire."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.requests.append(request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()
