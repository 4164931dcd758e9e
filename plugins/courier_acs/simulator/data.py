"""Static reference data of the ACS Courier simulator: messages, codes, stations, zip areas.

Everything ACS puts on the wire in Greek lives here, so a reviewer can check the
Greek strings in one place. Strings quoted in the ACS REST manual are marked
[V]; the rest are [I] (invented in the same style, because the manual does not
give them) and may not match production word for word.
"""

from __future__ import annotations

from typing import Final, NamedTuple

# --- Error strings --------------------------------------------------------------------
# [V] quoted in ACS's REST manual / our integrations spec.
MSG_PICKUP_DATE: Final = "Μη αποδεκτή ημ/νία παραλαβής"
MSG_PICKUP_SUNDAY: Final = "Δεν επιτρέπεται ημερομηνία παραλαβής ημέρα Κυριακή ή εθνική αργία"
MSG_WEIGHT: Final = "Μη αποδεκτή τιμή βάρους (0,5-999)"
MSG_BILLING_CODE: Final = "Ανύπαρκτος επί πιστώσει κωδικός χρέωσης"
MSG_RECIPIENT_NAME: Final = "Το όνομα παραλήπτη δεν μπορεί να είναι κενό"
MSG_ADDRESS: Final = "Η διεύθυνση δεν μπορεί να είναι κενή"
MSG_ZIP_COUNTRY: Final = "Μη αποδεκτός ταχ. Κωδικός ή χώρα προορισμού"
MSG_STATION: Final = "Μη αποδεκτή τιμή καταστήματος προορισμού ACS"
MSG_QUANTITY: Final = "Δεν υποστηρίζονται πάνω από 99 τεμάχια ανά αποστολή"
MSG_CHARGE_TYPE: Final = "Μη αποδεκτή τιμή χρέωσης μεταφορικών"
MSG_COD_PAYMENT_WAY: Final = "Μη αποδεκτός τρόπος πληρωμής αντικαταβολής"
MSG_COD_PRODUCT: Final = "Δεν βρέθηκε το προϊόν αντικαταβολής (ΑΝ)"
MSG_PRODUCTS_COMBINATION: Final = "Τα προϊόντα της αποστολής δεν συνδυάζονται μεταξύ τους"
MSG_CONTENT_TYPE: Final = (
    "Για αποστολές από Ελλάδα προς Κύπρο ο κωδικός περιεχομένου αποστολής (Content_Type_ID) πρέπει να έχει σωστή τιμή."
)
MSG_DELETE_AFTER_PICKUP: Final = (
    "Δεν μπορεί να γίνει διαγραφή αποστολής ACS, όταν έχει εκτυπωθεί η λίστα παραλαβής του courier"
)
MSG_UNPRINTED: Final = "Αδύνατη η έκδοση λίστας παραλαβής. Βρέθηκαν {n} ατύπωτες αποστολές."
# The real string starts with GREEK CAPITAL NU + Latin "o" ("Νο"), not Latin "No".
MSG_NOT_FOUND: Final = "\u039do Acs shipment found for your company with voucher no: {voucher}"
MSG_INSURANCE: Final = "Για ποσά ασφάλισης μεγαλύτερα των 3000€ παρακαλούμε επικοινωνήστε με την ACS"
MSG_PRICE_WEIGHT: Final = "Για βάρη Μεγαλύτερα των 100 κιλών παρακαλώ επικοινωνήστε τηλεφωνικά μαζί μας"
MSG_UNKNOWN_ORIGIN: Final = "Άγνωστο κατάστημα παραλαβής"
MSG_UNKNOWN_DESTINATION: Final = "Άγνωστο κατάστημα παράδοσης"
MSG_NO_DATA: Final = "Δεν βρέθηκαν δεδομένα με αυτά τα κριτήρια."
# [I] not in the manual.
MSG_PHONE: Final = "Πρέπει να υπάρχει τουλάχιστον ένα τηλέφωνο παραλήπτη"
MSG_PRODUCT_UNKNOWN: Final = "Μη αποδεκτός κωδικός προϊόντος: {product}"
MSG_COD_AMOUNT: Final = "Μη αποδεκτό ποσό αντικαταβολής"
MSG_PRINT_AFTER_PICKUP: Final = "Δεν επιτρέπεται εκτύπωση voucher μετά την έκδοση λίστας παραλαβής"
MSG_PRINT_MAX: Final = "Μπορούν να τυπωθούν έως 10 vouchers ανά κλήση"
MSG_DELETE_MAX: Final = "Μπορούν να διαγραφούν έως 20 vouchers ανά κλήση"
MSG_PRINT_TYPE: Final = "Μη αποδεκτή τιμή Print_Type (1 θερμικός, 2 laser)"
MSG_START_POSITION: Final = "Μη αποδεκτή τιμή Start_Position (1-3)"
MSG_NOTHING_TO_PICK_UP: Final = "Δεν βρέθηκαν αποστολές για έκδοση λίστας παραλαβής"
MSG_BAD_CREDENTIALS: Final = "Λάθος στοιχεία πρόσβασης (Company_ID / User_ID / κωδικοί)"
MSG_UNKNOWN_ALIAS: Final = "Ανύπαρκτη διαδικασία ACSAlias: {alias}"
MSG_BAD_REQUEST: Final = "Μη έγκυρο αίτημα: το σώμα πρέπει να είναι JSON με ACSAlias"
# [I] reverse pickups (returns): ACS's manual documents none of this; see the plugin's README.
MSG_REVERSE_NO_PICKUP: Final = "Η αντίστροφη παραλαβή χρειάζεται διεύθυνση παραλαβής (Pickup_Address, Pickup_Zipcode)"
MSG_REVERSE_PHONE: Final = "Η αντίστροφη παραλαβή χρειάζεται τηλέφωνο στο σημείο παραλαβής"
MSG_REVERSE_WRONG_WAY: Final = (
    "Η αντίστροφη παραλαβή παραδίδεται στη διεύθυνση του αποστολέα (του πελάτη της ACS), όχι σε τρίτο"
)
MSG_REVERSE_COD: Final = "Η αντίστροφη παραλαβή δεν δέχεται αντικαταβολή"

# --- Tracking --------------------------------------------------------------------------


class ReasonCode(NamedTuple):
    """A non-delivery reason: the shipment_status it implies and its Greek description."""

    shipment_status: int
    description: str


# [V] codes, statuses and descriptions from the ACS manual's tracking section.
REASON_CODES: Final[dict[str, ReasonCode]] = {
    "ΑΔ1": ReasonCode(5, "ΕΝΤΟΛΗ ΠΑΡΑΛΑΒΗΣ ΑΠΟ ΓΡΑΦΕΙΟ"),
    "ΑΔ3": ReasonCode(5, "ΑΝΩΤΕΡΑ ΒΙΑ"),
    "ΑΔ8": ReasonCode(5, "ΠΑΡΑΔΟΣΗ RECEPTION ΕΝΤ.ΑΠΟΣΤ"),
    "ΑΠ1": ReasonCode(1, "ΑΡΝΗΣΗ ΧΡΕΩΣΗΣ"),
    "ΑΠ2": ReasonCode(1, "ΑΔΥΝΑΜΙΑ ΠΛΗΡΩΜΗΣ"),
    "ΑΠ3": ReasonCode(1, "ΜΗ ΑΠΟΔΟΧΗ ΑΠΟΣΤΟΛΗΣ"),
    "ΑΣ1": ReasonCode(3, "ΑΠΩΝ"),
    "ΔΔ1": ReasonCode(5, "ΣΕ ΔΙΑΔΡΟΜΗ ΠΡΟΣ ΤΟ ΚΑΤΑΣΤΗΜΑ ΠΑΡΑΔΟΣΗΣ"),
    "ΕΑ1": ReasonCode(5, "ΣΕ ΔΙΑΔΡΟΜΗ ΠΡΟΣ ΤΟ ΚΑΤΑΣΤΗΜΑ ΠΑΡΑΔΟΣΗΣ"),
    "ΕΔ1": ReasonCode(5, "ΕΛΛΙΠΗ ΔΙΚΑΙΟΛΟΓΗΤΙΚΑ"),
    "ΛΣ1": ReasonCode(2, "ΑΓΝΩΣΤΟΣ ΠΑΡΑΛΗΠΤΗΣ"),
    "ΛΣ3": ReasonCode(2, "ΛΑΝΘΑΣΜΕΝΗ, ΕΛΛΙΠΗΣ ΔΙΕΥΘΥΝΣΗ"),
    "ΠΑ2": ReasonCode(5, "ΝΕΑ ΗΜ/ΝΙΑ ΠΑΡΑΔ ΕΝΤΟΛ ΠΑΡ/ΠΤΗ"),
    "ΠΑ4": ReasonCode(5, "ΕΝΤΟΛΗ ΠΑΡΑΛΗΠΤΗ ΑΝΑΚΑΤΕΥΘΥΝΣΗ"),
}
EN_ROUTE_CODES: Final = frozenset({"ΔΔ1", "ΕΑ1"})
# When a test scripts a failure status without a reason code, report the commonest one.
DEFAULT_REASON_FOR_STATUS: Final = {1: "ΑΠ3", 2: "ΛΣ3", 3: "ΑΣ1"}

ACTION_DEPARTURE: Final = "ΑΝΑΧΩΡΗΣΗ"
ACTION_ARRIVAL: Final = "ΑΦΙΞΗ ΣΕ ΚΑΤΑΣΤΗΜΑ"
ACTION_TO_COURIER: Final = "ΚΑΤΑΝΟΜΗ ΣΕ COURIER"
ACTION_DELIVERY: Final = "ΠΑΡΑΔΟΣΗ"
ACTION_FAILED: Final = "ΑΠΟΤΥΧΙΑ ΠΑΡΑΔΟΣΗΣ"  # [I]
ACTION_IN_TRANSIT: Final = "ΣΕ ΔΙΑΚΙΝΗΣΗ"  # [I]
ACTION_RETURNED: Final = "ΕΠΙΣΤΡΟΦΗ ΣΤΟΝ ΑΠΟΣΤΟΛΕΑ"  # [I]

INFO_DELIVERED: Final = "Η αποστολή παρεδόθη στον προορισμό της. Ημερομηνία: {date} Όνομα: {name}"
INFO_NOT_DELIVERED: Final = "Η αποστολή δεν έχει παραδοθεί με αιτία μη παράδοσης: {description}"
INFO_EN_ROUTE: Final = "Η αποστολή βρίσκεται στην διαδρομή προς το κατάστημα παράδοσης"
INFO_RETURNED: Final = "Η αποστολή επεστράφη στον αποστολέα"  # [I]

# --- Products --------------------------------------------------------------------------

PRODUCTS: Final = frozenset({"INS", "SAT", "MDD", "TDD", "COD", "RDO", "REM", "PRO", "REC", "CEC", "P2P", "D2P", "P2D"})
# [V] the manual names SAT+REC, TDD+REC and MDV(=MDD)+REC as not combinable.
INCOMPATIBLE_PRODUCTS: Final = (
    frozenset({"SAT", "REC"}),
    frozenset({"TDD", "REC"}),
    frozenset({"MDD", "REC"}),
)

# --- Stations and zip codes -------------------------------------------------------------


class Station(NamedTuple):
    """An ACS store: two Greek capitals identify it on the wire."""

    description: str
    phone: str
    island: bool


STATIONS: Final[dict[str, Station]] = {
    "ΑΘ": Station("ΑΘΗΝΑ", "210-8190000", False),
    "ΒΑ": Station("ΑΧΑΡΝΕΣ", "210-2477000", False),
    "ΒΘ": Station("ΑΓΙΟΙ ΑΝΑΡΓΥΡΟΙ", "210-2693523", False),
    "ΠΡ": Station("ΠΕΙΡΑΙΑΣ", "210-4170000", False),
    "ΘΣ": Station("ΘΕΣΣΑΛΟΝΙΚΗ", "2310-251604", False),
    "ΛΡ": Station("ΛΑΡΙΣΑ", "2410-555000", False),
    "ΛΜ": Station("ΛΑΜΙΑ", "22310-30000", False),
    "ΠΤ": Station("ΠΑΤΡΑ", "2610-450000", False),
    "ΙΩ": Station("ΙΩΑΝΝΙΝΑ", "26510-70000", False),
    "ΗΡ": Station("ΗΡΑΚΛΕΙΟ", "2810-340000", True),
    "ΧΝ": Station("ΧΑΝΙΑ", "28210-80000", True),
    "ΡΟ": Station("ΡΟΔΟΣ", "22410-20000", True),
    "ΚΕ": Station("ΚΕΡΚΥΡΑ", "26610-30000", True),
    "ΛΕ": Station("ΛΕΥΚΩΣΙΑ", "+357-22-000000", True),
    "ΛΣ": Station("ΛΕΜΕΣΟΣ", "+357-25-000000", True),
}

# Greek zip codes: the first two digits pick the serving station (a coarse but stable map).
_GR_PREFIX_STATION: Final = (
    (10, 11, "ΑΘ"),
    (12, 13, "ΒΑ"),
    (14, 17, "ΑΘ"),
    (18, 18, "ΠΡ"),
    (19, 19, "ΑΘ"),
    (20, 27, "ΠΤ"),
    (28, 29, "ΚΕ"),
    (30, 39, "ΛΜ"),
    (40, 43, "ΛΡ"),
    (44, 48, "ΙΩ"),
    (49, 49, "ΚΕ"),
    (50, 69, "ΘΣ"),
    (70, 72, "ΗΡ"),
    (73, 74, "ΧΝ"),
    (80, 85, "ΡΟ"),
)


class Area(NamedTuple):
    """One row of ACS_Area_Find_By_Zip_Code."""

    zip_code: str
    description: str
    description_eng: str
    prefecture: str
    station: str
    inaccessible: bool


# A handful of real-looking areas; other valid zips get one synthesised row.
KNOWN_AREAS: Final = (
    Area("10431", "ΑΘΗΝΑ", "ATHINA", "Ν. ΑΤΤΙΚΗΣ", "ΑΘ", False),
    Area("10680", "ΑΘΗΝΑ", "ATHINA", "Ν. ΑΤΤΙΚΗΣ", "ΑΘ", False),
    Area("17778", "ΤΑΥΡΟΣ", "TAVROS", "Ν. ΑΤΤΙΚΗΣ", "ΑΘ", False),
    Area("13231", "ΠΕΤΡΟΥΠΟΛΗ", "PETROUPOLI", "Ν. ΑΤΤΙΚΗΣ", "ΒΘ", False),
    Area("13679", "ΑΓΙΑ ΤΡΙΑΔΑ ΠΑΡΝΗΘΑΣ", "AGIA TRIADA PARNITHAS", "Ν. ΑΤΤΙΚΗΣ", "ΒΑ", True),
    Area("13679", "ΑΜΥΓΔΑΛΕΖΑ", "AMIGDALEZA", "Ν. ΑΤΤΙΚΗΣ", "ΒΑ", False),
    Area("13679", "ΠΑΡΝΗΘΑ", "PARNITHA", "Ν. ΑΤΤΙΚΗΣ", "ΒΑ", True),
    Area("54630", "ΘΕΣΣΑΛΟΝΙΚΗ", "THESSALONIKI", "Ν. ΘΕΣΣΑΛΟΝΙΚΗΣ", "ΘΣ", False),
    Area("73100", "ΧΑΝΙΑ", "CHANIA", "Ν. ΧΑΝΙΩΝ", "ΧΝ", False),
    Area("1010", "ΛΕΥΚΩΣΙΑ", "NICOSIA", "ΛΕΥΚΩΣΙΑ", "ΛΕ", False),
)


def station_for_zip(zip_code: str, country: str) -> str | None:
    """Return the station serving ``zip_code``, or None when ACS would reject the zip."""
    if country == "CY":
        if len(zip_code) != 4 or not zip_code.isdigit():
            return None
        return "ΛΣ" if zip_code.startswith(("3", "4")) else "ΛΕ"
    if country != "GR" or len(zip_code) != 5 or not zip_code.isdigit():
        return None
    prefix = int(zip_code[:2])
    for low, high, station in _GR_PREFIX_STATION:
        if low <= prefix <= high:
            return station
    return None


def areas_for_zip(zip_code: str, country: str) -> list[Area]:
    """Areas for a zip code: the known rows, or one synthesised row for any valid zip."""
    known = [area for area in KNOWN_AREAS if area.zip_code == zip_code]
    if known:
        return known
    station = station_for_zip(zip_code, country)
    if station is None:
        return []
    name = STATIONS[station].description
    return [Area(zip_code, name, name, "", station, False)]


# --- Smartpoints and stores (ACS_Stations) -------------------------------------------------
# kind 1 = main stores, 7 = Smartpoint lockers. Enough rows for a demo pick-up-point list.
STATION_ROWS: Final = (
    (1, "ΑΘ", "ΑΘΗΝΑ", "Π. ΡΑΛΛΗ 40, 17778", "17778", "37.9686", "23.6991"),
    (1, "ΘΣ", "ΘΕΣΣΑΛΟΝΙΚΗ", "ΑΓ.ΔΗΜΗΤΡΙΟΥ 28-30, 54630", "54630", "40.6419851", "22.9403949"),
    (7, "ΑΘ", "SMARTPOINT ΣΥΝΤΑΓΜΑ", "ΦΙΛΕΛΛΗΝΩΝ 2, 10557", "10557", "37.9747", "23.7330"),
    (7, "ΘΣ", "SMARTPOINT ΑΡΙΣΤΟΤΕΛΟΥΣ", "ΑΡΙΣΤΟΤΕΛΟΥΣ 10, 54623", "54623", "40.6330", "22.9410"),
)

# --- Latin look-alikes -----------------------------------------------------------------------
# Only for the control API: a test typing "AΣ1" with a Latin A should still script ΑΣ1.
_LOOKALIKES: Final = str.maketrans("ABEZHIKMNOPTYX", "ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ")


def greek_code(code: str) -> str:
    """Normalise Latin look-alike capitals in a reason code to the Greek letters ACS sends."""
    return code.strip().upper().translate(_LOOKALIKES)
