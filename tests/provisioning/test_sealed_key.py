"""The database key sealed with the real systemd-creds (to this machine's host key: there is
no TPM here), kept across enrollments, and handed back as the kiosk's service would get it."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from kiosk.core.clock import FakeClock
from kiosk.store import MessagesRepository, StoreError, open_database
from kiosk.store.database_key import CREDENTIAL_NAME, KEY_FILE_NAME
from provisioning.sealed_key import SealError, seal_database_key, unseal


def test_a_key_made_before_enrollment_is_sealed_then_wiped_and_still_opens_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    data = tmp_path / "var-lib-kiosk"
    db = open_database(data / "kiosk.sqlite3")  # a demo run before enrollment: a key file
    MessagesRepository(db, now=clock.now).add_incoming(
        "m-1", "i-100", "c-1", "Rosa", "2024-05-01T08:00:00Z", "hello", []
    )
    db.close()
    key = (data / KEY_FILE_NAME).read_bytes()
    credential = tmp_path / "credstore.encrypted" / CREDENTIAL_NAME

    said = seal_database_key(credential, data)
    assert "sealed the kiosk's existing key" in said
    assert not (data / KEY_FILE_NAME).exists()
    assert stat.S_IMODE(credential.stat().st_mode) == 0o600
    assert key not in credential.read_bytes()
    assert unseal(credential) == key
    assert "kept" in seal_database_key(credential, data)  # enrolling again keeps it
    assert unseal(credential) == key

    # What systemd's LoadCredentialEncrypted= gives the service: the key, unsealed, in a
    # folder of its own.
    given = tmp_path / "credentials"
    given.mkdir(mode=0o700)
    (given / CREDENTIAL_NAME).write_bytes(unseal(credential))
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(given))
    again = open_database(data / "kiosk.sqlite3")
    try:
        assert MessagesRepository(again).get("m-1").body == "hello"
    finally:
        again.close()
    assert not (data / KEY_FILE_NAME).exists()  # the service makes no key file of its own

    monkeypatch.delenv("CREDENTIALS_DIRECTORY")
    with pytest.raises(StoreError, match="encrypted with a key that is not here"):
        open_database(data / "kiosk.sqlite3")  # outside the service: no key, and none made
    assert not (data / KEY_FILE_NAME).exists()


def test_a_credential_that_is_not_one_is_refused(tmp_path: Path) -> None:
    credential = tmp_path / CREDENTIAL_NAME
    credential.write_bytes(b"not sealed at all")
    with pytest.raises(SealError, match="decrypt failed"):
        unseal(credential)
