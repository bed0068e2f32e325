"""The demo facility, as the cloud publishes it: the same residents, visits and key that
``kiosk --demo`` seeds offline (kiosk/demo.py), so the offline and the online demo agree.

One difference: the cloud sees both kiosks of a visit, so every demo visit is ``onsite`` between
the housing and the lobby kiosk on both sides (offline, the housing kiosk calls its first visit
``remote``, having no lobby to pair with). Both ways the lobby alone also has an attorney's
privileged visit five minutes away, so that check-in and the credential photos can be tried.
"""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from cloudsim.sim import CloudSim, make_resident, make_visit
from kiosk.demo import (
    DEMO_ATTORNEY,
    DEMO_BADGE_KEY,
    DEMO_CONFIRMATION_CODES,
    DEMO_PIN,
    DEMO_VISIT_IN_MINUTES,
    RESIDENTS,
    attorney_visit_start,
    demo_technicians,
)

FACILITY_NAME = "Riverside County Detention Center"
KIOSK_NAMES = {"housing": "Housing B · Kiosk 1", "lobby": "Visitor Lobby · Station 1"}
CONFIRMATION_CODES = DEMO_CONFIRMATION_CODES  # typed at the lobby kiosk to check in
MESSAGES = (
    # inmate_id, contact_id, contact name, body
    ("A1024", "c-1", "R. Alvarez", "Te mandamos una foto de la fiesta de la abuela. ¡Nos vemos!"),
    ("A2048", "c-3", "T. Johnson", "Here is the picture from the game. Proud of you."),
)


def demo_config(kiosk_id: str, role: str) -> dict[str, Any]:
    """Config fields for ``CloudSim.publish_config`` (as ``kiosk --demo`` configures itself)."""
    return {
        "facility_name": FACILITY_NAME,
        "kiosk_name": KIOSK_NAMES[role],
        "role": role,
        "housing_unit": "B" if role == "housing" else None,
        "timezone": "America/Chicago",
        "languages": ["en", "es"],
        "badge_key_b64": base64.b64encode(DEMO_BADGE_KEY).decode(),
        "technicians": demo_technicians(),
    }


def demo_visits(
    role: str, housing_kiosk_id: str, lobby_kiosk_id: str | None, now: datetime | None = None
) -> list[dict[str, Any]]:
    """kiosk/demo.py's visits (one 25 minutes away, one later, one cancelled) for one side."""
    now = now or datetime.now(UTC)
    soon = (now + timedelta(minutes=DEMO_VISIT_IN_MINUTES)).replace(second=0, microsecond=0)
    rows = [
        ("v-demo-1", soon, "onsite", "scheduled", "A1024", "M. Alvarez", "R. Alvarez"),
        ("v-demo-2", soon + timedelta(hours=2), "onsite", "scheduled", "A2048", "D. Johnson",
         "T. Johnson"),
        ("v-demo-3", soon - timedelta(minutes=30), "onsite", "cancelled", "A2048", "D. Johnson",
         "K. Smith"),
    ]  # fmt: skip
    if role == "lobby":
        # As offline: the attorney's visit is the lobby's only, its check-in open at once.
        rows.append(
            ("v-demo-4", attorney_visit_start(now), "privileged", "scheduled", "A2048",
             "D. Johnson", DEMO_ATTORNEY)
        )  # fmt: skip
    peer = lobby_kiosk_id if role == "housing" else housing_kiosk_id
    return [
        make_visit(
            visit_id,
            starts,
            30,
            kind,
            inmate_id,
            inmate_name,
            visitor_name,
            peer_kiosk_id=peer,
            # The contract gives lobby kiosks the verifier of on-site visits, and no one else.
            confirmation_code=CONFIRMATION_CODES[visit_id] if role == "lobby" else None,
            status=status,
        )
        for visit_id, starts, kind, status, inmate_id, inmate_name, visitor_name in rows
    ]


def demo_residents() -> list[dict[str, Any]]:
    """M. Alvarez and D. Johnson, PIN 1234, their demo badges and balances."""
    return [
        make_resident(
            inmate_id,
            booking,
            name,
            DEMO_PIN,
            badges=[badge],
            credits=credits,
            language=language,
            badge_key=DEMO_BADGE_KEY,
        )
        for inmate_id, booking, name, language, badge, credits in RESIDENTS
    ]


def next_version(last: int | None) -> int:
    """Seconds since the epoch, as kiosk/demo.py versions its schedule, so that a kiosk that
    kept a version from an earlier run does not ignore this one; above ``last`` in any case."""
    return max(int(time.time()), (last or 0) + 1)


def publish_demo_schedule(
    sim: CloudSim,
    kiosk_id: str,
    *,
    housing_kiosk_id: str,
    lobby_kiosk_id: str | None,
    now: datetime | None = None,
) -> int:
    """(Re)publish the demo schedule to one of the two kiosks, at a higher version; returns it."""
    role = "housing" if kiosk_id == housing_kiosk_id else "lobby"
    version = next_version(sim.schedule_version(kiosk_id))
    sim.publish_schedule(
        kiosk_id, version, demo_visits(role, housing_kiosk_id, lobby_kiosk_id, now)
    )
    return version


def send_demo_messages(sim: CloudSim, housing_kiosk_id: str) -> list[str]:
    """Two messages with a photo each, one per resident; returns their ids."""
    return [
        sim.send_message(
            housing_kiosk_id, inmate_id, body, from_contact=(contact_id, name), photos=1
        )
        for inmate_id, contact_id, name, body in MESSAGES
    ]


def seed_demo(
    sim: CloudSim,
    housing_kiosk_id: str,
    lobby_kiosk_id: str | None = None,
    *,
    messages: bool = True,
    now: datetime | None = None,
) -> None:
    """Publish the demo facility: config and schedule to both kiosks, residents to the housing
    kiosk, the messages too unless ``messages`` is false.

    Messages are not retained: the broker keeps them only for a kiosk whose session it knows
    (one that connected before). The CLI therefore sends them when the kiosk comes online.
    """
    kiosks = [("housing", housing_kiosk_id)]
    kiosks += [("lobby", lobby_kiosk_id)] if lobby_kiosk_id else []
    for role, kiosk_id in kiosks:
        sim.publish_config(kiosk_id, **demo_config(kiosk_id, role))
        publish_demo_schedule(
            sim, kiosk_id, housing_kiosk_id=housing_kiosk_id, lobby_kiosk_id=lobby_kiosk_id, now=now
        )
    version = next_version(sim.residents_version(housing_kiosk_id))
    sim.publish_residents(housing_kiosk_id, version, demo_residents())
    if messages:
        send_demo_messages(sim, housing_kiosk_id)
