"""Store pickup (click and collect) behind the courier hooks: a keyed pickup code per shipment,
a printable pickup slip, and no carrier to call. Always registered."""

from plugins.courier_pickup.courier import StorePickupCourier, pickup_code
from plugins.courier_pickup.slip import pickup_slip_pdf

__all__ = ["StorePickupCourier", "pickup_code", "pickup_slip_pdf"]
