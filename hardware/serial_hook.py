"""A handset's hook switch wired to a modem status line of a serial port (CTS, DSR, CD or RI).

Many kiosk handsets bring their hook switch out as a bare contact. Wired between an output the
port asserts while it is open (RTS or DTR; pyserial raises both on open) and one of the port's
status inputs, it becomes a line the kiosk can read. pyserial offers no wait for a status line
to change (Linux's TIOCMIWAIT is not exposed, and many USB-serial drivers lack it), so the line
is polled: one ioctl every 10 ms costs next to nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import serial

from hardware.interfaces import HookEvent, HookState
from hardware.listeners import Listeners
from hardware.reconnecting_reader import ReaderStatus, ReconnectingReader

log = logging.getLogger(__name__)

LINES = frozenset({"cts", "dsr", "cd", "ri"})
CLOSED_MEANS = frozenset({"off_hook", "on_hook"})
POLL_INTERVAL_S = 0.01
_OUTPUTS = frozenset({"rts", "dtr"})


class ModemLines(Protocol):
    """The part of ``serial.Serial`` the contact uses."""

    @property
    def cts(self) -> bool: ...
    @property
    def dsr(self) -> bool: ...
    @property
    def cd(self) -> bool: ...
    @property
    def ri(self) -> bool: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class ContactStats:
    """Counts since the contact was built, for telemetry and tests."""

    changes: int = 0  # hook changes emitted
    bounces: int = 0  # changes undone within the debounce time
    reconnects: int = 0  # times the port was opened again after it was lost
    samples: int = 0  # times the line was read


class SerialHookContact(ReaderStatus):
    """Implements :class:`hardware.interfaces.Handset` for a hook contact on ``port``'s ``line``.

    ``line`` is the status input the contact drives (``cts``, ``dsr``, ``cd`` or ``ri``);
    ``closed_means`` is the hook state of a closed contact, an asserted line (``off_hook``:
    the contact closes when the handset is lifted). The line is read every
    ``poll_interval_s``; a change counts once it has held for ``debounce_s``, so a bouncing
    contact never hangs up a visit. The state read on each open is taken at once. Starts on
    hook, and ``hook_state`` never changes without a :class:`HookEvent`. Unplugged, the hook
    state stays as it was: a pulled cable ends nothing by itself. ``clock`` (monotonic
    seconds) times the debounce and dates events. ``open_serial`` (default ``serial.Serial``)
    is for tests; it is called as ``open_serial(port, exclusive=True)``.
    """

    def __init__(
        self,
        port: str,
        *,
        line: str = "cts",
        closed_means: str = "off_hook",
        debounce_s: float = 0.05,
        poll_interval_s: float = POLL_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
        open_serial: Callable[..., ModemLines] | None = None,
    ) -> None:
        if not isinstance(port, str) or not port:
            raise ValueError("handset: no serial port given for the hook contact")
        self._line = _line(line)
        if closed_means not in CLOSED_MEANS:
            raise ValueError(
                f"handset: closed_means must be off_hook or on_hook, not {closed_means!r}"
            )
        if not debounce_s >= 0:
            raise ValueError(f"handset: debounce_s must not be negative, not {debounce_s!r}")
        if not poll_interval_s > 0:
            raise ValueError(f"handset: poll_interval_s must be positive, not {poll_interval_s!r}")
        self._port = port
        self._closed = HookState(closed_means)
        self._debounce_s = debounce_s
        self._poll_interval_s = poll_interval_s
        self._clock = clock
        self._open_serial: Callable[..., ModemLines] = open_serial or serial.Serial
        self._listeners: Listeners[HookEvent] = Listeners("handset")
        self._hook = HookState.ON_HOOK
        # Used by the reader thread only: when a change began, and whether the next read is
        # the first since the port was opened.
        self._pending_since: float | None = None
        self._fresh = False
        # Plain counts, bumped on the reader thread; stats builds the frozen snapshot.
        self._changes = 0
        self._bounces = 0
        self._reconnects = 0
        self._samples = 0
        self._said_no_speaker = False
        self._reader: ReconnectingReader[ModemLines] = ReconnectingReader(
            port,
            role="handset",
            thread_name=f"handset {port}",
            open_device=self._open,
            read_once=self._poll,
            close_device=lambda p: p.close(),
            on_open=self._opened,
            on_lost=self._lost,
            # pyserial cannot recover a port whose device vanished, whatever the errno.
            gone_errnos=None,
        )

    @property
    def port(self) -> str:
        return self._port

    @property
    def line(self) -> str:
        return self._line

    @property
    def hook_state(self) -> HookState:
        return self._hook

    @property
    def stats(self) -> ContactStats:
        return ContactStats(
            changes=self._changes,
            bounces=self._bounces,
            reconnects=self._reconnects,
            samples=self._samples,
        )

    def subscribe(self, listener: Callable[[HookEvent], None]) -> Callable[[], None]:
        """Call ``listener`` on every hook change; returns a function that unsubscribes."""
        return self._listeners.subscribe(listener)

    def start(self) -> None:
        """Start polling in a thread of its own; opening the port is retried until it works."""
        self._reader.start()

    def stop(self) -> None:
        """Stop the thread (within about one poll) and close the port; the hook state stays."""
        self._reader.stop()

    def play_tone(self, kind: str) -> None:
        """Nothing: a bare contact has no earpiece to play ``kind`` in."""
        if not self._said_no_speaker:  # a tone is asked for every visit; once is enough
            self._said_no_speaker = True
            log.debug("handset %s: a hook contact has no speaker; tones are not played", self._port)

    # -- on the reader thread --------------------------------------------------------------

    def _open(self) -> ModemLines:
        # exclusive: another program opening the port (ModemManager probing, a getty) would
        # drop or toggle RTS and DTR, which power the contact.
        return self._open_serial(self._port, exclusive=True)

    def _opened(self, reconnect: bool) -> None:
        self._fresh = True
        if reconnect:
            self._reconnects += 1

    def _lost(self) -> None:
        # A change still bouncing when the cable went is not taken: unplugging ends nothing.
        self._pending_since = None

    def _poll(self, port: ModemLines, stop: threading.Event) -> None:
        closed = bool(getattr(port, self._line))
        self._sample(self._closed if closed else self._closed.flipped(), self._clock())
        stop.wait(self._poll_interval_s)

    def _sample(self, state: HookState, now: float) -> None:
        self._samples += 1
        if self._fresh:
            # Nothing to debounce against: whatever happened while the port was shut, this
            # is where the hook is now.
            self._fresh = False
            self._pending_since = None
            if state is not self._hook:
                self._accept(state)
            return
        if state is self._hook:
            if self._pending_since is not None:  # back before the change held
                self._pending_since = None
                self._bounces += 1
            return
        if self._pending_since is None:
            self._pending_since = now
        if now - self._pending_since >= self._debounce_s:
            self._pending_since = None
            self._accept(state)

    def _accept(self, state: HookState) -> None:
        self._hook = state
        self._changes += 1
        log.debug("handset %s: %s", self._port, state)
        self._listeners.emit(HookEvent(state=state, at=self._clock()))


def _line(line: str) -> str:
    """The status line named ``line`` (any case); ``ValueError`` for anything else."""
    name = line.lower() if isinstance(line, str) else line
    if name in LINES:
        return name
    known = ", ".join(sorted(LINES))
    if name in _OUTPUTS:
        raise ValueError(
            f"handset: {line!r} is an output of the port, which powers the contact; "
            f"read one of {known}"
        )
    raise ValueError(f"handset: unknown modem status line {line!r} (known: {known})")
