"""The default return policy: a 14-day window from delivery (the EU right of withdrawal), defects
accepted for 730 days at the shop's cost, per-category rules for opened items, resolutions,
restocking fee, return methods, review above a value, and messages in Greek and English.
The hooks live in `plugins.returns_default.plugin`."""

from plugins.returns_default.plugin import RETURNS, days_between, decide, restocking_fee
from plugins.returns_default.policy import (
    DEFAULT_POLICY,
    LEGAL_MINIMUM_WINDOW_DAYS,
    PLACEHOLDERS,
    CategoryRule,
    Messages,
    Refusal,
    RestockingFee,
    ReturnPolicy,
)

__all__ = [
    "DEFAULT_POLICY",
    "LEGAL_MINIMUM_WINDOW_DAYS",
    "PLACEHOLDERS",
    "RETURNS",
    "CategoryRule",
    "Messages",
    "Refusal",
    "RestockingFee",
    "ReturnPolicy",
    "days_between",
    "decide",
    "restocking_fee",
]
