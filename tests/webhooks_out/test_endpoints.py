"""Endpoints: the `whsec_` secret is shown once (never listed, never replayed by an
Idempotency-Key, never stored in plain text); bad input is a 422 that changes nothing; the OpenAPI
document lists every event type under `webhooks` with its typed payload."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from core.domain.events import CATALOGUE, EventType
from core.runtime import Runtime
from plugins.webhooks_out import sealing
from plugins.webhooks_out.tables import WebhookEndpoint
from tests.access.helpers import assert_problem
from tests.conftest import Api

VALID = {"url": "https://erp.example.gr/hooks/emporio", "events": ["order.placed", "shipment.delivered"]}


async def _stored(runtime: Runtime) -> str:
    rows = await runtime.db.fetch("SELECT * FROM webhook_endpoints")
    return "\n".join(repr(row) for row in rows)


async def test_the_secret_is_shown_once_and_kept_only_sealed(api: Api, runtime: Runtime) -> None:
    first = await api.post(
        "/v1/webhook-endpoints", json={**VALID, "description": "ERP"}, headers={"Idempotency-Key": "e1"}
    )
    assert first.status_code == 201, first.text
    created = first.json()
    secret = created["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert created["events"] == ["order.placed", "shipment.delivered"] and created["status"] == "enabled"
    assert created["url"] == VALID["url"] and created["description"] == "ERP" and created["created_by"] == "test-admin"

    stored = await _stored(runtime)
    assert created["id"] in stored
    assert secret not in stored and secret.removeprefix("whsec_") not in stored
    row = await WebhookEndpoint.select().where(WebhookEndpoint.id == created["id"]).first()
    assert row is not None and sealing.unseal(row["secret_sealed"]) == secret  # sealed, and opens with the key
    idempotency = "\n".join(repr(r) for r in await runtime.db.fetch("SELECT * FROM idempotency_keys"))
    assert secret.removeprefix("whsec_") not in idempotency

    for path in ("/v1/webhook-endpoints", f"/v1/webhook-endpoints/{created['id']}"):
        shown = await api.get(path)
        assert shown.status_code == 200 and created["id"] in shown.text
        assert "secret" not in shown.text and secret.removeprefix("whsec_") not in shown.text

    replay = await api.post(
        "/v1/webhook-endpoints", json={**VALID, "description": "ERP"}, headers={"Idempotency-Key": "e1"}
    )
    problem = assert_problem(replay, 409)
    assert "shown once" in problem["detail"] and problem["original"]["id"] == created["id"]
    assert problem["original"]["secret"] is None and secret.removeprefix("whsec_") not in replay.text
    assert len((await api.get("/v1/webhook-endpoints")).json()["items"]) == 1

    again = await api.post("/v1/webhook-endpoints", json=VALID)  # a second endpoint, a secret of its own
    assert again.status_code == 201 and again.json()["secret"] != secret


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**VALID, "url": "ftp://erp.example.gr/hooks"}, "url"),
        ({**VALID, "url": "erp.example.gr/hooks"}, "url"),
        ({**VALID, "url": "https://"}, "url"),
        ({**VALID, "url": "https://user:pass@erp.example.gr/hooks"}, "url"),
        ({**VALID, "url": "https://erp.example.gr/hooks#top"}, "url"),
        ({**VALID, "url": "https://erp.example.gr:99999/hooks"}, "url"),
        ({**VALID, "url": ""}, "url"),
        ({**VALID, "events": ["order.placed", "order.exploded"]}, "events"),
        ({**VALID, "events": ["ORDER.PLACED"]}, "events"),
        ({**VALID, "events": []}, "events"),
    ],
)
async def test_bad_input_is_a_422_that_changes_nothing(
    api: Api, runtime: Runtime, body: dict[str, Any], field: str
) -> None:
    answer = await api.post("/v1/webhook-endpoints", json=body)
    problem = assert_problem(answer, 422)
    assert problem["errors"][0]["field"] == field, problem
    assert await _stored(runtime) == ""


@pytest.mark.parametrize(
    ("body", "field"), [({"events": VALID["events"]}, "url"), ({**VALID, "secret": "whsec_mine"}, "secret")]
)
async def test_a_body_of_another_shape_is_refused_like_any_route_s(
    api: Api, runtime: Runtime, body: dict[str, Any], field: str
) -> None:
    answer = await api.post("/v1/webhook-endpoints", json=body)
    assert_problem(answer, 400)  # the engine's answer to a body that does not decode (api/problems.py)
    assert field in answer.json()["errors"][0]["message"]
    assert await _stored(runtime) == ""


async def test_unknown_event_types_are_named(api: Api) -> None:
    answer = await api.post("/v1/webhook-endpoints", json={**VALID, "events": ["order.placed", "order.exploded"]})
    problem = assert_problem(answer, 422)
    assert "order.exploded" in problem["detail"] and "order.placed" not in problem["detail"].split(";")[0]


async def test_only_admins_manage_webhooks(api: Api) -> None:
    for role in ("ops", "agent", "storefront"):
        assert (await api.post("/v1/webhook-endpoints", json=VALID, as_=role)).status_code == 403
        assert (await api.get("/v1/webhook-endpoints", as_=role)).status_code == 403
    assert (await api.get("/v1/webhook-endpoints/whe_missing/deliveries")).status_code == 404
    assert (await api.post("/v1/webhook-deliveries/msg_missing/retry")).status_code == 404


async def test_the_openapi_document_lists_every_event_as_a_webhook(api: Api) -> None:
    schema = (await api.client.get("/schema/openapi.json")).json()
    webhooks = schema["webhooks"]
    assert set(webhooks) == {t.value for t in EventType}
    placed = webhooks["order.placed"]["post"]
    assert {p["name"] for p in placed["parameters"]} == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    body = placed["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["type"]["enum"] == ["order.placed"]
    assert {"total", "currency", "channel", "status"} <= set(body["properties"]["data"]["properties"])
    assert set(body["properties"]["data"]["required"]) >= {"total", "currency"}
    for event_type, kind in CATALOGUE.items():
        data = webhooks[event_type.value]["post"]["requestBody"]["content"]["application/json"]["schema"]
        fields = set(data["properties"]["data"].get("properties", {}))
        assert fields == set(kind.__struct_encode_fields__), event_type  # the JSON names


def test_a_secret_sealed_under_one_key_does_not_open_under_another(monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptography.fernet import Fernet

    monkeypatch.setenv("EMPORIO_WEBHOOK_SEALING_KEY", Fernet.generate_key().decode())
    secret = sealing.new_secret()
    sealed = sealing.seal(secret)
    assert secret not in sealed and sealing.unseal(sealed) == secret
    monkeypatch.setenv("EMPORIO_WEBHOOK_SEALING_KEY", Fernet.generate_key().decode())
    with pytest.raises(sealing.SealingKeyMismatch, match="create the endpoint again"):
        sealing.unseal(sealed)
    monkeypatch.setenv("EMPORIO_WEBHOOK_SEALING_KEY", "too-short-to-be-a-key")
    with pytest.raises(ValueError, match="EMPORIO_WEBHOOK_SEALING_KEY must be a Fernet key") as refused:
        sealing.seal(secret)
    assert "too-short" not in str(refused.value)  # a secret setting's value is never shown


async def test_an_endpoint_is_changed_field_by_field_and_bad_changes_change_nothing(api: Api) -> None:
    created = (await api.post("/v1/webhook-endpoints", json={**VALID, "description": "ERP"})).json()
    path = f"/v1/webhook-endpoints/{created['id']}"

    moved = await api.patch(path, json={"url": " https://erp2.example.gr/in ", "events": ["order.cancelled"]})
    assert moved.status_code == 200, moved.text
    shown = moved.json()
    assert shown["url"] == "https://erp2.example.gr/in" and shown["events"] == ["order.cancelled"]
    assert shown["description"] == "ERP" and shown["status"] == "enabled"  # left out: kept
    assert "secret" not in moved.text

    for body, status in (
        ({"url": "ftp://erp.example.gr/hooks"}, 422),
        ({"events": ["order.exploded"]}, 422),
        ({"events": []}, 422),
        ({"status": "paused"}, 400),  # a body that does not decode (api/problems.py)
        ({"secret": "whsec_mine"}, 400),
    ):
        assert_problem(await api.patch(path, json=body), status)
    assert (await api.get(path)).json() == shown
    assert_problem(await api.patch("/v1/webhook-endpoints/whe_missing", json={"description": "x"}), 404)
    assert_problem(await api.post("/v1/webhook-endpoints/whe_missing/secret"), 404)


async def test_a_new_secret_is_shown_once_and_the_old_one_is_gone(api: Api, runtime: Runtime) -> None:
    created = (await api.post("/v1/webhook-endpoints", json=VALID)).json()
    path = f"/v1/webhook-endpoints/{created['id']}/secret"
    rotated = await api.post(path, headers={"Idempotency-Key": "rotate-1"})
    assert rotated.status_code == 200, rotated.text
    secret = rotated.json()["secret"]
    assert secret.startswith("whsec_") and secret != created["secret"] and rotated.json()["id"] == created["id"]
    row = await WebhookEndpoint.select().where(WebhookEndpoint.id == created["id"]).first()
    assert row is not None and sealing.unseal(row["secret_sealed"]) == secret
    assert secret.removeprefix("whsec_") not in await _stored(runtime)
    idempotency = "\n".join(repr(r) for r in await runtime.db.fetch("SELECT * FROM idempotency_keys"))
    assert secret.removeprefix("whsec_") not in idempotency

    replay = await api.post(path, headers={"Idempotency-Key": "rotate-1"})  # not rotated again, not shown again
    assert "shown once" in assert_problem(replay, 409)["detail"]
    row = await WebhookEndpoint.select().where(WebhookEndpoint.id == created["id"]).first()
    assert row is not None and sealing.unseal(row["secret_sealed"]) == secret
