"""Opaque, time-ordered identifiers (ULID-like, Crockford base32) with a type prefix."""

from __future__ import annotations

import os
import threading
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]  # every two-digit string, by its 10-bit value


def _encode(value: int, length: int) -> str:
    """The low `length` base-32 digits of `value`, most significant first. Two digits per step:
    an id is made for every imported record, so this is a hot path."""
    chars = []
    for _ in range(length >> 1):
        chars.append(_PAIRS[value & 1023])
        value >>= 10
    if length & 1:
        chars.append(_ALPHABET[value & 31])
    chars.reverse()
    return "".join(chars)


_RANDOM_MAX = 1 << 80
_lock = threading.Lock()
_last = (0, 0)  # (millis, random part) of the latest id made by this process


def new_id(prefix: str) -> str:
    """`ord_01j…`: sorts by creation time, so cursors and "newest first" need no extra column.

    Monotonic within a process (as ULIDs are): an id made in the same millisecond as the last
    one takes the next random value, so two events of one transaction never sort backwards."""
    global _last
    with _lock:
        millis = time.time_ns() // 1_000_000
        last_millis, last_rand = _last
        if millis <= last_millis:  # same millisecond, or the clock stepped back
            millis, rand = last_millis, last_rand + 1
            if rand >= _RANDOM_MAX:  # 2^80 ids in one millisecond: move to the next one
                millis, rand = millis + 1, 0
        else:
            rand = int.from_bytes(os.urandom(10), "big")
        _last = (millis, rand)
    return f"{prefix}_{_encode(millis, 10)}{_encode(rand, 16)}"
