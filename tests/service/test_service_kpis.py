"""The customer-service KPIs of kpis.md equal an independent computation over a generated,
imported history (agents, cases, messages with notes and channel switches, worklogs), plain,
filtered by channel, grouped, and read through rollups; the import kinds refuse what they must."""

from __future__ import annotations

import random
import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
import pytest

from core.kpis import rollups as kpi_rollups
from core.kpis.engine import KPIEngine
from core.runtime import Runtime
from core.service.tables import Case, CaseMessage, Worklog

START = datetime(2026, 3, 1, tzinfo=UTC)
P = {"from": "2026-03-04", "to": "2026-03-11"}
P_START, P_END = datetime(2026, 3, 4, tzinfo=UTC), datetime(2026, 3, 11, tzinfo=UTC)
CHANNELS = ("email", "chat", "phone", "social", "web")
TOPICS = ("delivery", "payment", "returns", "product")
KPIS = (
    "total_tickets",
    "tickets_per_customer",
    "first_response_time_minutes",
    "response_time_minutes",
    "resolution_time_hours",
    "average_handle_time_minutes",
    "first_contact_resolution_rate",
    "cost_per_resolution",
    "channel_switch_rate",
    "repeat_contact_rate",
)


def stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def history(seed: int = 7) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    records: list[dict[str, Any]] = [
        {"kind": "agent", "id": "a1", "name": "Άννα", "skills": ["delivery"], "languages": ["el"],
         "hourly_cost": 1800, "currency": "EUR"},
        {"kind": "agent", "id": "a2", "name": "Bob", "skills": ["payment"], "languages": ["en"],
         "hourly_cost": 2400, "currency": "EUR"},
        {"kind": "agent", "id": "a3", "name": "Γιάννης", "languages": ["el"]},  # no cost: counts 0
    ]  # fmt: skip
    for c in range(12):
        records.append({"kind": "customer", "id": f"c{c}", "email": f"c{c}@example.gr", "name": f"C{c}"})
    for k in range(70):
        created = START + timedelta(minutes=rnd.randrange(0, 13 * 24 * 60))
        resolved = created + timedelta(minutes=rnd.randrange(30, 5 * 24 * 60)) if rnd.random() < 0.75 else None
        channel = rnd.choice(CHANNELS)
        records.append(
            {
                "kind": "case", "id": f"k{k}", "customer_id": f"c{rnd.randrange(12)}", "channel": channel,
                "topic": rnd.choice(TOPICS), "created_at": stamp(created),
                "resolved_at": stamp(resolved) if resolved else None,
                "assignee": rnd.choice(["a1", "a2", "a3", None]), "reopened": rnd.choice([0, 0, 0, 1]),
            }
        )  # fmt: skip
        at = created
        for m in range(rnd.randrange(0, 6)):
            at += timedelta(minutes=rnd.randrange(1, 600))
            author = rnd.choice(["customer", "agent", "agent"])
            records.append(
                {
                    "kind": "message", "id": f"k{k}m{m}", "case_id": f"k{k}", "at": stamp(at), "author": author,
                    "agent_id": "a1" if author == "agent" else None,
                    "channel": rnd.choice([channel, channel, rnd.choice(CHANNELS)]),
                    "internal": author == "agent" and rnd.random() < 0.3,
                }
            )  # fmt: skip
        for w in range(rnd.randrange(0, 3)):  # a worklog is its case, agent, time and minutes: keep them apart
            records.append(
                {"kind": "worklog", "case_id": f"k{k}", "agent_id": rnd.choice(["a1", "a2", "a3"]),
                 "at": stamp(created + timedelta(minutes=5 + w)), "minutes": rnd.choice([2.5, 5, 12.5, 30])}
            )  # fmt: skip
    return records


def expected(records: list[dict[str, Any]], start: datetime, end: datetime, channel: str | None) -> dict[str, Any]:
    """kpis.md, computed again from the records alone."""

    def t(value: str) -> datetime:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))

    cases = {r["id"]: r for r in records if r["kind"] == "case"}
    cost = {r["id"]: r.get("hourly_cost", 0) for r in records if r["kind"] == "agent"}
    messages: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        if r["kind"] == "message" and not r["internal"]:
            messages[r["case_id"]].append(r)
    worklogs = [r for r in records if r["kind"] == "worklog"]

    def in_channel(case: dict[str, Any]) -> bool:
        return channel is None or case["channel"] == channel

    def first_agent(case_id: str) -> datetime | None:
        return min((t(m["at"]) for m in messages[case_id] if m["author"] == "agent"), default=None)

    created = [c for c in cases.values() if start <= t(c["created_at"]) < end and in_channel(c)]
    resolved = [c for c in cases.values() if c["resolved_at"] and start <= t(c["resolved_at"]) < end and in_channel(c)]
    frt = [(fa - t(c["created_at"])).total_seconds() / 60 for c in created if (fa := first_agent(c["id"]))]
    responses = []
    for case_id, msgs in messages.items():
        if not in_channel(cases[case_id]):
            continue
        for m in msgs:
            if m["author"] == "customer" and start <= t(m["at"]) < end:
                later = [t(a["at"]) for a in msgs if a["author"] == "agent" and t(a["at"]) > t(m["at"])]
                if later:
                    responses.append((min(later) - t(m["at"])).total_seconds() / 60)

    def fcr(case: dict[str, Any]) -> bool:
        fa = first_agent(case["id"])
        again = fa is not None and any(m["author"] == "customer" and t(m["at"]) > fa for m in messages[case["id"]])
        return case["reopened"] == 0 and not again

    def handle(case: dict[str, Any]) -> float:
        minutes: float = sum(w["minutes"] for w in worklogs if w["case_id"] == case["id"])
        return minutes

    def spent(case: dict[str, Any]) -> float:
        euros: float = sum(w["minutes"] / 60 * cost[w["agent_id"]] for w in worklogs if w["case_id"] == case["id"])
        return euros

    def switched(case: dict[str, Any]) -> bool:
        return len({m["channel"] for m in messages[case["id"]] if m["author"] == "customer"}) >= 2

    def repeat(case: dict[str, Any]) -> bool:
        at = t(case["created_at"])
        return any(
            o["customer_id"] == case["customer_id"] and at - timedelta(days=7) <= t(o["created_at"]) < at
            for o in cases.values()
        )

    def ratio(flags: list[bool]) -> float | None:
        return sum(flags) / len(flags) if flags else None

    return {
        "total_tickets": len(created),
        "tickets_per_customer": len(created) / len({c["customer_id"] for c in created}) if created else None,
        "first_response_time_minutes": statistics.median(frt) if frt else None,
        "response_time_minutes": statistics.median(responses) if responses else None,
        "resolution_time_hours": statistics.median(
            (t(c["resolved_at"]) - t(c["created_at"])).total_seconds() / 3600 for c in resolved
        )
        if resolved
        else None,
        "average_handle_time_minutes": statistics.mean(handle(c) for c in resolved) if resolved else None,
        "first_contact_resolution_rate": ratio([fcr(c) for c in resolved]),
        "cost_per_resolution": statistics.mean(spent(c) for c in resolved) if resolved else None,
        "channel_switch_rate": ratio([switched(c) for c in created]),
        "repeat_contact_rate": ratio([repeat(c) for c in created]),
    }


async def import_history(api: Any, records: list[dict[str, Any]]) -> Any:
    body = b"".join(msgspec.json.encode(r) + b"\n" for r in records)
    return await api.post("/v1/import", content=body, headers={"Content-Type": "application/x-ndjson"}, as_="admin")


def close(actual: Any, wanted: Any) -> bool:
    if wanted is None or actual is None:
        return actual is wanted
    return bool(abs(actual - wanted) <= 1e-9 * max(1.0, abs(wanted)))


async def test_service_kpis_equal_an_independent_computation(api: Any, runtime: Runtime) -> None:
    records = history()
    answer = await import_history(api, records)
    assert answer.status_code == 200, answer.text
    assert await Case.count() == 70 and await Worklog.count() > 0
    again = await import_history(api, records)  # re-running a file changes nothing
    assert again.status_code == 200 and await Case.count() == 70
    for channel in (None, "email", "chat"):
        params = {**P, **({"channel": channel} if channel else {})}
        got = (await api.get("/v1/kpis", params=params, as_="ops")).json()["kpis"]
        wanted = expected(records, P_START, P_END, channel)
        for kpi in KPIS:
            assert close(got[kpi]["value"], wanted[kpi]), (channel, kpi, got[kpi], wanted[kpi])
    assert wanted["total_tickets"] > 0 and wanted["first_response_time_minutes"] is not None
    segment = (await api.get("/v1/kpis/total_tickets", params={**P, "segment": "first_order"}, as_="ops")).json()
    assert segment.get("filter_not_applicable") is True
    grouped = (await api.get("/v1/kpis/total_tickets", params={**P, "group_by": "channel"}, as_="ops")).json()
    by_channel = {g["key"]: g["value"] for g in grouped["groups"]}
    assert sum(by_channel.values()) == expected(records, P_START, P_END, None)["total_tickets"]
    assert by_channel.get("email", 0) == expected(records, P_START, P_END, "email")["total_tickets"]


async def test_service_kpis_through_rollups_equal_the_raw_answer(api: Any, runtime: Runtime) -> None:
    records = history(seed=11)
    assert (await import_history(api, records)).status_code == 200
    # March 2026 is long closed (the history is dated, not relative to today): every day rolls up.
    built = await kpi_rollups.build_pending(runtime.db, runtime.host, earliest=date(2026, 3, 1), max_days=100_000)
    assert built > 0
    rolled = await KPIEngine(runtime.host, use_rollups=True).all(P_START, P_END, {})
    raw = await KPIEngine(runtime.host, use_rollups=False).all(P_START, P_END, {})
    wanted = expected(records, P_START, P_END, None)
    for kpi in KPIS:
        assert close(rolled[kpi]["value"], wanted[kpi]) and close(raw[kpi]["value"], wanted[kpi]), kpi


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"kind": "case", "id": "x", "customer_id": "nobody", "channel": "email", "created_at": "2026-03-01T00:00:00Z"},
         "customer nobody"),
        ({"kind": "message", "id": "m", "case_id": "nope", "at": "2026-03-01T00:00:00Z", "author": "customer",
          "channel": "email"}, "case nope"),
        ({"kind": "case", "id": "x", "customer_id": "c0", "channel": "fax", "created_at": "2026-03-01T00:00:00Z"},
         "fax"),
        ({"kind": "worklog", "case_id": "k0", "at": "2026-03-01T00:00:00Z", "minutes": -5}, "minutes"),
    ],
)  # fmt: skip
async def test_bad_service_records_are_refused_with_their_line(api: Any, record: dict[str, Any], message: str) -> None:
    customer = {"kind": "customer", "id": "c0", "email": "c0@example.gr", "name": "C0"}
    answer = await import_history(api, [customer, record])
    assert answer.status_code in (200, 422), answer.text
    assert message in answer.text and "line 2" in answer.text
    assert await CaseMessage.count() == 0
