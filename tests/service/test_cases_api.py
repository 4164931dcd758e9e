"""The service desk over HTTP (service.md §1): a case per customer problem, routed by topic,
skill and language under the service policy, with SLA clocks, claims that only one agent wins,
transitions refused when illegal, notes customers never see, merges, and channel switches that
land in the same case."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from core.runtime import Runtime
from core.service import delivery
from core.service.tables import Case

PROBLEM = "application/problem+json"
MARIA = {"email": "maria@example.gr", "name": "Μαρία Παπαδοπούλου", "phone": "6971234567"}


async def open_case(api: Any, *, as_: str = "storefront", **body: Any) -> Any:
    payload = {"customer": MARIA, "channel": "web", "subject": "Ερώτηση", "body": "Γεια σας", **body}
    return await api.post("/v1/cases", json=payload, as_=as_)


async def agent(api: Any, name: str, skills: list[str], languages: list[str], capacity: int = 5) -> dict[str, Any]:
    created = await api.post(
        "/v1/agents",
        json={
            "name": name,
            "skills": skills,
            "languages": languages,
            "capacity": capacity,
            "hourly_cost": {"amount": 1800, "currency": "EUR"},
        },
        as_="ops",
    )
    assert created.status_code == 201, created.text
    return created.json()  # type: ignore[no-any-return]


async def test_where_is_my_order_is_a_delivery_case_routed_to_a_greek_delivery_agent(api: Any) -> None:
    english_delivery = await agent(api, "Nick", ["delivery"], ["en"])
    greek_payments = await agent(api, "Ελένη", ["payment"], ["el"])
    greek_delivery = await agent(api, "Γιώργος", ["delivery"], ["el", "en"])
    created = await open_case(api, subject="ΠΟΥ ΕΙΝΑΙ η παραγγελία μου;", body="Την περιμένω από την Τρίτη.")
    assert created.status_code == 201, created.text
    case = created.json()
    assert case["number"] > 10000 and case["status"] == "new"
    assert (case["topic"], case["skill"], case["channel"]) == ("delivery", "delivery", "web")
    assert case["assignee"] == greek_delivery["id"]
    assert case["assignee"] not in (english_delivery["id"], greek_payments["id"])
    assert case["sla"]["first_response_due"] is not None and case["sla"]["resolution_due"] is not None
    assert case["context"] is None  # the storefront never sees the 360
    full = (await api.get(f"/v1/cases/{case['id']}", as_="agent")).json()
    assert full["context"]["customer"]["email"] == "maria@example.gr"
    assert [m["body"] for m in full["messages"]] == ["Την περιμένω από την Τρίτη."]
    assert (await api.get(f"/v1/cases/{case['id']}", as_="storefront")).status_code == 403


async def test_routing_takes_the_least_loaded_agent_and_leaves_the_queue_when_all_are_full(api: Any) -> None:
    first = await agent(api, "A", ["returns"], ["el"], capacity=1)
    second = await agent(api, "B", ["returns"], ["el"], capacity=1)
    owners = []
    for n in range(3):
        owners.append(
            (
                await open_case(
                    api, customer={"email": f"c{n}@example.gr", "name": f"C{n}"}, body="Θέλω να κάνω επιστροφή"
                )
            ).json()["assignee"]
        )
    assert sorted(owners[:2]) == sorted([first["id"], second["id"]])
    assert owners[2] is None  # both at capacity: it waits unassigned
    queue = (await api.get("/v1/cases", params={"assignee": "none", "topic": "returns"}, as_="agent")).json()
    assert [c["assignee"] for c in queue["items"]] == [None]


async def test_fifty_concurrent_claims_leave_one_owner(api: Any, runtime: Runtime) -> None:
    case = (await open_case(api, body="Κάτι άσχετο")).json()
    assert case["assignee"] is None
    keys = []
    for n in range(50):
        key = await api.post("/v1/api-keys", json={"name": f"agent-{n}", "scopes": ["agent"]}, as_="admin")
        keys.append(key.json()["key"])

    async def claim(key: str) -> int:
        answer = await api.client.post(f"/v1/cases/{case['id']}/claim", headers={"Authorization": f"Bearer {key}"})
        return int(answer.status_code)

    codes = await asyncio.gather(*(claim(k) for k in keys))
    assert sorted(set(codes)) == [200, 409] and codes.count(200) == 1
    owner = await Case.select(Case.assignee).where(Case.id == case["id"]).first()
    assert owner is not None and owner["assignee"] is not None


async def test_transitions_notes_and_a_customer_reply_that_reopens(api: Any) -> None:
    case = (await open_case(api, body="Η κάρτα μου χρεώθηκε δύο φορές")).json()
    assert case["topic"] == "payment"
    note = await api.post(
        f"/v1/cases/{case['id']}/messages", json={"body": "ελέγχω στο Stripe", "internal": True}, as_="agent"
    )
    assert note.status_code == 201
    reply = await api.post(f"/v1/cases/{case['id']}/messages", json={"body": "Το ελέγχουμε."}, as_="agent")
    body = reply.json()
    assert body["status"] == "pending"  # waiting on the customer
    assert [m["internal"] for m in body["messages"]] == [False, True, False]
    resolved = await api.post(f"/v1/cases/{case['id']}/resolve", as_="agent")
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    again = await api.post(f"/v1/cases/{case['id']}/resolve", as_="agent")
    assert again.status_code == 409 and again.headers["content-type"].startswith(PROBLEM)
    answer = await api.post(f"/v1/cases/{case['id']}/messages", json={"body": "Ακόμα δεν το βλέπω"}, as_="storefront")
    seen = answer.json()
    assert seen["status"] == "open" and seen["reopened"] == 1
    assert all(not m["internal"] for m in seen["messages"])  # the customer's side never sees notes
    assert "ελέγχω στο Stripe" not in answer.text
    closed = await api.post(f"/v1/cases/{case['id']}/close", as_="agent")
    assert closed.json()["status"] == "closed"
    assert (await api.post(f"/v1/cases/{case['id']}/reopen", as_="agent")).status_code == 409
    timeline = (await api.get(f"/v1/customers/{case['customer']['id']}/timeline", as_="agent")).json()
    types = [e["type"] for e in timeline["items"]]
    for expected in ("case.created", "case.note_added", "case.replied", "case.resolved", "case.reopened"):
        assert expected in types


async def test_the_same_problem_on_another_channel_is_the_same_case(api: Any) -> None:
    first = (await open_case(api, channel="web", body="Το δέμα δεν ήρθε")).json()
    second = await open_case(api, as_="agent", channel="phone", body="Πήρε τηλέφωνο για το δέμα", duration_s=240)
    assert second.status_code == 201
    case = second.json()
    assert case["id"] == first["id"]
    assert case["channels"] == ["web", "phone"]
    assert [m["channel"] for m in case["messages"]] == ["web", "phone"]
    other = (await open_case(api, body="Θέλω να αλλάξω τον κωδικό του λογαριασμού μου")).json()
    assert other["id"] != first["id"] and other["topic"] == "account"


async def test_merge_moves_messages_and_points_to_the_survivor(api: Any) -> None:
    a = (await open_case(api, body="Θέλω τιμολόγιο")).json()
    b = (await open_case(api, channel="chat", body="Για το μέγεθος του παπουτσιού")).json()
    assert a["id"] != b["id"]
    merged = await api.post(f"/v1/cases/{b['id']}/merge", json={"into": a["id"]}, as_="agent")
    assert merged.status_code == 200 and merged.json()["merged_into"] == a["id"]
    survivor = (await api.get(f"/v1/cases/{a['id']}", as_="agent")).json()
    assert len(survivor["messages"]) == 2 and survivor["channels"] == ["web", "chat"]
    assert (await api.post(f"/v1/cases/{a['id']}/merge", json={"into": a["id"]}, as_="agent")).status_code == 422


async def test_bad_input_is_a_clear_problem_and_stores_nothing(api: Any) -> None:
    before = await Case.count()
    for body in (
        {"customer": MARIA, "channel": "pigeon", "subject": "x", "body": "y"},
        {"customer": MARIA, "channel": "web", "subject": "", "body": "y"},
        {"customer": {"email": "x@example.gr"}, "channel": "web", "subject": "x", "body": "y"},
        {"customer": MARIA, "channel": "web", "subject": "x", "body": "y", "order_id": "ord_nope"},
    ):
        answer = await api.post("/v1/cases", json=body, as_="storefront")
        assert answer.status_code in (400, 422), (body, answer.text)
        assert answer.headers["content-type"].startswith(PROBLEM)
    assert await Case.count() == before
    missing = await api.post("/v1/cases/cas_nope/claim", as_="agent")
    assert missing.status_code == 404


async def test_a_breach_is_escalated_once_by_the_worker_job(api: Any, runtime: Runtime) -> None:
    case = (await open_case(api, body="Γεια σας")).json()
    past = datetime.now(UTC) - timedelta(hours=1)
    await Case.update({Case.first_response_due: past}).where(Case.id == case["id"])
    assert await delivery.escalate(runtime) == 1
    escalated = (await api.get(f"/v1/cases/{case['id']}", as_="agent")).json()
    assert escalated["priority"] == "high" and escalated["sla"]["first_response_breached"] is True
    assert await delivery.escalate(runtime) == 0  # flagged once
    breaching = (await api.get("/v1/cases", params={"breaching": "true"}, as_="agent")).json()
    assert [c["id"] for c in breaching["items"]] == [case["id"]]


async def test_dry_run_and_caller_lookup(api: Any) -> None:
    dry = await api.post(
        "/v1/policies/service/evaluate",
        json={
            "subject": "Epistrofi",
            "body": "Θέλω επιστροφή χρημάτων",
            "channel": "chat",
            "at": "2026-12-24T14:00:00Z",
        },
        as_="ops",
    )
    assert dry.status_code == 200, dry.text
    decided = dry.json()
    assert (decided["topic"], decided["skill"], decided["priority"]) == ("returns", "returns", "normal")
    assert decided["first_response_due"] == "2026-12-24T14:05:00Z"  # chat: 5 business minutes
    case = (await open_case(api, body="Γεια")).json()
    for typed in ("6971234567", "+30 697 123 4567", "0030-697-123-4567", "697.123.45.67"):
        found = await api.get("/v1/customers/lookup", params={"phone": typed}, as_="agent")
        assert found.status_code == 200, (typed, found.text)
        assert found.json()["customer"]["id"] == case["customer"]["id"]
    assert (await api.get("/v1/customers/lookup", params={"phone": "call me"}, as_="agent")).status_code == 422
    assert (await api.get("/v1/customers/lookup", params={"phone": "2101111111"}, as_="agent")).status_code == 404
