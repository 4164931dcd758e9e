"""ACS Courier (Greece, Cyprus) behind the courier hooks: vouchers (multi-part, cash on
delivery), labels, cancellation, tracking polled and mapped to Emporio's statuses and failure
reasons, the daily pickup list, and the cash-on-delivery report.

Settings (environment): EMPORIO_ACS_API_KEY (without it the plugin registers nothing),
EMPORIO_ACS_COMPANY_ID, EMPORIO_ACS_COMPANY_PASSWORD, EMPORIO_ACS_USER_ID,
EMPORIO_ACS_USER_PASSWORD, EMPORIO_ACS_BILLING_CODE (all required with a key),
EMPORIO_ACS_API_BASE (default https://webservices.acscourier.net/ACSRestServices/api),
EMPORIO_ACS_TIMEOUT_S (default 15), and optionally EMPORIO_ACS_MAX_CALLS_PER_SECOND (per-process
pacing under ACS's limit of 10, default 8, 0 off), EMPORIO_ACS_PRINT_TYPE (1 thermal, 2 laser:
default), EMPORIO_ACS_LANGUAGE (default GR), EMPORIO_ACS_SENDER (sender name on the label),
EMPORIO_ACS_WITH_RETURN_VOUCHER (1: every outbound voucher comes with a return voucher),
EMPORIO_ACS_CY_CONTENT_TYPE_ID (ACS's content type code, mandatory for Cyprus).

ACS has no test host: run the plugin against `plugins.courier_acs.simulator.simulator.ACSSimulator`
(``emporio simulate acs``) with EMPORIO_ACS_API_BASE=http://127.0.0.1:8787/ACSRestServices/api
and the demo account (key, ids and passwords ``demo``, billing code ``2ΑΘ999999``).
"""

from plugins.courier_acs.client import AcsAnswer, AcsClient, AcsSettings
from plugins.courier_acs.courier import AcsCourier
from plugins.courier_acs.mapping import REASON_RULES, snapshot_from

__all__ = ["REASON_RULES", "AcsAnswer", "AcsClient", "AcsCourier", "AcsSettings", "snapshot_from"]
