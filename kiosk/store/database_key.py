"""The key the kiosk's database is encrypted with, and where it comes from.

On a kiosk under its systemd unit the key is a credential: made at enrollment, sealed by
``systemd-creds`` to the TPM (or to the host's own key where there is none), and handed to the
service unsealed, in memory, as ``$CREDENTIALS_DIRECTORY/kiosk-database-key``. Anywhere else (the
demo, the tests, a developer's ``kiosk run``) it is a file of mode 0600 beside the database,
made the first time: it protects nothing from whoever holds the disk, and says so.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kiosk.store.durable import fsync_path
from kiosk.store.errors import StoreError

CREDENTIAL_NAME = "kiosk-database-key"
KEY_FILE_NAME = "database.key"
KEY_BYTES = 32

# How the key is kept, as `kiosk-provision status` tells a technician.
SEALED = "systemd credential"
KEY_FILE = "key file beside the data"
PLAIN = "none (plain SQLite)"


@dataclass(frozen=True, repr=False)
class DatabaseKey:
    """A database key and how it is kept; never printed."""

    raw: bytes
    protection: str

    def __repr__(self) -> str:
        return f"DatabaseKey(protection={self.protection!r})"

    @property
    def pragma(self) -> str:
        """SQLCipher's form for a raw 256-bit key: no passphrase stretching at each open."""
        return f"\"x'{self.raw.hex()}'\""


# For the benchmarks' baseline only: the same store, not encrypted.
NO_KEY = DatabaseKey(b"", PLAIN)


def find_key(
    data_dir: Path, environ: Mapping[str, str] = os.environ, *, make: bool = True
) -> DatabaseKey:
    """The systemd credential where the service was given one, else the key file in
    ``data_dir``, made now if there is none and ``make`` (a new database). :class:`StoreError`
    if there is none, or the one found is not a key."""
    credentials = environ.get("CREDENTIALS_DIRECTORY")
    if credentials and (Path(credentials) / CREDENTIAL_NAME).is_file():
        return DatabaseKey(_read(Path(credentials) / CREDENTIAL_NAME), SEALED)
    path = data_dir / KEY_FILE_NAME
    if not path.exists():
        if not make:
            raise StoreError(
                f"no key in {data_dir}: neither the service's credential {CREDENTIAL_NAME} "
                f"nor {KEY_FILE_NAME}"
            )
        _make(path)
    return DatabaseKey(_read(path), KEY_FILE)


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def _read(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise StoreError(f"cannot read the database key {path}: {exc.strerror}") from exc
    if len(raw) != KEY_BYTES:
        raise StoreError(f"{path} is not a database key ({len(raw)} bytes, not {KEY_BYTES})")
    return raw


def _make(path: Path) -> None:
    """Write a new key whole, readable by the owner only, or leave nothing."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, new_key())
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(temporary, path)  # never replaces a key another process made meanwhile
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    fsync_path(path.parent)
