"""The database key sealed with ``systemd-creds``: made once per kiosk, unsealed only by it.

``systemd-creds encrypt --with-key=auto`` seals to the TPM 2.0 and the host's own secret where
the kiosk has a TPM, to the host's secret otherwise; ``kiosk.service`` gets it back, unsealed
and in memory only, through ``LoadCredentialEncrypted=``. A key already sealed is kept (the
database is encrypted with it); a key file a kiosk made before it was enrolled is sealed
instead of a new one, then wiped.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path, PurePosixPath

from kiosk.store.database_key import CREDENTIAL_NAME, KEY_BYTES, KEY_FILE_NAME, new_key
from kiosk.store.durable import wipe

CREDENTIAL = PurePosixPath("/etc/credstore.encrypted") / CREDENTIAL_NAME
SYSTEMD_CREDS = "systemd-creds"


class SealError(Exception):
    """The key could not be sealed or unsealed; the message says why."""


def seal_database_key(credential: Path, data_dir: Path) -> str:
    """Make sure ``credential`` holds the kiosk's sealed database key; what was done."""
    if credential.exists():
        return f"kept the sealed key {credential}"
    key_file = data_dir / KEY_FILE_NAME
    key = key_file.read_bytes() if key_file.exists() else new_key()
    if len(key) != KEY_BYTES:
        raise SealError(f"{key_file} is not a database key; move it away and enroll again")
    credential.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = credential.with_name(f".{credential.name}.new")
    _run(
        [
            SYSTEMD_CREDS,
            "encrypt",
            "--with-key=auto",
            f"--name={CREDENTIAL_NAME}",
            "-",
            str(temporary),
        ],
        key,
    )
    os.chmod(temporary, 0o600)
    os.replace(temporary, credential)
    if key_file.exists():
        wipe(key_file)
        return f"sealed the kiosk's existing key in {credential} ({tpm_or_host()})"
    return f"made and sealed the database key in {credential} ({tpm_or_host()})"


def unseal(credential: Path) -> bytes:
    """The key in ``credential`` (root only, on the kiosk that sealed it)."""
    return _run([SYSTEMD_CREDS, "decrypt", f"--name={CREDENTIAL_NAME}", str(credential), "-"])


def tpm_or_host() -> str:
    """What ``--with-key=auto`` seals to on this machine."""
    try:
        found = subprocess.run([SYSTEMD_CREDS, "has-tpm2", "--quiet"], check=False)
    except OSError:
        return "systemd-creds is missing"
    return "to the TPM 2.0" if found.returncode == 0 else "to this host's key (no TPM 2.0)"


def _run(argv: list[str], given: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(argv, input=given, capture_output=True, check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SealError(f"{argv[0]} {argv[1]}: {exc}") from exc
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()
        raise SealError(f"{argv[0]} {argv[1]} failed: {reason[-1] if reason else done.returncode}")
    return done.stdout
