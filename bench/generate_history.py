"""A deterministic (seeded) generator of a realistic Greek shop's history in the kpis.md JSON
Lines import format, for the P3 and P4 benchmarks.

    python bench/generate_history.py --orders 1000000 --out var/bench/history-1m.jsonl
        [--seed 7] [--start 2024-10-01] [--days 730]

N orders over ~2 years (growth, weekly rhythm, Black Friday, Christmas, January sales, a quiet
August) on channels web / skroutz / phone / store, with customers (new and repeat buyers, so
first_order, returning and reactivated orders all occur), ~200 products, 5 locations, checkouts
(~30 % abandoned, half of them by guests), payment attempts (cards of Greek issuer banks with
brand and funding, declines and retries, PayPal, IRIS, cash on delivery, in-store POS and
cash), shipments (pick times, short picks, pick errors, split shipments, damage, wrong
documents, failed delivery attempts, shipping cost, late shipping and late deliveries, parcels
never delivered), picker shifts, cycle inventory counts, returns (~8 % of delivered orders, with
reasons, resolutions, dispositions and costs, some not received yet) and ~3 % cancelled orders.

The file is written order by order (each order's customer first, then the order, its checkout,
payment attempts, shipments and return), day by day, with the day's abandoned checkouts, picker
shifts and inventory counts: every record refers only to records earlier in the file. What had
not happened by the end of the history (a parcel still in transit, a return not yet requested)
is left out, as an export taken that evening would. Memory stays flat: nothing is kept per
order or per customer. Prints a JSON line with the record count, in total and by kind.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

import msgspec

T = TypeVar("T")
DAY = 86_400
HOUR = 3_600
MINUTE = 60

# ---------------------------------------------------------------------------------------------
# The shop: names, catalogue, locations, channels, payments, couriers
# ---------------------------------------------------------------------------------------------

FIRST_NAMES = (  # (Greek, Latin) — female names take the female surname form
    ("Μαρία", "maria", "f"),
    ("Ελένη", "eleni", "f"),
    ("Αικατερίνη", "aikaterini", "f"),
    ("Βασιλική", "vasiliki", "f"),
    ("Σοφία", "sofia", "f"),
    ("Αγγελική", "angeliki", "f"),
    ("Γεωργία", "georgia", "f"),
    ("Δήμητρα", "dimitra", "f"),
    ("Κωνσταντίνα", "konstantina", "f"),
    ("Χριστίνα", "christina", "f"),
    ("Ιωάννα", "ioanna", "f"),
    ("Δέσποινα", "despoina", "f"),
    ("Γεώργιος", "georgios", "m"),
    ("Ιωάννης", "ioannis", "m"),
    ("Κωνσταντίνος", "konstantinos", "m"),
    ("Δημήτριος", "dimitrios", "m"),
    ("Νικόλαος", "nikolaos", "m"),
    ("Παναγιώτης", "panagiotis", "m"),
    ("Βασίλειος", "vasileios", "m"),
    ("Χρήστος", "christos", "m"),
    ("Αθανάσιος", "athanasios", "m"),
    ("Μιχαήλ", "michail", "m"),
    ("Ευάγγελος", "evangelos", "m"),
    ("Σπυρίδων", "spyridon", "m"),
)
SURNAMES = (  # (male, female, Latin)
    ("Παπαδόπουλος", "Παπαδοπούλου", "papadopoulos"),
    ("Βλάχος", "Βλάχου", "vlachos"),
    ("Αγγελόπουλος", "Αγγελοπούλου", "angelopoulos"),
    ("Νικολάου", "Νικολάου", "nikolaou"),
    ("Γεωργίου", "Γεωργίου", "georgiou"),
    ("Παπαγεωργίου", "Παπαγεωργίου", "papageorgiou"),
    ("Οικονόμου", "Οικονόμου", "oikonomou"),
    ("Μακρής", "Μακρή", "makris"),
    ("Δημητρίου", "Δημητρίου", "dimitriou"),
    ("Κωνσταντινίδης", "Κωνσταντινίδου", "konstantinidis"),
    ("Ιωαννίδης", "Ιωαννίδου", "ioannidis"),
    ("Παπανικολάου", "Παπανικολάου", "papanikolaou"),
    ("Αντωνίου", "Αντωνίου", "antoniou"),
    ("Καραγιάννης", "Καραγιάννη", "karagiannis"),
    ("Χατζηδάκης", "Χατζηδάκη", "chatzidakis"),
    ("Μαυρίδης", "Μαυρίδου", "mavridis"),
    ("Σταματόπουλος", "Σταματοπούλου", "stamatopoulos"),
    ("Τσακίρης", "Τσακίρη", "tsakiris"),
    ("Ζαχαρίου", "Ζαχαρίου", "zachariou"),
    ("Κουκουλάκης", "Κουκουλάκη", "koukoulakis"),
)
MAIL_DOMAINS = ("gmail.com", "yahoo.gr", "hotmail.com", "otenet.gr", "outlook.com", "windowslive.com")

# category: (SKU prefix, Greek product nouns, price range in cents, weight range in grams, return share)
CATEGORIES: dict[str, tuple[str, Sequence[str], tuple[int, int], tuple[int, int], float]] = {
    "apparel": (
        "APP",
        ("Μπλουζάκι", "Φούτερ", "Τζιν", "Φόρεμα", "Πουκάμισο", "Μπουφάν"),
        (1200, 8900),
        (150, 900),
        0.16,
    ),
    "shoes": ("SHO", ("Αθλητικά", "Σανδάλια", "Μποτάκια", "Παντόφλες"), (2500, 12900), (400, 1400), 0.14),
    "electronics": (
        "ELE",
        ("Ακουστικά", "Φορτιστής", "Ηχείο", "Smartwatch", "Ποντίκι"),
        (1500, 24900),
        (80, 1500),
        0.07,
    ),
    "home": ("HOM", ("Κούπα", "Πετσέτα", "Μαξιλάρι", "Λάμπα", "Σετ μαχαιροπίρουνα"), (600, 6900), (200, 3000), 0.05),
    "beauty": ("BEA", ("Σαπούνι ελιάς", "Κρέμα χεριών", "Σαμπουάν", "Άρωμα"), (450, 5900), (100, 600), 0.03),
    "food": (
        "FOO",
        ("Ελαιόλαδο 1L", "Μέλι θυμαρίσιο", "Τσάι του βουνού", "Σαφράν Κοζάνης"),
        (500, 3500),
        (100, 1200),
        0.01,
    ),
    "toys": ("TOY", ("Παζλ", "Λούτρινο", "Τουβλάκια", "Επιτραπέζιο"), (900, 7900), (200, 2000), 0.05),
    "books": (
        "BOO",
        ("Μυθιστόρημα", "Οδηγός Κρήτης", "Βιβλίο μαγειρικής", "Παιδικό βιβλίο"),
        (800, 3500),
        (200, 900),
        0.03,
    ),
}
PRODUCTS_COUNT = 200

LOCATIONS = (  # code, name, type, city, postcode, lat, lon, pickers
    ("WH-ATH", "Αποθήκη Ασπρόπυργου", "warehouse", "Ασπρόπυργος", "19300", 38.061, 23.587, 14),
    ("WH-SKG", "Αποθήκη Σίνδου", "warehouse", "Σίνδος", "57400", 40.668, 22.806, 8),
    ("STORE-ATH", "Κατάστημα Ερμού", "store", "Αθήνα", "10563", 37.976, 23.729, 4),
    ("STORE-SKG", "Κατάστημα Τσιμισκή", "store", "Θεσσαλονίκη", "54623", 40.632, 22.943, 3),
    ("STORE-HER", "Κατάστημα Ηρακλείου", "store", "Ηράκλειο", "71202", 35.339, 25.134, 3),
)
STORES = ("STORE-ATH", "STORE-SKG", "STORE-HER")

CHANNELS = (("web", 0.52), ("skroutz", 0.26), ("phone", 0.07), ("store", 0.15))
ONLINE_CHANNELS = frozenset({"web", "skroutz"})

ISSUERS = (  # issuer bank, share of cards, decline propensity
    ("National Bank of Greece", 0.24, 1.0),
    ("Piraeus Bank", 0.22, 1.0),
    ("Eurobank", 0.2, 0.9),
    ("Alpha Bank", 0.18, 0.9),
    ("Optima Bank", 0.04, 0.8),
    ("Attica Bank", 0.03, 1.3),
    ("Revolut", 0.06, 1.6),
    ("Viva Wallet", 0.03, 1.4),
)
BRANDS = (("visa", 0.58), ("mastercard", 0.37), ("amex", 0.04), ("diners", 0.01))
FUNDING = (("debit", 0.55), ("credit", 0.38), ("prepaid", 0.07))
DECLINES = (
    ("insufficient_funds", 0.36),
    ("do_not_honor", 0.2),
    ("authentication_required", 0.16),
    ("expired_card", 0.1),
    ("incorrect_cvc", 0.1),
    ("card_declined", 0.08),
)
COURIERS = (("acs", 0.38), ("elta", 0.14), ("geniki", 0.15), ("speedex", 0.15), ("boxnow", 0.18))
COURIER_DAYS = {"acs": 1.2, "elta": 2.3, "geniki": 1.6, "speedex": 1.4, "boxnow": 1.1}
COURIER_COST = {"acs": 390, "elta": 290, "geniki": 330, "speedex": 350, "boxnow": 240}
FAILED_REASONS = (("recipient_absent", 0.62), ("address_not_found", 0.14), ("refused", 0.08), ("closed", 0.16))
RETURN_REASONS = {
    "apparel": (("wrong_size", 0.55), ("changed_mind", 0.2), ("not_as_described", 0.15), ("defective", 0.1)),
    "shoes": (("wrong_size", 0.6), ("changed_mind", 0.2), ("defective", 0.2)),
    "other": (("defective", 0.4), ("changed_mind", 0.3), ("not_as_described", 0.2), ("wrong_item", 0.1)),
}


class Shop:
    """Catalogue and weighted choices, fixed by the seed."""

    def __init__(self, rng: random.Random) -> None:
        self.products: list[dict[str, Any]] = []
        cats = list(CATEGORIES)
        for i in range(PRODUCTS_COUNT):
            category = cats[i % len(cats)]
            prefix, nouns, (lo, hi), (wlo, whi), _ = CATEGORIES[category]
            price = int(math.exp(rng.uniform(math.log(lo), math.log(hi))) // 10 * 10 + 9)
            self.products.append(
                {
                    "kind": "product",
                    "sku": f"{prefix}-{i + 1:04d}",
                    "name": f"{rng.choice(nouns)} {i + 1:03d}",
                    "category": category,
                    "price": price,
                    "currency": "EUR",
                    "weight_g": rng.randint(wlo, whi),
                }
            )
        # Popularity: a Zipf-like long tail, in a seeded random order.
        ranks = list(range(PRODUCTS_COUNT))
        rng.shuffle(ranks)
        self.product_cum = list(itertools.accumulate(1.0 / (1 + r) ** 0.9 for r in ranks))

    def product(self, rng: random.Random) -> dict[str, Any]:
        return self.products[bisect.bisect(self.product_cum, rng.random() * self.product_cum[-1])]


def picker(rng: random.Random, table: Sequence[tuple[T, float]]) -> Callable[[], T]:
    """A fast weighted choice over a fixed table."""
    values = [v for v, _ in table]
    cum = list(itertools.accumulate(w for _, w in table))
    total = cum[-1]
    return lambda: values[bisect.bisect(cum, rng.random() * total)]


# ---------------------------------------------------------------------------------------------
# Time
# ---------------------------------------------------------------------------------------------


class Clock:
    """Epoch seconds ↔ RFC 3339 strings, with the day prefix cached (the generator's hot path)."""

    def __init__(self) -> None:
        self.prefix: dict[int, str] = {}

    def iso(self, t: int) -> str:
        day, secs = divmod(t, DAY)
        prefix = self.prefix.get(day)
        if prefix is None:
            prefix = self.prefix[day] = (date(1970, 1, 1) + timedelta(days=day)).isoformat() + "T"
        h, rest = divmod(secs, HOUR)
        m, s = divmod(rest, MINUTE)
        return f"{prefix}{h:02d}:{m:02d}:{s:02d}Z"


def day_weights(start: date, days: int) -> list[float]:
    """Relative order volume per day: growth, weekly rhythm and the Greek retail calendar."""
    weights = []
    for i in range(days):
        d = start + timedelta(days=i)
        w = 1.0 + 0.6 * i / max(days - 1, 1)  # the shop grows
        w *= (1.02, 1.05, 1.04, 1.0, 0.98, 0.9, 0.86)[d.weekday()]
        if d.month == 11:
            black_friday = max(day for day in range(23, 30) if date(d.year, 11, day).weekday() == 4)
            if d.day == black_friday:
                w *= 3.2
            elif black_friday - 7 <= d.day <= black_friday + 3:
                w *= 1.6
        elif d.month == 12 and d.day <= 23:
            w *= 1.45
        elif d.month == 12 and d.day in (25, 26):
            w *= 0.4
        elif d.month == 1 and d.day >= 8:
            w *= 1.2  # January sales
        elif d.month == 8:
            w *= 0.78
        weights.append(w)
    return weights


def orders_per_day(total: int, weights: Sequence[float]) -> list[int]:
    """`total` orders over the days in proportion to the weights (cumulative rounding: exact)."""
    s = sum(weights)
    out, running, placed = [], 0.0, 0
    for w in weights:
        running += w
        upto = round(running / s * total)
        out.append(upto - placed)
        placed = upto
    return out


HOURS_UTC = [
    0.4,
    0.2,
    0.1,
    0.1,
    0.3,
    1.2,
    2.8,
    4.6,
    5.6,
    6.0,
    5.8,
    5.2,
    5.0,
    5.2,
    5.0,
    5.4,
    6.4,
    7.4,
    7.6,
    6.6,
    4.6,
    2.6,
    1.4,
    0.8,
]
STORE_HOURS_UTC = [0.0] * 7 + [2.0, 4.0, 5.0, 5.5, 5.5, 5.0, 4.0, 4.5, 5.5, 6.0, 5.0, 1.0] + [0.0] * 5


# ---------------------------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------------------------


class History:
    def __init__(self, orders: int, seed: int, start: date, days: int) -> None:
        self.rng = rng = random.Random(seed)
        self.seed = seed
        self.start, self.days, self.total_orders = start, days, orders
        self.t0 = int((start - date(1970, 1, 1)).total_seconds())
        self.as_of = self.t0 + days * DAY  # the export is taken at the end of the last day
        self.clock = Clock()
        self.shop = Shop(random.Random(seed * 7919 + 1))
        self.customers = 0
        self.counters: dict[str, int] = {}
        self.by_kind: dict[str, int] = {}
        self.channel = picker(rng, CHANNELS)
        self.issuer = picker(rng, [(name, share) for name, share, _ in ISSUERS])
        self.issuer_risk = {name: risk for name, _, risk in ISSUERS}
        self.brand = picker(rng, BRANDS)
        self.funding = picker(rng, FUNDING)
        self.decline = picker(rng, DECLINES)
        self.courier = picker(rng, COURIERS)
        self.failed_reason = picker(rng, FAILED_REASONS)
        self.return_reason = {k: picker(rng, v) for k, v in RETURN_REASONS.items()}
        self.hour = picker(rng, list(enumerate(HOURS_UTC)))
        self.store_hour = picker(rng, list(enumerate(STORE_HOURS_UTC)))
        self.rosters: dict[tuple[str, int], list[str]] = {}

    # -- helpers ------------------------------------------------------------------------------

    def next_id(self, kind: str) -> int:
        n = self.counters.get(kind, 0) + 1
        self.counters[kind] = n
        return n

    def iso(self, t: int | None) -> str | None:
        return None if t is None else self.clock.iso(t)

    def roster(self, location: str, day: int) -> list[str]:
        """The pickers on shift at a location on a day (seeded by location and day, so the
        shipments picked that day and the day's shift records agree)."""
        key = (location, day)
        found = self.rosters.get(key)
        if found is None:
            if len(self.rosters) > 64:
                self.rosters.clear()
            size = next(p for code, *_, p in LOCATIONS if code == location)
            r = random.Random(f"{self.seed}|{location}|{day}")
            weekend = (date(1970, 1, 1) + timedelta(days=day)).weekday() == 6
            crew = [f"{location}-P{i + 1:02d}" for i in range(size)]
            found = [p for p in crew if r.random() < (0.35 if weekend else 0.82)] or crew[:1]
            self.rosters[key] = found
        return found

    # -- the records ----------------------------------------------------------------------------

    def header(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = list(self.shop.products)
        for code, name, kind, city, postcode, lat, lon, _ in LOCATIONS:
            records.append(
                {
                    "kind": "location",
                    "code": code,
                    "name": name,
                    "type": kind,
                    "city": city,
                    "postcode": postcode,
                    "country": "GR",
                    "lat": lat,
                    "lon": lon,
                    "pickup": kind == "store",
                    "priority": 10 if kind == "warehouse" else 50,
                }
            )
        return records

    def customer_for_order(self, placed: int, out: list[dict[str, Any]]) -> str:
        rng = self.rng
        # Repeat buyers once there are some: recent customers come back more often, and some
        # come back after more than a year (reactivated).
        if self.customers >= min(500, max(10, self.total_orders // 50)) and rng.random() < 0.58:
            if rng.random() < 0.45:
                n = self.customers - int(self.customers * 0.2 * rng.random())
            else:
                n = 1 + int(self.customers * rng.random())
            return f"C{n}"
        self.customers += 1
        n = self.customers
        first, first_latin, sex = FIRST_NAMES[int(rng.random() * len(FIRST_NAMES))]
        male, female, last_latin = SURNAMES[int(rng.random() * len(SURNAMES))]
        customer: dict[str, Any] = {
            "kind": "customer",
            "id": f"C{n}",
            "email": f"{first_latin}.{last_latin}{n}@{MAIL_DOMAINS[n % len(MAIL_DOMAINS)]}",
            "name": f"{first} {female if sex == 'f' else male}",
            "created_at": self.clock.iso(placed - int(rng.random() * 3 * HOUR) - 60),
        }
        if rng.random() < 0.7:
            customer["phone"] = f"+30 69{rng.randint(0, 99_999_999):08d}"
        out.append(customer)
        return f"C{n}"

    def order(self, day_t: int, out: list[dict[str, Any]]) -> None:
        rng = self.rng
        channel = self.channel()
        hour = self.store_hour() if channel == "store" else self.hour()
        placed = day_t + hour * HOUR + int(rng.random() * HOUR)
        customer = self.customer_for_order(placed, out)
        n = self.next_id("order")
        oid = f"O{n}"
        d = date(1970, 1, 1) + timedelta(days=day_t // DAY)
        sale = (d.month == 11 and d.day >= 20) or (d.month == 1 and d.day >= 8)
        k = 1 + (rng.random() > 0.55) + (rng.random() > 0.7) + (rng.random() > 0.88)
        lines: list[dict[str, Any]] = []
        seen: set[str] = set()
        categories: list[str] = []
        while len(lines) < k:
            product = self.shop.product(rng)
            if product["sku"] in seen:
                if rng.random() < 0.3:
                    break
                continue
            seen.add(product["sku"])
            qty = 1 if rng.random() < 0.82 else (2 if rng.random() < 0.8 else 3)
            price = product["price"]
            if sale and rng.random() < 0.6:
                price = price * (100 - rng.choice((10, 20, 30))) // 100
            lines.append({"sku": product["sku"], "qty": qty, "unit_price": price})
            categories.append(product["category"])
        merchandise = sum(ln["qty"] * ln["unit_price"] for ln in lines)
        ship_by = self.promise(placed, 1, 15)
        deliver_by = self.promise(ship_by, 2 if channel != "store" else 0, 19)
        cancelled = placed + int(rng.uniform(0.2, 30) * HOUR) if rng.random() < 0.03 else None
        if channel == "store":
            ship_by = deliver_by = placed + HOUR
        if cancelled is not None and cancelled > self.as_of:
            cancelled = None
        out.append(
            {
                "kind": "order",
                "id": oid,
                "channel": channel,
                "customer_id": customer,
                "placed_at": self.clock.iso(placed),
                "currency": "EUR",
                "lines": lines,
                "promised_ship_by": self.clock.iso(ship_by),
                "promised_delivery_by": self.clock.iso(deliver_by),
                "cancelled_at": self.iso(cancelled),
            }
        )
        if channel in ONLINE_CHANNELS:
            out.append(
                {
                    "kind": "checkout",
                    "id": f"K{self.next_id('checkout')}",
                    "channel": channel,
                    "customer_id": customer,
                    "started_at": self.clock.iso(placed - int(rng.uniform(2, 25) * MINUTE)),
                    "order_id": oid,
                }
            )
        shipping_fee = 0 if merchandise >= 4000 or channel == "store" else 350
        self.payments(oid, channel, placed, merchandise + shipping_fee, out)
        if cancelled is not None:
            return
        delivered, delivered_at = self.shipments(oid, channel, placed, ship_by, lines, out)
        if delivered:
            self.maybe_return(oid, delivered, delivered_at, lines, categories, out)

    def promise(self, t: int, days: int, hour: int) -> int:
        """`days` working days after t (Sunday is not one), at `hour` UTC."""
        day = t // DAY
        for _ in range(days):
            day += 1
            if (day + 3) % 7 == 6:  # 1970-01-01 was a Thursday: (day + 3) % 7 is the weekday
                day += 1
        return day * DAY + hour * HOUR

    def payments(self, oid: str, channel: str, placed: int, amount: int, out: list[dict[str, Any]]) -> None:
        rng = self.rng
        r = rng.random()
        if channel == "store":
            method = "card_present" if r < 0.72 else "cash"
        elif channel == "phone":
            method = "cod" if r < 0.6 else "card"
        else:
            method = "card" if r < 0.68 else "cod" if r < 0.86 else "paypal" if r < 0.94 else "bank_transfer"
        t = placed - int(rng.uniform(5, 90))
        attempts: list[dict[str, Any]] = []
        if method in ("card", "card_present"):
            issuer, brand, funding = self.issuer(), self.brand(), self.funding()
            risk = self.issuer_risk[issuer] * (2.2 if funding == "prepaid" else 1.0)
            provider = "stripe" if method == "card" else "viva_pos"
            tries = 0
            while True:
                tries += 1
                declined = rng.random() < 0.085 * risk / tries and tries < 4
                attempts.append(
                    {
                        "provider": provider,
                        "method": method,
                        "card_brand": brand,
                        "funding": funding,
                        "issuer_bank": issuer,
                        "status": "failed" if declined else "succeeded",
                        "decline_code": self.decline() if declined else None,
                    }
                )
                if not declined:
                    break
                if rng.random() < 0.25:  # gives up on the card and pays on delivery (or in cash)
                    attempts.append(
                        {
                            "provider": "cod" if method == "card" else "cash",
                            "method": "cod" if method == "card" else "cash",
                        }
                    )
                    break
                if rng.random() < 0.3:  # tries another card
                    issuer, brand, funding = self.issuer(), self.brand(), self.funding()
        elif method == "paypal":
            failed = rng.random() < 0.04
            attempts.append({"provider": "paypal", "method": "paypal", "status": "failed" if failed else "succeeded"})
            if failed:
                attempts.append({"provider": "paypal", "method": "paypal"})
        elif method == "bank_transfer":
            attempts.append({"provider": "iris", "method": "bank_transfer", "issuer_bank": self.issuer()})
        else:
            attempts.append({"provider": "cod" if method == "cod" else "cash", "method": method})
        t -= 40 * (len(attempts) - 1)
        for attempt in attempts:
            out.append(
                {
                    "kind": "payment_attempt",
                    "id": f"P{self.next_id('payment_attempt')}",
                    "order_id": oid,
                    "provider": attempt["provider"],
                    "method": attempt["method"],
                    "card_brand": attempt.get("card_brand"),
                    "funding": attempt.get("funding"),
                    "issuer_bank": attempt.get("issuer_bank"),
                    "amount": amount,
                    "currency": "EUR",
                    "status": attempt.get("status", "succeeded"),
                    "decline_code": attempt.get("decline_code"),
                    "attempted_at": self.clock.iso(t),
                }
            )
            t += 40

    def shipments(
        self,
        oid: str,
        channel: str,
        placed: int,
        ship_by: int,
        lines: list[dict[str, Any]],
        out: list[dict[str, Any]],
    ) -> tuple[dict[str, int], int]:
        """The order's shipments; returns {sku: units delivered} (empty if nothing arrived) and
        when the last of them arrived."""
        rng = self.rng
        if channel == "store":
            groups = [(rng.choice(STORES), lines)]
        else:
            main = "WH-ATH" if rng.random() < 0.62 else "WH-SKG" if rng.random() < 0.8 else "STORE-ATH"
            groups = [(main, lines)]
            if len(lines) >= 2 and rng.random() < 0.07:  # split: part ships from the other warehouse
                cut = 1 + int(rng.random() * (len(lines) - 1))
                other = "WH-SKG" if main != "WH-SKG" else "WH-ATH"
                groups = [(main, lines[:cut]), (other, lines[cut:])]
        delivered: dict[str, int] = {}
        last = 0
        late_shipping = rng.random() < 0.06
        for location, group in groups:
            record = self.shipment(oid, channel, placed, ship_by, location, group, late_shipping)
            if record is None:
                continue
            out.append(record)
            if record["delivered_at"]:
                last = max(last, self.parse(record["delivered_at"]))
                for ln in record["lines"]:
                    delivered[ln["sku"]] = ln["picked_qty"]
        return delivered, last

    def shipment(
        self,
        oid: str,
        channel: str,
        placed: int,
        ship_by: int,
        location: str,
        lines: list[dict[str, Any]],
        late_shipping: bool,
    ) -> dict[str, Any] | None:
        rng = self.rng
        store_sale = channel == "store"
        if store_sale:
            pick_start = placed + int(rng.uniform(0.5, 4) * MINUTE)
        else:
            work_start = (placed // DAY) * DAY + 6 * HOUR
            if placed < work_start:
                pick_start = work_start + int(rng.random() * 2 * HOUR)
            elif placed > work_start + 11 * HOUR:
                pick_start = work_start + DAY + int(rng.random() * 3 * HOUR)
            else:
                pick_start = placed + int(rng.uniform(0.3, 5) * HOUR)
            if late_shipping:
                pick_start += int(rng.uniform(1, 2.5) * DAY)
        if pick_start > self.as_of:
            return None  # not picked yet when the history was exported
        units = sum(ln["qty"] for ln in lines)
        pick_minutes = rng.lognormvariate(math.log(3.5 + 1.6 * units), 0.45)
        pick_done = pick_start + int(pick_minutes * MINUTE)
        short = rng.random() < 0.022
        shipment_lines = []
        for i, ln in enumerate(lines):
            picked = ln["qty"] - 1 if short and i == len(lines) - 1 else ln["qty"]
            shipment_lines.append({"sku": ln["sku"], "qty": ln["qty"], "picked_qty": picked})
        roster = self.roster(location, pick_start // DAY)
        record: dict[str, Any] = {
            "kind": "shipment",
            "id": f"S{self.next_id('shipment')}",
            "order_id": oid,
            "location": location,
            "courier": "pickup" if store_sale else self.courier(),
            "lines": shipment_lines,
            "picker": roster[int(rng.random() * len(roster))],
            "pick_started_at": self.clock.iso(pick_start),
            "pick_completed_at": self.iso(pick_done if pick_done <= self.as_of else None),
            "pick_error": rng.random() < 0.012,
            "shipped_at": None,
            "shipping_cost": 0,
            "attempts": [],
            "delivered_at": None,
            "damaged": False,
            "docs_ok": rng.random() >= 0.005,
        }
        if pick_done > self.as_of:
            return record
        if store_sale:
            handed = pick_done + int(rng.uniform(1, 5) * MINUTE)
            if handed <= self.as_of:
                record.update(shipped_at=self.clock.iso(handed), delivered_at=self.clock.iso(handed))
                record["attempts"] = [{"at": self.clock.iso(handed), "outcome": "delivered"}]
            return record
        courier = record["courier"]
        # Couriers collect at 15:00 or 17:30 UTC; a pick done after the last collection waits a day.
        day = pick_done // DAY * DAY
        collections = (day + 15 * HOUR, day + 17 * HOUR + 30 * MINUTE, day + DAY + 15 * HOUR)
        shipped = next(c for c in collections if c >= pick_done + 20 * MINUTE) + int(rng.random() * 20 * MINUTE)
        if shipped > self.as_of:
            return record
        weight = units * 450
        record["shipped_at"] = self.clock.iso(shipped)
        record["shipping_cost"] = COURIER_COST[courier] + 40 * (weight // 1000) + int(rng.random() * 60)
        record["damaged"] = rng.random() < 0.008
        transit = rng.lognormvariate(math.log(COURIER_DAYS[courier]), 0.35) * DAY
        if rng.random() < 0.08:  # islands and remote areas
            transit += rng.uniform(1, 3) * DAY
        t = shipped + int(max(transit, 8 * HOUR))
        if (t // DAY + 3) % 7 == 6:
            t += DAY  # no deliveries on Sunday
        t = t // DAY * DAY + int(rng.uniform(8, 18) * HOUR)
        attempts = []
        for number in range(3):
            if t > self.as_of:
                break
            p_deliver = (0.87, 0.84, 0.9)[number]
            if rng.random() < p_deliver:
                attempts.append({"at": self.clock.iso(t), "outcome": "delivered"})
                record["delivered_at"] = self.clock.iso(t)
                break
            attempts.append({"at": self.clock.iso(t), "outcome": "failed", "reason": self.failed_reason()})
            t += DAY + int(rng.uniform(-2, 3) * HOUR)
        record["attempts"] = attempts
        return record

    def maybe_return(
        self,
        oid: str,
        delivered: dict[str, int],
        delivered_t: int,
        lines: list[dict[str, Any]],
        categories: list[str],
        out: list[dict[str, Any]],
    ) -> None:
        rng = self.rng
        share = max(CATEGORIES[c][4] for c in categories)
        if rng.random() >= share * 0.85:
            return
        requested = delivered_t + int(rng.uniform(0.5, 24) * DAY)
        if requested > self.as_of:
            return
        received: int | None = requested + int(rng.uniform(2, 9) * DAY)
        if received is not None and (received > self.as_of or rng.random() < 0.06):
            received = None
        candidates = [(ln, c) for ln, c in zip(lines, categories, strict=True) if delivered.get(ln["sku"], 0) > 0]
        if not candidates:
            return
        rng.shuffle(candidates)
        chosen = candidates[: 1 + (len(candidates) > 1 and rng.random() < 0.25)]
        return_lines = []
        for ln, category in chosen:
            reason = self.return_reason.get(category, self.return_reason["other"])()
            qty = 1 + int(rng.random() * delivered[ln["sku"]]) if rng.random() < 0.3 else delivered[ln["sku"]]
            r = rng.random()
            if reason == "defective":
                resolution = "repair" if r < 0.25 else "replacement" if r < 0.6 else "refund"
                d = rng.random()
                disposition = (
                    "repair"
                    if d < 0.35
                    else "return_to_supplier"
                    if d < 0.7
                    else "recycle"
                    if d < 0.85
                    else "write_off"
                )
            else:
                resolution = "refund" if r < 0.64 else "store_credit" if r < 0.84 else "replacement"
                d = rng.random()
                disposition = "resell" if d < 0.8 else "recycle" if d < 0.9 else "write_off"
            if rng.random() < 0.03:
                disposition = None  # some histories do not record it
            value = qty * ln["unit_price"]
            return_lines.append(
                {
                    "sku": ln["sku"],
                    "qty": qty,
                    "reason": reason,
                    "resolution": resolution,
                    "disposition": disposition,
                    "repair_cost": int(value * rng.uniform(0.1, 0.45)) if disposition == "repair" else 0,
                    "replacement_cost": int(value * rng.uniform(0.45, 0.7)) if resolution == "replacement" else 0,
                }
            )
        out.append(
            {
                "kind": "return",
                "id": f"R{self.next_id('return')}",
                "order_id": oid,
                "requested_at": self.clock.iso(requested),
                "received_at": self.iso(received),
                "lines": return_lines,
            }
        )

    def parse(self, iso: str) -> int:
        d = date.fromisoformat(iso[:10])
        return (d - date(1970, 1, 1)).days * DAY + int(iso[11:13]) * HOUR + int(iso[14:16]) * MINUTE + int(iso[17:19])

    def abandoned_checkout(self, day_t: int) -> dict[str, Any]:
        rng = self.rng
        customer = f"C{1 + int(rng.random() * self.customers)}" if self.customers and rng.random() < 0.5 else None
        return {
            "kind": "checkout",
            "id": f"K{self.next_id('checkout')}",
            "channel": "web" if rng.random() < 0.68 else "skroutz",
            "customer_id": customer,
            "started_at": self.clock.iso(day_t + self.hour() * HOUR + int(rng.random() * HOUR)),
            "order_id": None,
        }

    def day_end(self, day_t: int) -> list[dict[str, Any]]:
        rng = self.rng
        day = day_t // DAY
        records: list[dict[str, Any]] = []
        iso_day = self.clock.iso(day_t)[:10]
        for code, *_ in LOCATIONS:
            for name in self.roster(code, day):
                hours = rng.choice((4.0, 6.0, 7.5, 8.0, 8.0, 8.0))
                records.append({"kind": "picker_shift", "picker": name, "date": iso_day, "hours": hours})
        minutes = rng.sample(range(6 * 60, 18 * 60), 24)  # distinct times: one count per location, SKU, time
        for minute in minutes:
            code = LOCATIONS[int(rng.random() * len(LOCATIONS))][0]
            product = self.shop.products[int(rng.random() * PRODUCTS_COUNT)]
            system = int(rng.random() * 160)
            counted = system if rng.random() < 0.93 else max(0, system + rng.choice((-3, -2, -1, -1, 1, 2)))
            records.append(
                {
                    "kind": "inventory_count",
                    "location": code,
                    "sku": product["sku"],
                    "counted_at": self.clock.iso(day_t + minute * MINUTE),
                    "system_qty": system,
                    "counted_qty": counted,
                    "counted_by": f"{code}-P01",
                }
            )
        return records

    def write(self, path: Path) -> dict[str, Any]:
        encoder = msgspec.json.Encoder()
        path.parent.mkdir(parents=True, exist_ok=True)
        counts = orders_per_day(self.total_orders, day_weights(self.start, self.days))
        records = 0
        with path.open("wb", buffering=1 << 20) as fh:

            def emit(batch: list[dict[str, Any]]) -> None:
                nonlocal records
                for record in batch:
                    self.by_kind[record["kind"]] = self.by_kind.get(record["kind"], 0) + 1
                fh.write(b"\n".join(encoder.encode(r) for r in batch) + b"\n")
                records += len(batch)

            emit(self.header())
            for i, n in enumerate(counts):
                day_t = self.t0 + i * DAY
                out: list[dict[str, Any]] = []
                for _ in range(n):
                    self.order(day_t, out)
                    if self.rng.random() < 0.36:
                        out.append(self.abandoned_checkout(day_t))
                    if len(out) >= 5000:
                        emit(out)
                        out = []
                out.extend(self.day_end(day_t))
                emit(out)
        return {"records": records, "by_kind": dict(sorted(self.by_kind.items()))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=Path("var/bench/history-1m.jsonl"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2024, 10, 1), help="first day (UTC)")
    parser.add_argument("--days", type=int, default=730)
    args = parser.parse_args()
    started = time.perf_counter()
    history = History(args.orders, args.seed, args.start, args.days)
    summary = history.write(args.out)
    end = args.start + timedelta(days=args.days)
    summary = {
        "file": str(args.out),
        "orders": args.orders,
        "from": args.start.isoformat(),
        "to": end.isoformat(),
        "seed": args.seed,
        **summary,
        "bytes": args.out.stat().st_size,
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(summary))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
