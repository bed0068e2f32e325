"""A visit as the resident sees it: the ready notice, confirming, the visit with its countdown
and warnings, hanging up (asked twice), the end, and back to an idle screen with no trace."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from kiosk.sync.inbound import inbound_event
from tests.conftest import make_config
from tests.kiosks import make_kiosk
from tests.ui.housing import ALVAREZ, ALVAREZ_BADGE, PIN, es, press, type_pin
from tests.visits import visit_row

pytestmark = pytest.mark.ui
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_a_visit_from_the_ready_notice_to_the_end(ui, tmp_path, clock):
    from demo.seed import seed

    kiosk = make_kiosk(make_config(tmp_path), clock)
    seed(kiosk)
    start = clock.now() + timedelta(minutes=5)
    kiosk.apply_schedule(
        10**12,  # newer than the demo's own schedule
        [
            visit_row(
                start,
                30,
                visit_id="v-ui",
                inmate_id=ALVAREZ,
                inmate_name="M. Alvarez",
                visitor_name="R. Alvarez",
                kind="onsite",
                peer_kiosk_id="demo-lobby-01",
            )
        ],
    )

    async def scenario(person):
        app = person.app
        idle = person.screen("idle")
        kiosk.tick()
        await person.until(lambda: idle.notice_title.startswith("Your visit with R. Alvarez"))
        assert idle.notice_who == "Pick up the handset"

        # She lifts the handset; the kiosk asks who she is; her badge and PIN confirm it.
        kiosk.devices.handset.lift()
        await person.until(lambda: app.root.current == "sign_in")
        sign_in = person.screen("sign_in")
        assert sign_in.title == "Confirm it is you for your visit"
        assert kiosk.devices.badge_reader.present(ALVAREZ_BADGE)
        await person.until(lambda: sign_in.step == "pin")
        await type_pin(person, PIN, wait_for="visit")

        visit = person.screen("visit")
        await person.until(lambda: visit.peer_status != "")
        assert visit.title == es("Your visit with {name}").format(name="R. Alvarez")
        assert visit.peer_status == es("{name} has not joined yet.").format(name="R. Alvarez")
        assert visit.monitoring.startswith(es("This visit may be recorded and monitored."))
        kiosk.set_language("en")

        # The visitor checks in at the lobby: the cloud relays their `ready`.
        kiosk.receive(
            inbound_event(
                "signal", {"visit_id": "v-ui", "kind": "ready", "from_kiosk_id": "demo-lobby-01"}
            )
        )
        await person.until(lambda: visit.instruction == "You are in your visit with R. Alvarez.")
        assert visit.ids.time_left.text == "Ends in 35:00"
        person.screenshot(SCREENSHOTS / "visit.png")

        # Five minutes before the end: a warning on screen and a tone in the handset.
        clock.advance(30 * 60)
        kiosk.tick()
        await person.until(lambda: visit.warning == "5 minutes left in your visit.")
        assert visit.ids.warning.opacity == 1
        assert kiosk.devices.handset.tones == ["warning"]
        assert visit.ids.time_left.text == "Ends in 5:00"

        # Hang up asks first; "No" keeps the visit.
        await press(person, visit.ids.hang_up)
        assert visit.confirming and visit.ids.confirm.opacity == 1
        person.screenshot(SCREENSHOTS / "visit-hang-up.png")
        await press(person, visit.ids.keep_talking)
        assert not visit.confirming and kiosk.visit.ended_at is None
        await press(person, visit.ids.hang_up)
        await press(person, visit.ids.end_visit)
        await person.until(lambda: visit.ended == "The visit was ended by a hang-up.")

        # A few seconds later: the idle screen, and nothing of the visit on any screen.
        clock.advance(10)
        kiosk.tick()
        await person.until(lambda: app.root.current == "idle")
        await person.frames(2)
        visit_screen = person.screen("visit")
        assert visit_screen is not visit  # built anew
        assert visit_screen.title == "" and visit_screen.instruction == ""
        assert not any("R. Alvarez" in text for text in person.texts())

    try:
        ui(kiosk, scenario)
    finally:
        kiosk.close()


def test_the_lobby_side_of_a_visit(ui, tmp_path, clock):
    """The visitor, once checked in, waits for the resident with the countdown in view; nothing
    says a price (on-site visits are free), and the resident's name is shown to this visitor."""

    config = make_config(
        tmp_path, role="lobby", kiosk_id="demo-lobby-01", kiosk_name="Visitor Lobby · Station 1"
    )
    kiosk = make_kiosk(config, clock)
    start = clock.now() + timedelta(minutes=5)
    kiosk.apply_schedule(
        1,
        [
            visit_row(
                start,
                30,
                visit_id="v-lobby",
                kind="onsite",
                inmate_name="M. Alvarez",
                visitor_name="R. Alvarez",
            )
        ],
    )

    async def scenario(person):
        app = person.app
        kiosk.tick()
        assert kiosk.visitor_checked_in("v-lobby")
        await person.until(lambda: app.root.current == "visit")
        visit = person.screen("visit")
        await person.until(lambda: visit.title == "Your visit with M. Alvarez")
        assert visit.instruction == "Waiting for M. Alvarez to join…"
        assert visit.peer_status == "M. Alvarez has not joined yet."
        assert visit.ids.time_left.text == "Ends in 35:00"
        assert not any("$" in text or "credit" in text.lower() for text in person.texts())
        kiosk.receive(
            inbound_event(
                "signal", {"visit_id": "v-lobby", "kind": "ready", "from_kiosk_id": "demo-hu-01"}
            )
        )
        await person.until(lambda: visit.instruction == "You are in your visit with M. Alvarez.")
        assert visit.peer_status == ""

    try:
        ui(kiosk, scenario)
    finally:
        kiosk.close()
