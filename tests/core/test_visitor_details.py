"""What a visitor types when registering at the lobby, checked as typed: each wrong field says
what is wrong and how to put it right, in the visitor's language."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from kiosk.core.front_desk.visitor_details import (
    Problem,
    birth_date_shown,
    check_address,
    check_birth_date,
    check_credential,
    check_email,
    check_name,
    check_phone,
    check_pin,
    check_pin_again,
    check_text,
    required,
)
from kiosk.core.i18n import Language, Plural, words_with_values

TODAY = date(2026, 12, 7)
ZONE = ZoneInfo("America/Chicago")


def said(problem: Problem | None, code: str = "en") -> str | None:
    """The problem as the screen says it."""
    if problem is None:
        return None
    return words_with_values(Language(code), ZONE, problem.words, problem.values)


@pytest.mark.parametrize(
    "name", ["Ana", "María José", "O'Brien", "Smith-Jones", "de la Cruz", "Nguyễn", "J."]
)
def test_names_in_any_alphabet_with_their_punctuation_are_right(name: str) -> None:
    assert check_name(name) is None


@pytest.mark.parametrize("name", ["R2D2", "Ana!", "---", "@home"])
def test_a_name_with_digits_or_signs_says_to_use_letters(name: str) -> None:
    assert said(check_name(name)) == "Use letters only (spaces, hyphens and apostrophes are fine)."


def test_a_name_too_long_says_how_long_it_may_be_in_both_languages() -> None:
    problem = check_name("A" * 51)
    assert said(problem) == "At most 50 characters."
    assert said(problem, "es") == "Como máximo 50 caracteres."


def test_an_empty_field_says_nothing_until_the_visitor_moves_on() -> None:
    checks = (check_name, check_phone, check_email, check_address, check_credential, check_pin)
    assert all(check("") is None for check in checks)
    assert check_birth_date("", TODAY) is None
    assert said(required("  ")) == "This is needed."
    assert required("Ana") is None


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("07041990", None),
        ("0704199", "Type the month, the day and the year: MM/DD/YYYY."),
        ("02301990", "That date does not exist. Type it as MM/DD/YYYY."),
        ("13011990", "That date does not exist. Type it as MM/DD/YYYY."),
        ("02292024", None),  # a leap day
        ("02292023", "That date does not exist. Type it as MM/DD/YYYY."),
        ("12082026", "A date of birth is in the past."),
        ("12072026", "A date of birth is in the past."),
        ("01011890", "Check the year: type all four digits."),
    ],
)
def test_a_date_of_birth_is_a_real_day_in_the_past(typed: str, words: str | None) -> None:
    assert said(check_birth_date(typed, TODAY)) == words


def test_the_date_shows_its_slashes_as_the_digits_come() -> None:
    assert [birth_date_shown("07041990"[:n]) for n in (1, 2, 3, 5, 8)] == [
        "0",
        "07",
        "07/0",
        "07/04/1",
        "07/04/1990",
    ]


@pytest.mark.parametrize(
    "phone", ["5551234567", "(555) 123-4567", "1 555 123 4567", "555.123.4567"]
)
def test_a_ten_digit_phone_in_any_usual_writing_is_right(phone: str) -> None:
    assert check_phone(phone) is None


def test_a_phone_too_short_says_how_many_digits_in_both_languages() -> None:
    assert said(check_phone("555123")) == "A phone number has 10 digits, with the area code."
    assert said(check_phone("555123"), "es") == (
        "Un número de teléfono tiene 10 dígitos, con el código de área."
    )
    assert said(check_phone("555-CALL-NOW")) == "Use digits only."


@pytest.mark.parametrize(
    ("email", "words"),
    [
        ("ana.diaz@example.com", None),
        ("o'brien+visits@mail.example.org", None),
        ("ana.diaz.example.com", "An email address has an @, as in name@example.com."),
        ("ana@example", "Check the address: it looks like name@example.com."),
        ("ana@@example.com", "Check the address: it looks like name@example.com."),
        ("ana diaz@example.com", "Check the address: it looks like name@example.com."),
    ],
)
def test_an_email_address_has_a_name_an_at_and_a_domain(email: str, words: str | None) -> None:
    assert said(check_email(email)) == words


def test_an_address_has_a_number_and_a_street() -> None:
    assert check_address("1200 Main Street, Apt 4") is None
    assert said(check_address("Main Street")) == (
        "Give the number and the street, as in 1200 Main Street."
    )


def test_a_credential_is_the_letters_and_digits_on_the_card() -> None:
    assert check_credential("CA-284751") is None
    assert check_credential("bar 2019/7731") is None  # typed in small letters: taken as capitals
    assert said(check_credential("#28475")) == "Use the letters and digits printed on the card."
    assert check_text("Public Defender's Office", 100) is None
    assert said(check_text("x" * 61, 60)) == "At most 60 characters."


@pytest.mark.parametrize(
    ("pin", "words"),
    [
        ("4831", None),
        ("90210573", None),
        ("483", "A PIN has 4 to 8 digits."),
        ("483104829", "A PIN has 4 to 8 digits."),
        ("48a1", "Use digits only."),
        ("1111", "That PIN is too easy to guess. Choose another."),
        ("1234", "That PIN is too easy to guess. Choose another."),
        ("7890", "That PIN is too easy to guess. Choose another."),  # 9 then 0: still a run
        ("4321", "That PIN is too easy to guess. Choose another."),
    ],
)
def test_a_visitors_own_pin_is_four_to_eight_digits_not_easy_to_guess(
    pin: str, words: str | None
) -> None:
    assert said(check_pin(pin)) == words


def test_the_pin_typed_again_must_match_and_says_so_only_once_it_differs() -> None:
    assert check_pin_again("4831", "") is None
    assert check_pin_again("4831", "48") is None  # still typing it
    assert check_pin_again("4831", "4831") is None
    assert said(check_pin_again("4831", "49")) == "The two PINs are not the same. Type it again."
    assert said(check_pin_again("4831", "48311")) == "The two PINs are not the same. Type it again."


def test_every_problem_is_words_for_the_catalog() -> None:
    for problem in (check_phone("1"), check_name("A" * 60), check_pin("1")):
        assert isinstance(problem.words, str | Plural)
