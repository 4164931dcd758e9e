"""The feedback KPIs of kpis.md equal an independent computation over a generated, imported
history (cases with assignees and messages, CSAT/CES/NPS answers with and without a case, reviews
in every status): plain, by channel, grouped, through rollups; `top_performing_agents` answers with
groups only (with or without group_by, in a series, as CSV); the import kinds refuse what they must
and imported answers never close the loop."""

from __future__ import annotations

import csv
import io
import random
import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from core.kpis import rollups as kpi_rollups
from core.kpis.engine import KPIEngine
from core.runtime import Runtime
from core.service.tables import Case
from plugins.feedback.tables import Review, SurveyResponse
from tests.feedback.support import import_lines, stamp

START = datetime(2026, 3, 1, tzinfo=UTC)
P = {"from": "2026-03-04", "to": "2026-03-11"}
P_START, P_END = datetime(2026, 3, 4, tzinfo=UTC), datetime(2026, 3, 11, tzinfo=UTC)
CHANNELS = ("email", "chat", "phone", "web")
SKUS = ("A1", "B2", "C3", "D4")
KPIS = ("csat", "ces", "ces_mean", "nps", "average_rating")


def history(seed: int = 5) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    records: list[dict[str, Any]] = [
        {"kind": "agent", "id": "a1", "name": "Άννα"},
        {"kind": "agent", "id": "a2", "name": "Bob"},
        {"kind": "agent", "id": "a3", "name": "Γιάννης"},
    ]
    records += [{"kind": "product", "sku": s, "name": s, "price": 1000, "currency": "EUR"} for s in SKUS]
    for c in range(10):
        records.append({"kind": "customer", "id": f"c{c}", "email": f"c{c}@example.gr", "name": f"C{c}"})
    for o in range(30):
        skus = rnd.sample(SKUS, rnd.randint(1, 3))
        records.append(
            {"kind": "order", "id": f"o{o}", "channel": "web", "customer_id": f"c{o % 10}",
             "placed_at": stamp(START - timedelta(days=5)), "currency": "EUR",
             "lines": [{"sku": s, "qty": 1, "unit_price": 1000} for s in skus]}
        )  # fmt: skip
        for s in skus:
            if rnd.random() < 0.8:
                records.append(
                    {"kind": "review", "id": f"r{o}{s}", "customer_id": f"c{o % 10}", "order_id": f"o{o}", "sku": s,
                     "rating": rnd.randint(1, 5), "at": stamp(START + timedelta(minutes=rnd.randrange(13 * 1440))),
                     "status": rnd.choice(["published", "published", "rejected", "pending"])}
                )  # fmt: skip
    for k in range(60):
        created = START + timedelta(minutes=rnd.randrange(12 * 1440))
        resolved = created + timedelta(minutes=rnd.randrange(20, 3 * 1440)) if rnd.random() < 0.8 else None
        channel = rnd.choice(CHANNELS)
        records.append(
            {"kind": "case", "id": f"k{k}", "customer_id": f"c{rnd.randrange(10)}", "channel": channel,
             "created_at": stamp(created), "resolved_at": stamp(resolved) if resolved else None,
             "assignee": rnd.choice(["a1", "a2", "a3", None]), "reopened": rnd.choice([0, 0, 1])}
        )  # fmt: skip
        at = created
        for m in range(rnd.randrange(0, 5)):
            at += timedelta(minutes=rnd.randrange(1, 400))
            author = rnd.choice(["customer", "agent"])
            records.append(
                {"kind": "message", "id": f"k{k}m{m}", "case_id": f"k{k}", "at": stamp(at), "author": author,
                 "channel": channel, "internal": author == "agent" and rnd.random() < 0.25}
            )  # fmt: skip
    for r in range(150):
        survey = rnd.choice(["csat", "csat", "ces", "nps"])
        low, high = {"csat": (1, 5), "ces": (1, 7), "nps": (0, 10)}[survey]
        case = f"k{rnd.randrange(60)}" if rnd.random() < 0.8 else None
        records.append(
            {"kind": "survey_response", "id": f"sr{r}", "customer_id": f"c{rnd.randrange(10)}", "survey": survey,
             "score": rnd.randint(low, high), "at": stamp(START + timedelta(minutes=rnd.randrange(13 * 1440))),
             "case_id": case, "comment": rnd.choice([None, "καλά", "άργησαν"])}
        )  # fmt: skip
    return records


def t(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def expected(records: list[dict[str, Any]], channel: str | None = None) -> dict[str, Any]:
    """kpis.md, computed again from the records alone."""
    cases = {r["id"]: r for r in records if r["kind"] == "case"}

    def answers(survey: str) -> list[int]:
        return [
            r["score"]
            for r in records
            if r["kind"] == "survey_response" and r["survey"] == survey and P_START <= t(r["at"]) < P_END
            and (channel is None or (r["case_id"] and cases[r["case_id"]]["channel"] == channel))
        ]  # fmt: skip

    csat, ces, nps = answers("csat"), answers("ces"), answers("nps")
    ratings = [
        r["rating"]
        for r in records
        if r["kind"] == "review" and r["status"] == "published" and P_START <= t(r["at"]) < P_END
    ]
    return {
        "csat": sum(s >= 4 for s in csat) / len(csat) if csat else None,
        "ces": sum(s >= 5 for s in ces) / len(ces) if ces else None,
        "ces_mean": statistics.mean(ces) if ces else None,
        "nps": (sum(s >= 9 for s in nps) - sum(s <= 6 for s in nps)) / len(nps) * 100 if nps else None,
        "average_rating": statistics.mean(ratings) if ratings else None,
    }


def expected_ratings_by_sku(records: list[dict[str, Any]]) -> dict[str, float]:
    by_sku: dict[str, list[int]] = defaultdict(list)
    for r in records:
        if r["kind"] == "review" and r["status"] == "published" and P_START <= t(r["at"]) < P_END:
            by_sku[r["sku"]].append(r["rating"])
    return {sku: statistics.mean(v) for sku, v in by_sku.items()}


def expected_agents(records: list[dict[str, Any]], channel: str | None = None) -> list[dict[str, Any]]:
    cases = {r["id"]: r for r in records if r["kind"] == "case"}
    messages: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        if r["kind"] == "message" and not r["internal"]:
            messages[r["case_id"]].append(r)
    board: dict[str, dict[str, Any]] = {}
    for c in cases.values():
        if not (c["resolved_at"] and c["assignee"] and P_START <= t(c["resolved_at"]) < P_END):
            continue
        if channel is not None and c["channel"] != channel:
            continue
        first = min((t(m["at"]) for m in messages[c["id"]] if m["author"] == "agent"), default=None)
        again = first is not None and any(m["author"] == "customer" and t(m["at"]) > first for m in messages[c["id"]])
        entry = board.setdefault(c["assignee"], {"resolved": 0, "fcr": 0, "frt": []})
        entry["resolved"] += 1
        entry["fcr"] += c["reopened"] == 0 and not again
        if first is not None:
            entry["frt"].append((first - t(c["created_at"])).total_seconds() / 60)
    csat: dict[str, list[int]] = defaultdict(list)
    for r in records:
        if r["kind"] == "survey_response" and r["survey"] == "csat" and r["case_id"] and P_START <= t(r["at"]) < P_END:
            case = cases[r["case_id"]]
            if case["assignee"] and (channel is None or case["channel"] == channel):
                csat[case["assignee"]].append(r["score"])
    rows = [
        {
            "key": agent,
            "resolved": e["resolved"],
            "first_contact_resolution_rate": e["fcr"] / e["resolved"],
            "first_response_time_minutes": statistics.median(e["frt"]) if e["frt"] else None,
            "csat": sum(s >= 4 for s in csat[agent]) / len(csat[agent]) if csat[agent] else None,
        }
        for agent, e in board.items()
    ]
    return sorted(rows, key=lambda g: (-g["resolved"], g["key"]))


def close(actual: Any, wanted: Any) -> bool:
    if wanted is None or actual is None:
        return actual is wanted
    return bool(abs(actual - wanted) <= 1e-9 * max(1.0, abs(wanted)))


def same_board(got: list[dict[str, Any]], wanted: list[dict[str, Any]], agent_ids: dict[str, str]) -> None:
    """Equal figures, in kpis.md's order: resolved desc, then agent id (the engine's ids)."""
    mapped = sorted(({**w, "key": agent_ids[w["key"]]} for w in wanted), key=lambda g: (-g["resolved"], g["key"]))
    assert [g["key"] for g in got] == [w["key"] for w in mapped]
    for g, w in zip(got, mapped, strict=True):
        for field in ("resolved", "first_contact_resolution_rate", "first_response_time_minutes", "csat"):
            assert close(g[field], w[field]), (w["key"], field, g[field], w[field])


async def agent_ids() -> dict[str, str]:
    rows = await Case.raw("SELECT id, external_ref FROM agents")
    return {r["external_ref"]: r["id"] for r in rows if r["external_ref"]}


async def test_feedback_kpis_equal_an_independent_computation(api: Any, runtime: Runtime) -> None:
    records = history()
    answer = await import_lines(api, records)
    assert answer.status_code == 200, answer.text
    assert await SurveyResponse.count() == 150 and await Review.count() > 40
    assert (await import_lines(api, records)).status_code == 200 and await SurveyResponse.count() == 150
    assert await Case.count().where(Case.topic == "feedback") == 0  # history never closes the loop
    ids = await agent_ids()
    for channel in (None, "email", "chat"):
        params = {**P, **({"channel": channel} if channel else {})}
        got = (await api.get("/v1/kpis", params=params, as_="ops")).json()["kpis"]
        wanted = expected(records, channel)
        for kpi in KPIS:
            assert close(got[kpi]["value"], wanted[kpi]), (channel, kpi, got[kpi], wanted[kpi])
        same_board(got["top_performing_agents"]["groups"], expected_agents(records, channel), ids)
        assert got["top_performing_agents"]["value"] is None
    assert all(expected(records)[k] is not None for k in KPIS)
    plain = (await api.get("/v1/kpis", params=P, as_="ops")).json()["kpis"]
    assert plain["survey_response_rate"]["value"] is None  # imported answers were never sent by us
    assert plain["csat"]["denominator"] == sum(
        1 for r in records if r["kind"] == "survey_response" and r["survey"] == "csat" and P_START <= t(r["at"]) < P_END
    )
    by_sku = (await api.get("/v1/kpis/average_rating", params={**P, "group_by": "sku"}, as_="ops")).json()
    assert {g["key"]: g["value"] for g in by_sku["groups"]} == pytest.approx(expected_ratings_by_sku(records))
    na = (await api.get("/v1/kpis/average_rating", params={**P, "channel": "email"}, as_="ops")).json()
    assert na["filter_not_applicable"] is True and close(na["value"], expected(records)["average_rating"])
    segment = (await api.get("/v1/kpis/csat", params={**P, "segment": "returning"}, as_="ops")).json()
    assert segment["filter_not_applicable"] is True


async def test_top_performing_agents_is_groups_only_everywhere(api: Any, runtime: Runtime) -> None:
    records = history(seed=8)
    assert (await import_lines(api, records)).status_code == 200
    ids, wanted = await agent_ids(), expected_agents(records)
    plain = (await api.get("/v1/kpis/top_performing_agents", params=P, as_="ops")).json()
    grouped = (await api.get("/v1/kpis/top_performing_agents", params={**P, "group_by": "agent"}, as_="ops")).json()
    same_board(plain["groups"], wanted, ids)
    assert grouped["groups"] == plain["groups"] and plain["value"] is None
    bad = await api.get("/v1/kpis/top_performing_agents", params={**P, "group_by": "channel"}, as_="ops")
    assert bad.status_code == 422
    series = (await api.get("/v1/kpis/top_performing_agents", params={**P, "granularity": "week"}, as_="ops")).json()
    assert sum(g["resolved"] for bucket in series["series"] for g in bucket["groups"]) == sum(
        w["resolved"] for w in wanted
    )
    exported = await api.get("/v1/kpis/top_performing_agents", params={**P, "format": "csv"}, as_="ops")
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["key"] for r in rows] == [g["key"] for g in plain["groups"]]
    assert [int(r["resolved"]) for r in rows] == [g["resolved"] for g in plain["groups"]]


async def test_feedback_kpis_through_rollups_equal_the_raw_answer(api: Any, runtime: Runtime) -> None:
    records = history(seed=13)
    assert (await import_lines(api, records)).status_code == 200
    built = await kpi_rollups.build_pending(runtime.db, runtime.host, earliest=date(2026, 3, 1), max_days=100_000)
    assert built > 0
    rolled = await KPIEngine(runtime.host, use_rollups=True).all(P_START, P_END, {})
    raw = await KPIEngine(runtime.host, use_rollups=False).all(P_START, P_END, {})
    wanted = expected(records)
    for kpi in KPIS:
        assert close(rolled[kpi]["value"], wanted[kpi]) and close(raw[kpi]["value"], wanted[kpi]), kpi
    assert rolled["top_performing_agents"]["groups"] == raw["top_performing_agents"]["groups"]
    same_board(rolled["top_performing_agents"]["groups"], expected_agents(records), await agent_ids())

    # Publishing a review of a rolled-up day is seen at once (its day is read raw again).
    pending = next(
        r for r in records if r["kind"] == "review" and r["status"] == "pending" and P_START <= t(r["at"]) < P_END
    )
    row = await Review.select(Review.id).where(Review.external_ref == pending["id"]).first()
    assert row is not None
    moderated = await api.post(f"/v1/reviews/{row['id']}/moderate", json={"decision": "publish"}, as_="ops")
    assert moderated.status_code == 200, moderated.text
    pending["status"] = "published"
    after = await KPIEngine(runtime.host, use_rollups=True).all(P_START, P_END, {})
    assert close(after["average_rating"]["value"], expected(records)["average_rating"])


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"kind": "survey_response", "id": "x", "customer_id": "c0", "survey": "csat", "score": 6,
          "at": "2026-03-02T00:00:00Z"}, "csat score is 1–5"),
        ({"kind": "survey_response", "id": "x", "customer_id": "nobody", "survey": "nps", "score": 6,
          "at": "2026-03-02T00:00:00Z"}, "customer nobody"),
        ({"kind": "survey_response", "id": "x", "customer_id": "c0", "survey": "ces", "score": 3,
          "at": "2026-03-02T00:00:00Z", "case_id": "nope"}, "case nope"),
        ({"kind": "survey_response", "id": "x", "customer_id": "c0", "survey": "smile", "score": 3,
          "at": "2026-03-02T00:00:00Z"}, "survey"),
        ({"kind": "review", "id": "x", "customer_id": "c0", "order_id": "o0", "sku": "B2", "rating": 4,
          "at": "2026-03-02T00:00:00Z", "status": "published"}, "has no line of B2"),
        ({"kind": "review", "id": "x", "customer_id": "c1", "order_id": "o0", "sku": "A1", "rating": 4,
          "at": "2026-03-02T00:00:00Z", "status": "published"}, "is not customer c1's"),
        ({"kind": "review", "id": "x", "customer_id": "c0", "order_id": "o0", "sku": "A1", "rating": 9,
          "at": "2026-03-02T00:00:00Z", "status": "published"}, "rating"),
    ],
)  # fmt: skip
async def test_bad_feedback_records_are_refused_with_their_line(api: Any, record: dict[str, Any], message: str) -> None:
    base: list[dict[str, Any]] = [
        {"kind": "customer", "id": "c0", "email": "c0@example.gr", "name": "C0"},
        {"kind": "customer", "id": "c1", "email": "c1@example.gr", "name": "C1"},
        {"kind": "product", "sku": "A1", "name": "A1", "price": 1000, "currency": "EUR"},
        {"kind": "product", "sku": "B2", "name": "B2", "price": 1000, "currency": "EUR"},
        {"kind": "order", "id": "o0", "channel": "web", "customer_id": "c0", "placed_at": "2026-03-01T00:00:00Z",
         "currency": "EUR", "lines": [{"sku": "A1", "qty": 1, "unit_price": 1000}]},
    ]  # fmt: skip
    answer = await import_lines(api, [*base, record])
    assert answer.status_code in (200, 422), answer.text
    assert message in answer.text and f"line {len(base) + 1}" in answer.text
    assert await SurveyResponse.count() == 0 and await Review.count() == 0
