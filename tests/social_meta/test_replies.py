"""Agents' replies through the simulator's Send API (service.md §1 "social"), both clocks pinned:
within 24 hours of the customer's last message as `RESPONSE`; at 30 hours with `MESSAGE_TAG` +
`HUMAN_AGENT`; at 8 days refused for good and never sent; a retry after a network failure sends
the message exactly once, whether the failure came before or after Meta sent it; a long
Instagram reply goes out in parts within Instagram's limit; erasure forgets the page-scoped id."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from structlog.testing import capture_logs

from core.customers.tables import Customer
from core.hookspecs.contact import ChannelSendFailed
from core.jobs import outbox
from core.jobs.tables import Event
from core.runtime import Runtime
from core.service import delivery
from core.service.tables import CaseMessage
from plugins.social_meta.tables import MetaConversation, MetaSend
from tests.social_meta.conftest import Meta, free_port

T0 = datetime(2025, 3, 10, 10, 0, tzinfo=UTC)  # a Monday morning; the customer writes
Clocks = Callable[[datetime], Awaitable[None]]


async def customer_writes(meta: Meta, clocks: Clocks, user_id: str = "psid-nikos", **options: Any) -> str:
    """The customer's message at T0; the id of the case it landed in."""
    await clocks(T0)
    await meta.person(user_id, options.get("platform", "messenger"), first_name="Νίκος", last_name="Αλεξίου")
    written = await meta.writes(user_id, "Πού είναι η παραγγελία μου;", **options)
    assert written["deliveries"][0]["status"] == 200
    row = await CaseMessage.select(CaseMessage.case_id).where(CaseMessage.message_id == written["mid"]).first()
    assert row is not None
    return str(row["case_id"])


async def agent_replies(api: Any, case_id: str, body: str = "Φεύγει σήμερα με ACS, θα το έχετε αύριο.") -> str:
    answer = await api.post(f"/v1/cases/{case_id}/messages", json={"body": body}, as_="agent")
    assert answer.status_code == 201, answer.text
    out = next(m for m in answer.json()["messages"] if m["direction"] == "out" and m["body"] == body)
    assert out["channel"] == "social"
    return str(out["id"])


async def state_of(message_id: str) -> dict[str, Any]:
    row = await CaseMessage.select().where(CaseMessage.id == message_id).first()
    assert row is not None
    return row


@pytest.mark.parametrize(
    ("later", "messaging_type", "tag"),
    [
        (timedelta(hours=1), "RESPONSE", None),
        (timedelta(hours=23, minutes=59), "RESPONSE", None),
        (timedelta(hours=30), "MESSAGE_TAG", "HUMAN_AGENT"),
        (timedelta(days=6, hours=23), "MESSAGE_TAG", "HUMAN_AGENT"),
    ],
)
async def test_a_reply_goes_out_the_way_the_window_allows(
    api: Any,
    runtime: Runtime,
    meta: Meta,
    clocks: Clocks,
    later: timedelta,
    messaging_type: str,
    tag: str | None,
) -> None:
    case_id = await customer_writes(meta, clocks)
    await clocks(T0 + later)
    reply = await agent_replies(api, case_id)
    assert await delivery.deliver_reply(runtime, reply) == "sent"
    sent = await meta.sent()
    assert len(sent) == 1
    assert (sent[0]["recipient"], sent[0]["messaging_type"], sent[0]["tag"]) == ("psid-nikos", messaging_type, tag)
    assert sent[0]["text"] == "Φεύγει σήμερα με ACS, θα το έχετε αύριο."
    assert sent[0]["metadata"] == f"emporio:{reply}:0"  # names our message on Meta's echo
    stored = await state_of(reply)
    assert (stored["send_state"], stored["message_id"]) == ("sent", sent[0]["message_id"])
    # the job running again (at least once) sends nothing more
    assert (await delivery.deliver_reply(runtime, reply)).startswith("nothing to send")
    assert len(await meta.sent()) == 1


async def test_after_seven_days_the_reply_is_refused_for_good_and_never_sent(
    api: Any, runtime: Runtime, meta: Meta, clocks: Clocks
) -> None:
    case_id = await customer_writes(meta, clocks)
    await clocks(T0 + timedelta(days=8))
    reply = await agent_replies(api, case_id)
    with capture_logs() as logs:
        outcome = await delivery.deliver_reply(runtime, reply)
    assert outcome.startswith("failed:") and "7 days" in outcome
    assert (await state_of(reply))["send_state"] == "failed"
    assert await meta.requests() == []  # Meta was never called
    refused = [entry for entry in logs if entry["event"] == "social_meta.reply_refused"]
    assert len(refused) == 1 and "8 days 0 hours ago" in refused[0]["reason"]
    record = await MetaSend.select().where(MetaSend.message_id == reply).first()
    assert record is not None and record["state"] == "refused" and "HUMAN_AGENT" in record["error"]
    # the customer writing again opens the window: a new reply goes out as a plain response
    await meta.writes("psid-nikos", "Υπάρχει κάποιο νέο;")
    again = await agent_replies(api, case_id, "Ναι, παραδόθηκε!")
    assert await delivery.deliver_reply(runtime, again) == "sent"
    assert [(s["text"], s["messaging_type"]) for s in await meta.sent()] == [("Ναι, παραδόθηκε!", "RESPONSE")]


async def test_meta_refusing_the_window_is_permanent_too(
    api: Any, runtime: Runtime, meta: Meta, clocks: Clocks, channel: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Our clock says 23 hours, Meta's 25 (clocks disagree): Meta's #10/2018278 is final."""
    case_id = await customer_writes(meta, clocks)
    await meta.clock(T0 + timedelta(hours=25))
    monkeypatch.setattr(channel, "clock", lambda: T0 + timedelta(hours=23))
    reply = await agent_replies(api, case_id)
    outcome = await delivery.deliver_reply(runtime, reply)
    assert "2018278" in outcome and "messaging window is closed" in outcome
    assert (await state_of(reply))["send_state"] == "failed" and await meta.sent() == []


@pytest.mark.parametrize("fault", ["reset_after_send", "reset_before_send", "error_2"])
async def test_a_retry_after_a_network_failure_sends_once(
    api: Any, runtime: Runtime, meta: Meta, clocks: Clocks, fault: str
) -> None:
    case_id = await customer_writes(meta, clocks)
    await clocks(T0 + timedelta(hours=2))
    reply = await agent_replies(api, case_id)
    await meta.fault(fault)
    with pytest.raises(ChannelSendFailed) as failed:  # the worker retries the job with backoff
        await delivery.deliver_reply(runtime, reply)
    assert not failed.value.permanent and "tried again" in str(failed.value)
    assert (await state_of(reply))["send_state"] == "pending"
    assert len(await meta.sent()) == (1 if fault == "reset_after_send" else 0)
    await clocks(T0 + timedelta(hours=2, minutes=1))
    assert await delivery.deliver_reply(runtime, reply) == "sent"
    sent = await meta.sent()
    assert len(sent) == 1  # exactly once, whichever side of Meta the failure was on
    stored = await state_of(reply)
    assert (stored["send_state"], stored["message_id"]) == ("sent", sent[0]["message_id"])
    # Meta processed one Send API call: after a lost answer the conversation was read back, not resent
    assert [r["status"] for r in await meta.requests()] == [200]


async def test_once_an_answer_was_lost_every_later_try_reads_the_conversation_first(
    api: Any, runtime: Runtime, meta: Meta, clocks: Clocks
) -> None:
    case_id = await customer_writes(meta, clocks)
    reply = await agent_replies(api, case_id)
    await meta.fault("reset_before_send")  # answer lost (nothing went, but we cannot know)
    await meta.fault("error_2")  # the next try: read back (nothing there), then a transient error
    for _ in range(2):
        with pytest.raises(ChannelSendFailed):
            await delivery.deliver_reply(runtime, reply)
        record = await MetaSend.select().where(MetaSend.message_id == reply).first()
        assert record is not None and record["state"] == "sending"
    assert await delivery.deliver_reply(runtime, reply) == "sent"
    assert len(await meta.sent()) == 1
    record = await MetaSend.select().where(MetaSend.message_id == reply).first()
    assert record is not None and (record["state"], record["attempts"]) == ("sent", 3)


async def test_when_meta_cannot_be_reached_nothing_left_and_the_retry_sends(
    api: Any, runtime: Runtime, meta: Meta, clocks: Clocks, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = await customer_writes(meta, clocks)
    reply = await agent_replies(api, case_id)
    monkeypatch.setenv("EMPORIO_META_GRAPH_BASE", f"http://127.0.0.1:{free_port()}/v25.0")  # nobody listens
    with pytest.raises(ChannelSendFailed):
        await delivery.deliver_reply(runtime, reply)
    record = await MetaSend.select().where(MetaSend.message_id == reply).first()
    assert record is not None and record["state"] == "not_sent" and "cannot reach" in record["error"]
    monkeypatch.setenv("EMPORIO_META_GRAPH_BASE", f"{meta.base_url}/v25.0")
    assert await delivery.deliver_reply(runtime, reply) == "sent"
    assert len(await meta.sent()) == 1 and len(await meta.requests()) == 1


async def test_a_long_instagram_reply_goes_out_in_parts_within_instagrams_limit(
    api: Any, runtime: Runtime, meta: Meta, clocks: Clocks
) -> None:
    case_id = await customer_writes(meta, clocks, "igsid-eleni", platform="instagram")
    await clocks(T0 + timedelta(hours=3))
    long_reply = " ".join(f"Βήμα {n}: ελέγξτε τη συσκευασία και κρατήστε την απόδειξη." for n in range(1, 41))
    reply = await agent_replies(api, case_id, long_reply)
    await meta.fault("reset_after_send")  # the first part's answer is lost
    with pytest.raises(ChannelSendFailed):
        await delivery.deliver_reply(runtime, reply)
    assert await delivery.deliver_reply(runtime, reply) == "sent"
    sent = await meta.sent()
    assert len(sent) >= 3 and all(len(s["text"].encode()) <= 1000 for s in sent)
    assert " ".join(s["text"] for s in sent) == long_reply  # in order, nothing lost, nothing twice
    assert {s["recipient"] for s in sent} == {"igsid-eleni"} and {s["metadata"] for s in sent} == {None}
    assert (await state_of(reply))["message_id"] == sent[0]["message_id"]


async def test_a_reply_without_a_conversation_or_a_token_fails_with_a_reason(
    api: Any, runtime: Runtime, meta: Meta, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = await api.post(
        "/v1/cases",
        json={
            "customer": {"email": "a@example.gr", "name": "Άννα"},
            "channel": "social",
            "subject": "DM",
            "body": "από το DM",
        },
        as_="agent",
    )
    assert opened.status_code == 201, opened.text
    first = await agent_replies(api, opened.json()["id"], "Καλησπέρα!")
    outcome = await delivery.deliver_reply(runtime, first)
    assert outcome.startswith("failed:") and "never wrote to the shop on Messenger or Instagram" in outcome
    monkeypatch.delenv("EMPORIO_META_PAGE_TOKEN")
    second = await agent_replies(api, opened.json()["id"], "Καλησπέρα ξανά!")
    outcome = await delivery.deliver_reply(runtime, second)
    assert outcome.startswith("failed:") and "EMPORIO_META_PAGE_TOKEN is not set" in outcome
    assert await meta.requests() == []


async def test_erasure_forgets_the_page_scoped_id(api: Any, runtime: Runtime, meta: Meta, clocks: Clocks) -> None:
    await customer_writes(meta, clocks)
    conversation = await MetaConversation.select().where(MetaConversation.user_id == "psid-nikos").first()
    assert conversation is not None
    erased = await api.post(f"/v1/customers/{conversation['customer_id']}/erase")
    assert erased.status_code == 200, erased.text
    event = (
        await Event.select(Event.id)
        .where((Event.type == "customer.erased") & (Event.customer_id == conversation["customer_id"]))
        .first()
    )
    assert event is not None
    assert await outbox.process_event(runtime, event["id"]) == "processed"
    after = await MetaConversation.select().where(MetaConversation.id == conversation["id"]).first()
    assert after is not None and after["user_id"] == f"erased:{conversation['id']}"
    # the same person writing again is a new customer: nothing links them to the erased one
    await meta.writes("psid-nikos", "Γεια ξανά")
    fresh = await MetaConversation.select().where(MetaConversation.user_id == "psid-nikos").first()
    assert fresh is not None and fresh["customer_id"] != conversation["customer_id"]
    assert await Customer.count() == 2
