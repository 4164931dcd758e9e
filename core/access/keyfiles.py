"""Keys an engine keeps in its data dir when no setting gives one (the survey links' signing key,
the webhook secrets' sealing key): made on first use, readable by this user only, the same for
every process of the host even when two create it at once (the store pickup codes' key uses
`key_file` for a file of its own)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

from core.settings import DATA_DIR, read

_known: dict[Path, bytes] = {}  # a file's key never changes while the engine runs: read it once


def data_dir_key(name: str, make: Callable[[], bytes]) -> tuple[Path, bytes]:
    """The key in the data dir's file `name`, made with `make()` if there is none yet; returns
    the file's path (for messages) and the key."""
    path = read(DATA_DIR).resolve() / name
    known = _known.get(path)
    if known is None:
        known = _known[path] = key_file(path, make)
    return path, known


def key_file(path: Path, make: Callable[[], bytes]) -> bytes:
    """The key stored at `path` (surrounding white space stripped), made with `make()` and stored
    when the file does not exist."""
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        return _create(path, make())


def _create(path: Path, key: bytes) -> bytes:
    """Write the key to a file of our own, then link it into place: the link either puts the key
    there whole or fails because another process linked theirs first (then theirs is used)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    own = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(own, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key)
    try:
        os.link(own, path)
    except FileExistsError:
        key = path.read_bytes().strip()
    finally:
        own.unlink(missing_ok=True)
    return key
