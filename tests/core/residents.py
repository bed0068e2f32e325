"""Residents, messages and a fake uplink for the core's sign-in, session and mailbox tests.

PIN verifiers are scrypt (about 50 ms each): they are made once per process and shared.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from hardware.interfaces import Devices
from hardware.simulated import (
    SimulatedBadgeReader,
    SimulatedCamera,
    SimulatedHandset,
    SimulatedHotplug,
)
from kiosk.config import KioskConfig
from kiosk.contract.times import utc_text
from kiosk.core.clock import FakeClock
from kiosk.core.credentials import badge_lookup, make_verifier
from kiosk.core.kiosk import Kiosk
from kiosk.store.outbox import OutboxRepository
from kiosk.store.residents import ResidentsRepository
from kiosk.sync.inbound import inbound_event
from tests.kiosks import apply_config, make_kiosk
from tests.waiting import until

START = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)  # the ``clock`` fixture: 1:00 PM in Chicago
NBSP = "\u00a0"
BADGE_KEY = b"test-facility-badge-key"

# inmate_id, booking_number, display_name, language, pin, badge, credits
JOHNSON = ("A2048", "B2026-00452", "D. Johnson", "en", "8642", "04E5F60718", 3)
ALVAREZ = ("A1024", "B2026-00311", "M. Alvarez", "es", "9753", "04A1B2C3D4", 12)
NOBODY_ID = "A9999"  # no resident has it
BROKE = ("A3000", "B2026-00999", "K. Broke", "en", "1357", "04FFFFFFFF", 0)


@cache
def verifier(pin: str) -> str:
    """One scrypt verifier per PIN for the whole test run."""
    return make_verifier(pin)


def resident_dict(row: tuple[Any, ...]) -> dict[str, Any]:
    inmate_id, booking, name, language, pin, badge, credits = row
    return {
        "inmate_id": inmate_id,
        "booking_number": booking,
        "display_name": name,
        "language": language,
        "pin_verifier": verifier(pin),
        "badge_lookups": [badge_lookup(badge, BADGE_KEY)],
        "message_credits": credits,
    }


def seed_residents(kiosk: Kiosk, *rows: tuple[Any, ...], version: int = 1) -> None:
    """The residents snapshot and the badge key, as the cloud would hand them to the core."""
    rows = rows or (JOHNSON, ALVAREZ, BROKE)
    ResidentsRepository(kiosk.database).replace(version, [resident_dict(r) for r in rows], "{}")
    apply_config(kiosk, {"badge_key_b64": base64.b64encode(BADGE_KEY).decode()})
    kiosk.receive(inbound_event("residents", version))


def add_message(
    kiosk: Kiosk,
    message_id: str,
    inmate_id: str,
    body: str,
    *,
    contact: tuple[str, str] = ("c-1", "R. Alvarez"),
    sent_at: datetime | None = None,
    photos: list[tuple[str, str, bytes]] | None = None,
) -> None:
    """A message for a resident, committed and announced as the sync layer does."""
    from kiosk.store.messages import MessagesRepository

    when = sent_at if sent_at is not None else kiosk.clock.now() - timedelta(hours=1)
    MessagesRepository(kiosk.database).add_incoming(
        message_id, inmate_id, contact[0], contact[1], utc_text(when), body, photos or []
    )
    kiosk.receive(inbound_event("message", inmate_id))


def add_many_messages(kiosk: Kiosk, inmate_id: str, count: int) -> None:
    """``count`` incoming messages, one a minute going back from an hour ago, in one statement."""
    base = kiosk.clock.now() - timedelta(hours=1)
    rows = [
        (
            f"m-{n:05d}",
            inmate_id,
            "in",
            f"c-{n % 7}",
            f"Contact {n % 7}",
            utc_text(base - timedelta(minutes=n)),
            f"message number {n}",
            "delivered",
        )
        for n in range(count)
    ]
    conn = kiosk.database
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO messages (message_id, inmate_id, direction, contact_id, contact_name, "
        "sent_at, body, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.execute("COMMIT")
    kiosk.receive(inbound_event("message", inmate_id))


def open_kiosk(
    config: KioskConfig,
    clock: FakeClock,
    *,
    camera_scene: str | None = None,
    camera: SimulatedCamera | None = None,
    **collaborators: Any,
) -> Kiosk:
    """A kiosk whose outbox records what it says (``kiosk.outbox``); ``camera_scene`` gives it
    a simulated camera of that scene, ``camera`` that very camera."""
    if camera is None and camera_scene is not None:
        camera = SimulatedCamera(320, 240, scene=camera_scene)
    if camera is None:
        return make_kiosk(config, clock, **collaborators)
    devices = Devices(
        camera=camera,
        handset=SimulatedHandset(),
        badge_reader=SimulatedBadgeReader(),
        hotplug=SimulatedHotplug(),
    )
    return make_kiosk(config, clock, devices=devices, **collaborators)


# --- signing in (inside asyncio.run: the PIN is checked in a worker thread) ----------------


async def checked(kiosk: Kiosk, timeout: float = 5.0) -> None:
    """Wait (real time) until the PIN check is over."""
    await until(
        lambda: kiosk.view.sign_in is None or kiosk.view.sign_in.step != "checking",
        timeout,
        "the PIN check to finish",
    )


def wait_out_pace(kiosk: Kiosk, clock: FakeClock) -> None:
    """Do what the screen says: wait the seconds it asks for (the fake clock moves)."""
    view = kiosk.view.sign_in
    if view is not None and view.wait:
        seconds = int(re.search(r"\d+", view.wait).group())  # in any language, one or more
        clock.advance(seconds)
        kiosk.tick()


def type_keys(kiosk: Kiosk, text: str) -> None:
    for ch in text:
        kiosk.sign_in_intent("key", ch)


async def typed_attempt(kiosk: Kiosk, clock: FakeClock, typed_id: str, pin: str) -> None:
    """Touch sign in, type the ID, Next, (wait if asked), the PIN, Sign in; wait for the check."""
    if kiosk.sign_in is None:
        assert kiosk.begin_sign_in()
    view = kiosk.view.sign_in
    if view.step == "identify" and view.entered_id != typed_id:
        while kiosk.view.sign_in.entered_id:
            kiosk.sign_in_intent("backspace")
        type_keys(kiosk, typed_id)
    if kiosk.view.sign_in.step == "identify":
        kiosk.sign_in_intent("enter")
    if kiosk.view.sign_in is None or kiosk.view.sign_in.step != "pin":
        return  # refused at the ID (a pause)
    wait_out_pace(kiosk, clock)
    type_keys(kiosk, pin)
    kiosk.sign_in_intent("enter")
    await checked(kiosk)


async def badge_attempt(kiosk: Kiosk, clock: FakeClock, badge: str, pin: str) -> None:
    """Tap the badge (unless its PIN step is already showing), the PIN, Sign in."""
    from hardware.interfaces import BadgeEvent

    view = kiosk.view.sign_in
    if view is None or view.step != "pin" or not view.greeting:
        kiosk.on_badge(BadgeEvent(badge, clock.monotonic()))
    if kiosk.view.sign_in is None or kiosk.view.sign_in.step != "pin":
        return
    wait_out_pace(kiosk, clock)
    type_keys(kiosk, pin)
    kiosk.sign_in_intent("enter")
    await checked(kiosk)


def sign_in(kiosk: Kiosk, clock: FakeClock, row: tuple[Any, ...] = JOHNSON) -> None:
    """A resident signs in with their ID and PIN; the session is open afterwards."""
    asyncio.run(typed_attempt(kiosk, clock, row[0], row[4]))
    assert kiosk.session is not None, kiosk.view.sign_in


def outbox_records(kiosk: Kiosk, kind: str) -> list[tuple[str, dict[str, Any]]]:
    """(record_id, payload) of the queued records on ``…/up/{kind}``."""
    return [
        (record.record_id, json.loads(record.payload))
        for record in OutboxRepository(kiosk.database, budget_bytes=1 << 30).pending()
        if record.topic.endswith(f"/up/{kind}")
    ]
