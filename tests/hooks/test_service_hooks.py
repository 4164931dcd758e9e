"""register_telephony_providers and register_answer_sources, through the routes that use them."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

from core.hookspecs import hookimpl
from core.hookspecs.contact import AnswerSource, CallEvent, Suggestion, TelephonyProvider, TelephonyRejected
from core.runtime import Runtime
from core.service.tables import Case, CaseMessage
from core.testing.fixtures import inline_plugin

SECRET = b"tel-secret"


class SignedCalls:
    name = "inlinetel"

    def parse_webhook(self, headers: dict[str, str], body: bytes) -> list[CallEvent]:
        expected = hmac.new(SECRET, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(headers.get("x-signature", ""), expected):
            raise TelephonyRejected("bad signature", unauthenticated=True)
        try:
            event = json.loads(body)
            return [CallEvent(**event)]
        except (ValueError, TypeError) as exc:
            raise TelephonyRejected(f"not a call event: {exc}") from None


class TelephonyPlugin:
    @hookimpl
    def register_telephony_providers(self, register: Callable[[TelephonyProvider], None]) -> None:
        register(SignedCalls())


def signed(event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event).encode()
    return body, {"X-Signature": hmac.new(SECRET, body, hashlib.sha256).hexdigest()}


async def test_hook_register_telephony_providers(api: Any, runtime: Runtime) -> None:
    call = {"call_id": "c-1", "from_number": "0030 697 111 2222", "to_number": "2101234567", "direction": "inbound",
            "started_at": "2026-03-02T10:00:00Z", "duration_s": 185, "note": "ρώτησε για το δέμα"}  # fmt: skip
    body, headers = signed(call)
    assert (
        await api.post("/v1/webhooks/telephony/inlinetel", content=body, headers=headers, as_=None)
    ).status_code == 404
    with inline_plugin(runtime.host, TelephonyPlugin(), name="inline-telephony"):
        first = await api.post("/v1/webhooks/telephony/inlinetel", content=body, headers=headers, as_=None)
        assert first.status_code == 200, first.text
        again = await api.post("/v1/webhooks/telephony/inlinetel", content=body, headers=headers, as_=None)
        assert again.json()["calls"][0]["duplicate"] is True
        forged = await api.post(
            "/v1/webhooks/telephony/inlinetel", content=body, headers={"X-Signature": "0" * 64}, as_=None
        )
        assert forged.status_code == 401
        junk, junk_headers = signed({"call_id": "x"})
        assert (await api.post("/v1/webhooks/telephony/inlinetel", content=junk, headers=junk_headers,
                               as_=None)).status_code == 422  # fmt: skip
    case_id = first.json()["calls"][0]["case_id"]
    case = await Case.select().where(Case.id == case_id).first()
    assert case is not None and case["channel"] == "phone"
    messages = await CaseMessage.select().where(CaseMessage.case_id == case_id)
    assert len(messages) == 1 and messages[0]["duration_s"] == 185 and "3:05" in messages[0]["body"]
    found = await api.get("/v1/customers/lookup", params={"phone": "6971112222"}, as_="agent")
    assert found.status_code == 200 and found.json()["customer"]["id"] == case["customer_id"]


class Faq:
    name = "inline-faq"

    async def suggest(
        self, text: str, *, locale: str, limit: int, internal: bool, customer_id: str | None
    ) -> list[Suggestion]:
        hits = [Suggestion(id="a1", title="Πού είναι το δέμα μου", snippet="…", score=2.0)]
        if internal:
            hits.append(Suggestion(id="a2", title="Εσωτερικό: voucher", snippet="…", score=1.0))
        return hits if "δέμα" in text else []


class FaqPlugin:
    @hookimpl
    def register_answer_sources(self, register: Callable[[AnswerSource], None]) -> None:
        register(Faq())


async def test_hook_register_answer_sources(api: Any, runtime: Runtime) -> None:
    case = await api.post(
        "/v1/cases",
        json={"customer": {"email": "a@example.gr", "name": "A"}, "channel": "web", "subject": "Το δέμα",
              "body": "Πού είναι το δέμα μου;"},
        as_="storefront",
    )  # fmt: skip
    case_id = case.json()["id"]
    assert (await api.get(f"/v1/cases/{case_id}/suggestions", as_="agent")).json() == {"results": []}
    with inline_plugin(runtime.host, FaqPlugin(), name="inline-answers"):
        results = (await api.get(f"/v1/cases/{case_id}/suggestions", as_="agent")).json()["results"]
        assert [r["id"] for r in results] == ["a1", "a2"]  # agents see internal answers too, best first
        chat = (await api.post("/v1/chat/sessions", json={"customer": {"email": "a@example.gr", "name": "A"}},
                               as_="storefront")).json()  # fmt: skip
        public = await api.get("/v1/chat/suggestions", params={"token": chat["token"], "q": "το δέμα"}, as_=None)
        assert [r["id"] for r in public.json()["results"]] == ["a1"]
