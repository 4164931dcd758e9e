"""Store pickup codes are unguessable: an HMAC of the shipment id under the shop's key (the
setting, else a random key generated once into the data dir and shared by every process), never
the plain hash of the id anyone could compute, and the key never shows in a repr or an error."""

from __future__ import annotations

import hashlib
import stat
import threading
from pathlib import Path

import pytest

from core.plugins import PluginHost
from core.testing.courier_contract import sample_request
from plugins.courier_pickup import StorePickupCourier, pickup_code
from plugins.courier_pickup.courier import CODE_ALPHABET, KEY_FILE, load_or_create_key
from tests.couriers.support import athens_today

PICKUP_PLUGIN = ("plugins.courier_pickup.courier",)


def unkeyed_code(shipment_id: str) -> str:
    """What the code used to be: anyone who saw the shipment id (URLs, e-mails) could compute it."""
    number = int.from_bytes(hashlib.sha256(shipment_id.encode()).digest()[:5], "big")
    return "PU-" + "".join(CODE_ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(8)))


def registered_pickup(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> StorePickupCourier:
    monkeypatch.delenv("EMPORIO_PICKUP_CODE_SECRET", raising=False)
    monkeypatch.setenv("EMPORIO_DATA_DIR", str(data_dir))
    courier = PluginHost(builtins=PICKUP_PLUGIN, entry_points=False).couriers["store_pickup"].value
    assert isinstance(courier, StorePickupCourier)
    return courier


async def test_codes_cannot_be_computed_from_the_shipment_id(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    courier = registered_pickup(monkeypatch, tmp_path)
    voucher = await courier.create_voucher(sample_request("shp_42", athens_today()))
    assert voucher.tracking_number != unkeyed_code("shp_42")
    key = (tmp_path / KEY_FILE).read_text().strip()
    assert len(bytes.fromhex(key)) == 32
    assert voucher.tracking_number == pickup_code("shp_42", bytes.fromhex(key))
    assert stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode) == 0o600  # the shop's key, the owner's only
    assert key not in repr(courier)


async def test_every_process_of_the_shop_gives_the_same_code(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The API makes the code, a worker may make it again after a lost answer: one key file."""
    api_side, worker_side = registered_pickup(monkeypatch, tmp_path), registered_pickup(monkeypatch, tmp_path)
    request = sample_request("shp_7", athens_today())
    assert (await api_side.create_voucher(request)) == (await worker_side.create_voucher(request))
    other_shop = registered_pickup(monkeypatch, tmp_path / "another-shop")
    assert (await other_shop.create_voucher(request)) != (await api_side.create_voucher(request))


def test_processes_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / "fresh" / KEY_FILE
    keys: list[bytes] = []
    threads = [threading.Thread(target=lambda: keys.append(load_or_create_key(path))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 8 and len(set(keys)) == 1
    assert [p.name for p in path.parent.iterdir()] == [KEY_FILE]  # no draft left behind


def test_a_damaged_key_file_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / KEY_FILE
    path.write_text("not hex\n")
    with pytest.raises(ValueError, match=r"pickup-code\.key does not hold a pickup code key"):
        load_or_create_key(path)


async def test_the_setting_keys_the_codes_and_a_short_one_is_refused_unseen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMPORIO_PICKUP_CODE_SECRET", "a-long-enough-shop-secret")
    keyed = PluginHost(builtins=PICKUP_PLUGIN, entry_points=False).couriers["store_pickup"].value
    voucher = await keyed.create_voucher(sample_request("shp_42", athens_today()))
    assert voucher.tracking_number == pickup_code("shp_42", b"a-long-enough-shop-secret")
    assert "a-long-enough" not in repr(keyed)
    monkeypatch.setenv("EMPORIO_PICKUP_CODE_SECRET", "short-pw")
    with pytest.raises(Exception, match="EMPORIO_PICKUP_CODE_SECRET must be at least 16 characters") as refused:
        PluginHost(builtins=PICKUP_PLUGIN, entry_points=False).couriers["store_pickup"]
    assert "short-pw" not in str(refused.value)


def test_a_code_needs_a_key() -> None:
    with pytest.raises(ValueError, match="needs the shop's key"):
        pickup_code("shp_42", b"")
