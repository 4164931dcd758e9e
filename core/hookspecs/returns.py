"""Return policies: whether a return request is accepted, and on what terms."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime

import msgspec

from core.hookspecs import hookspec


class ReturnVerdict(enum.StrEnum):
    APPROVED = "approved"
    PENDING_REVIEW = "pending_review"
    DECLINED = "declined"


class ReturnLineRequest(msgspec.Struct, frozen=True, kw_only=True):
    sku: str
    qty: int
    reason: str
    resolution: str
    category: str | None = None
    opened: bool | None = None
    unit_price: int = 0


class ReturnRequestContext(msgspec.Struct, frozen=True, kw_only=True):
    order_id: str
    delivered_at: datetime | None
    requested_at: datetime
    method: str  # "courier" | "store"
    locale: str
    lines: Sequence[ReturnLineRequest]


class ReturnDecision(msgspec.Struct, frozen=True, kw_only=True):
    verdict: ReturnVerdict
    reason: str | None = None  # in the customer's language when declined
    shop_pays_shipping: bool = False
    restocking_fee: int = 0
    resolutions_offered: Sequence[str] = ()
    policy_version: int | None = None


@hookspec(firstresult=True)
def evaluate_return_request(
    request: ReturnRequestContext, policy: msgspec.Struct, policy_version: int
) -> ReturnDecision | None:
    """Decide a return request under the shop's current return policy.

    When it is called:
        When a customer or agent files a return (`POST /v1/returns`) and by
        `POST /v1/policies/returns/evaluate` (dry run). Pure computation.

    Args:
        request: the order's delivery time, the request time, method, locale and the lines
            with reason, resolution, category and condition.
        policy: the current `returns` policy document, already decoded into the `document_type`
            its `PolicyKind` declared (a dry run passes the unsaved draft, decoded the same way).
        policy_version: its version (0: the kind's default, -1: an unsaved draft).

    Returns:
        The first non-None `ReturnDecision` wins; return None to pass, in particular when
        `policy` is not your own document type. A declined decision carries the reason in the
        customer's language; the API answers it with 422.

    Example:
        ```python
        @hookimpl
        def evaluate_return_request(request, policy, policy_version):
            if not isinstance(policy, ReturnPolicy):
                return None
            if (request.requested_at - request.delivered_at).days > policy.window_days:
                return ReturnDecision(verdict=ReturnVerdict.DECLINED, reason="…")
            return None
        ```
    """
