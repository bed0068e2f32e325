"""Signing in at a housing kiosk: a badge or a typed ID, then the PIN, checked off the UI's way.

Answers never tell which part was wrong, nor whether an ID exists: an unknown ID is asked for
its PIN, checked against a verifier nobody's PIN matches (so it takes as long) and counted
like any other.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from kiosk.core.clock import Clock
from kiosk.core.credentials import badge_lookup, check_verifier
from kiosk.core.i18n import Language, Plural, _, words_with_values
from kiosk.core.lockout import Lockouts, Pace
from kiosk.core.verifiers import Verifiers
from kiosk.store.residents import ResidentsRepository

log = logging.getLogger(__name__)

ID_MAX_CHARS = 20
PIN_MAX_CHARS = 8
PIN_MIN_CHARS = 4
ABANDONED_S = 45  # a keypad left half-typed goes back to the idle screen, entry wiped
ID_CHARACTERS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-")

IDENTIFY, PIN, CHECKING = "identify", "pin", "checking"


@dataclass(frozen=True)
class SignInView:
    """What the sign-in screen shows, in the reader's language."""

    step: str  # identify | pin | checking
    title: str
    instruction: str
    entered_id: str  # the ID as typed (a badge shows nothing here)
    pin_mask: str  # one dot per digit typed
    message: str = ""  # what went wrong and what to do next
    wait: str = ""  # the kiosk is pausing between tries: for how long, in words
    greeting: str = ""  # "Hello, M. Alvarez" after a badge (the wristband is theirs)
    enter_label: str = ""  # the keypad's Enter key: "Next" or "Sign in"


@dataclass(frozen=True)
class SignedIn:
    """A resident whose PIN matched."""

    resident: dict[str, Any]
    method: str  # badge | keypad


class SignIn:
    """One person's attempt at the keypad, from the first key to a session or back to idle."""

    def __init__(
        self,
        *,
        residents: ResidentsRepository,
        lockouts: Lockouts,
        pace: Pace,
        clock: Clock,
        verifiers: Verifiers,
        event: Callable[[str, dict[str, Any]], None],
        signed_in: Callable[[SignedIn], None],
        changed: Callable[[], None],
        title: str = _("Sign in"),
    ) -> None:
        """``title``: what the screen is for ("Sign in", or confirming a visit's resident)."""
        self._residents = residents
        self._title = title
        self._lockouts = lockouts
        self._pace = pace
        self._clock = clock
        self._verifiers = verifiers
        self._event = event
        self._signed_in = signed_in
        self._changed = changed
        self.step = IDENTIFY
        self.method = "keypad"
        self.entered_id = ""
        self._pin = ""
        self._resident: dict[str, Any] | None = None
        self._message: tuple[str | Plural, dict[str, Any]] | None = None
        self._pausing = False
        self._touched = clock.monotonic()
        self._check: asyncio.Task[None] | None = None

    # --- intents ---------------------------------------------------------------------------

    def key(self, text: str) -> None:
        self._touch()
        if self.step == IDENTIFY:
            text = text.upper()
            if all(ch in ID_CHARACTERS for ch in text):
                self.entered_id = (self.entered_id + text)[:ID_MAX_CHARS]
        elif self.step == PIN and text.isdigit() and text.isascii():
            self._pin = (self._pin + text)[:PIN_MAX_CHARS]
        self._changed()

    def backspace(self) -> None:
        self._touch()
        if self.step == IDENTIFY:
            self.entered_id = self.entered_id[:-1]
        elif self.step == PIN:
            self._pin = self._pin[:-1]
        self._changed()

    def enter(self) -> None:
        """Next (after the ID) or Sign in (after the PIN)."""
        self._touch()
        if self.step == IDENTIFY:
            self._identify_typed()
        elif self.step == PIN:
            self._submit_pin()
        self._changed()

    def badge(self, badge_id: str, sealed_badge_key: str | None) -> None:
        """A wristband on the reader: it names the resident at once; the PIN is the secret."""
        self._touch()
        if self.step == CHECKING:
            return
        resident = None
        badge_key = self._verifiers.badge_key(sealed_badge_key)
        if badge_key is not None:
            resident = self._residents.by_badge_lookup(badge_lookup(badge_id, badge_key))
        self._pin = ""
        if resident is None:
            self.step, self.entered_id, self._resident = IDENTIFY, "", None
            self._say(_("This badge is not known at this kiosk. Type your ID instead."))
        else:
            self.method, self.entered_id, self._resident = "badge", "", resident
            self.step = PIN
            self._message = None
            self._refuse_if_locked()
        self._changed()

    def cancel(self) -> None:
        """Back: from the PIN to the ID; the screen leaves from the ID step."""
        self._touch()
        if self.step == PIN:
            self.step, self._pin, self._resident, self.method = IDENTIFY, "", None, "keypad"
            self._message = None
        self._changed()

    def refuse(self, words: str | Plural, **values: Any) -> None:
        """Start again at the ID with a reason (a visit's confirmation by someone else)."""
        self.step, self.entered_id, self._pin, self._resident = IDENTIFY, "", "", None
        self.method = "keypad"
        self._say(words, **values)
        self._changed()

    @property
    def reader_language(self) -> str | None:
        """The language of the resident a badge named; a typed ID names nobody on screen, so
        that the kiosk never tells which IDs exist."""
        if self.method == "badge" and self._resident is not None:
            return self._resident.get("language")
        return None

    def abandoned(self) -> bool:
        return self.step != CHECKING and self._clock.monotonic() - self._touched >= ABANDONED_S

    def close(self) -> None:
        """Forget everything typed; a check still running is dropped."""
        if self._check is not None:
            self._check.cancel()
        self._pin, self.entered_id, self._resident = "", "", None

    # --- the view --------------------------------------------------------------------------

    def view(self, language: Language, zone: ZoneInfo, badge_works: bool = True) -> SignInView:
        text = language.text
        wait_s = 0.0 if self._message is not None and self._pausing else self._pace.wait_s()
        wait = ""
        if wait_s > 0:
            seconds = int(wait_s + 0.999)
            wait = language.ngettext(
                "Please wait {seconds} second before the next try.",
                "Please wait {seconds} seconds before the next try.",
                seconds,
            ).format(seconds=seconds)
        message = ""
        if self._message is not None:
            words, values = self._message
            message = words_with_values(language, zone, words, values)
        greeting = ""
        if self.method == "badge" and self._resident is not None:
            greeting = text(_("Hello, {name}")).format(name=self._resident["display_name"])
        title = self._title
        if self.step == IDENTIFY:
            enter = _("Next")
            instruction = (
                _("Tap your badge, or type your ID or booking number")
                if badge_works
                else _("Type your ID or booking number")
            )
        elif self.step == PIN:
            instruction, enter = _("Type your PIN"), _("Sign in")
        else:
            instruction, enter = _("Checking…"), _("Sign in")
        return SignInView(
            step=self.step,
            title=text(title),
            instruction=text(instruction),
            entered_id=self.entered_id,
            pin_mask="●" * len(self._pin),
            message=message,
            wait=wait,
            greeting=greeting,
            enter_label=text(enter),
        )

    # --- the rules -------------------------------------------------------------------------

    def _identify_typed(self) -> None:
        typed = self.entered_id.strip()
        if not typed:
            self._say(_("Type your ID or booking number, then touch Next."))
            return
        self._resident = self._residents.by_typed_id(typed)
        self.method, self.step, self._pin, self._message = "keypad", PIN, "", None
        self._refuse_if_locked()

    def _subject(self) -> tuple[str, bool]:
        if self._resident is not None:
            return self._resident["inmate_id"], True
        return self.entered_id.strip(), False

    def _refuse_if_locked(self) -> bool:
        subject, known = self._subject()
        until = self._lockouts.locked_until(subject, known)
        if until is None:
            return False
        self._say(
            _("Sign-in for this ID is paused until {time}. Please try again then."),
            pause=True,
            time=until,
        )
        self.step = IDENTIFY if self.method == "keypad" else PIN
        self._pin = ""
        return True

    def _submit_pin(self) -> None:
        if self._pace.wait_s() > 0:
            return  # the view says how long; the PIN stays typed
        if len(self._pin) < PIN_MIN_CHARS:
            self._say(
                Plural(
                    "Your PIN has at least {count} digit.", "Your PIN has at least {count} digits."
                ),
                count=PIN_MIN_CHARS,
            )
            return
        if self._refuse_if_locked():
            return
        subject, known = self._subject()
        verifier = (
            self._verifiers.pin(self._resident["pin_verifier"])
            if self._resident is not None
            else self._verifiers.decoy()
        )
        pin, self._pin = self._pin, ""
        self.step, self._message = CHECKING, None
        # scrypt takes ~50 ms of CPU: in a worker thread, so the screen keeps drawing. Handed to
        # the thread now, not when the task first runs: that is after the next frame is drawn.
        loop = asyncio.get_running_loop()
        checked = loop.run_in_executor(None, check_verifier, pin, verifier)
        self._check = loop.create_task(self._verify(checked, subject, known))

    async def _verify(self, checked: asyncio.Future[bool], subject: str, known: bool) -> None:
        ok = await checked
        if ok and known:
            # The kiosk-wide pace is not reset: someone with a PIN of their own could otherwise
            # reset it between guesses at another's. It fades after five quiet minutes.
            self._lockouts.succeeded(subject)
            resident, method = self._resident, self.method
            self.close()
            self._signed_in(SignedIn(resident, method))
            return
        self._failed(subject, known)
        self._changed()

    def _failed(self, subject: str, known: bool) -> None:
        self._pace.failed()
        minutes = self._lockouts.failed(subject, known)
        self._event(
            "login_failed",
            {"method": self.method, "inmate_id": subject if known else None, "known_id": known},
        )
        if minutes is not None:
            self._event("lockout", {"inmate_id": subject if known else None, "minutes": minutes})
            # The end time, not only the length: the message stays up while nobody is counting.
            self._say(
                Plural(
                    "Too many wrong tries. Sign-in for this ID is paused for {minutes} minute, "
                    "until {time}.",
                    "Too many wrong tries. Sign-in for this ID is paused for {minutes} minutes, "
                    "until {time}.",
                    count="minutes",
                ),
                pause=True,
                minutes=minutes,
                time=self._lockouts.locked_until(subject, known),
            )
        elif self.method == "badge":
            # The tries pick the form (here and below): no pause lasts one minute
            # (LOCKOUT_MINUTES), so "a pause of 5 minutes" is right in every form.
            self._say(
                Plural(
                    "Wrong PIN. {tries} try left before a {minutes}-minute pause.",
                    "Wrong PIN. {tries} tries left before a {minutes}-minute pause.",
                    count="tries",
                ),
                tries=self._lockouts.tries_left(subject, known),
                minutes=self._lockouts.next_lockout_minutes(subject, known),
            )
        else:
            self._say(
                Plural(
                    "The ID or the PIN is not right. {tries} try left before a "
                    "{minutes}-minute pause.",
                    "The ID or the PIN is not right. {tries} tries left before a "
                    "{minutes}-minute pause.",
                    count="tries",
                ),
                tries=self._lockouts.tries_left(subject, known),
                minutes=self._lockouts.next_lockout_minutes(subject, known),
            )
        # Typed IDs go back to the ID, kept, so a typo there can be seen and fixed.
        self.step = PIN if self.method == "badge" and minutes is None else IDENTIFY
        if self.method == "badge" and minutes is not None:
            self._resident = None
            self.method = "keypad"

    def _say(self, words: str | Plural, *, pause: bool = False, **values: Any) -> None:
        """``pause``: the message is about an ID's pause, which a seconds' wait would muddle."""
        self._message = (words, values)
        self._pausing = pause

    def _touch(self) -> None:
        self._touched = self._clock.monotonic()
