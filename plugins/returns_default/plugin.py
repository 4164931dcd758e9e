"""The default return policy plugin: declares the `returns` policy kind ops edit, and decides
return requests under it — refused with the reason in the customer's language, sent to review,
or approved with who pays the shipping, the restocking fee and the resolutions offered."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import msgspec

from core.domain.policies import PolicyKind
from core.hookspecs import hookimpl
from core.hookspecs.returns import ReturnDecision, ReturnLineRequest, ReturnRequestContext, ReturnVerdict
from plugins.returns_default.policy import DEFAULT_POLICY, Refusal, ReturnPolicy

RETURNS = PolicyKind(
    kind="returns",
    document_type=ReturnPolicy,
    default=DEFAULT_POLICY,
    description=(
        "Whether a return request is accepted and on what terms: the withdrawal window (at least 14 days "
        "from delivery), accepted reasons and the defect reasons accepted for longer (the shop pays their "
        "shipping, no restocking fee), per-category rules for opened items, resolutions, return methods, "
        "review above a value, and the customer-facing messages in Greek and English."
    ),
)


def days_between(earlier: datetime, later: datetime, zone: ZoneInfo) -> int:
    """Calendar days from one instant to another in the shop's zone: delivered on the 1st and
    asked on the 15th is 14 days, whatever the hours."""
    return (later.astimezone(zone).date() - earlier.astimezone(zone).date()).days


def restocking_fee(request: ReturnRequestContext, policy: ReturnPolicy) -> int:
    """The fee on lines that are not the shop's fault: basis points of their value (rounded half
    up) plus the fixed amount, never more than their value; zero when every line is a defect."""
    base = sum(ln.qty * ln.unit_price for ln in request.lines if ln.reason not in policy.defect_reasons)
    if base <= 0:
        return 0
    fee = (base * policy.restocking_fee.percent_bp + 5_000) // 10_000 + policy.restocking_fee.fixed
    return min(base, fee)


def _line_problem(
    line: ReturnLineRequest, request: ReturnRequestContext, policy: ReturnPolicy, delivered_at: datetime
) -> tuple[Refusal, int] | None:
    """The first rule the line breaks, with the `{days}` its message quotes."""
    if line.reason not in policy.accepted_reasons:
        return Refusal.REASON_NOT_ACCEPTED, policy.window_days
    if line.resolution not in {str(r) for r in policy.resolutions_offered}:
        return Refusal.RESOLUTION_NOT_OFFERED, policy.window_days
    defect = line.reason in policy.defect_reasons
    elapsed = days_between(delivered_at, request.requested_at, ZoneInfo(policy.timezone))
    if defect and elapsed > policy.defect_window_days:
        return Refusal.GUARANTEE_EXPIRED, policy.defect_window_days
    if not defect and elapsed > policy.window_days:
        return Refusal.WINDOW_EXPIRED, policy.window_days
    rule = policy.rule_for(line.category)
    if rule is not None and line.opened:
        if rule.not_if_opened:
            return Refusal.OPENED, policy.window_days
        if rule.only_if_unopened_or_defect and not defect:
            return Refusal.OPENED_NOT_DEFECTIVE, policy.window_days
    return None


def decide(request: ReturnRequestContext, policy: ReturnPolicy, policy_version: int | None) -> ReturnDecision:
    """Decide a return request. Pure and deterministic: lines are checked in the request's order,
    each against its reason, resolution, window and category rule; every distinct problem is told."""
    locale = request.locale

    def say(refusal: Refusal, *, sku: str = "", days: int = policy.window_days) -> str:
        delivered_on = (
            request.delivered_at.astimezone(ZoneInfo(policy.timezone)).strftime("%d/%m/%Y")
            if request.delivered_at
            else ""
        )
        return policy.messages.text(refusal, locale).format(
            sku=sku, days=days, delivered_on=delivered_on, order_id=request.order_id
        )

    def refused(reason: str) -> ReturnDecision:
        return ReturnDecision(verdict=ReturnVerdict.DECLINED, reason=reason, policy_version=policy_version)

    if request.delivered_at is None:
        return refused(say(Refusal.NOT_DELIVERED))
    if request.method not in {str(m) for m in policy.methods}:
        return refused(say(Refusal.METHOD_NOT_OFFERED))
    problems: list[str] = []
    for line in request.lines:
        problem = _line_problem(line, request, policy, request.delivered_at)
        if problem is not None:
            text = say(problem[0], sku=line.sku, days=problem[1])
            if text not in problems:
                problems.append(text)
    if problems:
        return refused(" ".join(problems))
    review: str | None = None
    for line in request.lines:
        rule = policy.rule_for(line.category)
        if rule is not None and rule.review:
            review = say(Refusal.REVIEW_CATEGORY, sku=line.sku)
            break
    value = sum(ln.qty * ln.unit_price for ln in request.lines)
    if review is None and policy.review_above is not None and value > policy.review_above:
        review = say(Refusal.REVIEW_VALUE)
    return ReturnDecision(
        verdict=ReturnVerdict.APPROVED if review is None else ReturnVerdict.PENDING_REVIEW,
        reason=review,
        shop_pays_shipping=any(ln.reason in policy.defect_reasons for ln in request.lines),
        restocking_fee=restocking_fee(request, policy),
        resolutions_offered=tuple(str(r) for r in policy.resolutions_offered),
        policy_version=policy_version,
    )


@hookimpl
def register_policy_kinds(register: Callable[[PolicyKind], None]) -> None:
    register(RETURNS)


@hookimpl
def evaluate_return_request(
    request: ReturnRequestContext, policy: msgspec.Struct, policy_version: int
) -> ReturnDecision | None:
    # The core hands the document already decoded into the kind's type; another plugin's
    # `returns` document is not ours to decide.
    if not isinstance(policy, ReturnPolicy):
        return None
    return decide(request, policy, policy_version)
