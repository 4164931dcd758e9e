"""ACS simulator handlers that change vouchers: create, print, delete, pickup list, multipart.

Each handler takes the call's :class:`Params` and returns the full response
envelope. Validation follows the error list of ACS's REST manual; the order in
which ACS checks fields is unknown, ours is billing code → date → recipient →
destination → pieces/weight → charge type → products/COD → Cyprus content type.
"""

from __future__ import annotations

import base64
import re
from decimal import Decimal
from typing import Any

from plugins.courier_acs.simulator import data
from plugins.courier_acs.simulator.params import BusinessError, Params, parse_day, split_vouchers
from plugins.courier_acs.simulator.pdf import Label, render_labels
from plugins.courier_acs.simulator.state import Shipment
from plugins.courier_acs.simulator.wire import Context, envelope

CREATE = "ACS_Create_Voucher"
PRINT = "ACS_Print_Voucher"
DELETE = "ACS_Delete_Voucher"
PICKUP = "ACS_Issue_Pickup_List"
MULTIPART = "ACS_Get_Multipart_Vouchers"
_CREDENTIALS = frozenset({"company_id", "company_password", "user_id", "user_password"})


def parse_products(text: str | None) -> list[str]:
    """``"COD, SAT"`` → ``["COD", "SAT"]``; order is irrelevant to ACS, duplicates dropped."""
    products: list[str] = []
    for item in (text or "").split(","):
        code = item.strip().upper()
        if code and code not in products:
            if code not in data.PRODUCTS:
                raise BusinessError(data.MSG_PRODUCT_UNKNOWN.format(product=code))
            products.append(code)
    if any(pair <= set(products) for pair in data.INCOMPATIBLE_PRODUCTS):
        raise BusinessError(data.MSG_PRODUCTS_COMBINATION)
    return products


def _destination(p: Params) -> tuple[str, str]:
    country = (p.text("Recipient_Country") or "GR").upper()
    zip_code = (p.text("Recipient_Zipcode") or "").replace(" ", "")
    station = data.station_for_zip(zip_code, country)
    if station is None:
        raise BusinessError(data.MSG_ZIP_COUNTRY)
    explicit = p.text("Acs_Station_Destination")
    if explicit is not None:
        if explicit not in data.STATIONS:
            raise BusinessError(data.MSG_STATION)
        station = explicit
    if p.text("Acs_Station_Branch_Destination") not in (None, "0", "1"):
        raise BusinessError(data.MSG_STATION)
    return country, station


def _cod(p: Params, products: list[str]) -> tuple[Any, int | None]:
    """Validate COD; returns (amount as sent on the wire, integer cents)."""
    amount = p.decimal("Cod_Ammount")  # sic: ACS spells it with two m's
    if amount is None or amount == 0:
        if "COD" in products:
            raise BusinessError(data.MSG_COD_AMOUNT)
        return None, None
    if "COD" not in products:
        raise BusinessError(data.MSG_COD_PRODUCT)
    cents = amount * 100
    if amount < 0 or cents != cents.to_integral_value():
        raise BusinessError(data.MSG_COD_AMOUNT)
    if p.integer("Cod_Payment_Way") not in (0, 1):
        raise BusinessError(data.MSG_COD_PAYMENT_WAY)
    return p.get("Cod_Ammount"), int(cents)


def build_shipment(ctx: Context, p: Params) -> tuple[Shipment, bool]:
    """Validate an ACS_Create_Voucher call; returns the unsaved shipment and with-return flag."""
    if p.text("Billing_Code") != ctx.billing_code:
        raise BusinessError(data.MSG_BILLING_CODE)
    now = ctx.state.now()
    pickup = parse_day(p.text("Pickup_Date"))
    if pickup is None or pickup < now.date():
        raise BusinessError(data.MSG_PICKUP_DATE)
    if ctx.state.reject_sunday_pickup and pickup.weekday() == 6:
        raise BusinessError(data.MSG_PICKUP_SUNDAY)
    name = p.text("Recipient_Name")
    if not name:
        raise BusinessError(data.MSG_RECIPIENT_NAME)
    if not p.text("Recipient_Address"):
        raise BusinessError(data.MSG_ADDRESS)
    country, destination = _destination(p)
    reverse = _reverse_pickup(ctx, p)
    if reverse is None and not p.text("Recipient_Phone") and not p.text("Recipient_Cell_Phone"):
        raise BusinessError(data.MSG_PHONE)
    quantity = 1 if p.get("Item_Quantity") is None else p.integer("Item_Quantity")
    if quantity is None or not 1 <= quantity <= 99:
        raise BusinessError(data.MSG_QUANTITY)
    weight = p.decimal("Weight")
    if weight is None or not Decimal("0.5") <= weight <= 999:
        raise BusinessError(data.MSG_WEIGHT)
    if p.integer("Charge_Type") not in (2, 4):
        raise BusinessError(data.MSG_CHARGE_TYPE)
    products = parse_products(p.text("Acs_Delivery_Products"))
    appointment = p.text("Appointment_Until_Time")
    if appointment and re.fullmatch(r"\d{1,2}:\d{2}", appointment):
        # The manual: a time up to 10:00 adds morning delivery, a later one 2-hour delivery.
        products = parse_products(",".join([*products, "MDD" if appointment.zfill(5) <= "10:00" else "TDD"]))
    cod_wire, cod_cents = _cod(p, products)
    if reverse is not None and cod_cents is not None:
        raise BusinessError(data.MSG_REVERSE_COD)
    insurance = p.decimal("Insurance_Ammount")
    if insurance is not None and insurance > 3000:
        raise BusinessError(data.MSG_INSURANCE)
    if country == "CY" and not p.text("Content_Type_ID"):
        raise BusinessError(data.MSG_CONTENT_TYPE)
    # The manual documents null or "1"; JSON true is accepted too.
    with_return = p.get("With_Return_Voucher") is True or p.text("With_Return_Voucher") == "1"
    shipment = Shipment(
        voucher_no="",  # minted by ACSState.add
        params={k: v for k, v in p.raw.items() if str(k).lower() not in _CREDENTIALS},
        created_at=now,
        pickup_date=pickup,
        sender=p.text("Sender") or "",
        recipient={
            "name": name,
            "company": p.text("Recipient_Company_Name"),
            "address": p.text("Recipient_Address"),
            "address_number": p.text("Recipient_Address_Number"),
            "floor": p.text("Recipient_Floor"),
            "zipcode": p.text("Recipient_Zipcode"),
            "region": p.text("Recipient_Region"),
            "country": country,
            "phone": p.text("Recipient_Phone"),
            "cell_phone": p.text("Recipient_Cell_Phone"),
            "email": p.text("Recipient_Email"),
        },
        reference_key1=p.text("Reference_Key1"),
        reference_key2=p.text("Reference_Key2"),
        cod_wire=cod_wire,
        cod_cents=cod_cents,
        weight=weight,
        item_quantity=quantity,
        products=tuple(products),
        # The billing code embeds the sender's home station: "2ΑΘ999999" → ΑΘ; a return starts at
        # the station serving the customer's address.
        origin_station=(reverse or {}).get("station")
        or (ctx.billing_code[1:3] if ctx.billing_code[1:3] in data.STATIONS else "ΑΘ"),
        destination_station=destination,
        is_return=reverse is not None,
        pickup=reverse,
    )
    return shipment, with_return and reverse is None


def _reverse_pickup(ctx: Context, p: Params) -> dict[str, str | None] | None:
    """[I] A reverse pickup (``Reverse_Pickup: 1``): ACS collects at ``Pickup_*`` (the customer)
    and delivers to the recipient, who must be the account's own premises. Returns the pickup
    point, or None for an ordinary voucher. A return pointing the wrong way — no pickup point,
    or delivered to the pickup point itself or to a stranger — is refused."""
    flag = p.get("Reverse_Pickup")
    if not (flag is True or p.text("Reverse_Pickup") == "1"):
        return None
    address, zip_code = p.text("Pickup_Address") or "", (p.text("Pickup_Zipcode") or "").replace(" ", "")
    country = (p.text("Pickup_Country") or "GR").upper()
    station = data.station_for_zip(zip_code, country) if address and zip_code else None
    if station is None:
        raise BusinessError(data.MSG_REVERSE_NO_PICKUP)
    if not p.text("Pickup_Phone") and not p.text("Pickup_Cell_Phone"):
        raise BusinessError(data.MSG_REVERSE_PHONE)
    to_zip = (p.text("Recipient_Zipcode") or "").replace(" ", "")
    same_place = to_zip == zip_code and (p.text("Recipient_Address") or "").lower() == address.lower()
    if same_place or (ctx.account_zipcodes and to_zip not in ctx.account_zipcodes):
        raise BusinessError(data.MSG_REVERSE_WRONG_WAY)
    return {
        "name": p.text("Pickup_Name"),
        "address": address,
        "address_number": p.text("Pickup_Address_Number"),
        "zipcode": zip_code,
        "region": p.text("Pickup_Region"),
        "country": country,
        "phone": p.text("Pickup_Phone"),
        "cell_phone": p.text("Pickup_Cell_Phone"),
        "station": station,
    }


def create_voucher(ctx: Context, p: Params) -> dict[str, Any]:
    try:
        shipment, with_return = build_shipment(ctx, p)
    except BusinessError as error:
        return envelope([ctx.row(CREATE, error.message, Voucher_No=None, Voucher_No_Return=None)])
    ctx.state.add(shipment, with_return)
    # ACS sends voucher numbers with a leading space (" 7227889174"); clients must strip it.
    return_no = f" {shipment.return_voucher_no}" if shipment.return_voucher_no else None
    return envelope([ctx.row(CREATE, None, Voucher_No=f" {shipment.voucher_no}", Voucher_No_Return=return_no)])


def _return_label(shipment: Shipment, number: str) -> Label:
    """[I] A reverse pickup's label says so first: the courier collects it at the customer's."""
    r, pickup = shipment.recipient, shipment.pickup or {}
    return Label(
        f"ACS EPISTROFI / RETURN {number}",
        (
            "REVERSE PICKUP - ANTISTROFI PARALAVI",
            f"Pickup from: {pickup.get('name') or ''}",
            f"{pickup.get('address') or ''} {pickup.get('address_number') or ''}".strip(),
            f"{pickup.get('zipcode') or ''} {pickup.get('region') or ''} {pickup.get('country') or ''}".strip(),
            f"Tel: {pickup.get('cell_phone') or pickup.get('phone') or ''}",
            f"Deliver to: {r['name']}",
            f"{r['address'] or ''} {r['address_number'] or ''}".strip(),
            f"{r['zipcode'] or ''} {r['region'] or ''} {r['country'] or ''}".strip(),
            f"Weight: {shipment.weight} kg",
            f"Ref: {shipment.reference_key1 or ''}",
        ),
    )


def _label(shipment: Shipment, number: str) -> Label:
    if shipment.is_return:
        return _return_label(shipment, number)
    r = shipment.recipient
    if number == shipment.return_voucher_no:
        return Label(
            f"ACS RETURN VOUCHER {number}",
            (
                f"Main voucher: {shipment.voucher_no}",
                f"From: {r['name']}",
                f"To: {shipment.sender}",
            ),
        )
    labels = [shipment.voucher_no, *shipment.parts]
    destination = data.STATIONS[shipment.destination_station]
    lines = [
        f"Piece {labels.index(number) + 1}/{len(labels)}  Main voucher: {shipment.voucher_no}",
        f"Sender: {shipment.sender}",
        f"Recipient: {r['name']}",
        f"{r['address'] or ''} {r['address_number'] or ''}".strip(),
        f"{r['zipcode'] or ''} {r['region'] or ''} {r['country'] or ''}".strip(),
        f"Tel: {r['cell_phone'] or r['phone'] or ''}",
        f"Destination: {shipment.destination_station} {destination.description}",
        f"Weight: {shipment.weight} kg  Products: {','.join(shipment.products) or '-'}",
        f"Pickup date: {shipment.pickup_date.isoformat()}",
    ]
    if shipment.cod_cents is not None:
        lines.append(f"COD: {shipment.cod_cents // 100},{shipment.cod_cents % 100:02d} EUR")
    if shipment.reference_key1:
        lines.append(f"Ref: {shipment.reference_key1}")
    return Label(f"ACS {number}", tuple(lines))


def print_voucher(ctx: Context, p: Params) -> dict[str, Any]:
    numbers = split_vouchers(p.get("Voucher_No"))
    print_type = 2 if p.get("Print_Type") is None else p.integer("Print_Type")
    start = 1 if p.get("Start_Position") is None else p.integer("Start_Position")
    try:
        if len(numbers) > 10:
            raise BusinessError(data.MSG_PRINT_MAX)
        if print_type not in (1, 2):
            raise BusinessError(data.MSG_PRINT_TYPE)
        if start is None or not 1 <= start <= 3:
            raise BusinessError(data.MSG_START_POSITION)
        shipments = ctx.state.mark_printed(numbers or ["0"])
    except BusinessError as error:
        failed = ctx.row(PRINT, error.message)
        if ctx.print_shape == "value":
            return envelope([{"ACSObjectOutput": None, **failed}])
        return envelope([failed], ACSObjectOutput=None)
    labels: list[Label] = []
    seen: set[str] = set()
    for number, shipment in zip(numbers, shipments, strict=True):
        # Printing the main voucher prints its pieces too; the return voucher only fits
        # thermal labels, so laser prints leave it out (as the manual says).
        group = shipment.labels() if number == shipment.voucher_no else [number]
        for label_no in group:
            if label_no not in seen and (print_type == 1 or label_no != shipment.return_voucher_no):
                seen.add(label_no)
                labels.append(_label(shipment, label_no))
    pdf = render_labels(labels, print_type=print_type, start_position=start)
    document = {"Voucher_No": ",".join(numbers), "PDFData": base64.b64encode(pdf).decode("ascii")}
    if ctx.print_shape == "value":
        return envelope([{"ACSObjectOutput": document, **ctx.row(PRINT)}])
    return {
        "ACSExecution_HasError": False,
        "ACSExecutionErrorMessage": "",
        "ACSOutputResponce": {"ACSObjectOutput": document},
    }


def delete_voucher(ctx: Context, p: Params) -> dict[str, Any]:
    numbers = split_vouchers(p.get("Voucher_No"))
    try:
        if len(numbers) > 20:
            raise BusinessError(data.MSG_DELETE_MAX)
        ctx.state.delete(numbers or ["0"])
    except BusinessError as error:
        return envelope([ctx.row(DELETE, error.message)])
    return envelope([ctx.row(DELETE)])


def issue_pickup_list(ctx: Context, p: Params) -> dict[str, Any]:
    day = parse_day(p.text("Pickup_Date"))
    try:
        if day is None:
            raise BusinessError(data.MSG_PICKUP_DATE)
        list_no, unprinted = ctx.state.issue_pickup_list(day)
    except BusinessError as error:
        return envelope([ctx.row(PICKUP, error.message, PickupList_No=None, Unprinted_Found=0)], [])
    if list_no is None:
        message = data.MSG_UNPRINTED.format(n=len(unprinted))
        rows = [{"Unprinted_Vouchers": number} for number in unprinted]
        return envelope([ctx.row(PICKUP, message, PickupList_No=None, Unprinted_Found=len(unprinted))], rows)
    return envelope([ctx.row(PICKUP, None, PickupList_No=list_no, Unprinted_Found=0)], [])


def get_multipart_vouchers(ctx: Context, p: Params) -> dict[str, Any]:
    number = p.text("Main_Voucher_No") or p.text("Voucher_No") or "0"
    try:
        shipment = ctx.state.find(number)
    except BusinessError as error:
        return envelope([ctx.row(MULTIPART, error.message)], [])
    return envelope([ctx.row(MULTIPART)], [{"MultiPart_Voucher_No": part} for part in shipment.parts])
