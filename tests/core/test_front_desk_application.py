"""Submitting a visitor's application at the lobby: the details, the resident and the photos
leave through the outbox in one transaction, as the cloud will read them, or nothing leaves."""

from __future__ import annotations

import json

import pytest

from kiosk.contract.topics import Topics
from kiosk.core.clock import FakeClock
from kiosk.core.credentials import check_verifier
from kiosk.core.front_desk.application import (
    NUMBER_LETTERS,
    Application,
    application_number,
    submit,
)
from kiosk.store import open_database
from kiosk.store.outbox import OutboxFull
from kiosk.sync.cloud_outbox import CloudOutbox
from tests.core.front_desk import FAMILY, NOW, PHOTOS, PROFESSIONAL, queued


def test_a_professional_application_leaves_with_its_three_photos_at_once(desk_store) -> None:
    database, outbox = desk_store
    application = Application(PROFESSIONAL, "4831", "B2026-00311", PHOTOS)
    number = submit(application, database=database, outbox=outbox, now=NOW)
    assert number.startswith("AP-") and len(number) == 9

    records = queued(database)
    assert [kind for kind, _ in records] == ["captures", "captures", "captures", "applications"]
    (_, sent), captures = records[-1], [payload for _, payload in records[:-1]]
    assert sent["application_number"] == number
    assert sent["booking_number"] == "B2026-00311"
    assert sent["capture_ids"] == [c["capture_id"] for c in captures]
    assert [c["purpose"] for c in captures] == ["visitor_face", "visitor_id", "visitor_credential"]
    assert all(c["application_id"] == sent["application_id"] for c in captures)
    # The PIN left only as a verifier.
    visitor = sent["visitor"]
    assert "4831" not in json.dumps(visitor)
    assert check_verifier("4831", visitor["pin_verifier"])
    assert visitor["credential_number"] == "CA 284751"


def test_a_family_application_sends_the_face_and_the_id(desk_store) -> None:
    database, outbox = desk_store
    submit(
        Application(FAMILY, "4831", "B2026-00311", PHOTOS),
        database=database,
        outbox=outbox,
        now=NOW,
    )
    purposes = [p["purpose"] for kind, p in queued(database) if kind == "captures"]
    assert purposes == ["visitor_face", "visitor_id"]


@pytest.mark.parametrize(
    ("details", "photos", "error"),
    [
        (
            PROFESSIONAL,
            {"visitor_face": PHOTOS["visitor_face"], "visitor_id": PHOTOS["visitor_id"]},
            "visitor_credential photo",
        ),
        (FAMILY, {"visitor_face": PHOTOS["visitor_face"]}, "visitor_id photo"),
        ({**FAMILY, "email": "rosa.example.com"}, PHOTOS, "email"),
        ({**PROFESSIONAL, "direct_phone": None}, PHOTOS, "direct_phone"),
    ],
)
def test_an_incomplete_application_queues_nothing(desk_store, details, photos, error) -> None:
    database, outbox = desk_store
    given = {k: v for k, v in details.items() if v is not None}
    with pytest.raises(ValueError, match=error):
        submit(Application(given, "4831", "B1", photos), database=database, outbox=outbox, now=NOW)
    assert queued(database) == []


def test_a_full_outbox_queues_none_of_it(tmp_path) -> None:
    database = open_database(tmp_path / "kiosk.sqlite3")
    # Room for two photos, not for the third and the application.
    room = len(PHOTOS["visitor_face"]) * 3
    outbox = CloudOutbox(database, Topics("f1", "lobby-01"), FakeClock(NOW), budget_bytes=room)
    try:
        with pytest.raises(OutboxFull):
            submit(
                Application(PROFESSIONAL, "4831", "B1", PHOTOS),
                database=database,
                outbox=outbox,
                now=NOW,
            )
        assert queued(database) == []
    finally:
        database.close()


def test_an_application_number_is_easy_to_copy() -> None:
    numbers = {application_number() for _ in range(200)}
    assert len(numbers) == 200
    assert all(set(n[3:]) <= set(NUMBER_LETTERS) for n in numbers)
    assert not set("0O1IL5S2Z") & set(NUMBER_LETTERS)
