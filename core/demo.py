"""The Greek demo shop: a warehouse and two stores, a small catalogue with stock, a few
customers and orders, and one API key per scope (kept in the data directory for reuse)."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import sys
from collections.abc import Mapping, MutableMapping
from pathlib import Path

import click

from core.access import apikeys
from core.catalogue import catalogue, inventory
from core.catalogue.tables import Location
from core.domain.catalogue import AddressIn, Dimensions, LocationIn, LocationType, PriceIn, ProductIn
from core.domain.errors import InsufficientStock
from core.domain.orders import CustomerRef, DeliveryIn, DeliveryMethod, OrderLineIn, PlaceOrder, ShippingAddress
from core.hookspecs.cli import DemoContext, DemoEndpoint, DemoService
from core.orders import orders
from core.plugins import PluginError, PluginHost
from core.runtime import Runtime
from core.settings import environment, put_environment

LOCATIONS = [
    LocationIn(
        code="WH-ATH",
        name="Αποθήκη Ασπρόπυργου",
        type=LocationType.WAREHOUSE,
        address=AddressIn(line1="Λεωφ. ΝΑΤΟ 100", city="Ασπρόπυργος", postcode="19300", country="GR"),
        lat=38.06,
        lon=23.59,
        ships=True,
        pickup=False,
        priority=10,
    ),
    LocationIn(
        code="STORE-ATH",
        name="Κατάστημα Σύνταγμα",
        type=LocationType.STORE,
        address=AddressIn(line1="Ερμού 12", city="Αθήνα", postcode="10563", country="GR"),
        lat=37.976,
        lon=23.735,
        ships=True,
        pickup=True,
        priority=50,
    ),
    LocationIn(
        code="STORE-SKG",
        name="Κατάστημα Τσιμισκή",
        type=LocationType.STORE,
        address=AddressIn(line1="Τσιμισκή 45", city="Θεσσαλονίκη", postcode="54623", country="GR"),
        lat=40.632,
        lon=22.944,
        ships=True,
        pickup=True,
        priority=50,
    ),
]

PRODUCTS = [
    ("OLIVE-OIL-1L", "Εξαιρετικό παρθένο ελαιόλαδο Κρήτης 1L", "food", 1290, 1050, (80, 80, 280)),
    ("HONEY-THYME-450", "Θυμαρίσιο μέλι 450g", "food", 990, 600, (70, 70, 120)),
    ("FETA-PDO-400", "Φέτα ΠΟΠ 400g", "food", 690, 420, (120, 90, 60)),
    ("TEE-BLK-M", "Μπλουζάκι μαύρο M", "apparel", 1999, 200, (300, 250, 20)),
    ("TEE-BLK-L", "Μπλουζάκι μαύρο L", "apparel", 1999, 220, (300, 250, 20)),
    ("SOAP-OLIVE", "Σαπούνι ελαιολάδου", "hygiene", 450, 120, (90, 60, 30)),
    ("HEADPHONES-BT", "Ασύρματα ακουστικά", "electronics", 5990, 350, (180, 160, 80)),
]

STOCK = {
    "WH-ATH": {
        "OLIVE-OIL-1L": 120,
        "HONEY-THYME-450": 80,
        "FETA-PDO-400": 40,
        "TEE-BLK-M": 30,
        "TEE-BLK-L": 25,
        "SOAP-OLIVE": 200,
        "HEADPHONES-BT": 15,
    },
    "STORE-ATH": {"OLIVE-OIL-1L": 10, "TEE-BLK-M": 5, "SOAP-OLIVE": 20, "HEADPHONES-BT": 3},
    "STORE-SKG": {"OLIVE-OIL-1L": 8, "HONEY-THYME-450": 12, "TEE-BLK-L": 4},
}

KEY_SCOPES = {"admin": ["admin"], "ops": ["ops"], "agent": ["agent"], "storefront": ["storefront"]}


async def seed_demo(runtime: Runtime) -> dict[str, str]:
    """Seed once (idempotent) and return the demo keys by role."""
    await runtime.start(with_queue=False)
    try:
        keys_file = runtime.settings.data_dir / "demo-keys.json"
        already = await Location.exists().where(Location.code == "WH-ATH")
        keys: dict[str, str] = json.loads(keys_file.read_text()) if keys_file.exists() else {}
        async with runtime.unit_of_work():
            if not already:
                await _seed_shop(runtime)
            for role, scopes in KEY_SCOPES.items():
                if role not in keys:
                    keys[role] = (await apikeys.create_key(f"demo-{role}", scopes)).key
        runtime.settings.data_dir.mkdir(parents=True, exist_ok=True)
        keys_file.write_text(json.dumps(keys, indent=2))
        os.chmod(keys_file, 0o600)
        return keys
    finally:
        await runtime.stop()


async def _seed_shop(runtime: Runtime) -> None:
    await catalogue.ensure_channels({})
    for loc in LOCATIONS:
        await catalogue.create_location(loc)
    for sku, name, category, price, weight, (length, width, height) in PRODUCTS:
        await catalogue.create_product(
            ProductIn(
                sku=sku,
                name=name,
                category=category,
                price=PriceIn(price, "EUR"),
                weight_g=weight,
                dims_mm=Dimensions(length, width, height),
            )
        )
    for location, levels in STOCK.items():
        for sku, qty in levels.items():
            await inventory.set_on_hand(runtime.db, location, sku, qty, actor="demo", reason="demo_seed")
    address = ShippingAddress(
        name="Μαρία Παπαδοπούλου",
        line1="Πατησίων 76",
        city="Αθήνα",
        postcode="10434",
        country="GR",
        phone="+30 210 1234567",
    )
    samples = [
        ("web", "maria@example.gr", "Μαρία Παπαδοπούλου", [("OLIVE-OIL-1L", 2), ("HONEY-THYME-450", 1)], DeliveryIn()),
        ("phone", "giorgos@example.gr", "Γιώργος Νικολάου", [("TEE-BLK-M", 1)], DeliveryIn()),
        (
            "web",
            "eleni@example.gr",
            "Ελένη Γεωργίου",
            [("SOAP-OLIVE", 3)],
            DeliveryIn(method=DeliveryMethod.PICKUP, pickup_location="STORE-ATH"),
        ),
    ]
    for channel, email, name, lines, delivery in samples:
        try:
            await orders.place_order(
                runtime.db,
                runtime.host,
                runtime.settings,
                PlaceOrder(
                    channel=channel,
                    customer=CustomerRef(email=email, name=name),
                    lines=[OrderLineIn(sku, qty) for sku, qty in lines],
                    shipping_address=address if delivery.method == DeliveryMethod.COURIER else None,
                    delivery=delivery,
                ),
            )
        except InsufficientStock:  # the demo must start even if someone changed its stock
            continue


# The demo's stand-ins live as long as the process; the stack closes them at exit.
_PROCESS_LIFETIME = contextlib.ExitStack()
atexit.register(_PROCESS_LIFETIME.close)


def start_demo_services(
    host: PluginHost,
    api_url: str,
    *,
    environ: MutableMapping[str, str] | None = None,
    stack: contextlib.ExitStack = _PROCESS_LIFETIME,
    endpoints: MutableMapping[str, DemoEndpoint] | None = None,
) -> list[str]:
    """Start the stand-ins plugins offer (`register_demo_services`) for the external services the
    shop has no account with, point the plugins at them (this process's settings, or `environ`
    when given — tests) before the engine reads its settings, and return their lines for the
    banner (`endpoints`, when given, receives each by its service's name)."""
    lines = []
    context = DemoContext(api_url=api_url, environ=dict(environ) if environ is not None else environment())
    for registered in host.demo_services.values():
        service: DemoService = registered.value
        starting = service.start(context)
        if starting is None:  # the real service is configured
            continue
        endpoint = stack.enter_context(starting)
        if not isinstance(endpoint, DemoEndpoint):
            raise PluginError(
                f"plugin {registered.plugin!r}: demo service {service.name!r} yielded {endpoint!r}, not a DemoEndpoint"
            )
        if endpoints is not None:
            endpoints[service.name] = endpoint
        if environ is None:
            put_environment(endpoint.environment)
        else:
            environ.update(endpoint.environment)
        lines.append(f"  {endpoint.label:<13} {endpoint.url}" + (f"  ({endpoint.detail})" if endpoint.detail else ""))
    return lines


DEMO_ENV = "demo.env"
# `field PATH`: one value of the JSON on stdin by a dotted path (a list by index, `*` for every item).
_FIELD_PY = """import json, sys
values = [json.load(sys.stdin)]
for key in sys.argv[1].split("."):
    values = [x for v in values for x in (v if key == "*" else [v[int(key)] if isinstance(v, list) else v[key]])]
print("\\n".join(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in values))"""
_HELPERS = """
# field PATH: one value of the JSON on stdin, e.g. `... | field payments.0.id` (`*` for every item of a list)
field() { "$DEMO_PYTHON" -c "$DEMO_FIELD_PY" "$1"; }
# await_status PATH STATUS: wait (up to 30 s) until GET $API/v1/PATH answers that status (the worker is quick)
await_status() {
  for _ in $(seq 1 60); do
    [ "$(curl -s -H "Authorization: Bearer $OPS_KEY" "$API/v1/$1" | field status)" = "$2" ] && return 0
    sleep 0.5
  done
  echo "$1 did not become $2 within 30 s" >&2
  return 1
}
"""


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def write_demo_env(
    data_dir: Path, api_url: str, keys: Mapping[str, str], endpoints: Mapping[str, DemoEndpoint]
) -> Path:
    """`<data dir>/demo.env`: what the README's commands read (`. var/demo.env`) — the API's
    address, the demo keys, each stand-in's address by its service's name (`ACS_SIMULATOR`…)
    and two shell helpers. Secret like the keys it holds: readable by its owner only."""
    lines = [
        "# Written by `emporio serve --demo`; `. var/demo.env` in the shell you drive the demo from.",
        f"export API={_quoted(api_url)}",
        *[f"export {role.upper()}_KEY={_quoted(key)}" for role, key in sorted(keys.items())],
        *[
            f"export {name.upper().replace('-', '_')}={_quoted(endpoint.url)}"
            for name, endpoint in sorted(endpoints.items())
        ],
        f"export DEMO_PYTHON={_quoted(sys.executable)}",
        f"export DEMO_FIELD_PY={_quoted(_FIELD_PY)}",
    ]
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / DEMO_ENV
    path.write_text("\n".join(lines) + "\n" + _HELPERS)
    os.chmod(path, 0o600)
    return path


def print_banner(keys: dict[str, str], host: str, port: int, runtime: Runtime, notes: list[str] | None = None) -> None:
    base = f"http://{host}:{port}"
    lines = [
        "",
        "Emporio demo shop is ready",
        f"  API           {base}/v1/",
        f"  API docs      {base}/schema  (OpenAPI JSON: {base}/schema/openapi.json)",
        f"  health        {base}/health   ready: {base}/ready   metrics: {base}/metrics",
        f"  data          {runtime.settings.data_dir}",
        *(notes or []),
        "",
        "Demo API keys (Authorization: Bearer <key>):",
        *[f"  {role:<11} {key}" for role, key in keys.items()],
        "",
        f"Try: curl -H 'Authorization: Bearer {keys.get('ops', '')}' {base}/v1/inventory",
        "",
    ]
    click.echo("\n".join(lines))
