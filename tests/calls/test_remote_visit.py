"""A remote visit: a family member at home in a real browser (Debian's Chromium, headless, its
fake camera and microphone) on the simulator's page, the resident at a housing kiosk core with
a real call, the simulator playing the cloud's media gateway over a real Mosquitto."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from cloudsim.family.gateway import FamilyGateway
from cloudsim.sim import make_resident, make_visit
from kiosk.contract.times import utc_text
from kiosk.core.kiosk import Kiosk
from launch.process import start_sync
from tests.calls.test_visit_between_kiosks import BADGE, PIN, hang_up_all, kiosk_for
from tests.family_browser import FamilyBrowser
from tests.turn_server import TurnServer
from tests.waiting import until

pytestmark = pytest.mark.timeout(180)


def publish_remote_visit(cloud, turn: TurnServer, ends_in_s: float) -> datetime:
    """The visit, and the facility's TURN relay for both ends, relayed paths only: everything
    stays on loopback (browsers leave loopback out of their own candidates)."""
    now = datetime.now(UTC)
    cloud.publish_config(
        "hu-01", role="housing", ice_servers=[turn.ice_server], ice_relay_only=True
    )
    cloud.publish_residents(
        "hu-01", 1, [make_resident("A1024", "B-1", "M. Alvarez", PIN, badges=[BADGE])]
    )
    visit = make_visit(
        "v-home", now - timedelta(minutes=1), 1, "remote", "A1024", "M. Alvarez", "R. Alvarez"
    )
    ends_at = now + timedelta(seconds=ends_in_s)
    visit["ends_at"] = utc_text(ends_at)
    cloud.publish_schedule("hu-01", 1, [visit])
    return ends_at


async def resident_joins(housing: Kiosk) -> None:
    await until(lambda: housing.visit is not None, 20.0, "the window")
    await until(lambda: housing.settings.badge_key is not None, 20.0, "the badge key")
    assert housing.devices.badge_reader.present(BADGE)
    await until(lambda: housing.sign_in is not None and housing.sign_in.step == "pin", 20.0, "PIN")
    for digit in PIN:
        housing.sign_in_intent("key", digit)
    housing.sign_in_intent("enter")
    await until(lambda: housing.sign_in is None, 20.0, "the PIN check")
    housing.devices.handset.lift()


@pytest.fixture
def turn(tmp_path):
    with TurnServer(tmp_path / "turn") as server:
        yield server


def test_a_family_at_home_holds_a_visit_with_the_resident_and_hangs_up(
    tmp_path, broker, cloud, turn
):
    publish_remote_visit(cloud, turn, ends_in_s=120)

    async def scenario(housing: Kiosk, gateway: FamilyGateway, browser: FamilyBrowser) -> None:
        await asyncio.to_thread(browser.open, gateway.link("v-home"))
        await resident_joins(housing)
        await until(
            lambda: housing.visit.phase == "in_call",
            30.0,
            lambda: (
                f"the call: the page said {gateway.received}, the kiosk "
                f"{[r['kind'] for r in cloud.received('signal')]}, {housing.visit.call_state}"
            ),
        )
        call = housing.visit._call
        # The kiosk sees and hears the family's camera and microphone.
        await until(lambda: call.stats.frames_received > 30, 20.0, "pictures at the kiosk")
        await until(lambda: call.stats.audio_level > 0.001, 10.0, "the family's voice at the kiosk")
        # The family sees and hears the kiosk, in the browser's own figures.
        seen = await asyncio.to_thread(
            browser.until,
            lambda b: (
                (s := b.stats()) and s["framesDecoded"] > 30 and s["audioLevel"] > 0.001 and s
            ),
            20.0,
            "the kiosk's picture and sound",
        )
        assert seen["frameWidth"] == 640 and seen["connection"] == "connected"
        assert seen["route"] == "relay"  # through the facility's relay, on loopback
        assert browser.text("title") == "Video visit with M. Alvarez"
        assert browser.text("privacy") == "This visit may be recorded and monitored."
        assert browser.text("time-left").startswith("Time left: 1:")
        assert housing.view.visit.title == "Your visit with R. Alvarez"

        # The family hangs up: the kiosk ends the visit, then is free at once.
        await asyncio.to_thread(browser.press, "hang-up")
        await until(lambda: housing.visit.ended_at is not None, 10.0, "the end at the kiosk")
        assert housing.visit.end_reason == "peer"
        assert housing.view.visit.ended == "The other side ended the visit."
        assert browser.text("status") == "The visit has ended."
        await until(lambda: housing.visit is None, 20.0, "the kiosk free again")
        assert "in progress" not in housing.view.notice.sentence

    async def run() -> None:
        housing = kiosk_for(tmp_path, broker, "hu-01", "housing")
        sync = start_sync(housing)
        task = asyncio.create_task(housing.run())
        try:
            with FamilyGateway(cloud) as gateway, FamilyBrowser() as browser:
                cloud.gateway = gateway
                await scenario(housing, gateway, browser)
        finally:
            cloud.gateway = None
            await hang_up_all(housing)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await sync.stop()
            housing.close()

    asyncio.run(run())
