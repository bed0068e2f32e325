"""The facility's side of the lobby's front desk, as the simulator plays it: applications
received and decided after a delay, requests answered (an application's status, a visitor's
sign-in, a booking), free slots published, and a booked visit put into the lobby's schedule
so that it checks in with its new code.

Everything here runs on the simulator's answers thread (``call_later``), never on paho's.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from kiosk.contract.times import utc_text
from kiosk.core.check_in import name_words
from kiosk.core.credentials import check_verifier, make_verifier
from kiosk.core.front_desk.application import NUMBER_LETTERS  # none that look alike

WRONG_PINS_BEFORE_PAUSE = 5
PAUSE = timedelta(minutes=5)

# Staff's review: None approves; a reason refuses.
Review = Callable[[dict[str, Any]], str | None]


@dataclass
class Applicant:
    visitor_id: str
    application: dict[str, Any]
    status: str = "received"  # received | approved | not_approved
    reason: str | None = None
    wrong_pins: int = 0
    paused_until: datetime | None = None
    tokens: set[str] = field(default_factory=set)


class FacilityFrontDesk:
    def __init__(
        self,
        *,
        answer: Callable[..., Any],
        later: Callable[[float, Callable[[], None]], None],
        publish_slots: Callable[[str, int, list[dict[str, Any]]], Any],
        add_visit: Callable[[str, dict[str, Any]], None],
        now: Callable[[], datetime],
        name_of: Callable[[str], str],
        review: Review | None = None,
        decide_after_s: float = 0.5,
    ) -> None:
        self._answer = answer
        self._later = later
        self._publish_slots = publish_slots
        self._add_visit = add_visit
        self._now = now
        self._name_of = name_of  # a booking number's name in the public roster
        self.review: Review = review or (lambda application: None)
        self.decide_after_s = decide_after_s
        self._lock = threading.Lock()
        self._applicants: dict[str, Applicant] = {}  # by application number
        self._slots: dict[str, dict[str, dict[str, Any]]] = {}  # lobby -> slot id -> slot
        self._slots_version: dict[str, int] = {}
        self.booked: list[dict[str, Any]] = []  # (for tests) each booking, with its code

    # --- what the facility publishes --------------------------------------------------------

    def offer_slots(self, kiosk_id: str, slots: list[dict[str, Any]]) -> None:
        with self._lock:
            self._slots[kiosk_id] = {slot["slot_id"]: dict(slot) for slot in slots}
        self._republish(kiosk_id)

    # --- what lobby kiosks send (on the answers thread) -------------------------------------

    def received(self, kiosk_id: str, application: dict[str, Any]) -> None:
        """An application: received now, decided by staff after a while."""
        number = application["application_number"]
        with self._lock:
            if number in self._applicants:
                return  # a copy (the outbox may send twice)
            applicant = Applicant(f"vis-{len(self._applicants) + 1:04d}", dict(application))
            self._applicants[number] = applicant

        def decide() -> None:
            reason = self.review(application)
            with self._lock:
                applicant.status = "approved" if reason is None else "not_approved"
                applicant.reason = reason

        self._later(self.decide_after_s, decide)

    def asked(self, kiosk_id: str, request: dict[str, Any]) -> None:
        kind = request["kind"]
        fields = {
            "application_status": self._status,
            "visitor_sign_in": self._sign_in,
            "booking": self._book,
        }[kind](kiosk_id, request)
        self._answer(kiosk_id, request["request_id"], kind, **fields)

    # --- the answers ------------------------------------------------------------------------

    def _status(self, kiosk_id: str, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            applicant = self._applicants.get(request["application_number"])
            # Accents, case and hyphens as the visitor happens to type them: the same name.
            typed = name_words(request["last_name"])
            if applicant is None or name_words(applicant.application["visitor"]["last_name"]) != (
                typed
            ):
                return {"status": "unknown"}
            if applicant.status == "not_approved":
                return {"status": "not_approved", "reason": applicant.reason}
            return {"status": applicant.status}

    def _sign_in(self, kiosk_id: str, request: dict[str, Any]) -> dict[str, Any]:
        ref, now = request["visitor_ref"], self._now()
        with self._lock:
            mine = [
                a
                for a in self._applicants.values()
                if ref in (a.visitor_id, a.application["visitor"]["phone"])
            ]
            approved = [a for a in mine if a.status == "approved"]
            if not approved:
                return {"outcome": "unknown"}
            first = approved[0]
            if first.paused_until is not None and now < first.paused_until:
                return {"outcome": "paused", "paused_until": utc_text(first.paused_until)}
            if not check_verifier(request["pin"], first.application["visitor"]["pin_verifier"]):
                first.wrong_pins += 1
                left = WRONG_PINS_BEFORE_PAUSE - first.wrong_pins
                if left <= 0:
                    first.wrong_pins, first.paused_until = 0, now + PAUSE
                    return {"outcome": "paused", "paused_until": utc_text(first.paused_until)}
                return {"outcome": "wrong_pin", "tries_left": left}
            first.wrong_pins = 0
            token = str(uuid.uuid4())
            first.tokens.add(token)
            visitor = first.application["visitor"]
            residents = [
                {
                    "booking_number": a.application["booking_number"],
                    "display_name": self._name_of(a.application["booking_number"]),
                }
                for a in approved
            ]
            return {
                "outcome": "ok",
                "visitor_id": first.visitor_id,
                "display_name": f"{visitor['first_name']} {visitor['last_name']}",
                "residents": residents,
                "token": token,
            }

    def _book(self, kiosk_id: str, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            applicant = next(
                (a for a in self._applicants.values() if request["token"] in a.tokens), None
            )
            allowed = applicant is not None and any(
                a.application["booking_number"] == request["booking_number"]
                and a.visitor_id == applicant.visitor_id
                and a.status == "approved"
                for a in self._applicants.values()
            )
            if applicant is None or not allowed:
                return {"outcome": "refused", "reason": "Not approved to visit this resident."}
            free = self._slots.get(kiosk_id, {})
            slot = free.pop(request["slot_id"], None)
            if slot is None:
                return {"outcome": "slot_taken", "alternatives": self._nearest(kiosk_id)}
            code = "-".join(
                "".join(secrets.choice(NUMBER_LETTERS) for _ in range(3)) for _ in range(2)
            )
            visitor = applicant.application["visitor"]
            starts = slot["starts_at"]
            ends = utc_text(_parse(starts) + timedelta(minutes=slot["minutes"]))
            visit = {
                "visit_id": f"v-{uuid.uuid4().hex[:8]}",
                "starts_at": starts,
                "ends_at": ends,
                "station": slot["station"],
                "confirmation_code": code,
            }
            self.booked.append({**visit, "booking_number": request["booking_number"]})
            schedule_visit = {
                "visit_id": visit["visit_id"],
                "starts_at": starts,
                "ends_at": ends,
                "kind": "onsite",
                "status": "scheduled",
                "inmate": {
                    "inmate_id": request["booking_number"],
                    "display_name": self._name_of(request["booking_number"]),
                },
                "visitor": {
                    "display_name": f"{visitor['first_name']} {visitor['last_name']}",
                    "confirmation_code_verifier": make_verifier(code),
                },
                "peer": {},
                "station": slot["station"],
            }
        self._add_visit(kiosk_id, schedule_visit)
        self._republish(kiosk_id)
        return {"outcome": "booked", "visit": visit}

    def _nearest(self, kiosk_id: str) -> list[dict[str, Any]]:
        free = sorted(self._slots.get(kiosk_id, {}).values(), key=lambda s: s["starts_at"])
        return free[:5]

    def _republish(self, kiosk_id: str) -> None:
        with self._lock:
            version = self._slots_version.get(kiosk_id, 0) + 1
            self._slots_version[kiosk_id] = version
            slots = sorted(self._slots.get(kiosk_id, {}).values(), key=lambda s: s["starts_at"])
        self._publish_slots(kiosk_id, version, slots)


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
