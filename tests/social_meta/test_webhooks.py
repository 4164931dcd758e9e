"""Meta's webhooks over real HTTP, from the simulator to the engine (service.md §1 "social"): the
subscription handshake; a signed Messenger message becomes a `social` case and a redelivery is one
message; echoes and receipts are ignored; Instagram too; forged or missing signatures are refused
with 401 and store nothing; a signed body that is not a notification is a 400."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from core.customers.tables import Customer
from core.service.tables import Case, CaseMessage
from plugins.social_meta.signature import signature_of
from plugins.social_meta.tables import MetaConversation
from tests.social_meta.conftest import APP_SECRET, VERIFY_TOKEN, Meta

WHERE_IS_MY_ORDER = "Πού είναι η παραγγελία μου;"


async def counts() -> tuple[int, int, int, int]:
    return (await Case.count(), await CaseMessage.count(), await Customer.count(), await MetaConversation.count())


async def test_the_subscription_handshake_echoes_the_challenge_and_refuses_a_wrong_token(
    meta: Meta, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    handshake = await meta.control("POST", "subscribe")
    assert handshake["status"] == 200 and handshake["verified"] is True
    wrong = await meta.control("POST", "subscribe", {"verify_token": "guessed"})
    assert wrong["status"] == 403 and wrong["verified"] is False
    async with httpx.AsyncClient(base_url=engine) as client:
        params = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
        answer = await client.get("/v1/webhooks/meta", params=params)
        assert (answer.status_code, answer.text) == (200, "1158201444")
        assert answer.headers["content-type"].startswith("text/plain")
        refused = await client.get("/v1/webhooks/meta", params={**params, "hub.verify_token": "nope"})
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        assert "Verify Token" in refused.json()["detail"]
        assert (await client.get("/v1/webhooks/meta", params={**params, "hub.mode": "unsubscribe"})).status_code == 400
        monkeypatch.delenv("EMPORIO_META_VERIFY_TOKEN")
        unset = await client.get("/v1/webhooks/meta", params=params)
        assert unset.status_code == 403 and "EMPORIO_META_VERIFY_TOKEN is not set" in unset.json()["detail"]


async def test_a_signed_messenger_message_becomes_a_social_case_and_a_redelivery_is_one_message(meta: Meta) -> None:
    await meta.person("psid-maria", first_name="Μαρία", last_name="Παπαδοπούλου")
    first = await meta.writes("psid-maria", WHERE_IS_MY_ORDER, times=2)  # Meta delivers it twice
    assert [d["status"] for d in first["deliveries"]] == [200, 200]
    assert first["deliveries"][0]["body"] == {"stored": 1, "duplicates": 0, "ignored": 0}
    assert first["deliveries"][1]["body"] == {"stored": 0, "duplicates": 1, "ignored": 0}

    stored = await CaseMessage.select().where(CaseMessage.message_id == first["mid"])
    assert len(stored) == 1
    message = stored[0]
    assert (message["channel"], message["direction"], message["body"]) == ("social", "in", WHERE_IS_MY_ORDER)
    case = await Case.select().where(Case.id == message["case_id"]).first()
    assert case is not None and (case["channel"], case["topic"]) == ("social", "delivery")
    conversation = await MetaConversation.select().where(MetaConversation.user_id == "psid-maria").first()
    assert conversation is not None
    assert (conversation["platform"], conversation["page_id"]) == ("messenger", meta.simulator.state.page_id)
    assert (conversation["case_id"], conversation["customer_id"]) == (case["id"], case["customer_id"])
    customer = await Customer.select().where(Customer.id == case["customer_id"]).first()
    assert customer is not None and customer["name"] == "Μαρία Παπαδοπούλου" and customer["email"] is None

    # a photo after it joins the same case (the conversation knows it), kept as a link
    photo = await meta.writes(
        "psid-maria", "το δέμα ήρθε έτσι", attachments=[{"type": "image", "url": "https://cdn.example/p/1.jpg"}]
    )
    assert photo["deliveries"][0]["body"]["stored"] == 1
    second = await CaseMessage.select().where(CaseMessage.message_id == photo["mid"]).first()
    assert second is not None and second["case_id"] == case["id"]
    assert second["body"] == "το δέμα ήρθε έτσι\n[image] https://cdn.example/p/1.jpg"
    assert await Customer.count() == 1 and await Case.count() == 1

    before = await counts()
    for kind in ("echo", "delivery", "read"):
        answer = await meta.event("psid-maria", kind, text="Απάντηση της σελίδας", mid=first["mid"])
        assert answer["deliveries"] == [{"status": 200, "body": {"stored": 0, "duplicates": 0, "ignored": 1}}]
    assert await counts() == before


async def test_an_instagram_message_becomes_a_case_with_a_default_name_when_the_profile_is_unknown(
    meta: Meta,
) -> None:
    written = await meta.writes("igsid-77", "Hello, do you ship to Cyprus?", platform="instagram")
    assert written["deliveries"][0]["status"] == 200
    message = await CaseMessage.select().where(CaseMessage.message_id == written["mid"]).first()
    assert message is not None and message["channel"] == "social"
    conversation = await MetaConversation.select().where(MetaConversation.user_id == "igsid-77").first()
    assert conversation is not None
    assert (conversation["platform"], conversation["page_id"]) == ("instagram", meta.simulator.state.instagram_id)
    customer = await Customer.select().where(Customer.id == conversation["customer_id"]).first()
    assert customer is not None and customer["name"] == "Instagram user"


@pytest.mark.parametrize(
    ("how", "options"),
    [
        ("forged", {"signature": "sha256=" + "0" * 64}),
        ("signed with another secret", {"secret": "not-the-app-secret"}),
        ("missing", {"signature": ""}),
        ("not hex", {"signature": "sha256=zz-not-hex"}),
    ],
)
async def test_a_forged_or_missing_signature_is_refused_and_nothing_is_stored(
    meta: Meta, how: str, options: dict[str, Any]
) -> None:
    before = await counts()
    refused = await meta.writes("psid-eve", "δώστε μου επιστροφή χρημάτων", **options)
    delivery = refused["deliveries"][0]
    assert delivery["status"] == 401, how
    assert delivery["body"]["status"] == 401 and "X-Hub-Signature-256" in delivery["body"]["detail"]
    assert await counts() == before


async def test_a_signed_body_that_is_not_a_notification_is_a_400_and_an_unset_secret_a_503(
    meta: Meta, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = await counts()
    async with httpx.AsyncClient(base_url=engine) as client:
        for body in (b"not json", b'{"entry": []}', b"[1, 2]"):
            headers = {"X-Hub-Signature-256": signature_of(APP_SECRET, body), "Content-Type": "application/json"}
            answer = await client.post("/v1/webhooks/meta", content=body, headers=headers)
            assert answer.status_code == 400, body
            assert answer.headers["content-type"] == "application/problem+json"
        # a signed notification for another object (Page feed changes) is taken and ignored
        other = b'{"object": "user", "entry": [{"id": "1", "changes": []}]}'
        answer = await client.post(
            "/v1/webhooks/meta", content=other, headers={"X-Hub-Signature-256": signature_of(APP_SECRET, other)}
        )
        assert (answer.status_code, answer.json()["stored"]) == (200, 0)
        # an item of a shape we do not know is skipped; the others of the delivery are kept
        mixed = (
            b'{"object": "page", "entry": [{"id": "p", "messaging": [{"sender": 5}, {"sender": {"id": "psid-x"}, '
            b'"recipient": {"id": "p"}, "timestamp": 1741600800000, "message": {"mid": "m_mixed", "text": "hi"}}]}]}'
        )
        answer = await client.post(
            "/v1/webhooks/meta", content=mixed, headers={"X-Hub-Signature-256": signature_of(APP_SECRET, mixed)}
        )
        assert answer.json() == {"stored": 1, "duplicates": 0, "ignored": 1}
        monkeypatch.delenv("EMPORIO_META_APP_SECRET")
        unset = await client.post("/v1/webhooks/meta", content=mixed, headers={"X-Hub-Signature-256": "x"})
        assert unset.status_code == 503 and "EMPORIO_META_APP_SECRET" in unset.json()["detail"]
    assert await CaseMessage.count() == before[1] + 1


def notification(mid: str, text_json: bytes) -> bytes:
    return (
        b'{"object": "page", "entry": [{"id": "PAGE", "messaging": [{"sender": {"id": "psid-rush"}, '
        b'"recipient": {"id": "PAGE"}, "timestamp": 1741600800000, '
        b'"message": {"mid": "' + mid.encode() + b'", "text": "' + text_json + b'"}}]}]}'
    )


@pytest.mark.parametrize("known_person", [False, True])
async def test_concurrent_redeliveries_store_one_message_and_one_customer(
    meta: Meta, engine: str, known_person: bool
) -> None:
    async with httpx.AsyncClient(base_url=engine, timeout=60) as client:

        async def deliver(body: bytes) -> httpx.Response:
            headers = {"X-Hub-Signature-256": signature_of(APP_SECRET, body), "Content-Type": "application/json"}
            return await client.post("/v1/webhooks/meta", content=body, headers=headers)

        if known_person:
            assert (await deliver(notification("m_first", b"hello"))).json()["stored"] == 1
        body = notification("m_rush", b"\\u0393\\u03b5\\u03b9\\u03b1")
        answers = await asyncio.gather(*(deliver(body) for _ in range(6)))
    assert [a.status_code for a in answers] == [200] * 6
    assert sum(a.json()["stored"] for a in answers) == 1 and sum(a.json()["duplicates"] for a in answers) == 5
    assert await CaseMessage.count().where(CaseMessage.message_id == "m_rush") == 1
    assert await MetaConversation.count().where(MetaConversation.user_id == "psid-rush") == 1
    assert await Customer.count() == 1 and await Case.count() == 1
    stored = await CaseMessage.select(CaseMessage.body).where(CaseMessage.message_id == "m_rush").first()
    assert stored is not None and stored["body"] == "Γεια"
