"""Check my application, without a window: the number and last name are checked before they
are asked, and every answer, or none, is said in words the visitor understands."""

from __future__ import annotations

import asyncio
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kiosk.core.front_desk.status_check import StatusCheck
from kiosk.core.i18n import Language, words_with_values


class Facility:
    """The cloud's side of the port: answers as plain values, or none (offline, too slow)."""

    def __init__(self, answer: dict[str, Any] | None) -> None:
        self.answer = answer
        self.asked: list[tuple[str, dict[str, Any]]] = []

    async def __call__(self, kind: str, **fields: Any) -> dict[str, Any] | None:
        self.asked.append((kind, fields))
        return self.answer


def said(check: StatusCheck, code: str = "en") -> str:
    problem = asyncio.run(check.check())
    return words_with_values(Language(code), ZoneInfo("UTC"), problem.words, problem.values)


@pytest.mark.parametrize(
    ("answer", "english"),
    [
        ({"status": "received"}, "Received. The facility usually answers within 1 business day."),
        ({"status": "approved"}, "Approved. You can book a visit now."),
        (
            {"status": "not_approved", "reason": "The ID photo is too dark to read."},
            "Not approved: The ID photo is too dark to read.",
        ),
        (
            {"status": "unknown"},
            "No application has that number and last name. Check both and try again.",
        ),
        (
            None,
            "The facility cannot be reached right now. Try again in a few minutes, "
            "or ask the lobby officer.",
        ),
    ],
)
def test_each_answer_is_said_in_words(answer, english) -> None:
    facility = Facility(answer)
    assert said(StatusCheck(facility, number="ap-7kx9qh", last_name=" Álvarez ")) == english
    assert facility.asked == [
        ("application_status", {"application_number": "AP-7KX9QH", "last_name": "Álvarez"})
    ]


def test_the_answer_days_are_counted_in_the_visitors_language() -> None:
    check = StatusCheck(Facility({"status": "received"}), answer_days=2, number="7KX9QH")
    check.last_name = "Alvarez"
    assert said(check, "es") == "Recibida. El centro suele responder en 2 días hábiles."


@pytest.mark.parametrize(
    ("number", "last_name", "english"),
    [
        ("", "Alvarez", "An application number looks like AP-7KX9QH."),
        ("AP-7KX9", "Alvarez", "An application number looks like AP-7KX9QH."),
        ("AP-7KX9QH", " - ", "Type the last name given on the application."),
    ],
)
def test_what_is_not_enough_is_said_and_nothing_is_asked(number, last_name, english) -> None:
    facility = Facility({"status": "approved"})
    assert said(StatusCheck(facility, number=number, last_name=last_name)) == english
    assert facility.asked == []
