"""Issue 13's "Must show", over real SMTP with the real worker: a resolved case → a CSAT mail at an
SMTP sink → following the link alone records nothing → the page's POST records one answer → the
same POST again changes nothing → the csat KPI counts exactly one answer → the score of 2 opened a
follow-up case (topic feedback) and the customer's 360 suggests calling them back."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import plugins.feedback.kpis
from core.runtime import Runtime
from core.service.tables import Case
from plugins.feedback.tables import Survey, SurveyResponse
from tests.clock import pin_clock
from tests.contact_email.support import SUPPORT, Sink
from tests.e2e.conftest import eventually
from tests.feedback.support import CUSTOMER, links_of, resolved_case

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


LIVE = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)  # a Wednesday morning: the test's clock


def today_period() -> dict[str, str]:
    today = LIVE.date()
    return {"from": today.isoformat(), "to": (today + timedelta(days=1)).isoformat()}


async def test_a_resolved_case_mails_a_csat_survey_answered_once_that_closes_the_loop(
    api: Any, worker: Runtime, mailbox: Sink, generous_rate: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The engine's clock, and the feedback KPIs' own reading of "today", pinned.
    pin_clock(monkeypatch, LIVE, plugins.feedback.kpis)
    case = await resolved_case(api)
    mail = await eventually(lambda: _first(mailbox), within=30, what="the CSAT mail at the SMTP sink")
    assert mail["To"].addresses[0].addr_spec == CUSTOMER["email"]
    assert mail["From"].addresses[0].addr_spec == SUPPORT
    assert f"[#{case['number']}]" in mail["Subject"] and mail["Auto-Submitted"] == "auto-generated"

    async def sent() -> Any:  # the worker records the sending right after the sink accepted it
        row = await Survey.select().where(Survey.case_id == case["id"]).first()
        return row if row is not None and row["status"] == "sent" else None

    survey = await eventually(sent, within=30, what="the survey recorded as sent")
    assert mail["Message-ID"] == survey["message_id"]
    links = links_of(mail)
    assert sorted(links) == [("ces", s) for s in range(1, 8)] + [("csat", s) for s in range(1, 6)]

    # A link scanner (or the customer) following the link records nothing.
    page = await api.get(links[("csat", 2)], as_=None)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert re.search(r'value="2" required checked', page.text) and page.text.count("checked") == 1
    assert '<form method="post"' in page.text and "<textarea" in page.text and "<script" not in page.text
    assert page.headers["referrer-policy"] == "no-referrer" and "no-store" in page.headers["cache-control"]
    assert await SurveyResponse.count() == 0

    action = re.search(r'action="([^"]+)"', page.text)
    assert action is not None
    form = {"score": "2", "comment": "Άργησαν πολύ να απαντήσουν"}
    answered = await api.client.post(action.group(1), data=form, headers=FORM)
    assert answered.status_code == 200, answered.text
    assert "24" in answered.text  # "we will call you within 24 hours"
    assert "/s/" in answered.text  # and the mail's second question, CES, offered as links
    [response] = await SurveyResponse.select()
    assert (response["question"], response["score"], response["comment"]) == ("csat", 2, form["comment"])

    again = await api.client.post(action.group(1), data={"score": "5", "comment": "άλλαξα γνώμη"}, headers=FORM)
    assert again.status_code == 409
    assert [(r["score"], r["comment"]) for r in await SurveyResponse.select()] == [(2, form["comment"])]

    kpi = (await api.get("/v1/kpis/csat", params=today_period(), as_="ops")).json()
    assert (kpi["value"], kpi["numerator"], kpi["denominator"]) == (0.0, 0, 1)
    rate = (await api.get("/v1/kpis/survey_response_rate", params=today_period(), as_="ops")).json()
    assert (rate["numerator"], rate["denominator"]) == (1, 1)

    follow_up = await Case.select().where(Case.id == response["follow_up_case_id"]).first()
    assert follow_up is not None and follow_up["topic"] == "feedback" and follow_up["id"] != case["id"]
    assert await Case.count().where(Case.topic == "feedback") == 1  # the second POST opened none
    seen = (await api.get(f"/v1/cases/{follow_up['id']}", as_="agent")).json()
    assert any(form["comment"] in m["body"] and m["internal"] for m in seen["messages"])
    context = (await api.get(f"/v1/customers/{case['customer']['id']}/context", as_="agent")).json()
    assert "call_back" in [a["action"] for a in context["next_best_actions"]]
    # The 360 tells the agent what the customer said, beside the case it was about.
    [told] = context["surveys"]
    assert (told["id"], told["survey"], told["status"], told["case_id"]) == (
        survey["id"],
        "csat",
        "sent",  # CES, its second question, is still open
        case["id"],
    )
    [answer] = told["answers"]
    assert (answer["question"], answer["score"], answer["comment"]) == ("csat", 2, form["comment"])
    assert answer["detractor"] and answer["follow_up_case_id"] == follow_up["id"]

    # The agent calls back and resolves the follow-up: the suggestion goes away.
    assert (await api.post(f"/v1/cases/{follow_up['id']}/resolve", as_="agent")).status_code == 200
    context = (await api.get(f"/v1/customers/{case['customer']['id']}/context", as_="agent")).json()
    assert "call_back" not in [a["action"] for a in context["next_best_actions"]]


async def _first(box: Sink) -> Any:
    return box.mails[0] if box.mails else None
