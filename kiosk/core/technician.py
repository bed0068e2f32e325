"""Technician mode: a technician's badge and PIN open the maintenance screen.

The technicians are the cloud's (``config.technicians``: a badge lookup and a PIN verifier
each), so a kiosk knows them offline. A technician's badge is tried before the residents':
on the idle or sign-in screen it asks for the technician's PIN; a wrong PIN counts towards the
same kind of pause a resident's does. The maintenance screen closes itself after
:data:`IDLE_CLOSE_S` without a touch: a kiosk left open in a housing unit would be a gift.
Its words are English, the field technicians' working language, whatever the kiosk shows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kiosk.core.clock import Clock
from kiosk.core.credentials import badge_lookup, check_verifier
from kiosk.core.lockout import Lockouts, Pace
from kiosk.core.verifiers import Verifiers

log = logging.getLogger(__name__)

IDLE_CLOSE_S = 120
PIN_MAX_CHARS = 8

PIN, CHECKING, OPEN = "pin", "checking", "open"


def technician_for_badge(
    technicians: Sequence[Mapping[str, Any]], badge_id: str, badge_key: bytes | None
) -> Mapping[str, Any] | None:
    """The technician whose badge this is, or None (then it may be a resident's)."""
    if badge_key is None or not technicians:
        return None
    lookup = badge_lookup(badge_id, badge_key)
    return next((t for t in technicians if t.get("badge_lookup") == lookup), None)


@dataclass(frozen=True)
class MaintenanceRow:
    """One line of the maintenance screen: what, its value, and whether it is well."""

    label: str
    value: str
    state: str = ""  # ok | missing | error, or "" for plain facts


@dataclass(frozen=True)
class TechnicianView:
    """What the technician screen shows (always in English: the technicians' language)."""

    step: str  # pin | checking | open
    name: str
    pin_mask: str = ""
    message: str = ""
    rows: tuple[MaintenanceRow, ...] = ()
    errors: tuple[str, ...] = ()  # the newest warnings and errors of the log, newest first
    selftest: str = ""  # "", "running", or what the last self-test found
    can_reboot: bool = False
    can_restart: bool = False
    closes_in_s: int = IDLE_CLOSE_S


@dataclass
class TechnicianVisit:
    """One technician at the kiosk: the PIN, then the open maintenance screen."""

    technician: Mapping[str, Any]
    lockouts: Lockouts
    verifiers: Verifiers
    pace: Pace
    clock: Clock
    event: Callable[[str, dict[str, Any]], None]
    changed: Callable[[], None]
    step: str = PIN
    message: str = ""
    opened_at: float | None = None
    selftest: str = ""
    _pin: str = ""
    _touched: float = 0.0
    _check: asyncio.Task[None] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._touched = self.clock.monotonic()
        self._refuse_if_locked()

    @property
    def technician_id(self) -> str:
        return str(self.technician["technician_id"])

    @property
    def _subject(self) -> str:
        # Kept beside the residents' failures (a restart ends no pause); the prefix keeps a
        # technician's id from ever naming a resident.
        return f"technician:{self.technician_id}"

    # --- the PIN -------------------------------------------------------------------------

    def key(self, digit: str) -> None:
        self.touched()
        if self.step == PIN and digit.isdigit() and digit.isascii():
            self._pin = (self._pin + digit)[:PIN_MAX_CHARS]
            self.changed()

    def backspace(self) -> None:
        self.touched()
        if self.step == PIN:
            self._pin = self._pin[:-1]
            self.changed()

    def enter(self) -> None:
        self.touched()
        if self.step != PIN or not self._pin or self._refuse_if_locked():
            self.changed()
            return
        if self.pace.wait_s() > 0:
            self.message = "Please wait before the next try."
            self.changed()
            return
        pin, self._pin = self._pin, ""
        self.step, self.message = CHECKING, ""
        self._check = asyncio.get_running_loop().create_task(self._check_pin(pin))
        self.changed()

    async def _check_pin(self, pin: str) -> None:
        verifier = self.verifiers.pin(self.technician.get("pin_verifier"))
        # scrypt takes a tenth of a second: never on the loop that draws the screen.
        matched = await asyncio.get_running_loop().run_in_executor(
            None, check_verifier, pin, verifier
        )
        if self.step != CHECKING:
            return  # closed meanwhile
        if matched:
            self.lockouts.succeeded(self._subject)
            self.pace.succeeded()
            self.step, self.opened_at = OPEN, self.clock.monotonic()
            self.touched()
            log.info("technician %s opened the maintenance screen", self.technician_id)
            self.event("technician_entered", {"technician_id": self.technician_id})
        else:
            self.pace.failed()
            minutes = self.lockouts.failed(self._subject, True)
            self.step = PIN
            self.message = (
                f"Wrong PIN. Technician access is paused for {minutes} minutes."
                if minutes
                else "Wrong PIN. Try again."
            )
            self.event("technician_refused", {"technician_id": self.technician_id})
        self.changed()

    def _refuse_if_locked(self) -> bool:
        until = self.lockouts.locked_until(self._subject, True)
        if until is None:
            return False
        self.message = "Technician access is paused. Try again later."
        return True

    # --- the open screen ---------------------------------------------------------------------

    def touched(self) -> None:
        self._touched = self.clock.monotonic()

    def idle_s(self) -> float:
        return self.clock.monotonic() - self._touched

    def expired(self) -> bool:
        """Left alone for :data:`IDLE_CLOSE_S` (the PIN step too): it closes itself."""
        return self.step != CHECKING and self.idle_s() >= IDLE_CLOSE_S

    def close(self) -> dict[str, Any]:
        """Forget the PIN typed; the details of the ``technician_left`` event, if it was open."""
        if self._check is not None:
            self._check.cancel()
        was_open, self.step, self._pin = self.step == OPEN, PIN, ""
        if not was_open or self.opened_at is None:
            return {}
        return {
            "technician_id": self.technician_id,
            "duration_s": int(self.clock.monotonic() - self.opened_at),
        }

    @property
    def pin_mask(self) -> str:
        return "●" * len(self._pin)


DEVICE_NAMES = {"camera": "Camera", "handset": "Handset", "badge_reader": "Badge reader"}


def maintenance_rows(status: Mapping[str, Any]) -> tuple[MaintenanceRow, ...]:
    """What a technician on a ladder checks first, one line each, from ``Kiosk.status()``
    (the very facts `kiosk-provision status` reads from the status file)."""
    rows = [
        MaintenanceRow(
            "Kiosk", f"{status['kiosk_id']} ({status['role']}), software {status['version']}"
        )
    ]
    hardware = status["hardware"]
    for name, label in DEVICE_NAMES.items():
        state = hardware.get(name, {})
        # The state has its own mark on the screen: the value says what the device is doing.
        value = state.get("detail", "") or state.get("state", "unknown")
        rows.append(MaintenanceRow(label, value, state.get("state", "error")))
    brokers, connected = status["brokers"], status["connected"]
    if not brokers:
        rows.append(MaintenanceRow("Facility network", "offline by configuration", ""))
    else:
        where = ", ".join(brokers)
        rows.append(
            MaintenanceRow(
                "Facility network",
                f"connected to {where}" if connected else f"not connected ({where})",
                "ok" if connected else "error",
            )
        )
    depth = status["outbox_depth"]
    rows.append(
        MaintenanceRow(
            "Outbox",
            f"{depth} waiting to be sent" if depth else "empty",
            "ok" if depth == 0 or connected else "missing",
        )
    )
    rows.append(MaintenanceRow("Schedule version", _version(status["schedule_version"])))
    rows.append(MaintenanceRow("Residents version", _version(status["residents_version"])))
    hours, rest = divmod(int(status["uptime_s"]), 3600)
    rows.append(MaintenanceRow("Running for", f"{hours} h {rest // 60:02d} min"))
    return tuple(rows)


def _version(value: int | None) -> str:
    return "none received yet" if value is None else str(value)
