"""The demo facility as the contract's payload fields, built with the contract's own models:
what the demo's cloud publishes and what the offline seed hands the kiosk's inbox."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from demo import facility
from kiosk.contract.codec import build, dump
from kiosk.contract.downlink import Photo, Resident, Technician, Visit
from kiosk.core.credentials import badge_lookup, make_verifier


def config(
    role: str,
    *,
    facility_name: str = facility.FACILITY_NAME,
    kiosk_name: str | None = None,
    housing_unit: str | None = facility.HOUSING_UNIT,
    timezone: str = facility.TIMEZONE,
    languages: Sequence[str] = facility.LANGUAGES,
) -> dict[str, Any]:
    """A ``config`` snapshot's fields for the demo kiosk of ``role`` (the names may be the
    kiosk's own: offline, nothing overrides what it was started with)."""
    fields = {
        "facility_name": facility_name,
        "kiosk_name": kiosk_name or facility.KIOSK_NAMES[role],
        "role": role,
        "housing_unit": housing_unit if role == "housing" else None,
        "timezone": timezone,
        "languages": list(languages),
        "badge_key_b64": base64.b64encode(facility.DEMO_BADGE_KEY).decode(),
        "technicians": technicians(),
    }
    return {name: value for name, value in fields.items() if value is not None}


def technicians() -> list[dict[str, Any]]:
    """The config's ``technicians``: the demo's one."""
    technician = build(
        Technician,
        technician_id=facility.DEMO_TECHNICIAN_ID,
        display_name=facility.DEMO_TECHNICIAN_NAME,
        badge_lookup=badge_lookup(facility.DEMO_TECHNICIAN_BADGE, facility.DEMO_BADGE_KEY),
        pin_verifier=make_verifier(facility.DEMO_TECHNICIAN_PIN),
    )
    return [dump(technician)]


def visits(
    now: datetime,
    role: str,
    *,
    peer_kiosk_id: str | None,
    paired: bool,
    visit_in_minutes: int = facility.DEMO_VISIT_IN_MINUTES,
) -> list[dict[str, Any]]:
    """A ``schedule`` snapshot's visits for the kiosk of ``role`` (see facility.demo_visits);
    remote visits have no peer kiosk (the cloud's media gateway answers them)."""
    return [
        dump(
            build(
                Visit,
                visit_id=visit.visit_id,
                starts_at=visit.starts_at,
                ends_at=visit.ends_at,
                kind=visit.kind,
                status=visit.status,
                inmate={"inmate_id": visit.inmate_id, "display_name": visit.inmate_name},
                visitor=_visitor(visit, role),
                peer={"kiosk_id": peer_kiosk_id}
                if peer_kiosk_id and visit.kind != "remote"
                else {},
            )
        )
        for visit in facility.demo_visits(
            now, role, paired=paired, visit_in_minutes=visit_in_minutes
        )
    ]


def _visitor(visit: facility.DemoVisit, role: str) -> dict[str, Any]:
    visitor: dict[str, Any] = {"display_name": visit.visitor_name}
    if role == "lobby":
        # The contract gives lobby kiosks the code's verifier, and no one else.
        visitor["confirmation_code_verifier"] = make_verifier(visit.confirmation_code)
    return visitor


def residents() -> list[dict[str, Any]]:
    """A ``residents`` snapshot's residents: PIN 1234, one demo badge each."""
    return [
        dump(
            build(
                Resident,
                inmate_id=resident.inmate_id,
                booking_number=resident.booking_number,
                display_name=resident.display_name,
                language=resident.language,
                pin_verifier=make_verifier(facility.DEMO_PIN),
                badge_lookups=[badge_lookup(resident.badge, facility.DEMO_BADGE_KEY)],
                message_credits=resident.message_credits,
            )
        )
        for resident in facility.RESIDENTS
    ]


def mailbox(now: datetime) -> list[dict[str, Any]]:
    """``message`` payloads' fields for what is in the mailbox when the demo starts."""
    photo = dump(
        build(
            Photo,
            photo_id=facility.FAMILY_PHOTO_ID,
            mime="image/jpeg",
            data_b64=base64.b64encode(facility.family_photo()).decode(),
        )
    )
    return [
        {
            "message_id": message_id,
            "inmate_id": message.inmate_id,
            "from": {"contact_id": message.contact_id, "display_name": message.contact_name},
            "sent_at": now - timedelta(hours=index + 1),
            "body": message.body,
            "photos": [photo] if message_id == facility.FAMILY_PHOTO_MESSAGE_ID else [],
        }
        for index, (message_id, message) in enumerate(facility.MAILBOX)
    ]
