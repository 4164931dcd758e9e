"""evaluate_return_request (firstresult): the later-registered policy plugin is asked first, the
first non-None decision wins (a decline carries its reason), None passes to the next."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from core.hookspecs import hookimpl
from core.hookspecs.returns import ReturnDecision, ReturnLineRequest, ReturnRequestContext, ReturnVerdict
from core.runtime import Runtime
from core.testing.fixtures import inline_plugin

REQUEST = ReturnRequestContext(
    order_id="ord_test",
    delivered_at=datetime(2025, 3, 1, 12, 0, tzinfo=UTC),
    requested_at=datetime(2025, 3, 20, 9, 0, tzinfo=UTC),
    method="courier",
    locale="el",
    lines=[ReturnLineRequest(sku="SHOE-42", qty=1, reason="wrong_size", resolution="refund", unit_price=7900)],
)
POLICY = {"window_days": 14}


class WindowPolicy:
    """Declines requests outside the window; otherwise says nothing (None) unless `approve`."""

    def __init__(self, *, approve: bool) -> None:
        self.approve = approve
        self.calls: list[tuple[ReturnRequestContext, Mapping[str, Any], int]] = []

    @hookimpl
    def evaluate_return_request(
        self, request: ReturnRequestContext, policy: Mapping[str, Any], policy_version: int
    ) -> ReturnDecision | None:
        self.calls.append((request, policy, policy_version))
        assert request.delivered_at is not None
        if (request.requested_at - request.delivered_at).days > policy["window_days"]:
            return ReturnDecision(
                verdict=ReturnVerdict.DECLINED,
                reason="Η προθεσμία επιστροφής έληξε",
                policy_version=policy_version,
            )
        return ReturnDecision(verdict=ReturnVerdict.APPROVED, policy_version=policy_version) if self.approve else None


class ApproveEverything:
    @hookimpl
    def evaluate_return_request(
        self, request: ReturnRequestContext, policy: Mapping[str, Any], policy_version: int
    ) -> ReturnDecision | None:
        return ReturnDecision(verdict=ReturnVerdict.APPROVED, shop_pays_shipping=True, policy_version=policy_version)


def evaluate(runtime: Runtime, request: ReturnRequestContext = REQUEST) -> ReturnDecision | None:
    decision: ReturnDecision | None = runtime.host.pm.hook.evaluate_return_request(
        request=request, policy=POLICY, policy_version=3
    )
    return decision


async def test_hook_evaluate_return_request(runtime: Runtime) -> None:
    baseline = evaluate(runtime)
    window = WindowPolicy(approve=False)
    with (
        inline_plugin(runtime.host, ApproveEverything(), name="inline-lenient"),
        inline_plugin(runtime.host, window, name="inline-window"),
    ):
        late = evaluate(runtime)  # the window policy, registered later, is asked first and declines
        assert late == ReturnDecision(
            verdict=ReturnVerdict.DECLINED, reason="Η προθεσμία επιστροφής έληξε", policy_version=3
        )
        in_time = msgspec_replace(REQUEST, requested_at=datetime(2025, 3, 5, tzinfo=UTC))
        decision = evaluate(runtime, in_time)  # it passes (None): the lenient policy decides
        assert decision is not None
        assert (decision.verdict, decision.shop_pays_shipping) == (ReturnVerdict.APPROVED, True)
        window.approve = True
        decision = evaluate(runtime, in_time)
        assert decision is not None and not decision.shop_pays_shipping  # first non-None wins
        assert [c[2] for c in window.calls] == [3, 3, 3]
        assert all(c[1] == POLICY for c in window.calls)
    assert evaluate(runtime) == baseline


def msgspec_replace(request: ReturnRequestContext, **changes: Any) -> ReturnRequestContext:
    import msgspec

    return msgspec.structs.replace(request, **changes)
