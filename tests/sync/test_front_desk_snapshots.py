"""A lobby kiosk process, fed by the cloud simulator over a real broker: the public roster and
the free slots are kept, a newer one replaces them, an older or broken one changes nothing,
and they are still there after a restart."""

from __future__ import annotations

from kiosk.store import open_database
from kiosk.store.roster import RosterRepository
from kiosk.store.slots import SlotsRepository
from tests.sync.test_snapshots import barrier, start_online

LOBBY = "lobby-01"
ALVAREZ = {"booking_number": "B2026-00311", "display_name": "M. Alvarez"}
JOHNSON = {"booking_number": "B2026-00403", "display_name": "D. Johnson"}
STATION = {"kiosk_id": "lobby-02", "display_name": "Station 2"}


def slot(slot_id: str, hour: int) -> dict:
    return {
        "slot_id": slot_id,
        "starts_at": f"2026-12-08T{hour:02d}:00:00Z",
        "minutes": 30,
        "station": STATION,
    }


def kept(kiosk) -> tuple[list[tuple[str, str]], list[str]]:
    database = open_database(kiosk.database_path)
    try:
        roster = RosterRepository(database).entries()
        free = SlotsRepository(database).between("2026-12-08T00:00:00Z", "2026-12-09T00:00:00Z")
        return roster, [s["slot_id"] for s in free]
    finally:
        database.close()


def test_a_lobby_keeps_the_roster_and_slots_the_cloud_publishes(broker, cloud, kiosk_process):
    kiosk = kiosk_process(LOBBY, role="lobby")
    start_online(cloud, kiosk)
    cloud.publish_roster(LOBBY, 1, [ALVAREZ, JOHNSON])
    cloud.publish_slots(LOBBY, 1, [slot("s-2", 16), slot("s-1", 15)])
    barrier(cloud, LOBBY)
    cloud.publish_roster(LOBBY, 2, [JOHNSON])  # Alvarez released
    cloud.publish_slots(LOBBY, 2, [slot("s-2", 16)])  # s-1 booked by someone
    barrier(cloud, LOBBY)
    assert kiosk.terminate() == 0
    assert kept(kiosk) == ([("B2026-00403", "D. Johnson")], ["s-2"])

    # Retained: the broker gives them again at the restart; an older version changes nothing.
    start_online(cloud, kiosk)
    cloud.publish_roster(LOBBY, 1, [ALVAREZ])
    barrier(cloud, LOBBY)
    assert kiosk.terminate() == 0
    assert kept(kiosk) == ([("B2026-00403", "D. Johnson")], ["s-2"])
