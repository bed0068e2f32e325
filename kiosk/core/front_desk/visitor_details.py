"""The checks on what a visitor types when registering, each as typed: ``None`` when the
field is right, else what is wrong and how to put it right, in words for the screen.

A field left empty says nothing until the visitor moves on (``required``): an error in red
under a field they have not reached yet would only frighten them.
"""

from __future__ import annotations

import itertools
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from kiosk.contract import limits
from kiosk.contract.front_desk import CREDENTIAL_PATTERN, EMAIL_PATTERN
from kiosk.core.i18n import Plural, _

# The contract's limits: what the kiosk accepts as typed is what the cloud accepts.
NAME_MAX = limits.PERSON_NAME_MAX
ADDRESS_MAX = limits.ADDRESS_MAX  # an address line, an organization, a title
CREDENTIAL_MAX = limits.CREDENTIAL_MAX
EMAIL_MAX = limits.EMAIL_MAX
PIN_DIGITS = (4, 8)
OLDEST_YEARS = 120
PHONE_DIGITS = 10  # a North American number, without the leading 1


@dataclass(frozen=True)
class Problem:
    """What is wrong with a field, as words still to be translated, and their values."""

    words: str | Plural
    values: dict[str, Any] = field(default_factory=dict)


def required(text: str) -> Problem | None:
    """An empty field, once the visitor has moved past it."""
    return Problem(_("This is needed.")) if not text.strip() else None


def check_name(text: str) -> Problem | None:
    """A first or last name: letters in any alphabet, with spaces, hyphens and apostrophes."""
    name = text.strip()
    if not name:
        return None
    if len(name) > NAME_MAX:
        return _too_long(NAME_MAX)
    if not any(ch.isalpha() for ch in name) or not all(
        ch.isalpha() or ch in " -'’." or unicodedata.category(ch) == "Mn" for ch in name
    ):
        return Problem(_("Use letters only (spaces, hyphens and apostrophes are fine)."))
    return None


def check_birth_date(text: str, today: date) -> Problem | None:
    """A date of birth typed as MM/DD/YYYY (the keypad's digits; the slashes come by themselves)."""
    digits = "".join(ch for ch in text if ch.isdigit())
    if not digits:
        return None
    if len(digits) < 8:
        return Problem(_("Type the month, the day and the year: MM/DD/YYYY."))
    month, day, year = int(digits[:2]), int(digits[2:4]), int(digits[4:8])
    try:
        born = date(year, month, day)
    except ValueError:
        return Problem(_("That date does not exist. Type it as MM/DD/YYYY."))
    if born >= today:
        return Problem(_("A date of birth is in the past."))
    if today.year - born.year > OLDEST_YEARS:
        return Problem(_("Check the year: type all four digits."))
    return None


def birth_date_shown(text: str) -> str:
    """The digits typed so far, with the slashes a date needs: "07/04/19"."""
    digits = "".join(ch for ch in text if ch.isdigit())[:8]
    parts = [digits[:2], digits[2:4], digits[4:]]
    return "/".join(part for part in parts if part)


def check_phone(text: str) -> Problem | None:
    """Ten digits; a leading 1 and the usual punctuation are allowed."""
    digits = "".join(ch for ch in text if ch.isdigit())
    if not digits:
        return None
    if any(not (ch.isdigit() or ch in " ()-.+") for ch in text):
        return Problem(_("Use digits only."))
    if len(digits) == PHONE_DIGITS + 1 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != PHONE_DIGITS:
        return Problem(
            Plural(
                "A phone number has {count} digit, with the area code.",
                "A phone number has {count} digits, with the area code.",
            ),
            {"count": PHONE_DIGITS},
        )
    return None


def check_email(text: str) -> Problem | None:
    email = text.strip()
    if not email:
        return None
    if len(email) > EMAIL_MAX:
        return _too_long(EMAIL_MAX)
    if "@" not in email:
        return Problem(_("An email address has an @, as in name@example.com."))
    if not EMAIL_PATTERN.fullmatch(email):
        return Problem(_("Check the address: it looks like name@example.com."))
    return None


def check_address(text: str) -> Problem | None:
    """One line of a street address: a number and a street."""
    address = text.strip()
    if not address:
        return None
    if len(address) > ADDRESS_MAX:
        return _too_long(ADDRESS_MAX)
    if not any(ch.isdigit() for ch in address) or not any(ch.isalpha() for ch in address):
        return Problem(_("Give the number and the street, as in 1200 Main Street."))
    return None


def check_text(text: str, longest: int) -> Problem | None:
    """An organization or a title: any words, not too long."""
    return _too_long(longest) if len(text.strip()) > longest else None


def check_credential(text: str) -> Problem | None:
    """A bar or other credential number, as printed on the card."""
    number = text.strip().upper()
    if not number:
        return None
    if len(number) > CREDENTIAL_MAX:
        return _too_long(CREDENTIAL_MAX)
    if not CREDENTIAL_PATTERN.fullmatch(number):
        return Problem(_("Use the letters and digits printed on the card."))
    return None


def check_pin(pin: str) -> Problem | None:
    """The visitor's own PIN for the lobby: 4 to 8 digits, not one digit over and over, not a
    run like 1234."""
    if not pin:
        return None
    least, most = PIN_DIGITS
    if not pin.isdigit() or not pin.isascii():
        return Problem(_("Use digits only."))
    if not least <= len(pin) <= most:
        return Problem(_("A PIN has {least} to {most} digits."), {"least": least, "most": most})
    steps = {(int(b) - int(a)) % 10 for a, b in itertools.pairwise(pin)}
    if steps <= {0} or steps == {1} or steps == {9}:
        return Problem(_("That PIN is too easy to guess. Choose another."))
    return None


def check_pin_again(pin: str, again: str) -> Problem | None:
    """The PIN typed a second time."""
    if not again or (len(again) < len(pin) and pin.startswith(again)):
        return None
    return Problem(_("The two PINs are not the same. Type it again.")) if again != pin else None


def _too_long(most: int) -> Problem:
    return Problem(
        Plural("At most {count} character.", "At most {count} characters."), {"count": most}
    )
