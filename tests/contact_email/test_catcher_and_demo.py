"""The demo's side of the email channel: the mail catcher keeps what the desk sends and ops read
it at `GET /v1/mail/outbox`; `emporio serve --demo` starts the catcher and the inbound SMTP
server (a child `emporio mail serve`), and `emporio mail` offers both as commands."""

from __future__ import annotations

import contextlib
import shutil
import socket
from typing import Any

import pytest
from click.testing import CliRunner

from api.app import start_services
from core.cli import main
from core.hookspecs.cli import DemoContext
from core.runtime import Runtime
from core.service.tables import Case, CaseMessage
from plugins.contact_email.catcher import CATCHER_DIR, MailCatcher, caught, smtp_in_thread
from plugins.contact_email.demo import start_catcher, start_inbound
from plugins.contact_email.outbound import EmailChannel
from plugins.contact_email.settings import DEMO_SUPPORT_ADDRESS, Listen, parse_listen
from tests.contact_email.support import build_mail, send
from tests.contact_email.test_outbound import reply

DEMO = DemoContext(api_url="http://127.0.0.1:8000", environ={})


def listening(address: Listen) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((address.host, address.port), timeout=1):
        return True
    return False


async def test_caught_replies_are_listed_for_ops(api: Any, runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = runtime.settings.data_dir / CATCHER_DIR
    shutil.rmtree(directory, ignore_errors=True)
    with smtp_in_thread(MailCatcher(directory), Listen("127.0.0.1", 0)) as address:
        monkeypatch.setenv("EMPORIO_SMTP_URL", f"smtp://{address}")
        monkeypatch.setenv("EMPORIO_SUPPORT_ADDRESSES", DEMO_SUPPORT_ADDRESS)
        await EmailChannel().send(reply())
        await EmailChannel().send(reply(message_id="msg_second", subject="Δεύτερο", in_reply_to=None, references=()))
    assert not listening(address)  # stopped with its context

    listed = await api.get("/v1/mail/outbox", as_="ops")
    assert listed.status_code == 200, listed.text
    newest, oldest = listed.json()["items"]
    assert newest["subject"] == "Re: Δεύτερο [#10042]" and newest["message_id"] == "<msg_second@emporio.test>"
    assert oldest["subject"] == "Re: Αλλαγή μεγέθους [#10042]"
    assert oldest["in_reply_to"] == "<ask@mail.example.gr>"
    assert oldest["references"] == ["<first@mail.example.gr>", "<ask@mail.example.gr>"]
    assert (oldest["envelope_from"], oldest["envelope_to"]) == (DEMO_SUPPORT_ADDRESS, ["maria@example.gr"])
    assert oldest["text"].startswith("Βεβαίως, σας στέλνουμε L.")
    assert [m.id for m in caught(directory, limit=1)] == [newest["id"]]
    assert (await api.get("/v1/mail/outbox", params={"limit": 1}, as_="ops")).json()["items"][0]["id"] == newest["id"]
    assert (await api.get("/v1/mail/outbox", as_="agent")).status_code == 403


def test_the_demo_catcher_stands_in_unless_a_mail_server_is_configured() -> None:
    assert start_catcher(DemoContext(api_url=DEMO.api_url, environ={"EMPORIO_SMTP_URL": "smtp://mx:25"})) is None
    starting = start_catcher(DEMO)
    assert starting is not None
    with starting as endpoint:
        url = endpoint.environment["EMPORIO_SMTP_URL"]
        assert url == endpoint.url and url.startswith("smtp://127.0.0.1:")
        assert listening(parse_listen(url.removeprefix("smtp://")))
        assert "/v1/mail/outbox" in endpoint.detail
    assert not listening(parse_listen(url.removeprefix("smtp://")))


async def test_the_demo_points_the_api_smtp_service_and_mail_to_it_becomes_a_case(
    api: Any, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    starting = start_inbound(DemoContext(api_url=DEMO.api_url, environ={"EMPORIO_SMTP_LISTEN": "127.0.0.1:0"}))
    assert starting is not None
    with starting as endpoint:
        assert endpoint.environment["EMPORIO_SUPPORT_ADDRESSES"] == DEMO_SUPPORT_ADDRESS
        address = parse_listen(endpoint.environment["EMPORIO_SMTP_LISTEN"])
        assert endpoint.url == f"smtp://{address}" and address.port != 0
        for name, value in endpoint.environment.items():
            monkeypatch.setenv(name, value)
    async with contextlib.AsyncExitStack() as services:  # what the API's lifespan does
        assert "smtp-inbound" in await start_services(runtime, services)
        raw = build_mail("Demo", "Γεια σας από το demo.", message_id="<demo@mail.example.gr>")
        answer = await send(address, raw, to=(DEMO_SUPPORT_ADDRESS,))
        assert (answer.stage, answer.code) == ("DATA", 250), answer
        assert (await send(address, raw, to=("nobody@emporio.test",))).code == 550
    assert not listening(address)  # stopped with the API process
    assert await CaseMessage.count().where(CaseMessage.message_id == "<demo@mail.example.gr>") == 1
    assert await Case.count() == 1


def test_emporio_mail_offers_the_server_and_the_catcher() -> None:
    runner = CliRunner()
    listed = runner.invoke(main, ["mail", "--help"])
    assert listed.exit_code == 0, listed.output
    assert "serve" in listed.output and "catch" in listed.output
    unset = runner.invoke(main, ["mail", "serve"], env={"EMPORIO_SMTP_LISTEN": ""})
    assert unset.exit_code == 2 and "EMPORIO_SMTP_LISTEN" in unset.output
