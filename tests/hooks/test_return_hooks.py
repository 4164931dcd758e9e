"""evaluate_return_request (firstresult): the later-registered policy plugin is asked first, the
first non-None decision wins (a decline carries its reason), None passes to the next; the policy
reaches plugins as its typed document, decoded by the core."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from core.hookspecs import hookimpl
from core.hookspecs.returns import ReturnDecision, ReturnLineRequest, ReturnRequestContext, ReturnVerdict
from core.returns import returns
from core.runtime import Runtime
from core.testing.fixtures import inline_plugin
from plugins.returns_default.policy import DEFAULT_POLICY, ReturnPolicy

REQUEST = ReturnRequestContext(
    order_id="ord_test",
    delivered_at=datetime(2025, 3, 1, 12, 0, tzinfo=UTC),
    requested_at=datetime(2025, 3, 20, 9, 0, tzinfo=UTC),
    method="courier",
    locale="el",
    lines=[ReturnLineRequest(sku="SHOE-42", qty=1, reason="wrong_size", resolution="refund", unit_price=7900)],
)


class WindowOnly(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A return policy document of the test plugin's own type."""

    window_days: int


POLICY = WindowOnly(window_days=14)


class WindowPolicy:
    """Declines requests outside the window; otherwise says nothing (None) unless `approve`."""

    def __init__(self, *, approve: bool) -> None:
        self.approve = approve
        self.calls: list[tuple[ReturnRequestContext, msgspec.Struct, int]] = []

    @hookimpl
    def evaluate_return_request(
        self, request: ReturnRequestContext, policy: msgspec.Struct, policy_version: int
    ) -> ReturnDecision | None:
        self.calls.append((request, policy, policy_version))
        if not isinstance(policy, WindowOnly):
            return None  # not our document type: another plugin declared the kind
        assert request.delivered_at is not None
        if (request.requested_at - request.delivered_at).days > policy.window_days:
            return ReturnDecision(
                verdict=ReturnVerdict.DECLINED,
                reason="Η προθεσμία επιστροφής έληξε",
                policy_version=policy_version,
            )
        return ReturnDecision(verdict=ReturnVerdict.APPROVED, policy_version=policy_version) if self.approve else None


class ApproveEverything:
    @hookimpl
    def evaluate_return_request(
        self, request: ReturnRequestContext, policy: msgspec.Struct, policy_version: int
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


async def test_hook_evaluate_return_request_gets_the_typed_document_from_the_core(
    app_client: Any, runtime: Runtime
) -> None:
    """The core decodes the current `returns` document into the kind's declared type (here the
    default plugin's ReturnPolicy, version 0) before asking; a plugin of another type passes."""
    window = WindowPolicy(approve=True)
    with inline_plugin(runtime.host, window, name="inline-window"):
        decision, version = await returns.evaluate(runtime, REQUEST)
    assert version == 0
    [(request, policy, policy_version)] = window.calls
    assert (request, policy_version) == (REQUEST, 0)
    assert isinstance(policy, ReturnPolicy) and policy == DEFAULT_POLICY
    assert decision.policy_version == 0  # the default plugin decided, after the inline one passed


def msgspec_replace(request: ReturnRequestContext, **changes: Any) -> ReturnRequestContext:
    return msgspec.structs.replace(request, **changes)
