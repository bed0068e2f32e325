"""Extension: the lobby's front desk (docs/protocol.md, "The lobby's front desk").

What the cloud gives lobby kiosks (the desk's settings in ``config.front_desk``, the public
``roster``, the free on-site ``slots``, and each ``answer``), and what a lobby kiosk sends (an
``application`` through the durable outbox, a ``request`` the cloud answers).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, field_validator, model_validator

from kiosk.contract import limits
from kiosk.contract.fields import (
    Count,
    Id,
    KioskId,
    Language,
    Name,
    Payload,
    Reason,
    UtcTime,
    Verifier,
    Version,
    each_once,
    rule,
    text,
)

# --- the shapes of a visitor's details -----------------------------------------------------------

_CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{3,15}")
_DIGITS = re.compile(r"[0-9]{10}")
_PIN = re.compile(r"[0-9]{4,8}")
# Shared with the kiosk's checks as a visitor types (kiosk.core.front_desk.visitor_details).
EMAIL_PATTERN = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
CREDENTIAL_PATTERN = re.compile(r"[A-Z0-9][A-Z0-9 /.-]*")
_BIRTH = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _matching(pattern: re.Pattern[str], what: str):  # type: ignore[no-untyped-def]
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise rule(f"not {what}")
        return value

    return check


def _birth_date(value: str) -> str:
    if not _BIRTH.fullmatch(value):
        raise rule("not a YYYY-MM-DD date")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise rule("not a YYYY-MM-DD date") from None
    return value


# A confirmation code or an application number: capitals, digits and hyphens, 4 to 16.
Code = Annotated[str, StringConstraints(max_length=16), AfterValidator(_matching(_CODE, "a code"))]
Phone = Annotated[
    str, StringConstraints(max_length=10), AfterValidator(_matching(_DIGITS, "10 digits"))
]
Pin = Annotated[str, StringConstraints(max_length=8), AfterValidator(_matching(_PIN, "4-8 digits"))]
Email = Annotated[
    str,
    StringConstraints(max_length=limits.EMAIL_MAX),
    AfterValidator(_matching(EMAIL_PATTERN, "an email address")),
]
Credential = Annotated[
    str,
    StringConstraints(max_length=limits.CREDENTIAL_MAX),
    AfterValidator(_matching(CREDENTIAL_PATTERN, "a credential number")),
]
BirthDate = Annotated[str, StringConstraints(max_length=10), AfterValidator(_birth_date)]
Terms = text(limits.TERMS_MAX_CHARS, 1)
Line = text(limits.ADDRESS_MAX, 1)
PersonName = text(limits.PERSON_NAME_MAX, 1)


# --- downlink -------------------------------------------------------------------------------------


class Profession(Payload):
    profession_id: Id
    names: dict[Language, Name] = Field(min_length=1, max_length=limits.MAX_LANGUAGES)


class FrontDesk(Payload):
    """``config.front_desk``: a lobby offers registration, applications and booking when given."""

    terms: dict[Language, Terms] = Field(min_length=1, max_length=limits.MAX_LANGUAGES)
    professions: list[Profession] = Field(min_length=1, max_length=limits.MAX_PROFESSIONS)
    answer_days: int = Field(default=1, ge=1, le=30)

    @field_validator("professions")
    @classmethod
    def _unique_professions(cls, professions: list[Profession]) -> list[Profession]:
        each_once([p.profession_id for p in professions], "profession_id")
        return professions


class RosterResident(Payload):
    booking_number: Id
    display_name: Name


class RosterPayload(Payload):
    """Retained, lobby kiosks: the facility's public roster, replaced as a whole."""

    v: Literal[1]
    type: Literal["roster"]
    version: Version
    residents: list[RosterResident] = Field(max_length=limits.MAX_ROSTER)

    @field_validator("residents")
    @classmethod
    def _unique_numbers(cls, residents: list[RosterResident]) -> list[RosterResident]:
        each_once([r.booking_number for r in residents], "booking_number")
        return residents


class Station(Payload):
    kiosk_id: KioskId | None = None
    display_name: Name


class Slot(Payload):
    slot_id: Id
    starts_at: UtcTime
    minutes: Literal[15, 30]
    station: Station


class SlotsPayload(Payload):
    """Retained, lobby kiosks: the free on-site slots of the next 14 days."""

    v: Literal[1]
    type: Literal["slots"]
    version: Version
    slots: list[Slot] = Field(max_length=limits.MAX_SLOTS)

    @field_validator("slots")
    @classmethod
    def _unique_slots(cls, slots: list[Slot]) -> list[Slot]:
        each_once([s.slot_id for s in slots], "slot_id")
        return slots


class BookedVisit(Payload):
    visit_id: Id
    starts_at: UtcTime
    ends_at: UtcTime
    station: Station
    confirmation_code: Code


AnswerKind = Literal["application_status", "visitor_sign_in", "booking"]
_OUTCOMES = {
    "visitor_sign_in": ("ok", "wrong_pin", "unknown", "paused"),
    "booking": ("booked", "slot_taken", "refused"),
}


class AnswerPayload(Payload):
    """Not retained: the cloud's answer to one ``request``, by its ``request_id``."""

    v: Literal[1]
    type: Literal["answer"]
    request_id: Id
    kind: AnswerKind
    # application_status
    status: Literal["received", "approved", "not_approved", "unknown"] | None = None
    reason: Reason | None = None
    # visitor_sign_in and booking
    outcome: str | None = None
    visitor_id: Id | None = None
    display_name: Name | None = None
    residents: list[RosterResident] | None = Field(default=None, max_length=limits.MAX_APPROVED)
    token: Id | None = None
    tries_left: Count | None = None
    paused_until: UtcTime | None = None
    visit: BookedVisit | None = None
    alternatives: list[Slot] | None = Field(default=None, max_length=limits.MAX_ALTERNATIVES)

    @model_validator(mode="after")
    def _what_each_kind_needs(self) -> AnswerPayload:
        if self.kind == "application_status":
            if self.status is None:
                raise rule("required", "status")
            if self.status == "not_approved" and not self.reason:
                raise rule("required when not_approved", "reason")
            return self
        if self.outcome not in _OUTCOMES[self.kind]:
            raise rule(f"expected one of {', '.join(_OUTCOMES[self.kind])}", "outcome")
        needs = {
            "ok": ("visitor_id", "display_name", "residents", "token"),
            "paused": ("paused_until",),
            "booked": ("visit",),
            "slot_taken": ("alternatives",),
        }.get(self.outcome, ())
        for name in needs:
            if getattr(self, name) is None:
                raise rule(f"required when {self.outcome}", name)
        return self


# --- uplink ---------------------------------------------------------------------------------------


class VisitorDetails(Payload):
    first_name: PersonName
    last_name: PersonName
    birth_date: BirthDate
    phone: Phone
    email: Email
    address: Line
    kind: Literal["family", "professional"]
    # A professional's: all of them, the direct phone too.
    profession_id: Id | None = None
    organization: Line | None = None
    title: Line | None = None
    credential_number: Credential | None = None
    direct_phone: Phone | None = None
    # The visitor's own PIN for lobby kiosks, as a verifier made at the kiosk: never the PIN.
    pin_verifier: Verifier

    @model_validator(mode="after")
    def _a_professional_says_who_they_are(self) -> VisitorDetails:
        fields = ("profession_id", "organization", "title", "credential_number", "direct_phone")
        for name in fields:
            given = getattr(self, name) is not None
            if self.kind == "professional" and not given:
                raise rule("required for a professional", name)
            if self.kind == "family" and given:
                raise rule("only for a professional", name)
        return self


class ApplicationPayload(Payload):
    """Durable: a visitor's application to visit a resident, made at a lobby kiosk. Its photos
    are ``capture`` records with its ``application_id``, in the same transaction."""

    v: Literal[1]
    type: Literal["application"]
    application_id: Id
    application_number: Code  # what the visitor copies down, to check on it later
    submitted_at: UtcTime
    booking_number: Id
    visitor: VisitorDetails
    capture_ids: list[Id] = Field(min_length=2, max_length=3)

    @model_validator(mode="after")
    def _the_photos_each_kind_needs(self) -> ApplicationPayload:
        each_once(self.capture_ids, "capture_ids")
        needed = 3 if self.visitor.kind == "professional" else 2
        if len(self.capture_ids) != needed:
            raise rule(f"a {self.visitor.kind} application has {needed} photos", "capture_ids")
        return self


class RequestPayload(Payload):
    """Direct, not queued: a question the cloud answers on ``answer`` within seconds."""

    v: Literal[1]
    type: Literal["request"]
    request_id: Id
    kind: AnswerKind
    sent_at: UtcTime
    # application_status
    application_number: Code | None = None
    last_name: PersonName | None = None
    # visitor_sign_in: the visitor id or the phone, and the PIN (over TLS; the cloud checks it)
    visitor_ref: Id | None = None
    pin: Pin | None = None
    # booking
    token: Id | None = None
    booking_number: Id | None = None
    slot_id: Id | None = None

    @model_validator(mode="after")
    def _what_each_kind_needs(self) -> RequestPayload:
        needs = {
            "application_status": ("application_number", "last_name"),
            "visitor_sign_in": ("visitor_ref", "pin"),
            "booking": ("token", "booking_number", "slot_id"),
        }[self.kind]
        for name in needs:
            if getattr(self, name) is None:
                raise rule("required", name)
        return self
