"""Registers the Skroutz Smart Cart connector when a Skroutz API token is configured.

The plugin only speaks Skroutz: taking orders in, answering them and telling Skroutz the parcels
are ready is the core's (`core.orders.channel_intake`, `core.orders.channel_answers`), for every
sales channel alike."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.hookspecs import hookimpl
from core.hookspecs.channels import SalesChannelConnector
from core.settings import SettingSpec
from plugins.channel_skroutz.connector import SkroutzSmartCart
from plugins.channel_skroutz.settings import SETTINGS


@hookimpl
def register_settings(register: Callable[[SettingSpec[Any]], None]) -> None:
    for spec in SETTINGS:
        register(spec)


@hookimpl
def register_sales_channels(register: Callable[[SalesChannelConnector], None]) -> None:
    connector = SkroutzSmartCart.from_env()  # a malformed setting fails start-up, naming the variable
    if connector is not None:
        register(connector)
