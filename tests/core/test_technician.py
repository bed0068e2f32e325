"""Technician mode in the core: a technician's badge and PIN open the maintenance screen."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from typing import Any

import pytest

from hardware.interfaces import BadgeEvent
from kiosk.config import KioskConfig
from kiosk.core.clock import FakeClock
from kiosk.core.credentials import badge_lookup
from kiosk.core.kiosk import Kiosk
from kiosk.core.ports import Actions
from kiosk.core.technician import IDLE_CLOSE_S
from tests.core.residents import (
    BADGE_KEY,
    JOHNSON,
    open_kiosk,
    seed_residents,
    verifier,
)
from tests.kiosks import apply_config
from tests.waiting import until

TECH_BADGE, TECH_PIN = "0412345678", "2468"


def technician_kiosk(config: KioskConfig, clock: FakeClock, **collaborators: Any) -> Kiosk:
    """A housing kiosk whose cloud config names one technician, J. Ruiz."""
    kiosk = open_kiosk(config, clock, **collaborators)
    seed_residents(kiosk)
    apply_config(
        kiosk,
        {
            "badge_key_b64": base64.b64encode(BADGE_KEY).decode(),
            "technicians": [
                {
                    "technician_id": "t-17",
                    "display_name": "J. Ruiz",
                    "badge_lookup": badge_lookup(TECH_BADGE, BADGE_KEY),
                    "pin_verifier": verifier(TECH_PIN),
                }
            ],
        },
    )
    return kiosk


@pytest.fixture
def kiosk(config: KioskConfig, clock: FakeClock) -> Iterator[Kiosk]:
    kiosk = technician_kiosk(config, clock)
    yield kiosk
    kiosk.close()


def badge(kiosk: Kiosk, clock: FakeClock, badge_id: str) -> None:
    kiosk.on_badge(BadgeEvent(badge_id, clock.monotonic()))


async def type_pin(kiosk: Kiosk, pin: str) -> None:
    for digit in pin:
        kiosk.technician_intent("key", digit)
    kiosk.technician_intent("enter")
    await until(
        lambda: kiosk.technician is None or kiosk.technician.step != "checking",
        5.0,
        "the PIN check to finish",
    )


def test_a_technicians_badge_and_pin_open_the_maintenance_screen(
    kiosk: Kiosk, clock: FakeClock
) -> None:
    badge(kiosk, clock, TECH_BADGE)
    view = kiosk.view
    assert view.screen == "technician"
    assert view.technician.step == "pin" and view.technician.name == "J. Ruiz"
    assert kiosk.sign_in is None  # not taken for a resident's badge

    asyncio.run(type_pin(kiosk, TECH_PIN))

    view = kiosk.view.technician
    assert view.step == "open"
    rows = {row.label: row for row in view.rows}
    report = kiosk.hardware_report()  # the kiosk's loop is not running: its reader is off
    assert rows["Camera"].state == report["camera"]["state"] == "ok"
    assert rows["Badge reader"].state == report["badge_reader"]["state"] == "missing"
    assert rows["Kiosk"].value.startswith(kiosk.config.kiosk_id)
    assert rows["Residents version"].value == "1"
    assert "Outbox" in rows and "Facility network" in rows
    assert kiosk.outbox.of("technician_entered") == [{"technician_id": "t-17"}]


def test_a_wrong_pin_is_refused_and_counted_and_five_pause_the_technician(
    kiosk: Kiosk, clock: FakeClock
) -> None:
    badge(kiosk, clock, TECH_BADGE)

    async def wrong_five_times() -> list[str]:
        messages = []
        for _ in range(5):
            await type_pin(kiosk, "1111")
            messages.append(kiosk.view.technician.message)
            clock.advance(60)  # the kiosk-wide pace between tries has passed
        return messages

    messages = asyncio.run(wrong_five_times())
    assert messages[0] == "Wrong PIN. Try again."
    assert "paused for 5 minutes" in messages[-1]
    assert kiosk.view.technician.step == "pin"
    assert len(kiosk.outbox.of("technician_refused")) == 5
    # Paused: even the right PIN is not checked until the pause is over.
    asyncio.run(type_pin(kiosk, TECH_PIN))
    assert kiosk.view.technician.step == "pin"
    assert kiosk.outbox.of("technician_entered") == []


def test_the_maintenance_screen_closes_itself_after_two_minutes_alone(
    kiosk: Kiosk, clock: FakeClock
) -> None:
    badge(kiosk, clock, TECH_BADGE)
    asyncio.run(type_pin(kiosk, TECH_PIN))
    clock.advance(IDLE_CLOSE_S - 10)
    kiosk.technician_intent("touch")  # any touch keeps it open
    clock.advance(IDLE_CLOSE_S - 1)
    kiosk.tick()
    assert kiosk.view.screen == "technician"
    clock.advance(1)
    kiosk.tick()
    assert kiosk.view.screen == "idle" and kiosk.technician is None
    (left,) = kiosk.outbox.of("technician_left")
    assert left["technician_id"] == "t-17" and left["reason"] == "idle"


def test_a_technician_badge_during_a_residents_session_changes_nothing(
    kiosk: Kiosk, clock: FakeClock
) -> None:
    from tests.core.residents import badge_attempt

    asyncio.run(badge_attempt(kiosk, clock, JOHNSON[5], JOHNSON[4]))
    assert kiosk.view.screen == "session"
    badge(kiosk, clock, TECH_BADGE)
    assert kiosk.view.screen == "session" and kiosk.technician is None


def test_the_self_test_runs_from_the_maintenance_screen(kiosk: Kiosk, clock: FakeClock) -> None:
    badge(kiosk, clock, TECH_BADGE)

    async def steps() -> str:
        await type_pin(kiosk, TECH_PIN)
        kiosk.technician_intent("selftest")
        assert kiosk.view.technician.selftest == "running"
        await until(lambda: kiosk.technician.selftest != "running", 20.0, "the self-test")
        return kiosk.view.technician.selftest

    assert asyncio.run(steps()) == "all devices passed"
    assert kiosk.outbox.of("selftest")[0]["ok"] is True


def test_restart_and_reboot_are_offered_only_where_something_carries_them_out(
    config: KioskConfig, clock: FakeClock
) -> None:
    restarted: list[bool] = []
    kiosk = technician_kiosk(config, clock, actions=Actions(restart=lambda: restarted.append(True)))
    badge(kiosk, clock, TECH_BADGE)
    asyncio.run(type_pin(kiosk, TECH_PIN))
    view = kiosk.view.technician
    assert view.can_restart and not view.can_reboot
    kiosk.technician_intent("reboot")  # nothing carries it out here: nothing happens
    assert kiosk.technician is not None
    kiosk.technician_intent("restart")
    assert restarted == [True] and kiosk.technician is None
    assert kiosk.outbox.of("technician_left")[0]["reason"] == "restart"
