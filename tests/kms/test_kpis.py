"""The knowledge base's KPIs and content gaps, with the clock pinned: deflection counted exactly
(a search by a customer followed by no case from them within 24 hours; searches whose 24 hours are
not over yet left out), helpfulness by article, the no-result rate, the top queries that found
nothing — each equal to an independent computation from the stored rows, with and without rollups."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from core.kpis import rollups
from core.kpis.engine import KPIEngine
from core.kpis.tables import KpiRollupDay
from core.runtime import Runtime
from core.service.tables import Case
from plugins.kms.tables import KbFeedback, KbSearch
from tests.conftest import Api
from tests.kms.support import MovableClock, clock, customer, write

__all__ = ["clock"]

DAY1 = datetime(2026, 3, 2, tzinfo=UTC)


async def _search(api: Api, q: str, customer_id: str | None = None, *, role: str = "storefront", **kw: Any) -> str:
    params = {"q": q, **({"customer_id": customer_id} if customer_id else {}), **kw}
    answer = await api.get("/v1/kb/search", params=params, as_=role)
    assert answer.status_code == 200, answer.text
    search_id: str = answer.json()["search_id"]
    return search_id


async def _open_case(api: Api, customer_id: str) -> None:
    made = await api.post(
        "/v1/cases",
        json={"customer": {"id": customer_id}, "channel": "web", "subject": "Βοήθεια", "body": "Δεν βρήκα απάντηση."},
        as_="storefront",
    )
    assert made.status_code == 201, made.text


def _utc(value: Any) -> datetime:
    at: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


async def _independent_deflection(start: datetime, end: datetime, now: datetime) -> tuple[int, int]:
    """(deflected, searches) straight from the rows: for every customer search in [start, end) whose
    24 hours are over, look at every case of that customer."""
    cases = [(c["customer_id"], _utc(c["created_at"])) for c in await Case.select(Case.customer_id, Case.created_at)]
    deflected = total = 0
    for s in await KbSearch.select():
        at = _utc(s["at"])
        if s["audience"] != "customer" or s["customer_id"] is None or not start <= at < end:
            continue
        if at + timedelta(hours=24) > now:
            continue
        total += 1
        deflected += not any(who == s["customer_id"] and at < when <= at + timedelta(hours=24) for who, when in cases)
    return deflected, total


async def _kpi(api: Api, kpi: str, start: str, end: str, **params: str) -> dict[str, Any]:
    answer = await api.get(f"/v1/kpis/{kpi}", params={"from": start, "to": end, **params}, as_="ops")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_deflection_is_counted_exactly(api: Api, clock: type[MovableClock]) -> None:
    await write(api, ("Επιστροφή χρημάτων", "Μέσα σε 5 εργάσιμες."), publish=True)
    anna, bill, chris, dora = [await customer(api, name) for name in ("Άννα Α", "Βίλλυ Β", "Χρήστος Χ", "Δώρα Δ")]
    await _search(api, "επιστροφή χρημάτων", anna)  # 09:00 — Anna opens a case at 14:00: not deflected
    clock.advance(hours=1)
    await _search(api, "κουπόνι", bill)  # 10:00 — Bill's case comes 25 hours later: deflected
    clock.advance(hours=1)
    await _search(api, "επιστροφή", chris)  # 11:00 — Chris never opens one: deflected
    await _search(api, "επιστροφή")  # a storefront search for nobody in particular: not in the base
    await _search(api, "επιστροφή", role="agent")  # an agent's: not in the base
    clock.at = DAY1 + timedelta(hours=14)
    await _open_case(api, anna)
    clock.at = DAY1 + timedelta(hours=10, minutes=1) + timedelta(hours=24)  # just over Bill's 24 hours
    await _open_case(api, bill)
    clock.at = DAY1 + timedelta(days=1, hours=15)
    await _search(api, "επιστροφή", anna)  # day 2, 15:00: her only case came before it — deflected
    await _search(api, "επιστροφή", dora)  # day 2, 15:00 — Dora writes at exactly 24 hours: not deflected
    clock.at = DAY1 + timedelta(days=2, hours=15)
    await _open_case(api, dora)

    # Day 3, 15:00: every window of day 1 and day 2 is over (Dora's closes at this very moment).
    value = await _kpi(api, "self_service_deflection_rate", "2026-03-02", "2026-03-04")
    assert (
        (value["numerator"], value["denominator"])
        == (3, 5)
        == await _independent_deflection(DAY1, DAY1 + timedelta(days=2), clock.at)
    )
    assert value["value"] == 3 / 5
    # Earlier, day 2's searches had not had their 24 hours: only day 1's counted.
    clock.at = DAY1 + timedelta(days=2, hours=14)
    early = await _kpi(api, "self_service_deflection_rate", "2026-03-02", "2026-03-04")
    assert (
        (early["numerator"], early["denominator"])
        == (2, 3)
        == await _independent_deflection(DAY1, DAY1 + timedelta(days=2), clock.at)
    )
    clock.at = DAY1 + timedelta(days=9)
    series = await _kpi(api, "self_service_deflection_rate", "2026-03-02", "2026-03-04", granularity="day")
    assert [(p["numerator"], p["denominator"]) for p in series["series"]] == [(2, 3), (1, 2)]
    by_locale = await _kpi(api, "self_service_deflection_rate", "2026-03-02", "2026-03-04", group_by="locale")
    assert by_locale["groups"] == [{"key": None, "value": 3 / 5, "numerator": 3, "denominator": 5}]
    empty = await _kpi(api, "self_service_deflection_rate", "2026-04-01", "2026-04-02")
    assert empty["value"] is None


async def test_helpfulness_no_result_rate_and_content_gaps(
    api: Api, runtime: Runtime, clock: type[MovableClock]
) -> None:
    refund = await write(api, ("Επιστροφή χρημάτων", "Μέσα σε 5 εργάσιμες."), publish=True)
    gifts = await write(api, ("Δωροκάρτες", "Ισχύουν έναν χρόνο."), ("Gift cards", "Valid for a year."), publish=True)
    someone = await customer(api)
    searched = await _search(api, "επιστροφή χρημάτων", someone, locale="el")
    await _search(api, "Κουπόνι  Δώρου", someone, locale="el")
    clock.advance(hours=3)
    await _search(api, "gift cards", locale="en")
    await _search(api, "κουπονι δωρου", locale="el")
    await _search(api, "λογαριασμός σε δόσεις", someone)
    await _search(api, "κουπόνι δώρου", role="agent")  # agents' searches are no content gap
    ratings: tuple[tuple[dict[str, Any], bool, str | None], ...] = (
        (refund, True, searched),
        (refund, True, None),
        (refund, False, None),
        (gifts, False, None),
    )
    for article, is_helpful, search_id in ratings:
        body = {"helpful": is_helpful, **({"search_id": search_id} if search_id else {})}
        assert (
            await api.post(f"/v1/kb/articles/{article['id']}/feedback", json=body, as_="storefront")
        ).status_code == 201
    clock.at = DAY1 + timedelta(days=1, hours=9)
    await _search(api, "κουπόνι δώρου", locale="el")  # the next day
    await api.post(f"/v1/kb/articles/{gifts['id']}/feedback", json={"helpful": True}, as_="storefront")

    period = ("2026-03-02", "2026-03-04")
    helpful = await _kpi(api, "article_helpfulness", *period)
    votes = await KbFeedback.select(KbFeedback.helpful, KbFeedback.article_id)
    assert (helpful["numerator"], helpful["denominator"]) == (sum(v["helpful"] for v in votes), len(votes)) == (3, 5)
    grouped = (await _kpi(api, "article_helpfulness", *period, group_by="article"))["groups"]
    assert {g["key"]: (g["numerator"], g["denominator"]) for g in grouped} == {
        refund["id"]: (2, 3),
        gifts["id"]: (1, 2),
    }

    no_result = await _kpi(api, "search_no_result_rate", *period)
    customer_searches = [s for s in await KbSearch.select() if s["audience"] == "customer"]
    expected = (sum(s["results"] == 0 for s in customer_searches), len(customer_searches))
    assert (no_result["numerator"], no_result["denominator"]) == expected == (4, 6)
    by_locale = (await _kpi(api, "search_no_result_rate", *period, group_by="locale"))["groups"]
    assert {g["key"]: (g["numerator"], g["denominator"]) for g in by_locale} == {
        "el": (3, 4),
        "en": (0, 1),
        None: (1, 1),
    }

    gaps = (await api.get("/v1/kb/content-gaps", params={"from": period[0], "to": period[1]}, as_="ops")).json()
    assert (gaps["searches"], gaps["no_result"]) == (6, 4)
    assert [(g["normalized"], g["searches"], g["customers"], g["query"]) for g in gaps["gaps"]] == [
        ("κουπονι δωρου", 3, 1, "κουπόνι δώρου"),
        ("λογαριασμοσ σε δοσεισ", 1, 1, "λογαριασμός σε δόσεις"),
    ]
    assert gaps["gaps"][0]["last_searched_at"].startswith("2026-03-03T09:00")
    day1 = (
        await api.get("/v1/kb/content-gaps", params={"from": "2026-03-02", "to": "2026-03-03", "limit": 1}, as_="ops")
    ).json()
    assert [(g["searches"], g["query"]) for g in day1["gaps"]] == [(2, "κουπονι δωρου")]
    assert (
        await api.get("/v1/kb/content-gaps", params={"from": "2026-03-04", "to": "2026-03-02"}, as_="ops")
    ).status_code == 422
    assert (
        await api.get("/v1/kb/content-gaps", params={"from": "2026-03-02", "to": "2026-03-04"}, as_="agent")
    ).status_code == 403

    # Closed days rolled up give the same answers as the raw rows.
    clock.at = DAY1 + timedelta(days=5)
    raw = KPIEngine(runtime.host, use_rollups=False)
    start, end = DAY1, DAY1 + timedelta(days=2)
    before = {
        k: await raw.value(raw.definition(k), start, end, {}) for k in ("article_helpfulness", "search_no_result_rate")
    }
    await rollups.build_pending(runtime.db, runtime.host, earliest=date(2026, 3, 1))
    built = {r["source"].split("@")[0] for r in await KpiRollupDay.select(KpiRollupDay.source)}
    assert {"kms.searches", "kms.votes"} <= built and "kms.deflection" not in built
    rolled = KPIEngine(runtime.host, use_rollups=True)
    for kpi_id, value in before.items():
        assert await rolled.value(rolled.definition(kpi_id), start, end, {}) == value
    grouped_rolled = await rolled.grouped(rolled.definition("article_helpfulness"), start, end, {}, "article")
    assert {g["key"]: (g["numerator"], g["denominator"]) for g in grouped_rolled} == {
        refund["id"]: (2, 3),
        gifts["id"]: (1, 2),
    }


async def test_the_kpis_are_defined_and_filtered_by_customer_segment_only(api: Api) -> None:
    definitions = {d["id"]: d for d in (await api.get("/v1/kpis/definitions", as_="ops")).json()}
    for kpi_id in ("self_service_deflection_rate", "article_helpfulness", "search_no_result_rate"):
        assert definitions[kpi_id]["plugin"] == "kms" and definitions[kpi_id]["filters"] == ["customer_segment"]
    assert definitions["article_helpfulness"]["dimensions"] == ["article"]
    filtered = await _kpi(api, "search_no_result_rate", "2026-03-02", "2026-03-04", channel="web")
    assert filtered["filter_not_applicable"] is True
