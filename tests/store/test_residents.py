"""ResidentsRepository on real SQLite files: the residents snapshot, replaced as a whole."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest
from sqlcipher3 import dbapi2 as sqlite3

from kiosk.core.clock import FakeClock
from kiosk.store import MessagesRepository, ResidentsRepository, open_database
from kiosk.store.connection import Connection
from kiosk.store.transaction import transaction
from tests.store.opened import OpenedResidents


def resident(inmate_id: str, booking_number: str, *lookups: str, **overrides: Any) -> dict:
    row = {
        "inmate_id": inmate_id,
        "booking_number": booking_number,
        "display_name": f"Resident {inmate_id}",
        "language": "en",
        "pin_verifier": f"scrypt$16384$8$1$c2FsdA==${inmate_id}",
        "message_credits": 3,
        "badge_lookups": list(lookups),
    }
    row.update(overrides)
    return row


ANA = resident("i-100", "B2024-0001", "aa01", "aa02", display_name="Ana Díaz", language="es")
BO = resident("i-101", "B2024-0002", "bb01")
CY = resident("i-102", "B2024-0003")  # no badge: signs in by number and PIN


@pytest.fixture
def residents(db: Connection, clock: FakeClock) -> ResidentsRepository:
    return OpenedResidents(db, now=clock.now)


def snapshot_row(db: Connection) -> tuple[Any, ...] | None:
    return db.execute(
        "SELECT version, payload, applied_at FROM snapshots WHERE kind = 'residents'"
    ).fetchone()


def everything(db: Connection) -> tuple[Any, ...]:
    return (
        db.execute("SELECT * FROM residents ORDER BY inmate_id").fetchall(),
        db.execute("SELECT * FROM badge_lookups ORDER BY lookup").fetchall(),
        snapshot_row(db),
    )


def test_empty_before_the_first_snapshot(residents: ResidentsRepository) -> None:
    assert residents.version() is None
    assert residents.count() == 0
    assert residents.by_badge_lookup("aa01") is None
    assert residents.by_inmate_id("i-100") is None
    assert residents.by_booking_number("B2024-0001") is None


def test_replace_stores_residents_lookups_and_snapshot(
    residents: ResidentsRepository, db: Connection
) -> None:
    assert residents.replace(3, [ANA, BO, CY], '{"version":3}') is True
    assert residents.version() == 3
    assert residents.count() == 3
    assert snapshot_row(db) == (3, '{"version":3}', "2024-05-01T08:00:00Z")

    assert residents.by_inmate_id("i-100") == ANA
    assert residents.by_badge_lookup("aa02") == ANA
    assert residents.by_badge_lookup("bb01") == BO
    assert residents.by_booking_number("B2024-0003") == CY
    assert residents.by_inmate_id("i-102") == {**CY, "badge_lookups": []}


def test_lookups_and_numbers_match_exactly(residents: ResidentsRepository) -> None:
    residents.replace(1, [ANA, BO], "v1")
    assert residents.by_badge_lookup("AA01") is None
    assert residents.by_badge_lookup("aa0") is None
    assert residents.by_booking_number("b2024-0001") is None
    assert residents.by_booking_number(" B2024-0001") is None
    assert residents.by_inmate_id("I-100") is None


def test_replace_is_whole(residents: ResidentsRepository, db: Connection) -> None:
    residents.replace(1, [ANA, BO, CY], "v1")
    ana_moved = {**ANA, "badge_lookups": ["aa09"], "message_credits": 7}
    dee = resident("i-103", "B2024-0004", "dd01")

    assert residents.replace(2, [ana_moved, dee], "v2") is True
    assert residents.count() == 2
    assert residents.by_inmate_id("i-101") is None
    assert residents.by_badge_lookup("bb01") is None  # gone with Bo
    assert residents.by_badge_lookup("aa01") is None  # Ana's old badge
    assert residents.by_badge_lookup("aa09") == ana_moved
    assert residents.by_badge_lookup("dd01") == dee
    assert db.execute("SELECT count(*) FROM badge_lookups").fetchone()[0] == 2
    assert snapshot_row(db) == (2, "v2", "2024-05-01T08:00:00Z")


def test_an_empty_snapshot_removes_everyone(residents: ResidentsRepository, db: Connection) -> None:
    residents.replace(1, [ANA, BO], "v1")
    assert residents.replace(2, [], "v2") is True
    assert residents.count() == 0
    assert db.execute("SELECT count(*) FROM badge_lookups").fetchone()[0] == 0


def test_a_lower_version_is_ignored_and_changes_nothing(
    residents: ResidentsRepository, db: Connection, clock: FakeClock
) -> None:
    residents.replace(5, [ANA, BO], "v5")
    before = everything(db)
    clock.advance(1 * 60)

    assert residents.replace(4, [CY], "v4") is False
    assert everything(db) == before
    assert residents.version() == 5


def test_an_equal_version_is_applied_again(
    residents: ResidentsRepository, db: Connection, clock: FakeClock
) -> None:
    residents.replace(5, [ANA, BO], "first")
    clock.advance(1 * 60)
    assert residents.replace(5, [BO], "again") is True
    assert residents.count() == 1
    assert snapshot_row(db) == (5, "again", "2024-05-01T08:01:00Z")


def test_messages_of_residents_who_left_are_kept(
    residents: ResidentsRepository, db: Connection
) -> None:
    messages = MessagesRepository(db)
    residents.replace(1, [ANA, BO], "v1")
    messages.add_incoming(
        "m-1", "i-101", "c-1", "Mum", "2024-05-01T07:00:00Z", "Hi", [("p-1", "image/png", b"px")]
    )
    messages.add_outgoing("m-2", "i-101", "c-1", "Hello", "2024-05-01T07:05:00Z")

    residents.replace(2, [ANA], "v2")  # Bo moved to another unit
    assert residents.by_inmate_id("i-101") is None
    assert [m.message_id for m in messages.for_resident("i-101", 10)] == ["m-2", "m-1"]
    assert [p.data for p in messages.photos("m-1")] == [b"px"]

    residents.replace(3, [ANA, BO], "v3")  # and came back: the messages are still theirs
    assert messages.unread_count("i-101") == 1


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        ({**CY, "inmate_display_name": "typo"}, "unknown"),
        ({**CY, "pin_verifier": None}, "lacks"),
        ({k: v for k, v in CY.items() if k != "booking_number"}, "lacks"),
        ({**CY, "message_credits": "3"}, "message_credits"),
        ({**CY, "message_credits": True}, "message_credits"),
        ({**CY, "display_name": 12}, "display_name"),
        ({**CY, "badge_lookups": "cc01"}, "badge_lookups"),
        ({**CY, "badge_lookups": ["cc01", None]}, "badge_lookups"),
    ],
)
def test_a_malformed_resident_changes_nothing(
    residents: ResidentsRepository, db: Connection, bad: dict, error: str
) -> None:
    residents.replace(1, [ANA, BO], "v1")
    before = everything(db)
    with pytest.raises(ValueError, match=error):
        residents.replace(2, [ANA, bad], "v2")
    assert everything(db) == before
    assert not db.in_transaction


def test_a_duplicate_id_or_lookup_changes_nothing(
    residents: ResidentsRepository, db: Connection
) -> None:
    residents.replace(1, [ANA, BO], "v1")
    before = everything(db)
    # Both fail in the database, after the old rows were deleted in the same transaction.
    with pytest.raises(sqlite3.IntegrityError):
        residents.replace(
            2, [CY, {**BO, "badge_lookups": ["cc01"]}, {**ANA, "inmate_id": "i-102"}], "v2"
        )
    with pytest.raises(sqlite3.IntegrityError):
        residents.replace(2, [ANA, {**BO, "badge_lookups": ["aa01"]}], "v2")
    assert everything(db) == before


def test_the_version_must_be_an_int(residents: ResidentsRepository) -> None:
    with pytest.raises(TypeError):
        residents.replace(None, [ANA], "v")  # type: ignore[arg-type]
    assert residents.version() is None


def test_an_ambiguous_booking_number_finds_nobody(residents: ResidentsRepository) -> None:
    residents.replace(1, [ANA, {**BO, "booking_number": ANA["booking_number"]}], "v1")
    assert residents.by_booking_number(ANA["booking_number"]) is None
    assert residents.by_inmate_id("i-100") == ANA


def test_credits_are_set_and_spent(residents: ResidentsRepository) -> None:
    residents.replace(1, [{**ANA, "message_credits": 2}, BO], "v1")
    assert residents.set_credits("i-100", 1) is True
    assert residents.set_credits("nobody", 5) is False
    with pytest.raises(TypeError):
        residents.set_credits("i-100", 2.0)  # type: ignore[arg-type]

    assert residents.take_credit("i-100") is True
    assert residents.take_credit("i-100") is False  # at zero: refused, stays at zero
    assert residents.take_credit("nobody") is False
    ana = residents.by_inmate_id("i-100")
    assert ana is not None and ana["message_credits"] == 0
    bo = residents.by_inmate_id("i-101")
    assert bo is not None and bo["message_credits"] == 3


def test_replace_inside_a_rolled_back_transaction_is_undone(
    residents: ResidentsRepository, db: Connection
) -> None:
    residents.replace(1, [ANA], "v1")
    before = everything(db)
    with pytest.raises(RuntimeError), transaction(db):
        assert residents.replace(2, [BO], "v2") is True
        assert residents.by_badge_lookup("bb01") == BO
        raise RuntimeError("the enclosing unit of work failed")
    assert everything(db) == before


def test_residents_survive_close_and_reopen(path: pathlib.Path) -> None:
    db = open_database(path)
    ResidentsRepository(db).replace(8, [ANA, BO, CY], "v8")
    db.close()
    db = open_database(path)
    try:
        residents = OpenedResidents(db)
        assert residents.version() == 8
        assert residents.by_badge_lookup("aa01") == ANA
        assert residents.count() == 3
    finally:
        db.close()


def test_a_typed_id_is_matched_as_given_then_ignoring_case_when_only_one_has_it(tmp_path) -> None:
    from kiosk.store import open_database

    db = open_database(tmp_path / "k.db")
    residents = OpenedResidents(db)

    def resident(inmate_id: str, booking: str) -> dict:
        return {
            "inmate_id": inmate_id,
            "booking_number": booking,
            "display_name": inmate_id,
            "language": "en",
            "pin_verifier": "scrypt$16384$8$1$c2FsdA==$aGFzaA==",
            "message_credits": 1,
        }

    residents.replace(
        1, [resident("ab12", "bk-7"), resident("Cd3", "X1"), resident("cD3", "X2")], "{}"
    )
    # The keypad types capitals: "AB12" and "BK-7" still find the one resident with that ID.
    assert residents.by_typed_id("AB12")["inmate_id"] == "ab12"
    assert residents.by_typed_id("BK-7")["inmate_id"] == "ab12"
    assert residents.by_typed_id("Cd3")["inmate_id"] == "Cd3"  # as given wins
    assert residents.by_typed_id("CD3") is None  # two residents differ only by case: nobody
    assert residents.by_typed_id("ZZ9") is None
    db.close()
