"""What someone holding a kiosk's disk would find: a real kiosk process, fed by the cloud over a
real broker, stopped and started again; then every byte of its data folder searched for what
the cloud gave it (a message, a photo, a PIN verifier, the badge key)."""

from __future__ import annotations

import base64

import cv2
import numpy as np

from cloudsim.sim import make_resident
from kiosk.store import MessagesRepository, open_database
from kiosk.store.sealed_secrets import PepperRepository
from tests.on_disk import readable_on_disk
from tests.sync.test_snapshots import barrier, start_online
from tests.waiting import wait_until

BODY = "Mijo, the lawyer called: the hearing moved to the 14th. 7c1e90"


def a_photo() -> bytes:
    noise = np.random.default_rng(14).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    return cv2.imencode(".jpg", noise)[1].tobytes()


def test_the_data_folder_holds_nothing_the_cloud_gave_in_clear(broker, cloud, kiosk_process):
    kiosk = kiosk_process("hu-rest")
    start_online(cloud, kiosk)
    cloud.publish_config("hu-rest")  # with the facility's badge key
    resident = make_resident("A1024", "B-1", "J. Doe", "4096", badges=["04A2B3C4D5"])
    cloud.publish_residents("hu-rest", 1, [resident])
    photo = a_photo()
    message_id = cloud.send_message("hu-rest", "A1024", BODY, photo_jpegs=[photo])
    barrier(cloud, "hu-rest")
    assert kiosk.terminate() == 0
    start_online(cloud, kiosk)  # and a restart
    barrier(cloud, "hu-rest")
    assert kiosk.terminate() == 0

    verifier = resident["pin_verifier"]
    planted = {
        "the message": BODY.encode(),
        "the message in UTF-16": BODY.encode("utf-16-le"),
        "the photo": photo[200:264],
        "the PIN verifier": verifier.encode(),
        "the verifier's hash": base64.b64decode(verifier.rsplit("$", 1)[1]),
        "the badge key": base64.b64encode(cloud.badge_key),
        "the raw badge key": cloud.badge_key,
        "a badge lookup": resident["badge_lookups"][0].encode(),
        "a resident's name": b"J. Doe",
    }
    assert readable_on_disk(kiosk.data_dir, planted) == []

    # And the kiosk itself still has all of it; even with its key, the verifier and the badge
    # key are sealed under the facility's pepper, which the config text no longer holds.
    database = open_database(kiosk.database_path)
    try:
        wait_until(lambda: MessagesRepository(database).get(message_id) is not None, 5, "kept")
        assert MessagesRepository(database).get(message_id).body == BODY
        tables = [
            n for (n,) in database.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        with_the_key = "\n".join(
            repr(row) for table in tables for row in database.execute(f"SELECT * FROM {table}")
        )
        for needle in (verifier.rsplit("$", 1)[1], base64.b64encode(cloud.badge_key).decode()):
            assert needle not in with_the_key
        assert base64.b64encode(cloud.pepper).decode() not in with_the_key
        kept = PepperRepository(database).in_force()
        assert kept.key == cloud.pepper and kept.from_facility
    finally:
        database.close()
