"""Book a visit: an approved visitor signs in (visitor id or phone, and their PIN), picks one
of the residents they are approved for, a day in the next 14, and a free on-site slot; the
facility confirms it or says the slot was just taken, and then the nearest free ones are
offered. Every question needs the cloud: without an answer, the visitor is told so.

On-site visits are free: nothing here has a price.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from kiosk.contract.times import utc_text
from kiosk.core.front_desk.status_check import NO_ANSWER, Ask
from kiosk.core.front_desk.visitor_details import Problem
from kiosk.core.i18n import Plural, _

DAYS_AHEAD = 14
# The free slots of [start, end) as stored rows (UTC text), by time.
SlotsBetween = Callable[[str, str], list[dict[str, Any]]]


@dataclass
class Booking:
    """One visitor's booking, from signing in to a confirmed visit; a new visitor, a new one."""

    ask: Ask
    slots_between: SlotsBetween
    zone: ZoneInfo
    token: str = ""
    visitor_name: str = ""
    residents: list[Mapping[str, str]] = field(default_factory=list)
    booking_number: str = ""
    day: date | None = None
    offered: list[Mapping[str, Any]] = field(default_factory=list)  # after a taken slot
    booked: Mapping[str, Any] | None = None
    said: Problem | None = None

    async def sign_in(self, visitor_ref: str, pin: str) -> bool:
        """The visitor's id or phone and PIN; True when the facility knows them."""
        answer = await self.ask("visitor_sign_in", visitor_ref=visitor_key(visitor_ref), pin=pin)
        outcome = None if answer is None else answer.get("outcome")
        if outcome == "ok":
            assert answer is not None
            self.token, self.visitor_name = answer["token"], answer["display_name"]
            self.residents = list(answer["residents"])
            self.said = None
            return True
        self.said = self._refusal(outcome, answer)
        return False

    def days(self, now: datetime) -> list[date]:
        """Today and the 13 days after it, in the facility's time."""
        today = now.astimezone(self.zone).date()
        return [today + timedelta(days=n) for n in range(DAYS_AHEAD)]

    def free_slots(self, day: date, now: datetime) -> list[Mapping[str, Any]]:
        """The day's free slots that have not begun yet."""
        start = datetime.combine(day, time(0), self.zone)
        end = start + timedelta(days=1)
        floor = max(start, now)
        return self.slots_between(utc_text(floor), utc_text(end))

    def choose_resident(self, booking_number: str) -> None:
        if booking_number not in {r["booking_number"] for r in self.residents}:
            raise ValueError("not a resident this visitor is approved for")
        self.booking_number = booking_number

    async def book(self, slot_id: str) -> bool:
        """Ask the facility for the slot; True when it is booked (``booked`` holds the visit)."""
        if not self.token or not self.booking_number:
            raise ValueError("sign in and choose a resident first")
        answer = await self.ask(
            "booking", token=self.token, booking_number=self.booking_number, slot_id=slot_id
        )
        outcome = None if answer is None else answer.get("outcome")
        if outcome == "booked":
            assert answer is not None
            self.booked, self.offered, self.said = answer["visit"], [], None
            return True
        if outcome == "slot_taken":
            assert answer is not None
            self.offered = list(answer.get("alternatives") or [])
            self.said = Problem(
                _("Someone has just taken that time. These are the nearest free ones.")
                if self.offered
                else _(
                    "Someone has just taken that time, and no other is free. Choose another day."
                )
            )
            return False
        self.said = self._refusal(outcome, answer)
        return False

    def forget(self) -> None:
        """The visitor is done or walked away: nothing of them stays."""
        self.token = self.visitor_name = self.booking_number = ""
        self.residents, self.offered = [], []
        self.day = self.booked = self.said = None

    @staticmethod
    def _refusal(outcome: str | None, answer: Mapping[str, Any] | None) -> Problem:
        if answer is None:
            return NO_ANSWER
        if outcome == "wrong_pin":
            return Problem(
                Plural(
                    "Wrong PIN. {count} try left before a pause.",
                    "Wrong PIN. {count} tries left before a pause.",
                ),
                {"count": answer.get("tries_left") or 0},
            )
        if outcome == "paused":
            return Problem(
                _("Too many wrong PINs. Try again after {time}, or ask the lobby officer."),
                {"time": _parse(answer["paused_until"])},
            )
        if outcome == "unknown":
            return Problem(
                _(
                    "No approved visitor has that ID or phone. Check it, or apply first with "
                    "Register or apply to visit."
                )
            )
        return Problem(
            _("The facility did not book it: {reason}"), {"reason": answer.get("reason") or ""}
        )


def confirmation_values(visit: Mapping[str, Any]) -> dict[str, Any]:
    """A booked visit's values for the screen: its day, time, station and code."""
    starts = _parse(visit["starts_at"])
    return {
        "day": starts,
        "time": starts,
        "station": visit["station"]["display_name"],
        "code": visit["confirmation_code"],
    }


def _parse(text: Any) -> datetime:
    if isinstance(text, datetime):
        return text
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))


def visitor_key(typed: str) -> str:
    """What the visitor typed to say who they are, as the facility knows it: a phone as its
    ten digits (however it was written), else the visitor id as typed, without spaces."""
    text = "".join(ch for ch in typed if not ch.isspace())
    digits = "".join(ch for ch in text if ch.isdigit())
    if text and all(ch.isdigit() or ch in "()-.+" for ch in text) and len(digits) >= 10:
        return digits[-10:]
    return text
