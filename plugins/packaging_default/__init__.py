"""Default packaging rules: the box choice (fewest boxes, then smallest), thank-you notes by
customer segment and language, seasonal editions, gifts by order value, reusable packaging,
and the packing slip. The hooks live in `plugins.packaging_default.plugin`."""

from plugins.packaging_default.boxes import BoxSelection, choose_boxes
from plugins.packaging_default.inserts import choose_inserts
from plugins.packaging_default.plugin import plan_packaging
from plugins.packaging_default.policy import (
    DEFAULT_POLICY,
    OVERSIZE,
    Box,
    CustomerSegment,
    GiftProgramme,
    GiftTier,
    PackagingPolicy,
    ReusablePackaging,
    SeasonalEdition,
    ThankYouNote,
)
from plugins.packaging_default.slip import render_packing_slip

__all__ = [
    "DEFAULT_POLICY",
    "OVERSIZE",
    "Box",
    "BoxSelection",
    "CustomerSegment",
    "GiftProgramme",
    "GiftTier",
    "PackagingPolicy",
    "ReusablePackaging",
    "SeasonalEdition",
    "ThankYouNote",
    "choose_boxes",
    "choose_inserts",
    "plan_packaging",
    "render_packing_slip",
]
