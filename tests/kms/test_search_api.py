"""GET /v1/kb/search and the "did this help?" votes: every search stored under its search_id (with
the customer for deflection), votes once per search, and bad input — empty, 5,000 characters, NUL,
SQL, FTS5 and tsquery syntax — answered 200 or a clear 4xx, never a 500."""

from __future__ import annotations

from typing import Any

from plugins.kms.tables import KbFeedback, KbSearch
from tests.conftest import Api
from tests.kms.support import customer, customer_token, write

REFUND = ("Πότε θα γίνει η επιστροφή χρημάτων;", "Η επιστροφή χρημάτων γίνεται μέσα σε 5 εργάσιμες ημέρες.")
REFUND_EN = ("When will I get my refund?", "Refunds are issued within 5 working days.")

HOSTILE = [
    "' OR 1=1 --",
    "'; DROP TABLE kms_articles; --",
    'επιστροφή" OR "1"="1',
    "NEAR(epistrofi xrimaton, 2)",
    "title : refund",
    "{title body} : refund*",
    "refund AND NOT (",
    "a & b | !c <-> d:*",
    "':* & 'x",
    "\\x00 \\\\ %_ %%",
    "επιστροφή\u0000χρημάτων",
    "\u0000",
    "😀 🇬🇷 ‮",
    "a" * 40 + " " + "β" * 60,
    "x " * 300,
    "ΕΠΙΣΤΡΟΦΉ ΧΡΗΜΆΤΩΝ",
]


async def test_bad_input_is_answered_200_or_a_clear_4xx_never_500(api: Api) -> None:
    await write(api, REFUND, REFUND_EN, publish=True)
    for q in HOSTILE:
        for role in ("storefront", "agent"):
            answer = await api.get("/v1/kb/search", params={"q": q}, as_=role)
            assert answer.status_code in (200, 422), (q, answer.text)
            if answer.status_code == 422:
                detail = answer.json()["detail"]
                assert any(why in detail for why in ("shorten it to at most 500", "q is empty", "NUL")), q
            else:
                assert set(answer.json()) == {"search_id", "results"}, q
    # A NUL inside a query: the API's text guard refuses it (422 naming q), or the search drops it.
    with_nul = await api.get("/v1/kb/search", params={"q": "επιστροφή\u0000χρημάτων"}, as_="storefront")
    if with_nul.status_code == 422:
        assert "query.q" in with_nul.json()["detail"] and "NUL" in with_nul.json()["detail"]
    else:
        assert with_nul.json()["results"][0]["title"] == REFUND[0]
    refused: list[tuple[dict[str, Any], int, str]] = [
        ({"q": ""}, 422, "q is empty"),
        ({"q": "   \t "}, 422, "q is empty"),
        ({"q": "ε" * 5000}, 422, "shorten it to at most 500"),
        ({"q": "x" * 20_000}, 400, ""),
        ({}, 400, ""),
        ({"q": "refund", "limit": 0}, 400, ""),
        ({"q": "refund", "limit": 51}, 400, ""),
        ({"q": "refund", "limit": "ten"}, 400, ""),
        ({"q": "refund", "locale": "greek"}, 400, ""),
        ({"q": "refund", "customer_id": "cus_nobody"}, 422, "no customer 'cus_nobody'"),
    ]
    for params, status, detail in refused:
        answer = await api.get("/v1/kb/search", params=params, as_="storefront")
        assert answer.status_code == status, (params, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert detail in answer.json()["detail"]
    nothing = (await api.get("/v1/kb/search", params={"q": "?!…"}, as_="storefront")).json()
    assert nothing == {"search_id": None, "results": []}


async def test_every_search_is_stored_with_who_asked(api: Api) -> None:
    article = await write(api, REFUND, REFUND_EN, publish=True)
    someone = await customer(api)
    by_server = await api.get(
        "/v1/kb/search", params={"q": "epistrofi xrimaton", "locale": "el", "customer_id": someone}, as_="storefront"
    )
    body = by_server.json()
    assert body["search_id"].startswith("kbs_") and [r["id"] for r in body["results"]] == [article["id"]]
    result = body["results"][0]
    assert set(result) >= {"id", "slug", "title", "snippet", "score"} and "<mark>" in result["snippet"]
    token = await customer_token(api, someone)
    own = {"Authorization": f"Bearer {token}"}
    by_token = (await api.get("/v1/kb/search", params={"q": "δώρο"}, as_=None, headers=own)).json()
    wrong = await api.get("/v1/kb/search", params={"q": "δώρο", "customer_id": "cus_other"}, as_=None, headers=own)
    assert wrong.status_code == 422
    by_agent = (await api.get("/v1/kb/search", params={"q": "refund"}, as_="agent")).json()
    assert (await api.get("/v1/kb/search", params={"q": "x", "customer_id": someone}, as_="agent")).status_code == 422
    stored = {r["id"]: r for r in await KbSearch.select()}
    assert set(stored) == {body["search_id"], by_token["search_id"], by_agent["search_id"]}
    assert stored[body["search_id"]]["customer_id"] == someone and stored[body["search_id"]]["results"] == 1
    assert stored[body["search_id"]]["top_article_id"] == article["id"]
    assert stored[by_token["search_id"]]["customer_id"] == someone and stored[by_token["search_id"]]["results"] == 0
    assert stored[by_token["search_id"]]["audience"] == "customer"
    assert stored[by_agent["search_id"]]["audience"] == "agent" and stored[by_agent["search_id"]]["customer_id"] is None
    assert stored[body["search_id"]]["normalized"] == "epistrofi xrimaton"


async def test_did_this_help_once_per_search(api: Api) -> None:
    article = await write(api, REFUND, REFUND_EN, publish=True)
    internal = await write(api, ("Χειροκίνητη επιστροφή", "για συνεργάτες"), visibility="internal", publish=True)
    draft = await write(api, ("Πρόχειρο", "…"))
    someone = await customer(api)
    search_id = (
        await api.get("/v1/kb/search", params={"q": "refund", "customer_id": someone}, as_="storefront")
    ).json()["search_id"]
    path = f"/v1/kb/articles/{article['id']}/feedback"
    voted = await api.post(path, json={"helpful": True, "search_id": search_id}, as_="storefront")
    assert voted.status_code == 201 and voted.json()["helpful"] is True and voted.json()["search_id"] == search_id
    again = await api.post(path, json={"helpful": False, "search_id": search_id}, as_="storefront")
    assert again.status_code == 409 and "one vote per search" in again.json()["detail"]
    by_slug = await api.post(f"/v1/kb/articles/{article['slug']}/feedback", json={"helpful": False}, as_="storefront")
    assert by_slug.status_code == 201
    token = await customer_token(api, someone)
    mine = await api.post(path, json={"helpful": True}, as_=None, headers={"Authorization": f"Bearer {token}"})
    assert mine.status_code == 201
    refusals = [
        (f"/v1/kb/articles/{internal['id']}/feedback", {"helpful": True}, 404),
        (f"/v1/kb/articles/{draft['id']}/feedback", {"helpful": True}, 404),
        ("/v1/kb/articles/kba_nothing/feedback", {"helpful": True}, 404),
        (path, {"helpful": True, "search_id": "kbs_unknown"}, 422),
        (path, {"helpful": "yes"}, 400),
        (path, {}, 400),
        (path, {"helpful": True, "comment": "extra"}, 400),
    ]
    for url, body, status in refusals:
        answer = await api.post(url, json=body, as_="storefront")
        assert answer.status_code == status, (url, body, answer.text)
    assert (await api.post(path, json={"helpful": True}, as_="agent")).status_code == 403
    votes = await KbFeedback.select().order_by(KbFeedback.id)
    assert [(v["helpful"], v["customer_id"]) for v in votes] == [(True, someone), (False, None), (True, someone)]
