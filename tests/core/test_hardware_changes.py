"""Devices that come, go or fail while the kiosk runs: what it reports, and that it keeps going."""

from __future__ import annotations

import asyncio

from hardware.interfaces import DeviceState
from kiosk.config import KioskConfig
from kiosk.core.clock import FakeClock
from tests.core.residents import open_kiosk
from tests.waiting import until


async def _running(kiosk, steps):
    """Run the kiosk's loop while ``steps`` (a coroutine function) acts on it."""
    task = asyncio.create_task(kiosk.run())
    await asyncio.sleep(0)  # one turn of the loop: run() starts the devices and ticks once
    try:
        await steps()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def test_a_handset_pulled_and_returned_is_reported_each_time(
    config: KioskConfig, clock: FakeClock
) -> None:
    kiosk = open_kiosk(config, clock)

    async def steps():
        kiosk.tick()
        assert kiosk.outbox.of("hardware_changed") == []  # the first report is not a change
        kiosk.devices.handset.stop()  # pulled: the adapter reports it missing
        kiosk.tick()
        kiosk.tick()  # reported once, not every second
        kiosk.devices.handset.start()
        kiosk.tick()

    try:
        asyncio.run(_running(kiosk, steps))
        changes = kiosk.outbox.of("hardware_changed")
        assert [(c["device"], c["previous"], c["state"]) for c in changes] == [
            ("handset", "ok", "missing"),
            ("handset", "missing", "ok"),
        ]
        assert kiosk.outbox.telemetry >= 2  # the cloud's picture of the kiosk is refreshed
    finally:
        kiosk.close()


def test_udev_saying_the_camera_is_gone_shows_even_while_it_is_off(
    config: KioskConfig, clock: FakeClock
) -> None:
    kiosk = open_kiosk(config, clock)

    async def steps():
        kiosk.tick()
        assert kiosk.hardware_report()["camera"] == {"state": "ok", "detail": "standby"}
        kiosk.devices.camera.unplug()
        kiosk.devices.hotplug.announce("camera", DeviceState.MISSING, "unplugged")
        # The notice hops to the kiosk's loop.
        await until(lambda: kiosk.hardware_report()["camera"]["state"] == "missing", 2.0)
        kiosk.devices.camera.replug()
        kiosk.devices.hotplug.announce("camera", DeviceState.OK)
        await until(lambda: kiosk.hardware_report()["camera"]["state"] == "ok", 2.0)

    try:
        asyncio.run(_running(kiosk, steps))
        changes = [(c["device"], c["state"]) for c in kiosk.outbox.of("hardware_changed")]
        assert changes == [("camera", "missing"), ("camera", "ok")]
        assert kiosk.hardware_report()["camera"] == {"state": "ok", "detail": "standby"}
    finally:
        kiosk.close()


def test_a_handset_pulled_during_a_visit_ends_nothing_and_the_screen_says_so(
    tmp_path, clock: FakeClock
) -> None:
    from datetime import timedelta

    from tests.conftest import make_config
    from tests.visits import visit_row

    kiosk = open_kiosk(make_config(tmp_path, role="lobby", kiosk_id="lobby-01"), clock)
    kiosk.apply_schedule(1, [visit_row(clock.now() + timedelta(minutes=5), kind="onsite")])
    kiosk.devices.handset.start()
    try:
        kiosk.tick()
        assert kiosk.visitor_checked_in("v-1")
        assert kiosk.view.visit.handset == ""
        kiosk.devices.handset.stop()  # pulled
        kiosk.tick()
        assert kiosk.visit.ended_at is None  # the visit goes on
        assert kiosk.view.screen == "visit"
        assert kiosk.view.visit.handset == (
            "The handset is not working. Use the buttons on the screen."
        )
        kiosk.devices.handset.start()  # back
        kiosk.tick()
        assert kiosk.view.visit.handset == ""
    finally:
        kiosk.close()


def test_with_its_badge_reader_gone_the_kiosk_asks_for_an_id_not_a_badge(
    config: KioskConfig, clock: FakeClock
) -> None:
    kiosk = open_kiosk(config, clock)

    async def steps():
        kiosk.tick()
        assert kiosk.view.prompt == "Tap your badge or touch to sign in"
        kiosk.devices.badge_reader.unplug()
        kiosk.tick()
        assert kiosk.view.prompt == "Touch the screen to sign in"
        assert kiosk.begin_sign_in()
        assert kiosk.view.sign_in.instruction == "Type your ID or booking number"
        kiosk.leave_sign_in()
        kiosk.devices.badge_reader.replug()
        kiosk.tick()
        assert kiosk.view.prompt == "Tap your badge or touch to sign in"

    try:
        asyncio.run(_running(kiosk, steps))
    finally:
        kiosk.close()
