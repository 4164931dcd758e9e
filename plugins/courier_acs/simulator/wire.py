"""Response envelopes of the ACS simulator, including ACS's inconsistent error-field spelling.

Every ACSAutoRest answer is ``{"ACSExecution_HasError", "ACSExecutionErrorMessage",
"ACSOutputResponce"}`` — ``Responce`` misspelled, as on the real wire. Business errors
are *not* execution errors: they come back with ``HasError: false`` and the text in a
field of ``ACSValueOutput[0]`` whose name depends on the method.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from plugins.courier_acs.simulator.state import ACSState

PrintShape = Literal["object", "value"]

# Error-field name per alias, as printed in the sample responses of ACS's REST manual
# (Greek PDF, "ACS Rest API"): Error_Message almost everywhere, Error_msg for the COD
# report, error_message for ACS_Stations. Print_Voucher has no sample: Error_Message is
# our guess. Override per alias with ``ACSSimulator(error_keys={...})``.
DEFAULT_ERROR_KEYS: Final[dict[str, str]] = {
    "ACS_Create_Voucher": "Error_Message",
    "ACS_Print_Voucher": "Error_Message",
    "ACS_Delete_Voucher": "Error_Message",
    "ACS_Issue_Pickup_List": "Error_Message",
    "ACS_Get_Multipart_Vouchers": "Error_Message",
    "ACS_Trackingsummary": "Error_Message",
    "ACS_TrackingDetails": "Error_Message",
    "ACS_COD_Beneficiary_Info": "Error_msg",
    "ACS_Area_Find_By_Zip_Code": "Error_Message",
    "ACS_Price_Calculation": "Error_Message",
    "ACS_Stations": "error_message",
}
# On success the manual shows "" for these methods and null for all others.
_EMPTY_STRING_ON_SUCCESS: Final = frozenset(
    {"ACS_Create_Voucher", "ACS_Print_Voucher", "ACS_Issue_Pickup_List", "ACS_Price_Calculation"}
)


@dataclass
class Context:
    """What a handler needs: the state and the wire-shape options of this simulator."""

    state: ACSState
    billing_code: str
    credentials: Mapping[str, str]  # {"Company_ID": ..., "Company_Password": ..., ...}
    print_shape: PrintShape = "object"
    error_keys: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_ERROR_KEYS))
    # Zip codes of the account's own premises, where reverse pickups are delivered (empty: not checked).
    account_zipcodes: frozenset[str] = frozenset()

    def row(self, alias: str, error: str | None = None, /, **fields: Any) -> dict[str, Any]:
        """One ACSValueOutput row: ``fields`` then the alias's error field."""
        key = self.error_keys.get(alias, "Error_Message")
        success: str | None = "" if alias in _EMPTY_STRING_ON_SUCCESS else None
        return {**fields, key: error if error else success}


def envelope(
    rows: list[dict[str, Any]] | None = None,
    table: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A successful execution; ``table`` becomes ``ACSTableOutput.Table_Data``."""
    output: dict[str, Any] = {}
    if rows is not None:
        output["ACSValueOutput"] = rows
        output["ACSTableOutput"] = {"Table_Data": table} if table is not None else {}
    elif table is not None:
        output["ACSTableOutput"] = {"Table_Data": table}
    output.update(extra)
    return {
        "ACSExecution_HasError": False,
        "ACSExecutionErrorMessage": "",
        "ACSOutputResponce": output,
    }


def execution_error(message: str) -> dict[str, Any]:
    """The other error channel (bad credentials, unknown alias): HasError true, no output."""
    return {
        "ACSExecution_HasError": True,
        "ACSExecutionErrorMessage": message,
        "ACSOutputResponce": None,
    }
