"""Checking in at a lobby station: the confirmation code and the visitor's last name, checked
against the schedule's verifiers off the UI's way, so it works offline.

A code that matches nothing is counted kiosk-wide (``CheckInPause``); a right code for a visit
that cannot start here now (too early, too late, cancelled, another station) is not: the
visitor is told what to do instead.
"""

from __future__ import annotations

import asyncio
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from kiosk.core.clock import Clock
from kiosk.core.credentials import check_verifier
from kiosk.core.i18n import Language, Plural, _, words_with_values
from kiosk.core.verifiers import Verifiers
from kiosk.core.visits import CANCELLED, Visit, join_window_opens

CODE_MAX_CHARS = 16
NAME_MAX_CHARS = 40
CODE_CHARACTERS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-")
WRONG_CODES_BEFORE_PAUSE = 5
PAUSE_S = 60
# Less than this before the end, a visit is not worth the walk to the station.
TOO_LATE_BEFORE_END = timedelta(minutes=2)

CODE, NAME, CHECKING = "code", "name", "checking"


@dataclass(frozen=True)
class CheckInView:
    """What the check-in screen shows, in the reader's language."""

    step: str  # code | name | checking
    title: str
    instruction: str
    code: str  # as typed
    name: str  # as typed
    message: str = ""  # what went wrong and what to do next
    paused: str = ""  # check-in is paused for everyone: why and for how long
    enter_label: str = ""  # "Next" after the code, "Check in" after the name


class CheckInPause:
    """Wrong codes from anyone at this station; five in a row pause check-in for a minute.

    Kiosk-wide: a lobby station has no idea who is typing, and guessing a code is the same
    attack whoever's name goes with it. A right code starts the count again.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._wrong = 0
        self._until = 0.0

    def wait_s(self) -> float:
        return max(0.0, self._until - self._clock.monotonic())

    def failed(self) -> bool:
        """Count one wrong code; True when it starts a pause."""
        self._wrong += 1
        if self._wrong < WRONG_CODES_BEFORE_PAUSE:
            return False
        self._wrong = 0
        self._until = self._clock.monotonic() + PAUSE_S
        return True

    def succeeded(self) -> None:
        self._wrong = 0

    @property
    def tries_left(self) -> int:
        return WRONG_CODES_BEFORE_PAUSE - self._wrong


def name_words(text: str) -> list[str]:
    """A name as comparable words: no accents, no case, no punctuation ("O'Brien" is "obrien")."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch)).casefold()
    for separator in "-‐.,":
        plain = plain.replace(separator, " ")
    return ["".join(ch for ch in word if ch.isalnum()) for word in plain.split()]


def last_name_matches(display_name: str, typed: str) -> bool:
    """Whether ``typed`` is the last name in ``display_name`` ("B. de la Cruz": "de la Cruz",
    "Cruz", "DELACRUZ"), whatever its accents, case, hyphens or spaces."""
    wanted = "".join(name_words(typed))
    words = [word for word in name_words(display_name) if word]
    if not wanted or not words:
        return False
    # The first word is a first name or an initial, unless it is the only one.
    first = 1 if len(words) > 1 else 0
    return any("".join(words[k:]) == wanted for k in range(first, len(words)))


def _find(visits: list[tuple[Visit, str]], code: str, decoy: str) -> Visit | None:
    """The visit whose (opened) verifier takes ``code`` (scrypt, so in a worker thread)."""
    if not visits:
        check_verifier(code, decoy)  # as long as a real check: the name's existence stays hidden
        return None
    return next((visit for visit, verifier in visits if check_verifier(code, verifier)), None)


class CheckIn:
    """One visitor at the check-in keypad, from the first key to their visit or back to idle."""

    def __init__(
        self,
        *,
        kiosk_id: str,
        visits: Callable[[], Iterable[Visit]],
        pause: CheckInPause,
        clock: Clock,
        verifiers: Verifiers,
        event: Callable[[str, dict[str, Any]], None],
        checked_in: Callable[[Visit], None],
        changed: Callable[[], None],
    ) -> None:
        """``visits``: every visit the lobby's schedule holds, other stations' included."""
        self._kiosk_id = kiosk_id
        self._visits = visits
        self._pause = pause
        self._clock = clock
        self._verifiers = verifiers
        self._event = event
        self._checked_in = checked_in
        self._changed = changed
        self.step = CODE
        self.code = ""
        self.name = ""
        self._message: tuple[str | Plural, dict[str, Any]] | None = None
        self._pausing = False  # the message is the pause's, and goes when the pause does
        self._check: asyncio.Task[None] | None = None

    # --- intents ---------------------------------------------------------------------------

    def key(self, text: str) -> None:
        if self.step == CODE:
            text = text.upper()
            if all(ch in CODE_CHARACTERS for ch in text):
                self.code = (self.code + text)[:CODE_MAX_CHARS]
        elif self.step == NAME and all(ch.isprintable() for ch in text):
            self.name = (self.name + text)[:NAME_MAX_CHARS]
        self._changed()

    def backspace(self) -> None:
        if self.step == CODE:
            self.code = self.code[:-1]
        elif self.step == NAME:
            self.name = self.name[:-1]
        self._changed()

    def enter(self) -> None:
        """Next (after the code) or Check in (after the name)."""
        if self._pause.wait_s() > 0:
            return
        if self.step == CODE:
            if not self.code:
                self._say(_("Type the confirmation code from your visit letter or text message."))
            else:
                self.step, self._message = NAME, None
        elif self.step == NAME:
            if not "".join(name_words(self.name)):
                self._say(_("Type your last name, as you gave it when you booked the visit."))
            else:
                self._submit()
        self._changed()

    def back(self) -> bool:
        """From the name to the code; False at the code (the screen then leaves)."""
        if self.step != NAME:
            return False
        self.step, self._message = CODE, None
        self._changed()
        return True

    def close(self) -> None:
        """Forget everything typed; a check still running is dropped."""
        if self._check is not None:
            self._check.cancel()
        self.code, self.name, self._message = "", "", None

    # --- the view --------------------------------------------------------------------------

    def view(self, language: Language, zone: ZoneInfo) -> CheckInView:
        text = language.text
        wait = self._pause.wait_s()
        message = ""
        # "Too many wrong codes." over an open keypad would say it is still paused.
        if self._message is not None and (wait > 0 or not self._pausing):
            words, values = self._message
            message = words_with_values(language, zone, words, values)
        paused = ""
        if wait > 0:
            seconds = int(wait + 0.999)
            paused = language.ngettext(
                "Check-in is paused for {seconds} second. Please ask the lobby officer.",
                "Check-in is paused for {seconds} seconds. Please ask the lobby officer.",
                seconds,
            ).format(seconds=seconds)
        if self.step == CODE:
            instruction, enter = _("Type your confirmation code"), _("Next")
        elif self.step == NAME:
            instruction, enter = _("Type your last name"), _("Check in")
        else:
            instruction, enter = _("Checking…"), _("Check in")
        return CheckInView(
            step=self.step,
            title=text(_("Check in for your visit")),
            instruction=text(instruction),
            code=self.code,
            name=self.name,
            message=message,
            paused=paused,
            enter_label=text(enter),
        )

    # --- the rules -------------------------------------------------------------------------

    def _submit(self) -> None:
        code, name = self.code.strip(), self.name
        candidates = [
            (visit, self._verifiers.code(visit.code_verifier))
            for visit in self._visits()
            if visit.code_verifier and last_name_matches(visit.visitor_name, name)
        ]
        self.step, self._message = CHECKING, None
        # scrypt is ~50 ms of CPU a visit: in a worker thread, handed over before the next frame.
        loop = asyncio.get_running_loop()
        found = loop.run_in_executor(None, _find, candidates, code, self._verifiers.decoy())
        self._check = loop.create_task(self._decide(found))

    async def _decide(self, found: asyncio.Future[Visit | None]) -> None:
        visit = await found
        self.step = CODE
        if visit is None:
            self._wrong()
        else:
            self._pause.succeeded()
            self._right_code(visit)
        self._changed()

    def _wrong(self) -> None:
        paused = self._pause.failed()
        self._event("check_in_failed", {"paused": paused})
        if paused:
            self.code, self.name = "", ""
            self._say(_("Too many wrong codes."), pause=True)
        elif self._pause.tries_left == 1:
            # Both stay typed, so a slip in either can be seen and fixed.
            self._say(
                _(
                    "The code or the last name does not match a visit at this station. "
                    "Check both and try again. This is the last try before a pause."
                )
            )
        else:
            self._say(
                Plural(
                    "The code or the last name does not match a visit at this station. "
                    "Check both and try again. {tries} try left.",
                    "The code or the last name does not match a visit at this station. "
                    "Check both and try again. {tries} tries left.",
                    count="tries",
                ),
                tries=self._pause.tries_left,
            )

    def _right_code(self, visit: Visit) -> None:
        now = self._clock.now()
        refusal = refusal_for(visit, now, self._kiosk_id)
        if refusal is None:
            self._event("visitor_checked_in", {"visit_id": visit.visit_id})
            self.close()
            self._checked_in(visit)
            return
        words, values = refusal
        self._event("check_in_refused", {"visit_id": visit.visit_id, "reason": values["reason"]})
        self.code, self.name = "", ""
        self._say(words, **values)

    def _say(self, words: str | Plural, *, pause: bool = False, **values: Any) -> None:
        """``pause``: the message is about the pause, and is over when the pause is."""
        self._message = (words, values)
        self._pausing = pause


def refusal_for(visit: Visit, now: datetime, kiosk_id: str) -> tuple[str, dict[str, Any]] | None:
    """Why this visit cannot be checked in for here and now, in words; None when it can.

    The values carry ``reason``: cancelled, elsewhere, late or early.
    """
    if visit.status == CANCELLED:
        return (
            _("This visit was cancelled. Please ask the lobby officer about a new time."),
            {"reason": "cancelled"},
        )
    if not visit.held_at(kiosk_id):
        return (
            _("Your visit is at {station}. Please check in there."),
            {"reason": "elsewhere", "station": visit.station_name or visit.station_kiosk_id},
        )
    if now >= visit.ends_at - TOO_LATE_BEFORE_END:
        return (
            _(
                "Your visit ends at {end}: it is too late to check in. "
                "Please ask the lobby officer about a new time."
            ),
            {"reason": "late", "end": visit.ends_at},
        )
    opens = join_window_opens(visit)
    if now < opens:
        if opens - now > timedelta(hours=12):
            words = _("Your visit is on {day} at {time}. Please check in from {opens} that day.")
        else:
            words = _("Your visit begins at {time}; check in from {opens}.")
        return (
            words,
            {"reason": "early", "day": visit.starts_at, "time": visit.starts_at, "opens": opens},
        )
    return None
