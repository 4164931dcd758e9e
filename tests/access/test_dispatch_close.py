"""Defect 5 (issue 16): closing the dispatch of a location that does not exist is a 404, not an
empty 200."""

from __future__ import annotations

from tests.access.helpers import assert_problem
from tests.conftest import Api


async def test_closing_an_unknown_location_is_404(api: Api) -> None:
    r = await api.post("/v1/dispatch/WH-NOWHERE/close", json={}, as_="ops")
    problem = assert_problem(r, 404)
    assert "WH-NOWHERE" in problem["detail"] and "/v1/locations" in problem["detail"]


async def test_closing_a_known_location_with_nothing_to_hand_over_is_200(api: Api) -> None:
    r = await api.post("/v1/locations", json={"code": "WH-QUIET", "name": "Quiet", "type": "warehouse"}, as_="ops")
    assert r.status_code == 201, r.text
    r = await api.post("/v1/dispatch/WH-QUIET/close", json={}, as_="ops")
    assert r.status_code == 200, r.text
