"""The front desk's extension of the contract, as both ends check it: the roster, the slots
and the answers a lobby kiosk receives; the applications and requests it sends."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from kiosk.contract.codec import Rejected, parse_downlink, parse_uplink
from kiosk.contract.topics import DURABLE_UPLINK, RETAINED_DOWNLINK, UPLINK_ID_FIELDS, Topics
from kiosk.core.credentials import make_verifier

VERIFIER = make_verifier("4831")
AT = "2026-12-08T15:00:00.000Z"
STATION = {"kiosk_id": "lobby-02", "display_name": "Station 2"}
SLOT = {"slot_id": "s-1", "starts_at": AT, "minutes": 30, "station": STATION}
FAMILY = {
    "first_name": "Rosa",
    "last_name": "Alvarez",
    "birth_date": "1971-03-09",
    "phone": "5551234567",
    "email": "rosa.alvarez@example.com",
    "address": "1200 Main Street",
    "kind": "family",
    "pin_verifier": VERIFIER,
}
PROFESSIONAL = {
    **FAMILY,
    "kind": "professional",
    "profession_id": "public-defender",
    "organization": "County Public Defender",
    "title": "Deputy Public Defender",
    "credential_number": "CA 284751",
    "direct_phone": "5559876543",
}

DOWN = {
    "roster": {
        "v": 1,
        "type": "roster",
        "version": 3,
        "residents": [
            {"booking_number": "B2026-00311", "display_name": "M. Alvarez"},
            {"booking_number": "B2026-00403", "display_name": "D. Johnson"},
        ],
    },
    "slots": {"v": 1, "type": "slots", "version": 9, "slots": [SLOT]},
    "status": {
        "v": 1,
        "type": "answer",
        "request_id": "r-1",
        "kind": "application_status",
        "status": "not_approved",
        "reason": "The ID photo is too dark to read.",
    },
    "signed_in": {
        "v": 1,
        "type": "answer",
        "request_id": "r-2",
        "kind": "visitor_sign_in",
        "outcome": "ok",
        "visitor_id": "vis-77",
        "display_name": "Rosa Alvarez",
        "residents": [{"booking_number": "B2026-00311", "display_name": "M. Alvarez"}],
        "token": "tok-1",
    },
    "booked": {
        "v": 1,
        "type": "answer",
        "request_id": "r-3",
        "kind": "booking",
        "outcome": "booked",
        "visit": {
            "visit_id": "v-9",
            "starts_at": AT,
            "ends_at": "2026-12-08T15:30:00.000Z",
            "station": STATION,
            "confirmation_code": "KX7-29Q",
        },
    },
    "taken": {
        "v": 1,
        "type": "answer",
        "request_id": "r-4",
        "kind": "booking",
        "outcome": "slot_taken",
        "alternatives": [SLOT],
    },
}
TOPIC = {"status": "answer", "signed_in": "answer", "booked": "answer", "taken": "answer"}


def application(visitor: dict[str, Any], photos: int) -> dict[str, Any]:
    return {
        "v": 1,
        "type": "application",
        "application_id": "a-1",
        "application_number": "AP-7K2Q9X",
        "submitted_at": AT,
        "booking_number": "B2026-00311",
        "visitor": copy.deepcopy(visitor),
        "capture_ids": [f"c-{n}" for n in range(photos)],
    }


def request(kind: str, **fields: Any) -> dict[str, Any]:
    return {"v": 1, "type": "request", "request_id": "r-1", "kind": kind, "sent_at": AT, **fields}


def down(name: str, **changes: Any) -> Any:
    payload = {**copy.deepcopy(DOWN[name]), **changes}
    return parse_downlink(TOPIC.get(name, name), json.dumps(payload).encode())


def refused_down(name: str, **changes: Any) -> str:
    with pytest.raises(Rejected) as info:
        down(name, **changes)
    return info.value.reason


def refused_up(kind: str, payload: dict[str, Any]) -> str:
    with pytest.raises(Rejected) as info:
        parse_uplink(kind, json.dumps(payload).encode())
    return info.value.reason


def test_the_topics_lobby_kiosks_read_and_write() -> None:
    topics = Topics("f1", "lobby-01")
    assert topics.down("roster") == "kiosk/v1/f1/lobby-01/down/roster"
    assert topics.up("applications") == "kiosk/v1/f1/lobby-01/up/applications"
    assert topics.up("requests") == "kiosk/v1/f1/lobby-01/up/requests"
    assert {"roster", "slots"} <= set(RETAINED_DOWNLINK) and "answer" not in RETAINED_DOWNLINK
    # An application waits in the outbox like a message; a request is worthless when late.
    assert "applications" in DURABLE_UPLINK and "requests" not in DURABLE_UPLINK
    assert UPLINK_ID_FIELDS["applications"] == "application_id"


def test_every_downlink_example_is_valid() -> None:
    roster = down("roster")
    assert [r.display_name for r in roster.residents] == ["M. Alvarez", "D. Johnson"]
    assert down("slots").slots[0].minutes == 30
    assert down("status").reason == "The ID photo is too dark to read."
    assert down("signed_in").token == "tok-1"
    assert down("booked").visit.confirmation_code == "KX7-29Q"
    assert down("taken").alternatives[0].slot_id == "s-1"


def test_a_roster_names_each_booking_number_once_and_holds_nothing_else() -> None:
    twice = [{"booking_number": "B1", "display_name": "A"}] * 2
    assert refused_down("roster", residents=twice) == "residents[1].booking_number: repeated"
    extra = down("roster", residents=[{"booking_number": "B1", "display_name": "A", "pin": "1"}])
    assert not hasattr(extra.residents[0], "pin")  # unknown fields are dropped, never kept


def test_a_slot_is_15_or_30_minutes() -> None:
    reason = refused_down("slots", slots=[{**SLOT, "minutes": 20}])
    assert reason.startswith("slots[0].minutes")


@pytest.mark.parametrize(
    ("name", "changes", "reason"),
    [
        ("status", {"reason": None}, "reason: required when not_approved"),
        ("status", {"status": None}, "status: required"),
        ("signed_in", {"token": None}, "token: required when ok"),
        ("signed_in", {"outcome": "booked"}, "outcome: expected one of"),
        ("booked", {"visit": None}, "visit: required when booked"),
        ("taken", {"alternatives": None}, "alternatives: required when slot_taken"),
        ("taken", {"alternatives": [SLOT] * 6}, "alternatives: "),
    ],
)
def test_an_answer_carries_what_its_kind_and_outcome_need(name, changes, reason) -> None:
    assert refused_down(name, **changes).startswith(reason)


def test_the_desks_settings_come_in_the_config() -> None:
    from tests.sync.test_payloads import example

    config = example("config")
    config["role"], config["housing_unit"] = "lobby", None
    del config["housing_unit"]
    config["front_desk"] = {
        "terms": {"en": "Visits may be recorded.", "es": "Las visitas pueden grabarse."},
        "professions": [
            {"profession_id": "attorney", "names": {"en": "Private attorney", "es": "Abogado"}},
        ],
    }
    parsed = parse_downlink("config", json.dumps(config).encode())
    assert parsed.front_desk.answer_days == 1
    config["front_desk"]["professions"] *= 2
    with pytest.raises(Rejected, match="profession_id: repeated"):
        parse_downlink("config", json.dumps(config).encode())


def test_a_family_application_has_two_photos_and_a_professional_one_three() -> None:
    assert parse_uplink("applications", json.dumps(application(FAMILY, 2)).encode())
    assert parse_uplink("applications", json.dumps(application(PROFESSIONAL, 3)).encode())
    assert refused_up("applications", application(FAMILY, 3)) == (
        "capture_ids: a family application has 2 photos"
    )
    assert refused_up("applications", application(PROFESSIONAL, 2)) == (
        "capture_ids: a professional application has 3 photos"
    )


@pytest.mark.parametrize(
    ("visitor", "reason"),
    [
        (
            {**PROFESSIONAL, "direct_phone": None},
            "visitor.direct_phone: required for a professional",
        ),
        ({**FAMILY, "title": "Attorney"}, "visitor.title: only for a professional"),
        ({**FAMILY, "birth_date": "1971-02-30"}, "visitor.birth_date: not a YYYY-MM-DD date"),
        ({**FAMILY, "phone": "555-123-4567"}, "visitor.phone: "),
        ({**FAMILY, "email": "rosa.example.com"}, "visitor.email: not an email address"),
        ({**FAMILY, "pin_verifier": "4831"}, "visitor.pin_verifier: "),
    ],
)
def test_a_visitors_details_are_checked_as_the_kiosk_checks_them(visitor, reason) -> None:
    photos = 3 if visitor["kind"] == "professional" else 2
    given = {k: v for k, v in visitor.items() if v is not None}
    assert refused_up("applications", application(given, photos)).startswith(reason)


def test_a_request_carries_what_its_kind_needs() -> None:
    ok = [
        request("application_status", application_number="AP-7K2Q9X", last_name="Alvarez"),
        request("visitor_sign_in", visitor_ref="5551234567", pin="4831"),
        request("booking", token="tok-1", booking_number="B2026-00311", slot_id="s-1"),
    ]
    for payload in ok:
        assert parse_uplink("requests", json.dumps(payload).encode())
    assert refused_up("requests", request("booking", token="tok-1", booking_number="B1")) == (
        "slot_id: required"
    )
    assert refused_up("requests", request("visitor_sign_in", visitor_ref="x", pin="12")).startswith(
        "pin: "
    )


def test_an_applications_photo_names_the_application_and_nothing_else() -> None:
    capture = {
        "v": 1,
        "type": "capture",
        "capture_id": "c-0",
        "purpose": "visitor_face",
        "application_id": "a-1",
        "taken_at": AT,
        "mime": "image/jpeg",
        "data_b64": "/9j/4AAQ",
    }
    with pytest.raises(Rejected) as info:
        parse_uplink("captures", json.dumps({**capture, "visit_id": "v-1"}).encode())
    assert info.value.reason == "exactly one of visit_id, inmate_id and application_id"
