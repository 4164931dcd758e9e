"""The return policy's dry run (`POST /v1/policies/returns/evaluate`): what the current policy,
or an unsaved draft of it, would decide for a return request, recording nothing."""

from __future__ import annotations

from typing import Any

import msgspec

from core.domain.errors import NotFound
from core.domain.returns import ReturnIn
from core.hookspecs.returns import ReturnDecision, ReturnRequestContext
from core.orders.tables import Order
from core.policies.drafts import draft_or_current
from core.returns import returns
from core.runtime import Runtime


class ReturnDraft(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    request: ReturnIn
    policy: dict[str, Any] | None = None  # evaluate an unsaved policy document instead of the current one


class ReturnDryRun(msgspec.Struct, frozen=True, kw_only=True):
    policy_version: int  # -1 for an unsaved draft policy
    request: ReturnRequestContext
    decision: ReturnDecision | None  # None when no installed plugin decides under a draft


async def dry_run(runtime: Runtime, draft: ReturnDraft) -> ReturnDryRun:
    order = await Order.select().where(Order.id == draft.request.order_id).first()
    if order is None:
        raise NotFound(f"no order with id {draft.request.order_id}")
    context = await returns.context_for(order, draft.request, draft.request.locale or "el")
    if draft.policy is None:  # the decision the real request would get, defaults included
        decision, version = await returns.evaluate(runtime, context)
        return ReturnDryRun(policy_version=version, request=context, decision=decision)
    document, version = await draft_or_current(runtime.host, "returns", draft.policy)
    drafted: ReturnDecision | None = runtime.host.pm.hook.evaluate_return_request(
        request=context, policy=document, policy_version=version
    )
    return ReturnDryRun(policy_version=version, request=context, decision=drafted)
