"""Survey links (service.md §3): signed with itsdangerous under the engine's secret, expiring,
single-use. A tampered, forged, expired or cut link is a clear 4xx page and records nothing; a bad
score re-renders the form; the page escapes what it echoes; `/s/…` is rate-limited per address; a
review request's link writes a pending, verified review once."""

from __future__ import annotations

import os
import re
import stat
from datetime import timedelta
from typing import Any

import pytest
from itsdangerous import URLSafeTimedSerializer

from core.customers.tables import Customer
from core.domain.events import OrderDelivered
from core.jobs import outbox
from core.orders.tables import Order
from core.runtime import Runtime
from core.settings import DATA_DIR, read, shown
from plugins.feedback import sending
from plugins.feedback.links import SALT, read_token
from plugins.feedback.settings import FEEDBACK_SECRET, SECRET_FILE, link_secret
from plugins.feedback.tables import Review, Survey, SurveyResponse
from tests.contact_email.support import Sink
from tests.feedback.support import (
    Clock,
    import_lines,
    internal,
    links_of,
    resolved_case,
    settle,
    shop_records,
)

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def mailed_links(api: Any, runtime: Runtime, mailbox: Sink) -> dict[tuple[str, int], str]:
    await resolved_case(api)
    await settle(runtime)
    assert await sending.due(runtime) == {"sent": 1}
    return links_of(mailbox.mails[-1])


def tampered(path: str) -> str:
    token = path.split("/s/", 1)[1].split("?", 1)[0]
    middle = len(token) // 2
    flipped = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    return f"/s/{flipped}?score=5"


async def test_a_tampered_forged_or_cut_link_is_a_400_page_and_records_nothing(
    api: Any, runtime: Runtime, mailbox: Sink, generous_rate: None
) -> None:
    links = await mailed_links(api, runtime, mailbox)
    good = links[("csat", 5)]
    token = good.split("/s/", 1)[1].split("?", 1)[0]
    forged = URLSafeTimedSerializer(b"x" * 48, salt=SALT).dumps(read_token(token))  # the right payload, wrong key
    for path in (tampered(good), f"/s/{forged}?score=5", f"/s/{token[:-6]}?score=5", "/s/nonsense?score=5"):
        page = await api.get(path, as_=None)
        assert page.status_code == 400, (path, page.status_code)
        assert "δεν είναι έγκυρος" in page.text and "is not valid" in page.text
        posted = await api.client.post(path.split("?")[0], data={"score": "5"}, headers=FORM)
        assert posted.status_code == 400
    assert await SurveyResponse.count() == 0


async def test_an_expired_link_is_a_410_page_and_records_nothing(
    api: Any, runtime: Runtime, mailbox: Sink, pinned: Clock, generous_rate: None
) -> None:
    links = await mailed_links(api, runtime, mailbox)
    page = await api.get(links[("csat", 4)], as_=None)
    assert page.status_code == 200
    action = re.search(r'action="([^"]+)"', page.text)
    assert action is not None
    pinned.now += timedelta(days=15)  # the policy's links live 14 days
    late = await api.get(links[("csat", 4)], as_=None)
    assert late.status_code == 410 and "έληξε" in late.text  # the survey's language: Greek
    posted = await api.client.post(action.group(1), data={"score": "4"}, headers=FORM)
    assert posted.status_code == 410
    embedded = await api.post(
        f"/v1/surveys/{read_token(action.group(1).split('/s/')[1])[0]}/responses", json={"score": 4}, as_="storefront"
    )
    assert embedded.status_code == 410 and embedded.headers["content-type"].startswith("application/problem+json")
    pinned.now += timedelta(days=80)  # past the signature's own limit too
    assert (await api.get(links[("csat", 4)], as_=None)).status_code == 410
    assert await SurveyResponse.count() == 0


async def test_a_bad_score_re_renders_the_form_escaped_and_records_nothing(
    api: Any, runtime: Runtime, mailbox: Sink, generous_rate: None
) -> None:
    links = await mailed_links(api, runtime, mailbox)
    path = links[("ces", 7)].split("?")[0]
    unchosen = await api.get(f"{path}?score=99", as_=None)
    assert unchosen.status_code == 200 and "checked" not in unchosen.text
    hostile = "<script>alert(1)</script>"
    for form in ({"score": "9", "comment": hostile}, {"comment": hostile}, {"score": "x"}):
        page = await api.client.post(path, data=form, headers=FORM)
        assert page.status_code == 422 and "1 έως 7" in page.text
        assert hostile not in page.text
    assert "&lt;script&gt;" in (await api.client.post(path, data={"comment": hostile}, headers=FORM)).text
    too_long = await api.client.post(path, data={"score": "6", "comment": "α" * 2001}, headers=FORM)
    assert too_long.status_code == 422 and "2000" in too_long.text
    assert await SurveyResponse.count() == 0
    english = await api.get(f"{path}?score=6&lang=en", as_=None)
    assert "How easy was it to solve your problem?" in english.text and 'lang="en"' in english.text
    done = await api.client.post(path, data={"score": "6", "comment": ""}, headers=FORM)
    assert done.status_code == 200 and "/s/" in done.text  # thanks, and the CSAT question still open
    [row] = await SurveyResponse.select()
    assert (row["question"], row["score"], row["comment"]) == ("ces", 6, None)


async def test_survey_links_are_rate_limited_per_address(
    api: Any, runtime: Runtime, mailbox: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMPORIO_RATE_LIMIT_SURVEY", "off")
    links = await mailed_links(api, runtime, mailbox)
    monkeypatch.setenv("EMPORIO_RATE_LIMIT_SURVEY", "3/minute")
    answers = [(await api.get(links[("csat", 3)], as_=None)).status_code for _ in range(5)]
    assert answers[:3] == [200, 200, 200] and answers[3:] == [429, 429]
    limited = await api.get(links[("csat", 3)], as_=None)
    assert int(limited.headers["retry-after"]) > 0 and limited.headers["content-type"].startswith("text/html")


async def test_a_review_requests_link_writes_one_pending_verified_review(
    api: Any, runtime: Runtime, mailbox: Sink, pinned: Clock, generous_rate: None
) -> None:
    assert (await import_lines(api, shop_records(pinned.now - timedelta(days=1)))).status_code == 200
    order_id, customer_id = await internal(Order, "o1"), await internal(Customer, "c1")
    async with runtime.unit_of_work():
        await outbox.record(OrderDelivered(), subject_id=order_id, order_id=order_id, customer_id=customer_id)
    await settle(runtime)
    await Survey.update({Survey.status: "suppressed", Survey.reason: "segment"}).where(Survey.kind == "nps")
    pinned.now += timedelta(days=10, minutes=1)
    assert await sending.due(runtime) == {"sent": 1}
    links = links_of(mailbox.mails[-1])
    assert sorted({item for item, _ in links}) == ["review:A1", "review:B2"]  # imported history: both delivered
    page = await api.get(links[("review:A1", 5)], as_=None)
    assert page.status_code == 200 and "Κούπα" in page.text and 'name="title"' in page.text
    path = links[("review:A1", 5)].split("?")[0]
    empty = await api.client.post(path, data={"score": "5", "comment": " "}, headers=FORM)
    assert empty.status_code == 422 and await Review.count() == 0
    written = await api.client.post(path, data={"score": "5", "title": "Τέλεια", "comment": "Μου αρέσει"}, headers=FORM)
    assert written.status_code == 200, written.text
    again = await api.client.post(path, data={"score": "1", "comment": "άλλαξα γνώμη"}, headers=FORM)
    assert again.status_code == 409
    [row] = await Review.select()
    assert (row["sku"], row["rating"], row["status"], row["source"]) == ("A1", 5, "pending", "link")
    assert (await api.get(links[("review:A1", 4)], as_=None)).text.count("<form") == 0  # answered: no form


async def test_the_link_secret_is_generated_once_kept_private_and_never_shown(
    api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EMPORIO_FEEDBACK_SECRET", raising=False)
    key = link_secret()
    path = read(DATA_DIR).resolve() / SECRET_FILE
    assert path.read_bytes().strip() == key and len(key) >= 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert link_secret() == key  # kept, not made again
    monkeypatch.setenv("EMPORIO_FEEDBACK_SECRET", "s" * 40)
    assert shown(FEEDBACK_SECRET) == "(set)"
    with pytest.raises(ValueError) as short:
        monkeypatch.setenv("EMPORIO_FEEDBACK_SECRET", "tooshort-but-secret")
        read(FEEDBACK_SECRET)
    assert "tooshort" not in str(short.value)


async def test_odd_requests_get_a_clear_4xx_never_a_500(
    api: Any, runtime: Runtime, mailbox: Sink, generous_rate: None
) -> None:
    links = await mailed_links(api, runtime, mailbox)
    path = links[("csat", 1)].split("?")[0]
    odd = [
        await api.client.post(path, json={"score": 1}),
        await api.client.post(path, content=b"\x00\xff" * 10, headers={"Content-Type": "application/octet-stream"}),
        await api.client.post(path, files={"score": ("s.txt", b"1")}),
        await api.client.post(path, data={"score": "1" * 50}, headers=FORM),
        await api.get(f"{path}?score=-1&lang=xx", as_=None),
        await api.get("/s/" + "a" * 5000, as_=None),
        await api.post("/v1/surveys/svy_nope/responses", json={"score": 3}, as_="storefront"),
        await api.post("/v1/surveys", json={"survey": "smile", "customer_id": "x"}, as_="agent"),
        await api.post("/v1/surveys", json={"survey": "nps", "customer_id": "cus_nope"}, as_="agent"),
        await api.post("/v1/reviews/rev_nope/moderate", json={"decision": "publish"}, as_="ops"),
        await api.post("/v1/reviews/rev_nope/reply", json={"body": "x"}, as_="ops"),
        await api.get("/v1/survey-responses", params={"cursor": "!!!"}, as_="ops"),
        await api.get("/v1/survey-responses", params={"from": "yesterday"}, as_="ops"),
        await api.get("/v1/reviews", params={"status": "lost"}, as_="ops"),
        await api.get("/v1/surveys/svy_nope", as_="ops"),
    ]
    statuses = [r.status_code for r in odd]
    assert statuses[4] == 200
    del statuses[4]
    assert all(400 <= s < 500 for s in statuses), statuses  # a score out of range only chooses nothing
    assert await SurveyResponse.count() == 0
