"""Who gets a survey and when (service.md §3): one per customer per 30 days and none while a case
of theirs is open, each suppressed survey with its reason; live events only (imported history and
late events send nothing); NPS and review requests N days after delivery; two triggers at one
moment send one mail; a mail refused for good gives the slot back; a retried send is the same mail."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from core.customers.tables import Customer
from core.domain.events import OrderDelivered
from core.domain.orders import CustomerRef
from core.domain.service import Channel
from core.hookspecs.contact import ChannelSendFailed
from core.jobs import outbox
from core.jobs.tables import Event
from core.orders.tables import Order
from core.runtime import Runtime
from core.service import contacts
from core.service.tables import Case
from plugins.feedback import sending
from plugins.feedback.tables import Survey, SurveyThrottle
from tests.contact_email.support import Sink
from tests.feedback.support import (
    Clock,
    import_lines,
    internal,
    open_case,
    resolved_case,
    settle,
    shop_records,
)


async def survey_of_case(case_id: str) -> dict[str, Any]:
    row = await Survey.select().where(Survey.case_id == case_id).first()
    assert row is not None, f"no survey for case {case_id}"
    return row


async def resolved_and_dispatched(api: Any, runtime: Runtime, **options: Any) -> dict[str, Any]:
    case = await resolved_case(api, **options)
    await settle(runtime)
    survey = await survey_of_case(case["id"])
    await sending.dispatch(runtime, survey["id"])
    return await survey_of_case(case["id"])


async def suppressions() -> list[str]:
    rows = await Event.select(Event.payload).where(Event.type == "survey.suppressed")
    return [str(r["payload"]) for r in rows]


async def test_one_survey_per_customer_per_30_days_the_next_suppressed_with_the_reason(
    api: Any, runtime: Runtime, mailbox: Sink
) -> None:
    first = await resolved_and_dispatched(api, runtime)
    assert first["status"] == "sent" and len(mailbox.mails) == 1
    second = await resolved_and_dispatched(api, runtime, topic="returns")
    assert (second["status"], second["reason"]) == ("suppressed", "throttled")
    assert len(mailbox.mails) == 1 and any("throttled" in p for p in await suppressions())
    listed = (await api.get("/v1/surveys", params={"status": "suppressed"}, as_="agent")).json()["items"]
    assert [(s["id"], s["reason"]) for s in listed] == [(second["id"], "throttled")]

    # A month later the customer may be asked again.
    await SurveyThrottle.update({SurveyThrottle.claimed_at: first["sent_at"] - timedelta(days=31)}).where(
        SurveyThrottle.customer_id == first["customer_id"]
    )
    third = await resolved_and_dispatched(api, runtime, topic="product")
    assert third["status"] == "sent" and len(mailbox.mails) == 2


async def test_none_while_a_case_of_theirs_is_open(api: Any, runtime: Runtime, mailbox: Sink) -> None:
    await open_case(api, topic="payment")  # stays open
    survey = await resolved_and_dispatched(api, runtime)
    assert (survey["status"], survey["reason"]) == ("suppressed", "open_case")
    assert mailbox.mails == []


async def test_no_usable_address_and_mail_loops_are_suppressed(api: Any, runtime: Runtime, mailbox: Sink) -> None:
    case = await resolved_case(api)
    await Customer.update({Customer.email: None}).where(Customer.id == case["customer"]["id"])  # erased
    await settle(runtime)
    survey = await survey_of_case(case["id"])
    assert await sending.dispatch(runtime, survey["id"]) == "suppressed"
    assert (await survey_of_case(case["id"]))["reason"] == "no_email"

    async with runtime.unit_of_work():  # a bounce: stored on a case, never a person to ask
        bounced = await contacts.receive(
            runtime,
            contacts.Contact(
                customer=CustomerRef(email="mailer-daemon@example.gr", name="Mail Delivery System"),
                channel=Channel.EMAIL, subject="Undelivered Mail", body="could not be delivered", auto="bounce",
            ),
        )  # fmt: skip
    assert (await api.post(f"/v1/cases/{bounced.case_id}/resolve", as_="agent")).status_code == 200
    await settle(runtime)
    assert (await survey_of_case(bounced.case_id))["reason"] == "auto_only"
    assert mailbox.mails == []


async def test_an_event_processed_days_late_sends_nothing(
    api: Any, runtime: Runtime, mailbox: Sink, pinned: Clock
) -> None:
    case = await resolved_case(api)
    pinned.now += timedelta(hours=73)  # the worker was down for three days
    await settle(runtime)
    assert (await survey_of_case(case["id"]))["reason"] == "stale_event"
    assert (await sending.due(runtime)) == {} and mailbox.mails == []


async def test_imported_history_never_sends_and_delivery_schedules_nps_then_a_review_request(
    api: Any, runtime: Runtime, mailbox: Sink, pinned: Clock
) -> None:
    records = shop_records(pinned.now - timedelta(days=1))
    records += [
        {"kind": "case", "id": "k1", "customer_id": "c1", "channel": "email", "created_at": "2026-01-05T10:00:00Z",
         "resolved_at": "2026-01-06T10:00:00Z"},
    ]  # fmt: skip
    assert (await import_lines(api, records)).status_code == 200
    await settle(runtime)
    assert await Survey.count() == 0  # history: delivered orders and resolved cases, no events, no surveys

    order_id, customer_id = await internal(Order, "o1"), await internal(Customer, "c1")
    async with runtime.unit_of_work():  # now the live delivery of o1
        await outbox.record(OrderDelivered(), subject_id=order_id, order_id=order_id, customer_id=customer_id)
    await settle(runtime)
    nps, review = sorted(await Survey.select().where(Survey.order_id == order_id), key=lambda s: s["due_at"])
    assert (nps["kind"], nps["status"], review["kind"]) == ("nps", "scheduled", "review_request")
    assert nps["due_at"] - pinned.now > timedelta(days=6)
    assert await sending.due(runtime) == {}  # not due yet

    pinned.now += timedelta(days=7, minutes=1)
    assert await sending.due(runtime) == {"sent": 1}
    [mail] = mailbox.mails
    assert mail["To"].addresses[0].addr_spec == "c1@example.gr" and "[#" not in mail["Subject"]
    pinned.now += timedelta(days=3)
    assert await sending.due(runtime) == {"suppressed": 1}  # the review request: same throttle
    assert (await Survey.select(Survey.reason).where(Survey.id == review["id"]).first()) == {"reason": "throttled"}


async def test_two_triggers_at_the_same_moment_send_one_mail(api: Any, runtime: Runtime, mailbox: Sink) -> None:
    first = await resolved_case(api)
    second = await resolved_case(api, topic="payment")
    assert first["id"] != second["id"]
    await settle(runtime)
    a, b = await survey_of_case(first["id"]), await survey_of_case(second["id"])
    outcomes = await asyncio.gather(sending.dispatch(runtime, a["id"]), sending.dispatch(runtime, b["id"]))
    assert sorted(outcomes) == ["sent", "suppressed"] and len(mailbox.mails) == 1


async def test_a_refused_address_fails_for_good_and_gives_the_slot_back(
    api: Any, runtime: Runtime, mailbox: Sink
) -> None:
    mailbox.refuse_rcpt = "550 5.1.1 no such user"
    refused = await resolved_and_dispatched(api, runtime)
    assert (refused["status"], refused["reason"]) == ("failed", "mail_failed")
    assert "550" in (refused["detail"] or "")
    assert await SurveyThrottle.count() == 0
    mailbox.refuse_rcpt = None
    made = await api.post("/v1/surveys", json={"survey": "nps", "customer_id": refused["customer_id"]}, as_="agent")
    assert made.status_code == 201 and made.json()["status"] == "sent", made.text


async def test_a_temporary_failure_is_retried_as_the_same_mail(api: Any, runtime: Runtime, mailbox: Sink) -> None:
    mailbox.refuse_data = "451 4.3.0 try again later"
    case = await resolved_case(api)
    await settle(runtime)
    survey = await survey_of_case(case["id"])
    with pytest.raises(ChannelSendFailed):
        await sending.dispatch(runtime, survey["id"])
    assert (await survey_of_case(case["id"]))["status"] == "pending"
    mailbox.refuse_data = None
    assert await sending.dispatch(runtime, survey["id"]) == "sent"
    assert await sending.dispatch(runtime, survey["id"]) == "sent"  # a redelivered job sends nothing more
    [mail] = mailbox.mails
    assert mail["Message-ID"] == (await survey_of_case(case["id"]))["message_id"]


async def test_surveys_on_demand_and_embedded_in_the_shop(api: Any, runtime: Runtime, mailbox: Sink) -> None:
    case = await resolved_case(api)
    await settle(runtime)
    customer_id = case["customer"]["id"]
    refused = await api.post(
        "/v1/surveys", json={"survey": "csat", "customer_id": customer_id, "delivery": "email"}, as_="storefront"
    )
    assert refused.status_code == 422  # the shop never makes the engine mail its customers
    embedded = await api.post(
        "/v1/surveys", json={"survey": "nps", "customer_id": customer_id, "delivery": "embedded"}, as_="storefront"
    )
    assert embedded.status_code == 201 and embedded.json()["status"] == "sent", embedded.text
    survey_id = embedded.json()["id"]
    answer = await api.post(f"/v1/surveys/{survey_id}/responses", json={"score": 10}, as_="storefront")
    assert answer.status_code == 201 and answer.json()["source"] == "embedded", answer.text
    again = await api.post(f"/v1/surveys/{survey_id}/responses", json={"score": 0}, as_="storefront")
    assert again.status_code == 409 and again.json()["type"].endswith("already-answered")
    wrong = await api.post(
        f"/v1/surveys/{survey_id}/responses", json={"score": 1, "question": "csat"}, as_="storefront"
    )
    assert wrong.status_code == 422
    # The case's own CSAT is now throttled by the embedded survey that took the slot a moment ago.
    assert await sending.dispatch(runtime, (await survey_of_case(case["id"]))["id"]) == "suppressed"
    later = await api.post("/v1/surveys", json={"survey": "csat", "customer_id": customer_id}, as_="agent")
    assert later.status_code == 201 and (later.json()["status"], later.json()["reason"]) == ("suppressed", "throttled")
    view = (await api.get(f"/v1/surveys/{survey_id}", as_="storefront")).json()
    assert view["answered"] == ["nps"] and mailbox.mails == []
    assert await Case.count() == 1


async def test_the_surveys_policy_is_versioned_and_decides_the_triggers(
    api: Any, runtime: Runtime, mailbox: Sink, pinned: Clock
) -> None:
    default = (await api.get("/v1/policies/surveys", as_="ops")).json()
    assert default["version"] == 0 and default["document"]["throttle_days"] == 30
    typo = await api.put("/v1/policies/surveys", json={"throttle_dayz": 7}, as_="ops")
    assert typo.status_code == 422  # an unknown field never silently does nothing
    document = {**default["document"], "case_resolved": {"questions": ["csat"], "delay_minutes": 60}}
    saved = await api.put("/v1/policies/surveys", json=document, as_="ops")
    assert saved.status_code == 200 and saved.json()["version"] == 1, saved.text
    case = await resolved_case(api)
    await settle(runtime)
    survey = await survey_of_case(case["id"])
    assert (survey["questions"], survey["policy_version"], survey["status"]) == ('["csat"]', 1, "scheduled")
    assert await sending.due(runtime) == {}  # due an hour after the resolution
    pinned.now += timedelta(minutes=61)
    assert await sending.due(runtime) == {"sent": 1}

    off = {**document, "case_resolved": {"enabled": False}, "order_delivered": {"enabled": False}}
    assert (await api.put("/v1/policies/surveys", json=off, as_="ops")).json()["version"] == 2
    quiet = await resolved_case(api, topic="payment")
    await settle(runtime)
    assert not await Survey.exists().where(Survey.case_id == quiet["id"])


async def test_a_customer_token_makes_and_answers_its_own_embedded_survey_only(api: Any, runtime: Runtime) -> None:
    mine = await open_case(api)
    other = await open_case(api, customer={"email": "nikos@example.gr", "name": "Νίκος"})
    minted = await api.post("/v1/customer-tokens", json={"customer_id": mine["customer"]["id"]}, as_="storefront")
    bearer = {"Authorization": f"Bearer {minted.json()['token']}"}
    emailed = await api.client.post("/v1/surveys", json={"survey": "nps"}, headers=bearer)
    assert emailed.status_code == 422  # a customer cannot make the shop mail anyone
    theirs = await api.client.post(
        "/v1/surveys", json={"survey": "nps", "customer_id": other["customer"]["id"], "delivery": "embedded"},
        headers=bearer,
    )  # fmt: skip
    assert theirs.status_code == 404
    made = await api.client.post("/v1/surveys", json={"survey": "nps", "delivery": "embedded"}, headers=bearer)
    assert made.status_code == 201 and made.json()["customer_id"] == mine["customer"]["id"], made.text
    # a case of theirs is open: the shop may not ask now
    assert (made.json()["status"], made.json()["reason"]) == ("suppressed", "open_case")
    assert (
        await api.client.post(f"/v1/surveys/{made.json()['id']}/responses", json={"score": 9}, headers=bearer)
    ).status_code == 409
    other_survey = await api.post(
        "/v1/surveys", json={"survey": "nps", "customer_id": other["customer"]["id"], "delivery": "embedded"},
        as_="agent",
    )  # fmt: skip
    hidden = await api.client.get(f"/v1/surveys/{other_survey.json()['id']}", headers=bearer)
    assert hidden.status_code == 404


async def test_two_workers_on_one_survey_send_one_mail_and_record_one_event(
    api: Any, runtime: Runtime, mailbox: Sink
) -> None:
    case = await resolved_case(api)
    await settle(runtime)
    survey = await survey_of_case(case["id"])
    outcomes = await asyncio.gather(*(sending.dispatch(runtime, survey["id"]) for _ in range(3)))
    assert outcomes.count("sent") >= 1 and len(mailbox.mails) == 1, outcomes
    assert await Event.count().where(Event.type == "survey.sent") == 1
