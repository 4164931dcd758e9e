"""Who reads what: storefront keys and customer tokens only ever see published public articles — by
search, by id, by slug, in lists and on the public page; agents also internal ones; drafts and
archived articles only ops. A hidden article answers exactly like one that does not exist."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api
from tests.kms.support import customer, customer_token, write

WORD = "αντικαταστάσεις"  # every article below is about it, so every search could find each one


async def _articles(api: Api) -> dict[str, dict[str, Any]]:
    made = {
        "public": await write(api, (f"Δημόσιο: {WORD}", "για πελάτες"), ("Public replacements", "x"), publish=True),
        "internal": await write(
            api, (f"Εσωτερικό: {WORD}", "μόνο για συνεργάτες"), visibility="internal", publish=True
        ),
        "draft": await write(api, (f"Πρόχειρο: {WORD}", "δεν δημοσιεύτηκε")),
        "archived": await write(api, (f"Αρχειοθετημένο: {WORD}", "παλιό"), publish=True),
    }
    made["archived"] = (await api.post(f"/v1/kb/articles/{made['archived']['id']}/archive", as_="ops")).json()
    return made


class _Reader:
    def __init__(self, api: Api, role: str | None, token: str | None = None) -> None:
        self.api, self.role, self.token = api, role, token

    async def get(self, path: str, **kw: Any) -> Any:
        if self.token:
            return await self.api.get(path, as_=None, headers={"Authorization": f"Bearer {self.token}"}, **kw)
        return await self.api.get(path, as_=self.role, **kw)


async def _seen_by(reader: _Reader, made: dict[str, dict[str, Any]]) -> set[str]:
    """Every way of reaching an article, and which of the four the reader reached."""
    names = {a["id"]: name for name, a in made.items()}
    seen_by_search = {names[r["id"]] for r in (await reader.get("/v1/kb/search", params={"q": WORD})).json()["results"]}
    for locale in ("el", "en"):
        answer = await reader.get("/v1/kb/search", params={"q": WORD, "locale": locale})
        seen_by_search |= {names[r["id"]] for r in answer.json()["results"]}
    listed = {names[a["id"]] for a in (await reader.get("/v1/kb/articles")).json()["items"]}
    by_id: set[str] = set()
    by_slug: set[str] = set()
    for name, article in made.items():
        for key, seen in ((article["id"], by_id), (article["slug"], by_slug)):
            answer = await reader.get(f"/v1/kb/articles/{key}")
            assert answer.status_code in (200, 404), answer.text
            if answer.status_code == 200:
                seen.add(name)
            else:
                assert answer.json()["detail"].startswith(f"no knowledge-base article '{key}'")
    assert seen_by_search <= by_id == by_slug and listed == by_id, (seen_by_search, listed, by_id, by_slug)
    return by_id | seen_by_search


async def test_storefront_keys_and_customer_tokens_see_only_published_public_articles(api: Api) -> None:
    made = await _articles(api)
    token = await customer_token(api, await customer(api))
    for reader in (_Reader(api, "storefront"), _Reader(api, None, token)):
        assert await _seen_by(reader, made) == {"public"}
        # Asking for more changes nothing.
        for params in ({"status": "draft"}, {"visibility": "internal"}):
            assert (await reader.get("/v1/kb/articles", params=params)).status_code == 422


async def test_agents_also_read_internal_articles_and_ops_everything(api: Api) -> None:
    made = await _articles(api)
    assert await _seen_by(_Reader(api, "agent"), made) == {"public", "internal"}
    assert await _seen_by(_Reader(api, "ops"), made) == {"public", "internal", "draft", "archived"}
    drafts = (await api.get("/v1/kb/articles", params={"status": "draft"}, as_="ops")).json()["items"]
    assert [a["id"] for a in drafts] == [made["draft"]["id"]]


async def test_only_published_public_articles_have_a_public_page_and_link(api: Api) -> None:
    made = await _articles(api)
    page = await api.get(f"/kb/el/{made['public']['slug']}", as_=None)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert f"Δημόσιο: {WORD}" in page.text and "Content-Security-Policy" in page.headers
    assert made["public"]["translations"]["el"]["url"].endswith(f"/kb/el/{made['public']['slug']}")
    for name in ("internal", "draft", "archived"):
        assert (await api.get(f"/kb/el/{made[name]['slug']}", as_=None)).status_code == 404, name
        assert all(t["url"] is None for t in made[name]["translations"].values()), name
    assert (await api.get(f"/kb/fr/{made['public']['slug']}", as_=None)).status_code == 404
    links = await api.get("/v1/kb/links", params={"ids": ",".join(a["id"] for a in made.values())}, as_="agent")
    assert [link["id"] for link in links.json()["links"]] == [made["public"]["id"]]


async def test_an_internal_article_made_public_or_archived_follows_at_once(api: Api) -> None:
    article = await write(api, (f"Οδηγός: {WORD}", "εσωτερικός"), visibility="internal", publish=True)
    search = {"q": WORD}
    assert (await api.get("/v1/kb/search", params=search, as_="storefront")).json()["results"] == []
    made_public = {"translations": {"el": {"title": f"Οδηγός: {WORD}", "body": "για όλους"}}, "visibility": "public"}
    assert (await api.put(f"/v1/kb/articles/{article['id']}", json=made_public, as_="ops")).status_code == 200
    found = (await api.get("/v1/kb/search", params=search, as_="storefront")).json()["results"]
    assert [r["id"] for r in found] == [article["id"]] and "για όλους" in found[0]["snippet"]
    await api.post(f"/v1/kb/articles/{article['id']}/archive", as_="ops")
    assert (await api.get("/v1/kb/search", params=search, as_="agent")).json()["results"] == []
