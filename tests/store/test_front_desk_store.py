"""A lobby's public roster and free slots on a real store: each a versioned snapshot, replaced
as a whole, never going back."""

from __future__ import annotations

import json

import pytest

from kiosk.core.clock import FakeClock
from kiosk.store.connection import Connection
from kiosk.store.roster import RosterRepository
from kiosk.store.slots import SlotsRepository
from kiosk.store.snapshots import SnapshotRepository

ALVAREZ = {"booking_number": "B2026-00311", "display_name": "M. Alvarez"}
JOHNSON = {"booking_number": "B2026-00403", "display_name": "D. Johnson"}


def roster_text(version: int, *residents: dict) -> str:
    return json.dumps({"v": 1, "type": "roster", "version": version, "residents": residents})


def slot(slot_id: str, starts_at: str, minutes: int = 30) -> dict:
    return {
        "slot_id": slot_id,
        "starts_at": starts_at,
        "minutes": minutes,
        "station_kiosk_id": "lobby-02",
        "station_name": "Station 2",
    }


def test_the_roster_is_replaced_as_a_whole_and_kept_once(db: Connection, clock: FakeClock):
    roster = RosterRepository(db, now=clock.now)
    assert roster.entries() == [] and roster.version() is None
    assert roster.replace(3, [ALVAREZ, JOHNSON], roster_text(3, ALVAREZ, JOHNSON))
    assert roster.entries() == [("B2026-00311", "M. Alvarez"), ("B2026-00403", "D. Johnson")]
    assert roster.replace(4, [JOHNSON], roster_text(4, JOHNSON))
    assert roster.entries() == [("B2026-00403", "D. Johnson")]
    # The record keeps the payload without the list: the rows are the list.
    record = json.loads(SnapshotRepository(db).get("roster").payload)
    assert record == {"v": 1, "type": "roster", "version": 4, "residents_kept": 1}


def test_an_older_roster_changes_nothing(db: Connection, clock: FakeClock) -> None:
    roster = RosterRepository(db, now=clock.now)
    roster.replace(5, [ALVAREZ], roster_text(5, ALVAREZ))
    assert roster.replace(4, [JOHNSON], roster_text(4, JOHNSON)) is False
    assert roster.entries() == [("B2026-00311", "M. Alvarez")] and roster.version() == 5
    assert roster.replace(5, [JOHNSON], roster_text(5, JOHNSON))  # the same version again
    assert roster.entries() == [("B2026-00403", "D. Johnson")]


def test_a_bad_roster_changes_nothing(db: Connection, clock: FakeClock) -> None:
    roster = RosterRepository(db, now=clock.now)
    roster.replace(1, [ALVAREZ], roster_text(1, ALVAREZ))
    with pytest.raises(ValueError, match="booking_number and a display_name"):
        roster.replace(2, [JOHNSON, {"booking_number": "B9"}], "{}")
    with pytest.raises(Exception, match="UNIQUE"):
        roster.replace(2, [JOHNSON, JOHNSON], "{}")
    assert roster.entries() == [("B2026-00311", "M. Alvarez")] and roster.version() == 1


def test_free_slots_are_read_by_day_in_time_order(db: Connection, clock: FakeClock) -> None:
    slots = SlotsRepository(db, now=clock.now)
    later, sooner = slot("s-2", "2026-12-08T16:00:00Z", 15), slot("s-1", "2026-12-08T15:00:00Z")
    assert slots.replace(9, [later, sooner, slot("s-3", "2026-12-09T15:00:00Z")], "{}")
    day = slots.between("2026-12-08T06:00:00Z", "2026-12-09T06:00:00Z")
    assert [s["slot_id"] for s in day] == ["s-1", "s-2"]
    assert day[1] == later
    assert slots.replace(8, [], "{}") is False and slots.version() == 9
    with pytest.raises(Exception, match="CHECK"):
        slots.replace(10, [slot("s-4", "2026-12-08T17:00:00Z", 20)], "{}")
    assert len(slots.between("2026-12-01T00:00:00Z", "2026-12-31T00:00:00Z")) == 3
