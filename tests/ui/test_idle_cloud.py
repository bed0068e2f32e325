"""The idle screen as the facility cloud changes it: messages arriving, the facility's notice,
the connection, through a real Mosquitto and the cloud simulator."""

from __future__ import annotations

import asyncio

import pytest

from cloudsim.broker import LocalBroker
from cloudsim.sim import CloudSim
from kiosk.sync.service import SyncService
from tests.conftest import make_config
from tests.kiosks import make_kiosk
from tests.ui.test_screenshots import SCREENSHOTS

pytestmark = pytest.mark.ui


@pytest.fixture
def broker(tmp_path):
    with LocalBroker(tmp_path / "broker") as running:
        yield running


def test_messages_notice_and_connection_show_on_the_idle_screen(ui, tmp_path, clock, broker):
    config = make_config(tmp_path, brokers=(broker.url,), kiosk_id="hu-ui-01", facility_id="f1")
    kiosk = make_kiosk(config, clock)
    cloud = CloudSim(broker.url, "f1", approve_delay=0, session_expiry_s=600).start()

    async def scenario(person):
        screen = person.screen()
        sync = SyncService(kiosk, kiosk.outbox.inner)
        sync.start()
        try:
            await person.until(
                lambda: screen.ids.connection.text == "Connected to the facility", 15
            )
            assert screen.ids.messages_waiting.text == ""

            await asyncio.to_thread(cloud.send_message, "hu-ui-01", "A1024", "Hola", photos=1)
            waiting = "1 new message is waiting. Sign in to read it."
            await person.until(lambda: screen.ids.messages_waiting.text == waiting)
            # A count only: no sender, no resident, no text of the message on the idle screen.
            shown = " ".join(person.texts())
            assert "Hola" not in shown and "A1024" not in shown and "R. Alvarez" not in shown

            await asyncio.to_thread(
                cloud.publish_notice, "Count time: stay in your cells", "lockdown"
            )
            await person.until(lambda: screen.ids.banner_text.text.startswith("Count time"))
            assert (
                screen.ids.banner_label.text == "Lockdown"
            )  # the state in a word, not colour alone
            assert screen.ids.prompt.text == "Sign-in is paused"
            person.screenshot(SCREENSHOTS / "idle-housing-lockdown.png")

            await asyncio.to_thread(cloud.publish_notice, "")  # an empty text clears it
            await person.until(lambda: screen.ids.banner_text.text == "")
            assert screen.ids.banner.height == 0
            assert screen.ids.prompt.text == "Tap your badge or touch to sign in"

            await asyncio.to_thread(
                cloud.publish_config, "hu-ui-01", kiosk_name="Housing C · Kiosk 4"
            )
            await person.until(
                lambda: screen.ids.header.ids.kiosk_name.text == "Housing C · Kiosk 4"
            )

            broker.stop()
            await person.until(lambda: screen.ids.connection.text.startswith("Offline"), 15)
        finally:
            await sync.stop()

    try:
        ui(kiosk, scenario)
    finally:
        cloud.stop()
        kiosk.close()
