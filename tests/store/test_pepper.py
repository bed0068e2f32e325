"""The pepper: PIN and code verifiers and the badge key are kept sealed under a second secret,
so that one copied out of the store alone cannot be tried against PINs."""

from __future__ import annotations

import base64
import json
import os
import pathlib

import pytest

from kiosk.core.credentials import check_verifier, make_verifier
from kiosk.store import ResidentsRepository, ScheduleRepository, open_database
from kiosk.store.connection import Connection
from kiosk.store.migrations import migrate
from kiosk.store.pepper import BADGE_KEY, CODE_VERIFIER, PIN_VERIFIER, Pepper, is_sealed
from kiosk.store.sealed_secrets import PepperRepository, SealedSecrets
from kiosk.store.snapshots import SnapshotRepository
from tests.on_disk import everything_in
from tests.store.test_store_migrations import raw_database

PIN, CODE, TECH_PIN = "4831", "KX7-29Q", "2468"
BADGE_KEY_BYTES = b"the facility's badge key, 32 b.."
FACILITY_PEPPER = bytes(range(32))


def resident_row(verifier: str) -> dict:
    return {
        "inmate_id": "i-100",
        "booking_number": "B-1",
        "display_name": "Ana Díaz",
        "language": "es",
        "pin_verifier": verifier,
        "message_credits": 3,
        "badge_lookups": ["aa01"],
    }


def visit_row(verifier: str) -> dict:
    return {
        "visit_id": "v-1",
        "starts_at": "2026-12-08T15:00:00Z",
        "ends_at": "2026-12-08T15:30:00Z",
        "kind": "onsite",
        "status": "scheduled",
        "inmate_id": "i-100",
        "inmate_name": "Ana Díaz",
        "visitor_name": "Luis Díaz",
        "confirmation_code_verifier": verifier,
    }


def config_text(tech_verifier: str, pepper: bytes | None = None) -> str:
    config = {
        "v": 1,
        "type": "config",
        "kiosk_name": "B-01",
        "badge_key_b64": base64.b64encode(BADGE_KEY_BYTES).decode(),
        "technicians": [{"technician_id": "t-17", "pin_verifier": tech_verifier}],
    }
    if pepper is not None:
        config["pepper_b64"] = base64.b64encode(pepper).decode()
    return json.dumps(config)


def apply_all(db: Connection, pepper: bytes | None = None) -> tuple[str, str, str]:
    """A facility's snapshots as the inbox applies them; the plain verifiers sent."""
    pin, code, tech = make_verifier(PIN), make_verifier(CODE), make_verifier(TECH_PIN)
    SnapshotRepository(db).replace("config", config_text(tech, pepper), None)
    resident = resident_row(pin)
    ResidentsRepository(db).replace(1, [resident], json.dumps({"residents": [resident]}))
    visitor = {"display_name": "Luis Díaz", "confirmation_code_verifier": code}
    schedule = {"version": 1, "visits": [{"visit_id": "v-1", "visitor": visitor}]}
    ScheduleRepository(db).replace(1, [visit_row(code)], json.dumps(schedule))
    return pin, code, tech


def secrets_in_plain(pin: str, code: str, tech: str) -> list[str]:
    """The sent secrets' telling parts: each verifier's hash, and the badge key."""
    return [
        *(verifier.rsplit("$", 1)[1] for verifier in (pin, code, tech)),
        base64.b64encode(BADGE_KEY_BYTES).decode(),
    ]


def stored(db: Connection) -> tuple[str, str, str, str]:
    """The sealed values as kept: PIN, code, technician's PIN, badge key."""
    pin = db.execute("SELECT pin_verifier FROM residents").fetchone()[0]
    code = db.execute("SELECT confirmation_code_verifier FROM visits").fetchone()[0]
    config = SnapshotRepository(db).values("config")
    return pin, code, config["technicians"][0]["pin_verifier"], config["badge_key_b64"]


def test_the_store_keeps_no_verifier_and_no_badge_key_in_plain(db: Connection) -> None:
    sent = apply_all(db, FACILITY_PEPPER)
    dump = everything_in(db)
    for secret in secrets_in_plain(*sent):
        assert secret not in dump
    assert all(is_sealed(value) for value in stored(db))
    # The facility's pepper is kept once, in its own table: not in the config's text.
    assert base64.b64encode(FACILITY_PEPPER).decode() not in dump
    assert "pepper_b64" not in SnapshotRepository(db).get("config").payload
    assert PepperRepository(db).in_force() == Pepper(FACILITY_PEPPER, True)


def test_sealed_values_open_with_the_pepper_to_what_was_sent(db: Connection) -> None:
    _, code, tech = apply_all(db, FACILITY_PEPPER)
    sealed_pin, sealed_code, sealed_tech, sealed_key = stored(db)
    secrets = SealedSecrets(db)
    assert check_verifier(PIN, secrets.verifier(sealed_pin)) is True
    assert secrets.verifier(sealed_code, CODE_VERIFIER) == code
    assert secrets.verifier(sealed_tech) == tech
    assert secrets.badge_key(sealed_key) == BADGE_KEY_BYTES


def test_a_verifier_copied_out_alone_tries_no_pin(db: Connection) -> None:
    apply_all(db, FACILITY_PEPPER)
    sealed_pin, _, _, sealed_key = stored(db)
    # Without the pepper it is no scrypt verifier at all, and no other pepper opens it.
    assert check_verifier(PIN, sealed_pin) is False
    assert Pepper(os.urandom(32), True).open(sealed_pin, PIN_VERIFIER) is None
    # Nor does a sealed value opened in another's place: each box says what it is.
    pepper = PepperRepository(db).in_force()
    assert pepper.open(sealed_key, PIN_VERIFIER) is None
    assert pepper.open(sealed_pin, BADGE_KEY) is None
    assert pepper.open(sealed_pin[:-4] + "AAA=", PIN_VERIFIER) is None  # tampered


def test_the_kiosk_seals_under_its_own_pepper_until_the_facility_sends_one(
    db: Connection,
) -> None:
    pin, code, _ = apply_all(db)  # a cloud that sends no pepper
    own = PepperRepository(db).in_force()
    assert not own.from_facility and len(own.key) == 32
    before = stored(db)
    assert own.open(before[0], PIN_VERIFIER) == pin

    # The facility's pepper arrives: every sealed value is sealed again under it.
    SnapshotRepository(db).replace(
        "config", config_text(make_verifier("1357"), FACILITY_PEPPER), None
    )
    after = stored(db)
    facility = PepperRepository(db).in_force()
    assert facility == Pepper(FACILITY_PEPPER, True)
    assert own.open(after[0], PIN_VERIFIER) is None  # the kiosk's own opens nothing now
    assert facility.open(after[0], PIN_VERIFIER) == pin
    assert facility.open(after[1], CODE_VERIFIER) == code
    assert SealedSecrets(db).badge_key(after[3]) == BADGE_KEY_BYTES

    # A later config without a pepper keeps the facility's: it is never given back.
    SnapshotRepository(db).replace("config", config_text(make_verifier("1357")), None)
    assert PepperRepository(db).in_force() == facility
    assert SealedSecrets(db).verifier(stored(db)[0]) == pin


def test_a_snapshot_applied_again_changes_no_byte(db: Connection) -> None:
    pin = make_verifier(PIN)
    resident = resident_row(pin)
    ResidentsRepository(db).replace(1, [resident], json.dumps({"residents": [resident]}))
    first = db.execute("SELECT pin_verifier FROM residents").fetchone()[0]
    ResidentsRepository(db).replace(1, [resident], json.dumps({"residents": [resident]}))
    assert db.execute("SELECT pin_verifier FROM residents").fetchone()[0] == first


def test_what_a_kiosk_kept_before_the_pepper_is_sealed_when_it_opens(
    tmp_path: pathlib.Path,
) -> None:
    path = tmp_path / "kiosk.sqlite3"
    old = raw_database(path)
    migrate(old, target=7)  # the schema before the pepper: verifiers kept as sent
    pin, code, tech = make_verifier(PIN), make_verifier(CODE), make_verifier(TECH_PIN)
    resident = resident_row(pin)
    old.execute(
        "INSERT INTO residents (inmate_id, booking_number, display_name, language, "
        "pin_verifier, message_credits) VALUES ('i-100', 'B-1', 'Ana', 'es', ?, 3)",
        (pin,),
    )
    visit = visit_row(code)
    old.execute(
        f"INSERT INTO visits ({', '.join(visit)}) VALUES ({', '.join('?' for _ in visit)})",
        list(visit.values()),
    )
    old.executemany(
        "INSERT INTO snapshots (kind, version, payload, applied_at) VALUES (?, ?, ?, 'x')",
        [
            ("config", None, config_text(tech)),
            ("residents", 1, json.dumps({"residents": [resident]})),
        ],
    )
    old.close()

    db = open_database(path)
    try:
        dump = everything_in(db)
        for secret in secrets_in_plain(pin, code, tech):
            assert secret not in dump
        secrets = SealedSecrets(db)
        sealed_pin, sealed_code, sealed_tech, sealed_key = stored(db)
        assert check_verifier(PIN, secrets.verifier(sealed_pin)) is True
        assert check_verifier(CODE, secrets.verifier(sealed_code, CODE_VERIFIER)) is True
        assert check_verifier(TECH_PIN, secrets.verifier(sealed_tech)) is True
        assert secrets.badge_key(sealed_key) == BADGE_KEY_BYTES
    finally:
        db.close()


def test_a_pepper_of_the_wrong_size_changes_nothing(db: Connection) -> None:
    apply_all(db, FACILITY_PEPPER)
    before = everything_in(db)
    with pytest.raises(ValueError, match="32 bytes"):
        PepperRepository(db).take_facility(b"short")
    assert everything_in(db) == before
