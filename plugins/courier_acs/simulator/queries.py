"""ACS simulator handlers that only read: tracking, COD report, zip areas, prices, stations.

Row field names and date formats follow the sample responses of ACS's REST manual
(``"2018-12-21T00:00:00"`` dates, lower-case tracking fields, Greek station codes).
Prices are invented but deterministic, so tests can assert exact amounts.
"""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

from plugins.courier_acs.simulator import data
from plugins.courier_acs.simulator.params import (
    BusinessError,
    Params,
    parse_day,
    wire_datetime,
    wire_day,
)
from plugins.courier_acs.simulator.state import Shipment
from plugins.courier_acs.simulator.vouchers import parse_products
from plugins.courier_acs.simulator.wire import Context, envelope

SUMMARY = "ACS_Trackingsummary"
DETAILS = "ACS_TrackingDetails"
COD = "ACS_COD_Beneficiary_Info"
AREA = "ACS_Area_Find_By_Zip_Code"
PRICE = "ACS_Price_Calculation"
STATIONS = "ACS_Stations"

_CYPRUS: Final = ("ΛΕ", "ΛΣ")
_CENT: Final = Decimal("0.01")
_VAT: Final = Decimal("0.24")
_EXTRA_COST: Final = {
    "COD": Decimal("1.50"),
    "SAT": Decimal("4.00"),
    "MDD": Decimal("3.00"),
    "TDD": Decimal("3.00"),
    "REM": Decimal("2.50"),
    "RDO": Decimal("1.50"),
    "PRO": Decimal("1.50"),
}


def _money(amount: Decimal) -> float:
    # ACS sends amounts as JSON numbers (11.22), so the wire gets a float rounded to cents.
    return float(amount.quantize(_CENT, rounding=ROUND_HALF_UP))


def _expected_delivery(shipment: Shipment) -> str:
    """Next working day (two for islands/Cyprus) after pickup; Sundays do not count."""
    day = shipment.picked_up_at.date() if shipment.picked_up_at else shipment.pickup_date
    days = 2 if data.STATIONS[shipment.destination_station].island else 1
    while days:
        day += timedelta(days=1)
        if day.weekday() != 6:
            days -= 1
    return wire_day(day)


def _delivery_info(shipment: Shipment) -> str:
    if shipment.returned_flag:
        return data.INFO_RETURNED
    if shipment.delivery_flag and shipment.delivered_at:
        return data.INFO_DELIVERED.format(date=shipment.delivered_at.strftime("%d/%m/%Y"), name=shipment.consignee)
    if shipment.reason_code in data.EN_ROUTE_CODES or (shipment.picked_up_at and not shipment.reason_code):
        return data.INFO_EN_ROUTE
    if shipment.reason_code:
        return data.INFO_NOT_DELIVERED.format(description=data.REASON_CODES[shipment.reason_code].description)
    return ""  # created, not yet in a pickup list: nothing to report


def tracking_summary(ctx: Context, p: Params) -> dict[str, Any]:
    number = (p.text("Voucher_No") or "0").strip()
    try:
        s = ctx.state.find(number)
    except BusinessError as error:
        return envelope([ctx.row(SUMMARY, error.message)], [])
    with ctx.state.lock:
        origin, destination = data.STATIONS[s.origin_station], data.STATIONS[s.destination_station]
        address, house_no = s.recipient["address"], s.recipient["address_number"]
        row = {
            "voucher_no": number,
            "acs_station_origin": s.origin_station,
            "acs_station_origin_descr": origin.description,
            "acs_station_destination": s.destination_station,
            "acs_station_destination_descr": destination.description,
            "pickup_date": wire_day(s.picked_up_at.date()) if s.picked_up_at else None,
            "delivery_flag": s.delivery_flag,
            "returned_flag": s.returned_flag,
            "delivery_date": wire_day(s.delivered_at.date()) if s.delivered_at else None,
            "delivery_time": s.delivered_at.strftime("%H:%M") if s.delivered_at else None,
            "consignee": s.consignee,
            "non_delivery_reason_code": s.reason_code,
            "delivery_date_expected": _expected_delivery(s),
            "delivery_info": _delivery_info(s),
            "sender": s.sender,
            "recipient": s.recipient["name"],
            "recipient_address": " ".join(filter(None, (address, house_no))),
            "shipment_status": s.shipment_status,
            "phone_acs_station_origin": origin.phone,
            "phone_acs_station_destination": destination.phone,
        }
    return envelope([ctx.row(SUMMARY)], [row])


def tracking_details(ctx: Context, p: Params) -> dict[str, Any]:
    try:
        shipment = ctx.state.find(p.text("Voucher_No") or "0")
    except BusinessError as error:
        return envelope([ctx.row(DETAILS, error.message)], [])
    with ctx.state.lock:
        rows = [
            {
                "checkpoint_date_time": wire_datetime(c.at),
                "checkpoint_action": c.action,
                "checkpoint_location": c.location,
                "checkpoint_notes": c.notes,
            }
            for c in shipment.checkpoints
        ]
    return envelope([ctx.row(DETAILS)], rows)


def cod_beneficiary_info(ctx: Context, p: Params) -> dict[str, Any]:
    """COD paid out on a day. Simplification: ACS pays out on the delivery day, all in cash."""
    day = parse_day(p.text("COD_Payment_Date"))
    if day is None:
        return envelope([ctx.row(COD, data.MSG_NO_DATA)], [])
    rows: list[dict[str, Any]] = []
    with ctx.state.lock:
        for s in ctx.state.shipments.values():
            if s.deleted or s.cod_cents is None or not s.delivery_flag or s.returned_flag:
                continue
            if s.delivered_at is None or s.delivered_at.date() != day:
                continue
            rows.append(
                {
                    "Customer_Code": ctx.billing_code,
                    "POD": s.voucher_no,
                    "Parcel_Sender": s.sender,
                    "Parcel_Receiver": s.recipient["name"],
                    "Parcel_Pickup_Date": wire_day(s.picked_up_at.date() if s.picked_up_at else s.pickup_date),
                    "Parcel_Delivery_Date": wire_day(s.delivered_at.date()),
                    "Parcel_COD_Amount": s.cod_wire,
                    "Customer_RefNo_1": s.reference_key1 or "",
                    "Customer_RefNo_2": s.reference_key2 or "",
                    "COD_Amount_Cach": s.cod_wire,  # sic, ACS's spelling
                    "COD_Amount_CreditCard": 0.0,
                }
            )
    return envelope([ctx.row(COD)], rows)


def area_find_by_zip_code(ctx: Context, p: Params) -> dict[str, Any]:
    country = (p.text("Country") or "GR").upper()
    zip_code = (p.text("Zip_Code") or "0").replace(" ", "")
    if zip_code == "0":  # the manual: 0 or null lists every area of the country
        areas = [a for a in data.KNOWN_AREAS if (len(a.zip_code) == 4) == (country == "CY")]
    else:
        areas = data.areas_for_zip(zip_code, country)
    if p.integer("Show_Only_Inaccessible_Areas") == 1 and country == "GR":
        areas = [a for a in areas if a.inaccessible]
    rows = [
        {
            "Description": a.description,
            "Area": a.description,
            "Description_Eng": a.description_eng,
            "Zip_Code": a.zip_code,
            "Municipality": "",
            "Prefecture": a.prefecture,
            "Station_ID": a.station,
            "Branch_ID": 1,
            "Inaccessible_Area_Kind": "ΔΠ" if a.inaccessible else "",
        }
        for a in areas
    ]
    return envelope([ctx.row(AREA, None if rows else data.MSG_NO_DATA)], rows)


def _price(ctx: Context, p: Params) -> dict[str, float]:
    if p.text("Billing_Code") != ctx.billing_code:
        raise BusinessError(data.MSG_BILLING_CODE)
    origin = p.text("Acs_Station_Origin") or ctx.billing_code[1:3]
    if origin not in data.STATIONS or origin in _CYPRUS:
        raise BusinessError(data.MSG_UNKNOWN_ORIGIN)
    # Simulator extension: a zip code may stand in for the destination station.
    zip_code = p.text("Zip_Code") or p.text("Recipient_Zipcode")
    destination = p.text("Acs_Station_Destination") or (data.station_for_zip(zip_code, "GR") if zip_code else None)
    if destination not in data.STATIONS or destination in _CYPRUS:  # ACS prices Greece only
        raise BusinessError(data.MSG_UNKNOWN_DESTINATION)
    weight = p.decimal("Weight")
    if weight is None or weight < Decimal("0.5"):
        raise BusinessError(data.MSG_WEIGHT)
    dims = [p.decimal(f"Dimension_{axis}_In_Cm") for axis in "XYZ"]
    if all(d is not None for d in dims):
        weight = max(weight, Decimal(math.prod(d for d in dims if d is not None)) / 5000)  # ACS: L×W×H/5000
    if weight > 100:
        raise BusinessError(data.MSG_PRICE_WEIGHT)
    insurance = p.decimal("Insurance_Ammount") or Decimal(0)
    if insurance > 3000:
        raise BusinessError(data.MSG_INSURANCE)
    products = parse_products(p.text("Acs_Delivery_Products"))
    basic = Decimal("3.50") + Decimal("0.90") * max(0, math.ceil(weight) - 2)
    basic += Decimal("1.80") if data.STATIONS[destination].island else Decimal(0)
    basic += Decimal("0.70") if destination != origin else Decimal(0)
    extra = sum((_EXTRA_COST.get(code, Decimal(0)) for code in products), Decimal(0))
    if "INS" in products:
        extra += max(Decimal("1.00"), insurance * Decimal("0.005"))
    total = basic + extra
    return {
        "Basic_Ammount": _money(basic),
        "Extra_Service_Ammount": _money(extra),
        "Total_Ammount": _money(total),
        "Total_Vat_Ammount": _money(total * _VAT),
    }


def price_calculation(ctx: Context, p: Params) -> dict[str, Any]:
    try:
        amounts = _price(ctx, p)
    except BusinessError as error:
        empty = dict.fromkeys(("Basic_Ammount", "Extra_Service_Ammount", "Total_Ammount", "Total_Vat_Ammount"))
        return envelope([ctx.row(PRICE, error.message, **empty, Info_Message="")])
    return envelope([ctx.row(PRICE, None, **amounts, Info_Message="")])


def stations(ctx: Context, p: Params) -> dict[str, Any]:
    kind = p.integer("ACS_SHOP_KIND") or 1
    country = (p.text("ACS_SHOP_COUNTRY_ID") or "GR").upper()
    rows = [
        {
            "ACS_SHOP_COUNTRY_ID": 1,
            "ACS_SHOP_COUNTRY_DESCR": "ΕΛΛΑΔΑ",
            "ACS_SHOP_STATION_ID": station,
            "ACS_SHOP_STATION_DESCR": name,
            "ACS_SHOP_BRANCH_ID": 1,
            "ACS_SHOP_ADDRESS": address,
            "ACS_SHOP_ZIPCODE": zip_code,
            "ACS_SHOP_WORKING_HOURS": "08:00-20:00",
            "ACS_SHOP_LAT": lat,
            "ACS_SHOP_LONG": lon,
            "ACS_SHOP_KIND": row_kind,
        }
        for row_kind, station, name, address, zip_code, lat, lon in data.STATION_ROWS
        if row_kind == kind and country == "GR"
    ]
    return envelope([ctx.row(STATIONS)], rows)
