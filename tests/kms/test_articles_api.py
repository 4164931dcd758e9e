"""Articles through the API: a translation per locale, slugs from Greek titles, draft → published →
archived, scheduled publication by the worker's job, a version for every save (list, diff, restore),
Markdown rendered and sanitised, and clear 4xx for what cannot be saved."""

from __future__ import annotations

from datetime import timedelta

from core.jobs.tables import Event
from core.runtime import Runtime
from plugins.kms.jobs import publish_due
from tests.conftest import Api
from tests.kms.support import MovableClock, clock, write

__all__ = ["clock"]

RETURNS_EL = ("Πολιτική επιστροφών", "Επιστρέψτε **οποιοδήποτε** προϊόν μέσα σε 14 ημέρες.")
RETURNS_EN = ("Returns policy", "Return **any** item within 14 days.")


async def test_an_article_has_a_translation_per_locale_and_a_slug_from_its_greek_title(api: Api) -> None:
    article = await write(api, RETURNS_EL, RETURNS_EN, category="returns")
    assert article["slug"] == "politiki-epistrofon"
    assert article["status"] == "draft" and article["version"] == 1 and article["visibility"] == "public"
    assert article["category"] == "returns"
    assert set(article["translations"]) == {"el", "en"}
    assert article["translations"]["en"]["html"] == "<p>Return <strong>any</strong> item within 14 days.</p>\n"
    assert article["translations"]["el"]["url"] is None  # a draft has no public link yet
    again = await write(api, RETURNS_EL)
    assert again["slug"] == "politiki-epistrofon-2"
    english_only = await write(api, en=("Gift cards & vouchers", "…"))
    assert english_only["slug"] == "gift-cards-vouchers"
    by_slug = await api.get("/v1/kb/articles/politiki-epistrofon", as_="ops")
    assert by_slug.status_code == 200 and by_slug.json()["id"] == article["id"]


async def test_a_chosen_slug_must_be_free_and_well_formed(api: Api) -> None:
    await write(api, RETURNS_EL, slug="returns")
    taken = await api.post(
        "/v1/kb/articles", json={"slug": "returns", "translations": {"el": {"title": "Άλλο"}}}, as_="ops"
    )
    assert taken.status_code == 409 and "returns" in taken.json()["detail"]
    for bad in ("Returns", "επιστροφές", "a--b", "-a", "a b"):
        refused = await api.post(
            "/v1/kb/articles", json={"slug": bad, "translations": {"el": {"title": "x"}}}, as_="ops"
        )
        assert refused.status_code == 400, bad


async def test_markdown_is_rendered_and_sanitised(api: Api) -> None:
    hostile = "<script>alert(1)</script> [click](javascript:alert(1)) <img src=x onerror=alert(1)>"
    body = hostile + "\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    article = await write(api, ("Δοκιμή", body))
    html = article["translations"]["el"]["html"]
    # What is not Markdown stays text: escaped, never a tag, an attribute or a link.
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<table>" in html
    preview = await api.post("/v1/kb/preview", json={"body": "**έντονα**"}, as_="ops")
    assert preview.json() == {"html": "<p><strong>έντονα</strong></p>\n"}


async def test_draft_published_archived_and_back(api: Api, runtime: Runtime) -> None:
    article = await write(api, RETURNS_EL)
    path = f"/v1/kb/articles/{article['id']}"
    published = await api.post(f"{path}/publish", as_="ops")
    assert published.status_code == 200 and published.json()["status"] == "published"
    assert published.json()["translations"]["el"]["url"].endswith("/kb/el/politiki-epistrofon")
    assert (await api.post(f"{path}/publish", as_="ops")).status_code == 409
    archived = await api.post(f"{path}/archive", as_="ops")
    assert archived.json()["status"] == "archived" and archived.json()["archived_at"]
    assert (await api.post(f"{path}/archive", as_="ops")).status_code == 409
    assert (await api.post(f"{path}/publish", as_="ops")).json()["status"] == "published"
    types = [
        e["type"] for e in await Event.select(Event.type).where(Event.subject_id == article["id"]).order_by(Event.id)
    ]
    assert types == [
        "kb.article_created",
        "kb.article_published",
        "kb.article_archived",
        "kb.article_published",
    ]


async def test_every_save_is_a_version_with_diff_and_restore(api: Api) -> None:
    article = await write(api, RETURNS_EL, RETURNS_EN)
    path = f"/v1/kb/articles/{article['id']}"
    edited = {
        "translations": {
            "el": {"title": RETURNS_EL[0], "body": "Επιστρέψτε οποιοδήποτε προϊόν μέσα σε 30 ημέρες."},
            "en": {"title": RETURNS_EN[0], "body": RETURNS_EN[1]},
        },
        "category": "returns",
        "version": 1,
    }
    saved = await api.put(path, json=edited, as_="ops")
    assert saved.status_code == 200 and saved.json()["version"] == 2 and saved.json()["slug"] == article["slug"]
    stale = await api.put(path, json=edited, as_="ops")  # still says it started from version 1
    assert stale.status_code == 409 and "version 2" in stale.json()["detail"]
    versions = (await api.get(f"{path}/versions", as_="ops")).json()
    assert versions["current"] == 2 and [v["version"] for v in versions["versions"]] == [2, 1]
    assert versions["versions"][0]["created_by"] == "test-ops"
    diff = (await api.get(f"{path}/diff", params={"from": 1, "to": 2}, as_="ops")).json()
    assert diff["from"] == 1 and diff["to"] == 2
    assert diff["diff"].startswith("--- version 1\n+++ version 2\n")
    assert "-category: \n+category: returns\n" in diff["diff"]
    assert "-Επιστρέψτε **οποιοδήποτε** προϊόν μέσα σε 14 ημέρες.\n" in diff["diff"]
    assert "+Επιστρέψτε οποιοδήποτε προϊόν μέσα σε 30 ημέρες.\n" in diff["diff"]
    same = (await api.get(f"{path}/diff", params={"from": 2, "to": 2}, as_="ops")).json()
    assert same["diff"] == ""
    restored = await api.post(f"{path}/restore", json={"version": 1}, as_="ops")
    assert restored.status_code == 200 and restored.json()["version"] == 3
    assert restored.json()["translations"]["el"]["body"] == RETURNS_EL[1]
    assert restored.json()["category"] is None
    latest = (await api.get(f"{path}/versions", as_="ops")).json()["versions"][0]
    assert latest["version"] == 3 and latest["restored_from"] == 1
    one = (await api.get(f"{path}/versions/2", as_="ops")).json()
    assert one["translations"]["el"]["body"].endswith("30 ημέρες.")
    assert (await api.get(f"{path}/versions/9", as_="ops")).status_code == 404
    assert (await api.post(f"{path}/restore", json={"version": 9}, as_="ops")).status_code == 404


async def test_a_scheduled_article_is_published_by_the_job_when_due(
    api: Api, runtime: Runtime, clock: type[MovableClock]
) -> None:
    article = await write(api, RETURNS_EL)
    path = f"/v1/kb/articles/{article['id']}"
    at = clock.at + timedelta(hours=2)
    scheduled = await api.post(f"{path}/publish", json={"at": at.isoformat()}, as_="ops")
    assert scheduled.status_code == 200
    assert scheduled.json()["status"] == "draft" and scheduled.json()["publish_at"].startswith("2026-03-02T11:00")
    assert await publish_due(runtime) == 0
    search = await api.get("/v1/kb/search", params={"q": "επιστροφές"}, as_="storefront")
    assert search.json()["results"] == []
    clock.advance(hours=2)
    assert await publish_due(runtime) == 1
    assert await publish_due(runtime) == 0  # twice publishes nothing twice
    now = (await api.get(path, as_="ops")).json()
    assert now["status"] == "published" and now["publish_at"] is None
    search = await api.get("/v1/kb/search", params={"q": "επιστροφές"}, as_="storefront")
    assert [r["id"] for r in search.json()["results"]] == [article["id"]]
    archived_before_due = await write(api, ("Παλιό", "κείμενο"))
    await api.post(
        f"/v1/kb/articles/{archived_before_due['id']}/publish",
        json={"at": (clock.at + timedelta(minutes=5)).isoformat()},
        as_="ops",
    )
    await api.post(f"/v1/kb/articles/{archived_before_due['id']}/archive", as_="ops")  # cancels the schedule
    clock.advance(hours=1)
    assert await publish_due(runtime) == 0


async def test_what_cannot_be_saved_is_refused_with_the_field_named(api: Api) -> None:
    cases = [
        ({"translations": {}}, 422, "at least one translation"),
        ({"translations": {"el": {"title": "   "}}}, 422, "translations.el.title is empty"),
        # NUL: refused naming the field (by the API's text guard, or else by the use case)
        ({"translations": {"el": {"title": "a\u0000b"}}}, 422, "translations.el.title"),
        ({"translations": {"el": {"title": "x", "body": "a\u0000"}}}, 422, "translations.el.body"),
        ({"translations": {"el": {"title": "x", "body": "a\u0007"}}}, 422, "translations.el.body contains a control"),
        ({"translations": {"greek": {"title": "x"}}}, 400, ""),
        ({"translations": {"el": {"title": "x"}}, "visibility": "secret"}, 400, ""),
        ({"translations": {"el": {"title": "x"}}, "colour": "red"}, 400, ""),
        ({"translations": {"el": {"title": "x" * 301}}}, 400, ""),
    ]
    for body, status, detail in cases:
        refused = await api.post("/v1/kb/articles", json=body, as_="ops")
        assert refused.status_code == status, (body, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert detail in refused.json()["detail"], refused.json()
    assert (await api.get("/v1/kb/articles/kba_missing", as_="ops")).status_code == 404
    assert (await api.post("/v1/kb/articles/kba_missing/publish", as_="ops")).status_code == 404
    bad_time = await api.post("/v1/kb/articles/kba_missing/publish", json={"at": "tomorrow"}, as_="ops")
    assert bad_time.status_code == 400


async def test_only_ops_write(api: Api) -> None:
    body = {"translations": {"el": {"title": "Τίτλος"}}}
    for role in ("storefront", "agent"):
        assert (await api.post("/v1/kb/articles", json=body, as_=role)).status_code == 403
    article = await write(api, ("Τίτλος", ""))
    for role in ("storefront", "agent"):
        assert (await api.put(f"/v1/kb/articles/{article['id']}", json=body, as_=role)).status_code == 403
        assert (await api.post(f"/v1/kb/articles/{article['id']}/publish", as_=role)).status_code == 403
        assert (await api.get(f"/v1/kb/articles/{article['id']}/versions", as_=role)).status_code == 403
