"""The lobby's front desk against the cloud simulator playing the facility, through a real
broker: an application submitted at the kiosk reaches the facility, which decides it; its
status, the visitor's sign-in (wrong PINs counted) and a booking are asked and answered; the
booked visit joins the lobby's schedule and its code checks in; a taken slot offers others."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from kiosk.contract.times import utc_text
from kiosk.core.credentials import check_verifier
from kiosk.core.front_desk.application import Application, submit
from kiosk.core.front_desk.booking import Booking
from kiosk.core.front_desk.status_check import StatusCheck
from kiosk.store.pepper import CODE_VERIFIER
from kiosk.store.schedule import ScheduleRepository
from kiosk.store.sealed_secrets import SealedSecrets
from kiosk.store.slots import SlotsRepository
from kiosk.sync.service import SyncService
from tests.core.front_desk import FAMILY, PHOTOS, PROFESSIONAL
from tests.waiting import until

LOBBY = "lobby-01"
ZONE = ZoneInfo("America/Chicago")
STATION = {"kiosk_id": LOBBY, "display_name": "Station 1"}


def now() -> datetime:
    return datetime.now(UTC)


def slot(slot_id: str, hours: int) -> dict:
    starts = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=hours)
    return {"slot_id": slot_id, "starts_at": utc_text(starts), "minutes": 30, "station": STATION}


def test_apply_check_sign_in_and_book_against_the_facility(lobby_kiosk, cloud) -> None:
    lobby = lobby_kiosk
    cloud.publish_roster(
        LOBBY, 1, [{"booking_number": "B2026-00311", "display_name": "M. Alvarez"}]
    )
    cloud.publish_schedule(LOBBY, 1, [])
    cloud.front_desk.offer_slots(LOBBY, [slot("s-1", 24), slot("s-2", 25), slot("s-3", 26)])
    cloud.front_desk.review = lambda application: (
        "The ID photo is too dark to read." if application["visitor"]["kind"] == "family" else None
    )

    async def scenario() -> None:
        sync = SyncService(lobby, lobby.outbox)
        sync.start()
        ask = sync.requests.ask
        try:
            await until(lambda: sync.link.connected, 20, "connected")
            attorney = submit(
                Application(PROFESSIONAL, "4831", "B2026-00311", PHOTOS),
                database=lobby.database,
                outbox=lobby.outbox,
                now=datetime.now(UTC),
            )
            mother = submit(
                Application({**FAMILY, "phone": "5550001111"}, "2468", "B2026-00311", PHOTOS),
                database=lobby.database,
                outbox=lobby.outbox,
                now=datetime.now(UTC),
            )
            await until(lambda: len(cloud.received("applications", LOBBY)) == 2, 20, "sent")
            assert len(cloud.received("captures", LOBBY)) == 5  # three and two photos

            async def status(number: str, last_name: str = "alvarez"):
                return await ask(
                    "application_status", application_number=number, last_name=last_name
                )

            # The facility decides as it receives (approve_delay 0): before any later question.
            approved = await status(attorney)
            assert approved.status == "approved"
            refused = await status(mother)
            assert (refused.status, refused.reason) == (
                "not_approved",
                "The ID photo is too dark to read.",
            )
            assert (await status(attorney, "Johnson")).status == "unknown"  # the name must match
            # As the visitor reads it, asked through the core's check.
            check = StatusCheck(sync.requests.values, number=mother, last_name="Álvarez")
            said = await check.check()
            assert said.values == {"reason": "The ID photo is too dark to read."}

            wrong = await ask("visitor_sign_in", visitor_ref="5551234567", pin="1111")
            assert (wrong.outcome, wrong.tries_left) == ("wrong_pin", 4)
            assert (await ask("visitor_sign_in", visitor_ref="5550001111", pin="2468")).outcome == (
                "unknown"  # not approved: cannot book
            )
            signed = await ask("visitor_sign_in", visitor_ref="5551234567", pin="4831")
            assert signed.outcome == "ok"
            assert [(r.booking_number, r.display_name) for r in signed.residents] == [
                ("B2026-00311", "M. Alvarez")
            ]

            # As the visitor books: through the core's booking, on the slots the lobby keeps.
            booking = Booking(sync.requests.values, SlotsRepository(lobby.database).between, ZONE)
            assert await booking.sign_in("(555) 123-4567", "4831")
            booking.choose_resident("B2026-00311")
            tomorrow = booking.days(now())[1]
            await until(lambda: booking.free_slots(tomorrow, now()), 10, "the slots kept")
            assert await booking.book("s-1")
            code, visit_id = booking.booked["confirmation_code"], booking.booked["visit_id"]
            # The visit joins the lobby's schedule, and its new code checks in.
            schedule = ScheduleRepository(lobby.database)
            await until(
                lambda: any(v["visit_id"] == visit_id for v in schedule.visits()),
                10,
                "the booked visit in the lobby's schedule",
            )
            (row,) = [v for v in schedule.visits() if v["visit_id"] == visit_id]
            opened = SealedSecrets(lobby.database).verifier(
                row["confirmation_code_verifier"], CODE_VERIFIER
            )
            assert check_verifier(code, opened)

            # The facility publishes its free slots again: the lobby no longer offers this one.
            await until(
                lambda: "s-1" not in {s["slot_id"] for s in booking.free_slots(tomorrow, now())},
                10,
                "the booked slot gone from the lobby's free slots",
            )
            again = await ask(
                "booking", token=signed.token, booking_number="B2026-00311", slot_id="s-1"
            )
            assert again.outcome == "slot_taken"
            assert [s.slot_id for s in again.alternatives] == ["s-2", "s-3"]
        finally:
            await sync.stop()

    asyncio.run(scenario())
