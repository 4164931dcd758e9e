"""The email contact channel as a plugin: its settings, the inbound SMTP server run by every API
process with EMPORIO_SMTP_LISTEN set, the `email` channel that sends agents' replies,
`GET /v1/mail/outbox` (the demo's caught mail), `emporio mail serve|catch`, and the demo's mail
catcher and support mailbox."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.hookspecs import hookimpl
from core.hookspecs.app import EngineService, RouteContribution
from core.hookspecs.cli import CliCommand, DemoService
from core.hookspecs.contact import ContactChannel
from core.settings import SettingSpec
from plugins.contact_email.commands import mail
from plugins.contact_email.demo import start_catcher, start_inbound
from plugins.contact_email.outbound import EmailChannel
from plugins.contact_email.routes import mail_outbox
from plugins.contact_email.server import serving
from plugins.contact_email.settings import SETTINGS


@hookimpl
def register_settings(register: Callable[[SettingSpec[Any]], None]) -> None:
    for spec in SETTINGS:
        register(spec)


@hookimpl
def register_contact_channels(register: Callable[[ContactChannel], None]) -> None:
    register(EmailChannel())


@hookimpl
def register_routes(register: Callable[[RouteContribution], None]) -> None:
    register(mail_outbox)


@hookimpl
def register_commands(register: Callable[[CliCommand], None]) -> None:
    register(CliCommand(command=mail))


@hookimpl
def register_services(register: Callable[[EngineService], None]) -> None:
    # Each API process serves SMTP when EMPORIO_SMTP_LISTEN is set (several processes on one
    # host: give each its own address, or run one with it set).
    register(EngineService(name="smtp-inbound", run=serving))


@hookimpl
def register_demo_services(register: Callable[[DemoService], None]) -> None:
    register(DemoService(name="mail-catcher", start=start_catcher))
    register(DemoService(name="support-mailbox", start=start_inbound))
