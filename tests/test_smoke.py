from tests.conftest import Api


async def test_health_and_ready(api: Api) -> None:
    assert (await api.get("/health", as_=None)).json() == {"status": "ok"}
    ready = await api.get("/ready", as_=None)
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "queue": "ok"}
