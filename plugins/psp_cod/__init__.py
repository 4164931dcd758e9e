"""Cash on delivery: accepted at order time (the order is confirmed at once), captured when the
courier reports delivery, canceled when delivery is refused or the parcel comes back.
Refunds of cash payments are made by bank transfer or store credit and recorded as such."""

from plugins.psp_cod.processor import CashOnDelivery

__all__ = ["CashOnDelivery"]
