"""The ACS courier: what the core asks (`Courier`), in ACS's aliases and field names."""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import ROUND_CEILING, Decimal
from typing import Any, Final

import httpx
import structlog

from core.hookspecs.couriers import (
    CodRemittance,
    CourierCapabilities,
    CourierRejected,
    CourierUnavailable,
    Manifest,
    TrackingSnapshot,
    Voucher,
    VoucherRequest,
)
from plugins.courier_acs.client import AcsAnswer, AcsClient, AcsSettings
from plugins.courier_acs.mapping import acs_day, cents_to_euros, euros_to_cents, plain_decimal, snapshot_from

log = structlog.get_logger("emporio.couriers.acs")

CREATE: Final = "ACS_Create_Voucher"
PRINT: Final = "ACS_Print_Voucher"
DELETE: Final = "ACS_Delete_Voucher"
PICKUP_LIST: Final = "ACS_Issue_Pickup_List"
MULTIPART: Final = "ACS_Get_Multipart_Vouchers"
SUMMARY: Final = "ACS_Trackingsummary"
DETAILS: Final = "ACS_TrackingDetails"
COD_REPORT: Final = "ACS_COD_Beneficiary_Info"

MAX_PRINT_PER_CALL: Final = 10  # [V]
MAX_PIECES: Final = 99  # [V] Item_Quantity
MIN_WEIGHT_KG: Final = Decimal("0.5")  # [V] ACS refuses less; lighter parcels are billed as 0.5 kg
MAX_WEIGHT_KG: Final = Decimal(999)
# [I] ACS's public tracking page; the voucher number goes in ?p=.
TRACKING_URL: Final = "https://www.acscourier.net/el/track-and-trace/?p={voucher}"

# Greek texts ACS answers with that are outcomes, not failures. "Νο" starts with a GREEK
# CAPITAL NU ([V]); matching on the Latin tail keeps this readable.
_NOT_FOUND: Final = re.compile(r"acs shipment found", re.IGNORECASE)
_NOTHING_TO_CLOSE: Final = "Δεν βρέθηκαν αποστολές"  # [I] pickup list with no open voucher
_NO_DATA: Final = "Δεν βρέθηκαν δεδομένα"  # [V] COD report of a day without payouts
_STREET_NUMBER: Final = re.compile(r"^(?P<street>.*?\D)[\s,]+(?P<number>\d+[\w/-]*)$")


def split_street(line: str) -> tuple[str, str | None]:
    """``"Π. Ράλλη 45"`` → ``("Π. Ράλλη", "45")``: ACS wants the house number apart. [I] A
    line without a trailing number goes whole into Recipient_Address."""
    text = " ".join(line.split())
    match = _STREET_NUMBER.match(text)
    if match is None:
        return text, None
    return match.group("street").rstrip(" ,"), match.group("number")


def _is_mobile(phone: str, country: str) -> bool:
    digits = re.sub(r"\D", "", phone)
    national = digits.removeprefix("00").removeprefix("30" if country == "GR" else "357")
    return national.startswith("69") if country == "GR" else national.startswith("9")


def weight_kg(grams: int) -> Decimal:
    """Total grams → kilograms rounded up to 10 g, and at least ACS's 0.5 kg minimum."""
    kg = (Decimal(max(grams, 0)) / 1000).quantize(Decimal("0.01"), rounding=ROUND_CEILING)
    return plain_decimal(max(kg, MIN_WEIGHT_KG))


def voucher_params(request: VoucherRequest, settings: AcsSettings) -> dict[str, Any]:
    """ACS_Create_Voucher's parameters (every one, null when unused, as in ACS's samples)."""
    shipment = f"shipment {request.shipment_id} (order {request.order_id})"
    recipient = request.recipient
    country = recipient.country.strip().upper()
    if country not in {"GR", "CY"}:
        raise CourierRejected(f"ACS delivers to Greece (GR) and Cyprus (CY) only; {shipment} goes to {country!r}")
    if request.destination is not None:
        raise CourierRejected(
            f"this ACS plugin delivers to addresses only; {shipment} is for {request.destination.kind} "
            f"{request.destination.id}: give it to a courier with lockers"
        )
    if not request.parcels:
        raise CourierRejected(f"{shipment} has no parcels")
    if len(request.parcels) > MAX_PIECES:
        raise CourierRejected(
            f"ACS takes at most {MAX_PIECES} parcels per voucher; {shipment} has {len(request.parcels)}"
        )
    weight = weight_kg(sum(parcel.weight_g for parcel in request.parcels))
    if weight > MAX_WEIGHT_KG:
        raise CourierRejected(f"ACS takes at most {MAX_WEIGHT_KG} kg per voucher; {shipment} weighs {weight} kg")
    cod: Decimal | None = None
    if request.cod_amount:
        if request.is_return:
            raise CourierRejected(f"{shipment} is a return and cannot carry cash on delivery")
        if request.currency.upper() != "EUR" or request.cod_amount < 0:
            raise CourierRejected(
                f"ACS collects cash on delivery in euros only; {shipment} asks {request.cod_amount} {request.currency}"
            )
        cod = cents_to_euros(request.cod_amount)
    # [I] one voucher carries one set of dimensions: the largest of each side over the parcels.
    sides = [max(getattr(p, axis) for p in request.parcels) for axis in ("length_mm", "width_mm", "height_mm")]
    dims = [math.ceil(mm / 10) for mm in sides] if all(mm > 0 for mm in sides) else [None, None, None]
    street, house_number = split_street(recipient.line1)
    phone = (recipient.phone or "").strip() or None
    mobile = phone is not None and _is_mobile(phone, country)
    reverse = reverse_pickup_params(request, shipment) if request.is_return else {}
    return {
        "Pickup_Date": request.pickup_date.isoformat(),
        "Sender": reverse.get("Pickup_Name") or settings.sender or request.sender_location,
        "Recipient_Name": recipient.name,
        "Recipient_Address": street,
        "Recipient_Address_Number": house_number,
        "Recipient_Zipcode": recipient.postcode.replace(" ", ""),
        "Recipient_Region": recipient.city,
        "Recipient_Phone": None if mobile else phone,
        "Recipient_Cell_Phone": phone if mobile else None,
        "Recipient_Floor": None,
        "Recipient_Company_Name": None,
        "Recipient_Country": country,
        "Acs_Station_Destination": None,  # ACS derives it from the zip code
        "Acs_Station_Branch_Destination": None,
        "Charge_Type": 2,  # the shop pays (4 would charge the recipient)
        "Cost_Center_Code": None,
        "Item_Quantity": len(request.parcels),
        "Weight": weight,
        "Dimension_X_In_Cm": dims[0],
        "Dimension_Y_in_Cm": dims[1],  # sic: ACS spells this one with a lower-case "in"
        "Dimension_Z_In_Cm": dims[2],
        "Cod_Ammount": cod,  # sic
        "Cod_Payment_Way": 0 if cod is not None else None,  # 0 cash
        "Acs_Delivery_Products": "COD" if cod is not None else None,
        "Insurance_Ammount": None,  # sic
        "Delivery_Notes": request.notes,
        "Appointment_Until_Time": None,
        "Recipient_Email": recipient.email,
        "Reference_Key1": request.shipment_id,
        "Reference_Key2": request.order_id,
        "With_Return_Voucher": 1 if settings.with_return_voucher and not request.is_return else None,
        "Content_Type_ID": settings.cy_content_type_id if country == "CY" else None,
        "Language": settings.language,
        **reverse,
    }


def reverse_pickup_params(request: VoucherRequest, shipment: str) -> dict[str, Any]:
    """[I] A return is a reverse pickup: ACS collects the parcel at the customer's address and
    delivers it to the shop. ACS's manual documents only the recipient's fields, so the
    collection point travels in ``Pickup_*`` fields beside ``Reverse_Pickup: 1`` (see this
    plugin's README); the recipient is the shop's receiving location."""
    pickup = request.pickup
    if pickup is None:
        raise CourierRejected(
            f"{shipment} is a return but names no pickup address: ACS would carry it from the shop to the "
            "customer; give the customer's address as the pickup point"
        )
    country = pickup.country.strip().upper()
    if country not in {"GR", "CY"}:
        raise CourierRejected(f"ACS collects returns in Greece (GR) and Cyprus (CY) only; {shipment} is in {country!r}")
    street, house_number = split_street(pickup.line1)
    phone = (pickup.phone or "").strip() or None
    mobile = phone is not None and _is_mobile(phone, country)
    return {
        "Reverse_Pickup": 1,
        "Pickup_Name": pickup.name,
        "Pickup_Address": street,
        "Pickup_Address_Number": house_number,
        "Pickup_Zipcode": pickup.postcode.replace(" ", ""),
        "Pickup_Region": pickup.city,
        "Pickup_Country": country,
        "Pickup_Phone": None if mobile else phone,
        "Pickup_Cell_Phone": phone if mobile else None,
    }


def voucher_number(value: Any) -> str | None:
    """ACS sends ``" 7227889174"`` (leading space) or a JSON number; None when empty."""
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    return text or None


class AcsCourier:
    """ACS Courier (Greece, Cyprus) over its REST API.

    Creation is not idempotent at ACS (no idempotency key, no lookup by reference): the core
    calls `create_voucher` once per shipment, and when the answer is lost (`CourierUnavailable`
    from ACS_Create_Voucher) it must not create again blindly. A voucher created without an
    answer is never printed, so `close_dispatch` reports it in ``Manifest.unprinted``, where
    the core cancels it (it knows no shipment with that number) and closes again.
    """

    name = "acs"
    capabilities = CourierCapabilities(
        idempotent_create=False,  # no idempotency key, no lookup by reference: see the class docstring
        cod=True,
        lockers=False,  # [I] Smartpoint lockers (ACS_Stations kind 7) exist, but this plugin does not book them
        returns=True,
        multipart=True,
        cancel_refused_after_close=True,
        close_reports_unprinted=True,
        manifest_reference=True,
        max_labels_per_call=MAX_PRINT_PER_CALL,
        countries=("GR", "CY"),
    )

    def __init__(self, settings: AcsSettings, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.client = AcsClient(settings, transport=transport)

    def __repr__(self) -> str:
        return f"AcsCourier(api_base={self.settings.api_base!r}, company_id={self.settings.company_id!r})"

    async def aclose(self) -> None:
        await self.client.aclose()

    # --- vouchers -----------------------------------------------------------------------------

    async def create_voucher(self, request: VoucherRequest) -> Voucher:
        params = voucher_params(request, self.settings)
        try:
            answer = await self.client.call(CREATE, params, billing=True)
        except CourierUnavailable as exc:
            raise CourierUnavailable(
                f"{exc} (shipment {request.shipment_id}). ACS has no idempotency: calling again may make a "
                "second voucher; a voucher made without an answer shows up unprinted at the daily close"
            ) from exc
        number = voucher_number(answer.row.get("Voucher_No"))
        if answer.error or number is None:
            raise CourierRejected(
                f"ACS refused the voucher for shipment {request.shipment_id} (order {request.order_id}): "
                f"{answer.error or 'no voucher number in the answer'}"
            )
        parts = await self._parts(number) if len(request.parcels) > 1 else ()
        return Voucher(
            tracking_number=number,
            tracking_url=TRACKING_URL.format(voucher=number),
            parts=parts,
            return_tracking_number=voucher_number(answer.row.get("Voucher_No_Return")),
        )

    async def _parts(self, main_voucher: str) -> tuple[str, ...]:
        """The piece vouchers of a multi-part shipment. The voucher exists by now, so a failure
        here must not fail the creation (a retry would make a second voucher): the parts are
        left empty and printing the main voucher still prints every piece."""
        try:
            answer = await self.client.call(
                MULTIPART, {"Language": self.settings.language, "Main_Voucher_No": main_voucher}
            )
        except (CourierUnavailable, CourierRejected) as exc:
            log.warning("acs.multipart_unavailable", voucher=main_voucher, error=str(exc))
            return ()
        if answer.error:
            log.warning("acs.multipart_refused", voucher=main_voucher, error=answer.error)
            return ()
        numbers = (voucher_number(row.get("MultiPart_Voucher_No")) for row in answer.table)
        return tuple(n for n in numbers if n is not None and n != main_voucher)

    async def label_pdf(self, tracking_numbers: Sequence[str]) -> bytes:
        """One ACS_Print_Voucher call: printing a main voucher prints its pieces too. ACS takes
        at most 10 vouchers per call, and the core asks per shipment, so more is refused."""
        numbers = [n.strip() for n in tracking_numbers if n.strip()]
        if not numbers:
            raise CourierRejected("no ACS voucher given to print")
        if len(numbers) > MAX_PRINT_PER_CALL:
            raise CourierRejected(
                f"ACS prints at most {MAX_PRINT_PER_CALL} vouchers per call ({len(numbers)} asked); "
                "ask for labels per shipment or in batches of 10"
            )
        params = {"Voucher_No": ",".join(numbers), "Print_Type": self.settings.print_type, "Start_Position": 1}
        answer = await self.client.call(PRINT, params)
        if answer.error:
            raise CourierRejected(f"ACS refused to print {', '.join(numbers)}: {answer.error}")
        return _pdf_of(answer)

    async def cancel_voucher(self, tracking_number: str) -> None:
        """ACS_Delete_Voucher. An unknown voucher counts as cancelled already, so a retry after a
        lost answer succeeds; a voucher in a pickup list is refused with ACS's Greek reason."""
        number = tracking_number.strip()
        answer = await self.client.call(DELETE, {"Language": self.settings.language, "Voucher_No": number})
        if answer.error and not _NOT_FOUND.search(answer.error):
            raise CourierRejected(f"ACS refused to cancel voucher {number}: {answer.error}")

    # --- tracking -----------------------------------------------------------------------------

    async def track(self, tracking_number: str) -> TrackingSnapshot:
        number = tracking_number.strip()
        params = {"Language": self.settings.language, "Voucher_No": number}
        summary = await self.client.call(SUMMARY, params)
        if summary.error:
            raise CourierRejected(f"ACS cannot track voucher {number}: {summary.error}")
        if not summary.table:
            raise CourierUnavailable(f"ACS answered {SUMMARY} for voucher {number} without a tracking row")
        details = await self.client.call(DETAILS, params)
        if details.error:
            raise CourierRejected(f"ACS cannot list the checkpoints of voucher {number}: {details.error}")
        return snapshot_from(number, summary.table[0], details.table)

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Sequence[TrackingSnapshot]:
        raise CourierRejected("ACS has no tracking webhooks; tracking is polled")

    # --- the day's close and cash -------------------------------------------------------------

    async def close_dispatch(self, location: str, pickup_date: date) -> Manifest:
        """ACS_Issue_Pickup_List for the whole ACS account (ACS knows one pickup address per
        account, so ``location`` does not narrow it). ACS answers only the list's number, so
        ``tracking_numbers`` stays empty; the core knows which vouchers it made for the day.
        A day with nothing open answers ``Manifest(reference=None, tracking_numbers=())``."""
        params = {"Language": self.settings.language or "GR", "Pickup_Date": pickup_date.isoformat(), "MyData": None}
        answer = await self.client.call(PICKUP_LIST, params)
        row = answer.row
        unprinted_found = _whole(row.get("Unprinted_Found"))
        if unprinted_found:
            unprinted = [voucher_number(r.get("Unprinted_Vouchers")) for r in answer.table]
            listed = tuple(n for n in unprinted if n is not None)
            if not listed:
                raise CourierRejected(
                    f"ACS found {unprinted_found} unprinted vouchers for {pickup_date} but did not list them; "
                    "print the day's labels and close again"
                )
            return Manifest(reference=None, tracking_numbers=(), unprinted=listed)
        list_number = voucher_number(row.get("PickupList_No"))
        if list_number is not None:
            return Manifest(reference=list_number, tracking_numbers=())
        if answer.error and answer.error.startswith(_NOTHING_TO_CLOSE):
            return Manifest(reference=None, tracking_numbers=())
        if answer.error:
            raise CourierRejected(f"ACS refused the pickup list of {pickup_date} ({location}): {answer.error}")
        raise CourierUnavailable(f"ACS answered {PICKUP_LIST} for {pickup_date} without a list number or an error")

    async def cod_report(self, on: date) -> Sequence[CodRemittance]:
        """ACS_COD_Beneficiary_Info: cash ACS pays out for that day, euros → cents exactly."""
        answer = await self.client.call(COD_REPORT, {"User_locals": None, "COD_Payment_Date": on.isoformat()})
        if answer.error:
            if answer.error.startswith(_NO_DATA):
                return []
            raise CourierRejected(f"ACS refused the cash-on-delivery report of {on}: {answer.error}")
        remittances: list[CodRemittance] = []
        for row in answer.table:
            number = voucher_number(row.get("POD"))
            cents = _remitted_cents(row)
            if number is None or cents is None:
                raise CourierRejected(
                    f"ACS's cash-on-delivery report of {on} has an unreadable row (voucher {number!r}, amount "
                    f"{row.get('Parcel_COD_Amount')!r}); reconcile it by hand with ACS"
                )
            remittances.append(
                CodRemittance(
                    tracking_number=number,
                    amount=cents,
                    collected_on=acs_day(row.get("Parcel_Delivery_Date")),
                )
            )
        return remittances


def _remitted_cents(row: Mapping[str, Any]) -> int | None:
    """``Parcel_COD_Amount``, else cash + card (``COD_Amount_Cach`` sic); None if unreadable."""
    if row.get("Parcel_COD_Amount") is not None:
        return euros_to_cents(row["Parcel_COD_Amount"])
    split = [row.get(key) for key in ("COD_Amount_Cach", "COD_Amount_CreditCard") if row.get(key) is not None]
    cents = [euros_to_cents(amount) for amount in split]
    if not cents or any(c is None for c in cents):
        return None
    return sum(c for c in cents if c is not None)


def _whole(value: Any) -> int:
    try:
        return int(str(value).strip()) if value is not None and not isinstance(value, bool) else 0
    except ValueError:
        return 0


def _pdf_of(answer: AcsAnswer) -> bytes:
    """PDFData from either print shape: ``ACSObjectOutput`` at the top of ACSOutputResponce
    (ACS's V2 answer) or inside ``ACSValueOutput[0]`` (what third-party clients report)."""
    document = answer.output.get("ACSObjectOutput")
    if not isinstance(document, dict):
        document = answer.row.get("ACSObjectOutput")
    data = document.get("PDFData") if isinstance(document, dict) else None
    if not isinstance(data, str) or not data.strip():
        raise CourierUnavailable(f"ACS answered {PRINT} without PDFData")
    try:
        pdf = base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CourierUnavailable(f"ACS sent PDFData that is not base64 on {PRINT}") from exc
    if not pdf.startswith(b"%PDF"):
        raise CourierUnavailable(f"ACS sent PDFData that is not a PDF on {PRINT}")
    return pdf
