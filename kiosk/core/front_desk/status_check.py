"""Check my application: the application number and the last name go to the facility, and
its answer is said in words. This needs the cloud: offline, or with no answer in time, the
visitor is told so, and what to do instead."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kiosk.core.check_in import name_words
from kiosk.core.front_desk.visitor_details import Problem
from kiosk.core.i18n import Plural, _

# The cloud's answer as plain values, or None: offline, or no answer within the wait.
Ask = Callable[..., Awaitable[Mapping[str, Any] | None]]
NUMBER_PREFIX = "AP-"
# Offline, or no answer within the wait: what the visitor is told, whatever they asked.
NO_ANSWER = Problem(
    _(
        "The facility cannot be reached right now. Try again in a few minutes, "
        "or ask the lobby officer."
    )
)


@dataclass
class StatusCheck:
    """One visitor's check; a new visitor gets a new one."""

    ask: Ask
    answer_days: int = 1
    number: str = ""
    last_name: str = ""
    checking: bool = False
    said: Problem | None = field(default=None)

    def problem(self) -> Problem | None:
        """What keeps the check from being asked: an empty or malformed number, no name."""
        digits = self.number.strip().upper().removeprefix(NUMBER_PREFIX)
        if len(digits) != 6 or not digits.isalnum():
            return Problem(_("An application number looks like AP-7KX9QH."))
        if not "".join(name_words(self.last_name)):
            return Problem(_("Type the last name given on the application."))
        return None

    async def check(self) -> Problem:
        """Ask the facility; what to tell the visitor (also kept in ``said``)."""
        problem = self.problem()
        if problem is not None:
            self.said = problem
            return problem
        number = NUMBER_PREFIX + self.number.strip().upper().removeprefix(NUMBER_PREFIX)
        self.checking = True
        try:
            answer = await self.ask(
                "application_status", application_number=number, last_name=self.last_name.strip()
            )
        finally:
            self.checking = False
        self.said = self._words(answer)
        return self.said

    def _words(self, answer: Mapping[str, Any] | None) -> Problem:
        if answer is None:
            return NO_ANSWER
        status = answer.get("status")
        if status == "received":
            return Problem(
                Plural(
                    "Received. The facility usually answers within {count} business day.",
                    "Received. The facility usually answers within {count} business days.",
                ),
                {"count": self.answer_days},
            )
        if status == "approved":
            return Problem(_("Approved. You can book a visit now."))
        if status == "not_approved":
            return Problem(_("Not approved: {reason}"), {"reason": answer.get("reason") or ""})
        return Problem(_("No application has that number and last name. Check both and try again."))
