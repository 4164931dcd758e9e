"""The knowledge base as the service desk's answer source: the chat widget's suggestions (public
articles only, in the customer's language first) and an agent's GET /v1/cases/{id}/suggestions
(internal ones too); suggestions are not searches (nothing stored)."""

from __future__ import annotations

from core.runtime import Runtime
from plugins.kms.answers import KnowledgeBaseAnswers
from plugins.kms.tables import KbSearch
from tests.conftest import Api
from tests.kms.support import customer, write

REFUND = ("Πότε θα γίνει η επιστροφή χρημάτων;", "Η επιστροφή χρημάτων γίνεται μέσα σε 5 εργάσιμες ημέρες.")
REFUND_EN = ("When will I get my refund?", "Refunds are issued within 5 working days of the return.")
MANUAL = ("Χειροκίνητη επιστροφή χρημάτων", "Για συνεργάτες: επιστροφή χρημάτων από το PSP όταν αποτύχει.")


async def test_the_chat_widget_suggests_public_articles(api: Api) -> None:
    public = await write(api, REFUND, REFUND_EN, publish=True)
    await write(api, MANUAL, visibility="internal", publish=True)
    await write(api, ("Επιστροφή χρημάτων σε κουπόνι", "πρόχειρο"))  # a draft
    session = await api.post(
        "/v1/chat/sessions", json={"customer": {"id": await customer(api)}, "locale": "el"}, as_="storefront"
    )
    token = session.json()["token"]
    found = await api.get(
        "/v1/chat/suggestions", params={"token": token, "q": "πότε θα πάρω επιστροφή χρημάτων"}, as_=None
    )
    assert found.status_code == 200, found.text
    results = found.json()["results"]
    assert [r["id"] for r in results] == [public["id"]]
    assert results[0]["title"] == REFUND[0] and results[0]["url"].endswith(f"/kb/el/{public['slug']}")
    english = await api.get("/v1/chat/suggestions", params={"token": token, "q": "refund working days"}, as_=None)
    assert [r["title"] for r in english.json()["results"]] == [REFUND_EN[0]]  # no Greek match: English beats none
    assert await KbSearch.count() == 0


async def test_an_agent_gets_internal_articles_for_a_case(api: Api) -> None:
    public = await write(api, REFUND, REFUND_EN, publish=True)
    internal = await write(api, MANUAL, visibility="internal", publish=True)
    case = await api.post(
        "/v1/cases",
        json={
            "customer": {"id": await customer(api)},
            "channel": "web",
            "subject": "Επιστροφή χρημάτων",
            "body": "Δεν έχω πάρει ακόμη την επιστροφή χρημάτων για την παραγγελία μου.",
            "locale": "el",
        },
        as_="storefront",
    )
    assert case.status_code == 201, case.text
    suggested = await api.get(f"/v1/cases/{case.json()['id']}/suggestions", as_="agent")
    assert suggested.status_code == 200, suggested.text
    ids = [s["id"] for s in suggested.json()["results"]]
    assert set(ids) == {public["id"], internal["id"]}
    by_id = {s["id"]: s for s in suggested.json()["results"]}
    assert by_id[internal["id"]]["url"] is None and by_id[public["id"]]["url"]


async def test_the_answer_source_itself(api: Api, runtime: Runtime) -> None:
    public = await write(api, REFUND, REFUND_EN, publish=True)
    internal = await write(api, MANUAL, visibility="internal", publish=True)
    source = runtime.host.answer_sources["kms"].value
    assert isinstance(source, KnowledgeBaseAnswers)
    customers = await source.suggest("επιστροφή χρημάτων", locale="el", limit=5, internal=False, customer_id=None)
    agents = await source.suggest("επιστροφή χρημάτων", locale="el", limit=5, internal=True, customer_id=None)
    assert [s.id for s in customers] == [public["id"]]
    assert {s.id for s in agents} == {public["id"], internal["id"]}
    for nothing in ("x" * 600, "\u0000"):  # too long for a query, or no query at all: nothing, no error
        assert await source.suggest(nothing, locale="el", limit=5, internal=True, customer_id=None) == []


async def test_a_macros_articles_become_public_links(api: Api) -> None:
    returns = await write(api, ("Πολιτική επιστροφών", "14 ημέρες."), ("Returns policy", "14 days."), publish=True)
    greek_only = await write(api, ("Δωροκάρτες", "Ένας χρόνος."), publish=True)
    internal = await write(api, MANUAL, visibility="internal", publish=True)
    draft = await write(api, ("Πρόχειρο", "…"))
    policy = (await api.get("/v1/policies/service", as_="ops")).json()["document"]
    policy["macros"] = [
        *policy.get("macros", []),
        {
            "id": "returns_info",
            "title": {"el": "Επιστροφές", "en": "Returns"},
            "body": {"el": "Δείτε την πολιτική μας.", "en": "See our policy."},
            "article_ids": [returns["id"], internal["id"], draft["id"], greek_only["id"], "kba_gone"],
        },
    ]
    assert (await api.put("/v1/policies/service", json=policy, as_="ops")).status_code == 200
    english = await api.get("/v1/kb/macros/returns_info/links", params={"locale": "en"}, as_="agent")
    assert english.status_code == 200, english.text
    links = english.json()["links"]
    assert [(link["id"], link["locale"], link["title"]) for link in links] == [
        (returns["id"], "en", "Returns policy"),
        (greek_only["id"], "el", "Δωροκάρτες"),  # no English translation: the Greek one
    ]
    assert links[0]["url"].endswith(f"/kb/en/{returns['slug']}")
    assert (await api.get("/v1/kb/macros/nothing/links", as_="agent")).status_code == 404
    assert (await api.get("/v1/kb/macros/returns_info/links", as_="storefront")).status_code == 403
