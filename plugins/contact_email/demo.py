"""The email channel in `emporio serve --demo`: a mail catcher that keeps the desk's replies
(unless EMPORIO_SMTP_URL is set) and the inbound SMTP server on EMPORIO_SMTP_LISTEN (default
127.0.0.1:2525) for support@emporio.test, both printed in the banner.

The inbound server is the API process's own (`register_services`); the demo only picks its
address. `emporio mail serve` runs it alone, for a shop that wants SMTP in a separate process.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

from core.hookspecs.cli import DemoContext, DemoEndpoint
from core.settings import DATA_DIR, read
from plugins.contact_email import settings as mail_settings
from plugins.contact_email.catcher import CATCHER_DIR, MailCatcher, smtp_in_thread
from plugins.contact_email.settings import DEMO_SUPPORT_ADDRESS, Listen

DEMO_LISTEN = Listen("127.0.0.1", 2525)
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


@contextlib.contextmanager
def _catcher(context: DemoContext) -> Iterator[DemoEndpoint]:
    directory = read(DATA_DIR, context.environ).resolve() / CATCHER_DIR
    with smtp_in_thread(MailCatcher(directory), Listen("127.0.0.1", 0)) as address:
        yield DemoEndpoint(
            label="Mail catcher",
            url=f"smtp://{address}",
            detail="replies are kept here, not delivered: GET /v1/mail/outbox (ops)",
            environment={"EMPORIO_SMTP_URL": f"smtp://{address}"},
        )


def start_catcher(context: DemoContext) -> contextlib.AbstractContextManager[DemoEndpoint] | None:
    """The catcher, unless the shop has a real outbound mail server."""
    return None if context.environ.get(mail_settings.SMTP_URL.name, "").strip() else _catcher(context)


def _free(listen: Listen) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in listen.host else socket.AF_INET) as probe:
        try:
            probe.bind((listen.host, listen.port))
        except OSError:
            return False
    return True


def _accepting(listen: Listen) -> bool:
    try:
        with socket.create_connection((listen.host, listen.port), timeout=1):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def _inbound(context: DemoContext) -> Iterator[DemoEndpoint]:
    """Points the API process's own SMTP service (`register_services`) at a free address."""
    configured = mail_settings.inbound(context.environ)
    listen = configured.listen or DEMO_LISTEN
    if listen.port == 0 or not _free(listen):
        with socket.socket() as probe:  # a free port now; the API binds it a moment later
            probe.bind((listen.host, 0))
            listen = Listen(listen.host, probe.getsockname()[1])
    addresses = configured.addresses or (DEMO_SUPPORT_ADDRESS,)
    yield DemoEndpoint(
        label="Support mail",
        url=f"smtp://{listen}",
        detail=f"mail to {', '.join(addresses)} becomes a case",
        environment={
            mail_settings.SMTP_LISTEN.name: str(listen),
            mail_settings.SUPPORT_ADDRESSES.name: ",".join(addresses),
        },
    )


def start_inbound(context: DemoContext) -> contextlib.AbstractContextManager[DemoEndpoint] | None:
    return _inbound(context)
