"""ACSAlias dispatch of the ACS simulator: credentials, method table, help templates.

``execute`` turns a parsed ACSAutoRest body into the response envelope; ``help_for``
answers ACSAutoRestHelp with the parameter template of an alias. Alias names are
matched case-insensitively because ACS's own manual writes both ``ACS_Stations``
and ``Acs_Stations``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from plugins.courier_acs.simulator import data, queries, vouchers
from plugins.courier_acs.simulator.params import Params
from plugins.courier_acs.simulator.wire import Context, execution_error

Handler = Callable[[Context, Params], dict[str, Any]]
CREDENTIAL_FIELDS: Final = ("Company_ID", "Company_Password", "User_ID", "User_Password")


@dataclass(frozen=True)
class Method:
    """One ACSAlias: its handler, its parameters (beyond credentials) and a help text."""

    alias: str
    handler: Handler
    params: tuple[str, ...]
    description: str


# Parameter names exactly as ACS spells them (note Dimension_Y_in_Cm vs ..._In_Cm).
_CREATE_PARAMS: Final = (
    "Pickup_Date",
    "Sender",
    "Recipient_Name",
    "Recipient_Address",
    "Recipient_Address_Number",
    "Recipient_Zipcode",
    "Recipient_Region",
    "Recipient_Phone",
    "Recipient_Cell_Phone",
    "Recipient_Floor",
    "Recipient_Company_Name",
    "Recipient_Country",
    "Acs_Station_Destination",
    "Acs_Station_Branch_Destination",
    "Billing_Code",
    "Charge_Type",
    "Cost_Center_Code",
    "Item_Quantity",
    "Weight",
    "Dimension_X_In_Cm",
    "Dimension_Y_in_Cm",
    "Dimension_Z_in_Cm",
    "Cod_Ammount",
    "Cod_Payment_Way",
    "Acs_Delivery_Products",
    "Insurance_Ammount",
    "Delivery_Notes",
    "Appointment_Until_Time",
    "Recipient_Email",
    "Reference_Key1",
    "Reference_Key2",
    "With_Return_Voucher",
    "Content_Type_ID",
    "Language",
)
_PRICE_PARAMS: Final = (
    "Billing_Code",
    "Billing_Category",
    "Acs_Station_Origin",
    "Acs_Station_Destination",
    "Weight",
    "Pickup_Date",
    "Acs_Delivery_Products",
    "Charge_Type",
    "Delivery_Zone",
    "Insurance_Ammount",
    "Dimension_X_In_Cm",
    "Dimension_Y_In_Cm",
    "Dimension_Z_In_Cm",
    "Language",
)
_METHODS: Final = (
    Method(
        vouchers.CREATE,
        vouchers.create_voucher,
        _CREATE_PARAMS,
        "Δημιουργία voucher αποστολής (Ελλάδα / Κύπρος).",
    ),
    Method(
        vouchers.PRINT,
        vouchers.print_voucher,
        ("Voucher_No", "Print_Type", "Start_Position"),
        "Εκτύπωση έως 10 vouchers σε PDF (1 θερμικός, 2 laser).",
    ),
    Method(
        vouchers.DELETE,
        vouchers.delete_voucher,
        ("Language", "Voucher_No"),
        "Διαγραφή έως 20 vouchers που δεν έχουν συμπεριληφθεί σε λίστα παραλαβής.",
    ),
    Method(
        vouchers.PICKUP,
        vouchers.issue_pickup_list,
        ("Language", "Pickup_Date", "MyData"),
        "Έκδοση λίστας παραλαβής ημέρας (οριστικοποίηση vouchers).",
    ),
    Method(
        vouchers.MULTIPART,
        vouchers.get_multipart_vouchers,
        ("Language", "Main_Voucher_No"),
        "Συνοδευτικά vouchers πολλαπλής αποστολής.",
    ),
    Method(
        queries.SUMMARY,
        queries.tracking_summary,
        ("Language", "Voucher_No"),
        "Τελευταία κατάσταση αποστολής.",
    ),
    Method(
        queries.DETAILS,
        queries.tracking_details,
        ("Language", "Voucher_No"),
        "Αναλυτική πορεία αποστολής.",
    ),
    Method(
        queries.COD,
        queries.cod_beneficiary_info,
        ("User_locals", "COD_Payment_Date"),
        "Ανάλυση απόδοσης αντικαταβολών ημέρας.",
    ),
    Method(
        queries.AREA,
        queries.area_find_by_zip_code,
        ("Zip_Code", "Show_Only_Inaccessible_Areas", "Language", "Country"),
        "Περιοχές και δυσπρόσιτα (ΔΠ) ανά ΤΚ.",
    ),
    Method(queries.PRICE, queries.price_calculation, _PRICE_PARAMS, "Υπολογισμός κόστους αποστολής."),
    Method(
        queries.STATIONS,
        queries.stations,
        ("language", "ACS_SHOP_COUNTRY_ID", "ACS_SHOP_KIND"),
        "Καταστήματα ACS (ACS_SHOP_KIND 7 = Smartpoints).",
    ),
)
METHODS: Final = {method.alias.lower(): method for method in _METHODS}


def lookup(alias: Any) -> Method | None:
    return METHODS.get(alias.strip().lower()) if isinstance(alias, str) else None


def alias_of(body: Any) -> str | None:
    """The call's ACSAlias, canonicalised when known (used to match injected faults)."""
    raw = body.get("ACSAlias") if isinstance(body, dict) else None
    method = lookup(raw)
    return method.alias if method else (raw if isinstance(raw, str) else None)


def execute(ctx: Context, body: Any) -> dict[str, Any]:
    """Run one ACSAutoRest call and return the response envelope (always HTTP 200)."""
    if not isinstance(body, dict) or not isinstance(body.get("ACSAlias"), str):
        return execution_error(data.MSG_BAD_REQUEST)
    method = lookup(body["ACSAlias"])
    raw_params = body.get("ACSInputParameters")
    params = Params(raw_params if isinstance(raw_params, dict) else {})
    # Credentials are checked before the alias, like any login: a stranger learns nothing.
    if any(params.text(name) != ctx.credentials[name] for name in CREDENTIAL_FIELDS):
        return execution_error(data.MSG_BAD_CREDENTIALS)
    if method is None:
        return execution_error(data.MSG_UNKNOWN_ALIAS.format(alias=body["ACSAlias"]))
    return method.handler(ctx, params)


def help_for(body: Any) -> dict[str, Any]:
    """ACSAutoRestHelp: the JSON body the alias expects, every parameter set to null."""
    method = lookup(body.get("ACSAlias") if isinstance(body, dict) else None)
    if method is None:
        alias = body.get("ACSAlias") if isinstance(body, dict) else None
        return execution_error(data.MSG_UNKNOWN_ALIAS.format(alias=alias))
    return {
        "ACSAlias": method.alias,
        "ACSInputParameters": dict.fromkeys((*CREDENTIAL_FIELDS, *method.params)),
    }


def help_text(alias: str | None) -> str:
    """GET ACSAutoRestHelp?ACSAlias=X: the manual says it returns a plain-text description."""
    method = lookup(alias)
    if method is None:
        return data.MSG_UNKNOWN_ALIAS.format(alias=alias)
    names = ", ".join((*CREDENTIAL_FIELDS, *method.params))
    return f"{method.alias}: {method.description}\nParameters: {names}"
