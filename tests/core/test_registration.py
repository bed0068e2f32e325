"""A visitor's registration form at the lobby, without a window: terms, details field by field,
family or professional, a PIN typed twice; problems only once a field is left; what it gives
is what the contract sends."""

from __future__ import annotations

from datetime import date

import pytest

from kiosk.contract.codec import parse_uplink
from kiosk.core.front_desk.application import Application, submit
from kiosk.core.front_desk.registration import FAMILY, PROFESSIONAL, Registration
from tests.core.front_desk import NOW, PHOTOS, queued

TODAY = date(2026, 12, 7)
PROFESSIONS = ("attorney", "public-defender", "probation")


def filled(kind: str = FAMILY) -> Registration:
    form = Registration(TODAY, PROFESSIONS)
    form.accept_terms()
    form.choose_kind(kind)
    typed = {
        "first_name": "Rosa",
        "last_name": "Álvarez",
        "birth_date": "03091971",
        "phone": "(555) 123-4567",
        "email": "rosa.alvarez@example.com",
        "address": "1200 Main Street",
        "pin": "4831",
        "pin_again": "4831",
    }
    if kind == PROFESSIONAL:
        form.choose_profession("public-defender")
        typed |= {
            "organization": "County Public Defender",
            "title": "Deputy Public Defender",
            "credential_number": "ca 284751",
            "direct_phone": "1 555 987 6543",
        }
    for name, text in typed.items():
        for key in text:
            form.type(name, key)
        form.leave(name)
    return form


def test_nothing_is_wrong_before_the_visitor_leaves_a_field() -> None:
    form = Registration(TODAY, PROFESSIONS)
    form.choose_kind(FAMILY)
    form.type("phone", "555")
    assert form.problem("phone") is None  # still typing
    form.leave("phone")
    assert form.problem("phone").values == {"count": 10}
    assert form.problem("email") is None  # not reached yet
    assert form.next_step() is False  # Next shows every problem at once
    assert form.problem("email").words == "This is needed."


def test_the_screen_shows_a_date_with_slashes_and_a_pin_as_dots() -> None:
    form = filled()
    assert form.shown("birth_date") == "03/09/1971"
    assert form.shown("pin") == "••••"


def test_the_pin_typed_again_must_be_the_same_once_left() -> None:
    form = filled()
    form.backspace("pin_again")
    assert form.problem("pin_again").words == "The two PINs are not the same. Type it again."
    assert not form.complete()
    form.type("pin_again", "1")
    assert form.problem("pin_again") is None and form.complete()


def test_a_family_form_gives_the_contracts_visitor_fields() -> None:
    form = filled()
    assert form.complete()
    assert form.details() == {
        "kind": "family",
        "first_name": "Rosa",
        "last_name": "Álvarez",
        "birth_date": "1971-03-09",
        "phone": "5551234567",
        "email": "rosa.alvarez@example.com",
        "address": "1200 Main Street",
    }
    assert form.pin == "4831"


def test_a_professional_says_who_they_are_and_a_family_visitor_does_not(desk_store) -> None:
    form = filled(PROFESSIONAL)
    details = form.details()
    assert details["credential_number"] == "CA 284751"
    assert details["direct_phone"] == "5559876543"
    assert details["profession_id"] == "public-defender"
    # What the form gives, the contract takes: submitted, it is in the outbox as sent.
    database, outbox = desk_store
    submit(
        Application(details, form.pin, "B2026-00311", PHOTOS),
        database=database,
        outbox=outbox,
        now=NOW,
    )
    kind, sent = queued(database)[-1]
    assert kind == "applications" and sent["visitor"]["title"] == "Deputy Public Defender"

    form.choose_kind(FAMILY)  # changed their mind: nothing of a professional's goes
    assert "title" not in form.details()
    assert set(form.fields).isdisjoint({"organization", "title", "credential_number"})


def test_an_incomplete_form_gives_nothing_and_unknown_choices_are_refused() -> None:
    form = Registration(TODAY, PROFESSIONS)
    assert not form.complete()  # no terms accepted, no kind chosen
    with pytest.raises(ValueError, match="not complete"):
        form.details()
    with pytest.raises(ValueError, match="no profession"):
        form.choose_profession("astronaut")
    with pytest.raises(ValueError, match="no visitor kind"):
        form.choose_kind("other")
    form.choose_kind(FAMILY)
    with pytest.raises(ValueError, match="not a field"):
        form.type("title", "x")  # a professional's field on a family form


def test_a_stuck_key_does_not_pile_up() -> None:
    form = Registration(TODAY, PROFESSIONS)
    form.choose_kind(FAMILY)
    for _ in range(50):
        form.type("pin", "7")
        form.type("birth_date", "1")
    assert form.values["pin"] == "7" * 8 and len(form.values["birth_date"]) == 8


def test_the_details_parse_as_the_cloud_parses_them() -> None:
    import json

    payload = {
        "v": 1,
        "type": "application",
        "application_id": "a-1",
        "application_number": "AP-7KX9QH",
        "submitted_at": "2026-12-07T16:00:00Z",
        "booking_number": "B1",
        "visitor": {**filled().details(), "pin_verifier": "scrypt$16384$8$1$c2FsdA==$aGFzaA=="},
        "capture_ids": ["c-1", "c-2"],
    }
    assert parse_uplink("applications", json.dumps(payload).encode()).visitor.last_name == "Álvarez"
