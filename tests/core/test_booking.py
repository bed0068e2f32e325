"""Book a visit, without a window: the visitor signs in, picks a resident, a day in the next
14 and a free slot; the facility's answers, or none, are said in words; nothing is priced,
and nothing of the visitor stays once they are done."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kiosk.core.front_desk.booking import Booking, confirmation_values, visitor_key
from kiosk.core.i18n import Language, words_with_values

ZONE = ZoneInfo("America/Chicago")
NOW = datetime(2026, 12, 7, 22, 30, tzinfo=UTC)  # 4:30 PM in Chicago, Monday
ALVAREZ = {"booking_number": "B2026-00311", "display_name": "M. Alvarez"}
SIGNED_IN = {
    "outcome": "ok",
    "visitor_id": "vis-0001",
    "display_name": "Rosa Alvarez",
    "residents": [ALVAREZ],
    "token": "tok-1",
}
SLOTS = [
    {"slot_id": "s-past", "starts_at": "2026-12-07T21:00:00Z"},
    {"slot_id": "s-1", "starts_at": "2026-12-07T23:00:00Z"},
    {"slot_id": "s-2", "starts_at": "2026-12-08T15:00:00Z"},
]


class Facility:
    def __init__(self, *answers: dict[str, Any] | None) -> None:
        self.answers = list(answers)
        self.asked: list[tuple[str, dict[str, Any]]] = []

    async def __call__(self, kind: str, **fields: Any) -> dict[str, Any] | None:
        self.asked.append((kind, fields))
        return self.answers.pop(0)


def between(start: str, end: str) -> list[dict[str, Any]]:
    return [slot for slot in SLOTS if start <= slot["starts_at"] < end]


def said(booking: Booking, code: str = "en") -> str:
    assert booking.said is not None
    problem = booking.said
    return words_with_values(Language(code), ZONE, problem.words, problem.values)


def test_a_visitor_signs_in_picks_a_day_and_a_free_slot_and_books_it() -> None:
    booked = {
        "visit_id": "v-9",
        "starts_at": "2026-12-08T15:00:00Z",
        "ends_at": "2026-12-08T15:30:00Z",
        "station": {"display_name": "Station 2"},
        "confirmation_code": "KX7-29Q",
    }
    facility = Facility(SIGNED_IN, {"outcome": "booked", "visit": booked})
    booking = Booking(facility, between, ZONE)
    assert asyncio.run(booking.sign_in("(555) 123-4567", "4831"))
    assert facility.asked[0] == ("visitor_sign_in", {"visitor_ref": "5551234567", "pin": "4831"})
    assert booking.visitor_name == "Rosa Alvarez" and booking.residents == [ALVAREZ]

    days = booking.days(NOW)
    assert len(days) == 14 and days[0] == date(2026, 12, 7) and days[-1] == date(2026, 12, 20)
    # Today's slots that have not begun; tomorrow's, in Chicago's day.
    assert [s["slot_id"] for s in booking.free_slots(days[0], NOW)] == ["s-1"]
    assert [s["slot_id"] for s in booking.free_slots(days[1], NOW)] == ["s-2"]

    booking.choose_resident("B2026-00311")
    assert asyncio.run(booking.book("s-2"))
    assert facility.asked[1] == (
        "booking",
        {"token": "tok-1", "booking_number": "B2026-00311", "slot_id": "s-2"},
    )
    values = confirmation_values(booking.booked)
    assert values["station"] == "Station 2" and values["code"] == "KX7-29Q"
    assert Language("en").time(values["time"], ZONE) == "9:00\u00a0AM"


def test_a_slot_just_taken_offers_the_nearest_free_ones() -> None:
    alternatives = [{"slot_id": "s-3", "starts_at": "2026-12-08T15:30:00Z", "minutes": 30}]
    facility = Facility(SIGNED_IN, {"outcome": "slot_taken", "alternatives": alternatives})
    booking = Booking(facility, between, ZONE)
    asyncio.run(booking.sign_in("vis-0001", "4831"))
    booking.choose_resident("B2026-00311")
    assert not asyncio.run(booking.book("s-2"))
    assert booking.offered == alternatives
    assert said(booking) == "Someone has just taken that time. These are the nearest free ones."


@pytest.mark.parametrize(
    ("answer", "english", "spanish"),
    [
        (
            {"outcome": "wrong_pin", "tries_left": 1},
            "Wrong PIN. 1 try left before a pause.",
            "PIN incorrecto. Le queda 1 intento antes de una pausa.",
        ),
        (
            {"outcome": "paused", "paused_until": "2026-12-07T22:35:00Z"},
            "Too many wrong PINs. Try again after 4:35\u00a0PM, or ask the lobby officer.",
            "Demasiados PIN incorrectos. Intente de nuevo después de las 16:35 o pregunte al "
            "oficial del vestíbulo.",
        ),
        (
            None,
            "The facility cannot be reached right now. Try again in a few minutes, or ask the "
            "lobby officer.",
            "Ahora no se puede contactar con el centro. Intente de nuevo en unos minutos o "
            "pregunte al oficial del vestíbulo.",
        ),
    ],
)
def test_a_refused_sign_in_says_why_in_both_languages(answer, english, spanish) -> None:
    booking = Booking(Facility(answer), between, ZONE)
    assert not asyncio.run(booking.sign_in("5551234567", "1111"))
    assert not booking.token
    assert said(booking) == english
    assert said(booking, "es") == spanish


def test_only_an_approved_resident_can_be_chosen_and_nothing_stays_after() -> None:
    booking = Booking(Facility(SIGNED_IN), between, ZONE)
    asyncio.run(booking.sign_in("vis-0001", "4831"))
    with pytest.raises(ValueError, match="approved for"):
        booking.choose_resident("B9999")
    booking.choose_resident("B2026-00311")
    booking.forget()
    assert (booking.token, booking.visitor_name, booking.residents, booking.booking_number) == (
        "",
        "",
        [],
        "",
    )
    with pytest.raises(ValueError, match="sign in"):
        asyncio.run(booking.book("s-1"))


def test_who_the_visitor_is_reads_as_the_facility_knows_it() -> None:
    assert visitor_key("1 (555) 123-4567") == "5551234567"
    assert visitor_key("555.123.4567") == "5551234567"
    assert visitor_key(" vis-0001 ") == "vis-0001"
