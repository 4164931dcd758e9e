"""The email channel in `emporio serve --demo`: a mail catcher that keeps the desk's replies
(unless EMPORIO_SMTP_URL is set) and the inbound SMTP server on EMPORIO_SMTP_LISTEN (default
127.0.0.1:2525) for support@emporio.test, both printed in the banner.

The inbound server runs as `emporio mail serve`, a child process with the API's settings: the
API process has no hook yet that starts a plugin's server in its lifespan (the engine's database
engine is bound to one event loop, so it cannot run on a thread of the API process).
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time
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
    configured = mail_settings.inbound(context.environ)
    listen = configured.listen or DEMO_LISTEN
    if listen.port == 0 or not _free(listen):
        listen = Listen(listen.host, 0)
        with socket.socket() as probe:  # a free port now; the child binds it a moment later
            probe.bind((listen.host, 0))
            listen = Listen(listen.host, probe.getsockname()[1])
    addresses = configured.addresses or (DEMO_SUPPORT_ADDRESS,)
    environment = {
        mail_settings.SMTP_LISTEN.name: str(listen),
        mail_settings.SUPPORT_ADDRESSES.name: ",".join(addresses),
    }
    command = [sys.executable, "-c", "from core.cli import main; main()", "mail", "serve", "--listen", str(listen)]
    command += [f"--address={address}" for address in addresses]
    # The API process migrates and owns the embedded Redis; the outbox sweeper hands on the events.
    child = subprocess.Popen([*command, "--no-migrate", "--no-queue"])
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _accepting(listen):
            if child.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"the inbound SMTP server did not start on {listen} (exit status {child.poll()}); "
                    "see its error above, or set EMPORIO_SMTP_LISTEN to a free host:port"
                )
            time.sleep(0.1)
        yield DemoEndpoint(
            label="Support mail",
            url=f"smtp://{listen}",
            detail=f"mail to {', '.join(addresses)} becomes a case",
            environment=environment,
        )
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGINT)
            try:
                child.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def start_inbound(context: DemoContext) -> contextlib.AbstractContextManager[DemoEndpoint] | None:
    return _inbound(context)
