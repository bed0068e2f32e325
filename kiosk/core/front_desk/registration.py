"""The registration form a visitor fills in at the lobby: the facility's terms accepted, the
details typed field by field, family or professional, and a PIN of their own typed twice.

A field's problem shows once the visitor has left it (or touches Next): nothing is red before
they have had a chance. ``details`` gives what the contract sends, once everything is right.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from kiosk.core.front_desk.visitor_details import (
    ADDRESS_MAX,
    Problem,
    birth_date_shown,
    check_address,
    check_birth_date,
    check_credential,
    check_email,
    check_name,
    check_phone,
    check_pin,
    check_text,
    required,
)
from kiosk.core.i18n import _

FAMILY = "family"
PROFESSIONAL = "professional"
EVERYONE = ("first_name", "last_name", "birth_date", "phone", "email", "address")
PROFESSIONALS = ("profession_id", "organization", "title", "credential_number", "direct_phone")
PINS = ("pin", "pin_again")
# The most a field takes as typed (the checks say more; this keeps a stuck key from piling on).
LONGEST = {"birth_date": 8, "phone": 14, "direct_phone": 14, "pin": 8, "pin_again": 8}


@dataclass
class Registration:
    """One visitor's form; a new visitor gets a new one (nothing of the last is kept)."""

    today: date
    professions: Sequence[str]  # the cloud's profession ids, in its order
    terms_accepted: bool = False
    kind: str = ""
    values: dict[str, str] = field(default_factory=dict)
    left: set[str] = field(default_factory=set)  # fields the visitor has moved past

    def accept_terms(self) -> None:
        self.terms_accepted = True

    def choose_kind(self, kind: str) -> None:
        if kind not in (FAMILY, PROFESSIONAL):
            raise ValueError(f"no visitor kind {kind!r}")
        self.kind = kind
        if kind == FAMILY:  # what a professional typed does not go with a family application
            for name in PROFESSIONALS:
                self.values.pop(name, None)
                self.left.discard(name)

    @property
    def fields(self) -> tuple[str, ...]:
        """The fields this visitor fills in, in order."""
        return EVERYONE + (PROFESSIONALS if self.kind == PROFESSIONAL else ()) + PINS

    def type(self, name: str, text: str) -> None:
        """Keys typed into ``name``, added to what it holds."""
        self._known(name)
        value = self.values.get(name, "") + text
        self.values[name] = value[: LONGEST.get(name, ADDRESS_MAX)]

    def backspace(self, name: str) -> None:
        self._known(name)
        self.values[name] = self.values.get(name, "")[:-1]

    def choose_profession(self, profession_id: str) -> None:
        if profession_id not in self.professions:
            raise ValueError(f"no profession {profession_id!r}")
        self.values["profession_id"] = profession_id
        self.left.add("profession_id")

    def leave(self, name: str) -> None:
        """The visitor moved on from ``name``: its problem, if any, may show now."""
        self._known(name)
        self.left.add(name)

    def shown(self, name: str) -> str:
        """The field as the screen shows it (a PIN as dots, a date with its slashes)."""
        value = self.values.get(name, "")
        if name in PINS:
            return "•" * len(value)
        return birth_date_shown(value) if name == "birth_date" else value

    def problem(self, name: str) -> Problem | None:
        """What is wrong with ``name``, once the visitor has left it."""
        return self._wrong(name) if name in self.left else None

    def next_step(self) -> bool:
        """Next: every field is checked and shows its problem; True when all are right."""
        self.left.update(self.fields)
        return self.complete()

    def complete(self) -> bool:
        if not self.terms_accepted or not self.kind:
            return False
        return all(self._wrong(name) is None for name in self.fields)

    def details(self) -> dict[str, str]:
        """The contract's visitor fields (without the PIN, which leaves as a verifier)."""
        if not self.complete():
            raise ValueError("the form is not complete")
        out = {"kind": self.kind}
        for name in self.fields:
            if name in PINS:
                continue
            value = self.values[name].strip()
            if name == "birth_date":
                digits = "".join(ch for ch in value if ch.isdigit())
                value = f"{digits[4:8]}-{digits[:2]}-{digits[2:4]}"
            elif name in ("phone", "direct_phone"):
                value = "".join(ch for ch in value if ch.isdigit())[-10:]
            elif name == "credential_number":
                value = value.upper()
            out[name] = value
        return out

    @property
    def pin(self) -> str:
        return self.values.get("pin", "")

    def _wrong(self, name: str) -> Problem | None:
        value = self.values.get(name, "")
        if name == "pin_again" and value:
            # Left with part of the PIN typed is as wrong as a different one.
            differ = value != self.values.get("pin", "")
            return Problem(_("The two PINs are not the same. Type it again.")) if differ else None
        return required(value) or _CHECKS.get(name, _nothing)(value, self.today)

    def _known(self, name: str) -> None:
        if name not in self.fields:
            raise ValueError(f"{name!r} is not a field of this form")


Check = Callable[[str, date], Problem | None]


def _ignoring_today(check: Callable[[str], Problem | None]) -> Check:
    return lambda value, _today: check(value)


_CHECKS: dict[str, Check] = {
    "first_name": _ignoring_today(check_name),
    "last_name": _ignoring_today(check_name),
    "birth_date": check_birth_date,
    "phone": _ignoring_today(check_phone),
    "email": _ignoring_today(check_email),
    "address": _ignoring_today(check_address),
    "profession_id": lambda value, _today: None,
    "organization": lambda value, _today: check_text(value, ADDRESS_MAX),
    "title": lambda value, _today: check_text(value, ADDRESS_MAX),
    "credential_number": _ignoring_today(check_credential),
    "direct_phone": _ignoring_today(check_phone),
    "pin": _ignoring_today(check_pin),
}


def _nothing(_value: str, _today: date) -> None:
    return None
