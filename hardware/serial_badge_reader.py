"""A badge reader on a serial line (USB serial or RS-232): one card per text frame.

Never log or keep a badge in clear: frames that fail are logged without their content, and
the repeat filter keeps only a keyed digest.
"""

from __future__ import annotations

import errno
import logging
import threading
import time
import traceback
from collections.abc import Callable
from types import MappingProxyType
from typing import Protocol

import serial

from hardware.badge_formats import FORMATS, RepeatFilter, canonical
from hardware.badge_tally import BadgeTally, ReaderStats
from hardware.interfaces import BadgeEvent, DeviceState
from hardware.listeners import Listeners

log = logging.getLogger(__name__)

STX, ETX, CR, LF = 0x02, 0x03, 0x0D, 0x0A
READ_TIMEOUT_S = 0.1  # how long stop() may wait for the reader thread to notice
BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 5.0
# Longer than any badge in any supported format with separators; a longer run without a
# terminator is line noise (a wrong baud rate, say), and must not grow without bound.
MAX_FRAME_BYTES = 128
_JOIN_TIMEOUT_S = 2.0
# Open failures that mean a misconfigured kiosk (a technician should look at permissions or
# another program), not an unplugged reader.
_OPEN_ERRORS = MappingProxyType(
    {
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EBUSY: "in use by another program",
        errno.EAGAIN: "in use by another program",  # the exclusive lock is held elsewhere
    }
)


class SerialPort(Protocol):
    """The part of ``serial.Serial`` the reader uses."""

    @property
    def in_waiting(self) -> int: ...
    def read(self, size: int = 1) -> bytes: ...
    def close(self) -> None: ...


class SerialBadgeReader:
    """Implements :class:`hardware.interfaces.BadgeReader` for a reader on ``port``.

    Frames end at any byte of ``terminator`` and at CR, LF or ETX; an STX starts a new one.
    A frame is read as ``card_format`` (see :func:`hardware.badge_formats.canonical`). A frame
    whose bytes stop for ``inter_key_timeout`` seconds is dropped, and the same badge again
    within ``repeat_window_s`` counts once. Listeners are called on the reader's thread.
    ``clock`` dates events and drives the repeat window; the inter-key timeout is measured in
    real time, as the bytes arrive. ``open_serial`` (default ``serial.Serial``) is for tests;
    it is called as ``open_serial(port, baudrate=..., timeout=..., exclusive=True)``.
    """

    def __init__(
        self,
        port: str,
        *,
        baudrate: int = 9600,
        card_format: str = "raw",
        terminator: bytes = b"\r",
        inter_key_timeout: float = 0.5,
        repeat_window_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        open_serial: Callable[..., SerialPort] | None = None,
    ) -> None:
        if not port:
            raise ValueError("badge reader: no serial port given")
        if not isinstance(baudrate, int) or isinstance(baudrate, bool) or baudrate <= 0:
            raise ValueError(f"badge reader: baudrate must be a positive integer, not {baudrate!r}")
        if card_format not in FORMATS:
            known = ", ".join(sorted(FORMATS))
            raise ValueError(f"badge reader: unknown card_format {card_format!r} (known: {known})")
        if not isinstance(terminator, bytes) or not terminator:
            raise ValueError("badge reader: terminator must be non-empty bytes")
        if any(chr(b).isalnum() for b in terminator):
            # A letter or digit as terminator would cut badges in two.
            raise ValueError("badge reader: terminator must not hold letters or digits")
        if inter_key_timeout <= 0:
            raise ValueError(
                f"badge reader: inter_key_timeout must be positive, not {inter_key_timeout!r}"
            )
        self._port_name = port
        self._baudrate = baudrate
        self._format = card_format
        self._ends = frozenset(terminator) | {CR, LF, ETX}
        self._inter_key_timeout = inter_key_timeout
        self._clock = clock
        self._open_serial: Callable[..., SerialPort] = open_serial or serial.Serial
        self._repeats = RepeatFilter(repeat_window_s)
        # Failures are logged without their messages: a listener's may quote the badge.
        self._listeners: Listeners[BadgeEvent] = Listeners("badge_reader", redact=True)
        self._lock = threading.Lock()  # serialises start() and stop()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        # One tuple, replaced whole, so other threads never see a state with another's detail.
        self._status: tuple[DeviceState, str] = (DeviceState.MISSING, f"not started: {port}")
        self._tally = BadgeTally(f"badge reader {port}", card_format)

    @property
    def port(self) -> str:
        return self._port_name

    @property
    def state(self) -> DeviceState:
        return self._status[0]

    @property
    def detail(self) -> str:
        """Which port, and what is wrong with it; for telemetry and the technician screen."""
        return self._status[1]

    @property
    def stats(self) -> ReaderStats:
        """Counts of badges, repeats, bad and dropped frames, reconnects: never a badge."""
        return self._tally.stats

    def subscribe(self, listener: Callable[[BadgeEvent], None]) -> Callable[[], None]:
        """Call ``listener`` on every accepted badge read; returns a function that unsubscribes."""
        return self._listeners.subscribe(listener)

    def start(self) -> None:
        """Start reading in a thread of its own; opening the port is retried until it works."""
        with self._lock:
            if self._thread is not None:
                return
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._run, args=(self._stop,), name=f"badge-reader {self._port_name}"
            )
            self._thread.daemon = True  # a wedged driver must not keep the kiosk from exiting
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread (within about ``READ_TIMEOUT_S``) and close the port."""
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is None:
                return
            self._stop.set()
            if thread is not threading.current_thread():  # a listener may stop the reader
                thread.join(_JOIN_TIMEOUT_S)
                if thread.is_alive():
                    log.warning("badge reader %s: thread did not stop in time", self._port_name)
            self._repeats.reset()  # keep no trace of a badge longer than needed

    def _run(self, stop: threading.Event) -> None:
        port: SerialPort | None = None
        framer = _Framer(self._ends, self._inter_key_timeout)
        delay = BACKOFF_FIRST_S
        opened_before = False
        try:
            while not stop.is_set():
                if port is None:
                    port = self._open()
                    if port is None:
                        stop.wait(delay)
                        delay = min(delay * 2, BACKOFF_MAX_S)
                        continue
                    if opened_before:
                        self._tally.count(reconnects=1)
                    opened_before = True
                    delay = BACKOFF_FIRST_S
                try:
                    self._read_once(port, framer)
                except Exception as exc:
                    # pyserial cannot recover a port whose device vanished: close it, reopen.
                    # Anything else is a bug, which must not end badge reading for good either.
                    # Closed first: whoever sees the new state may rely on the port being shut.
                    _close(port)
                    port = None
                    self._tally.dropped(
                        framer.reset()
                    )  # a half-read card must never join the next one
                    if isinstance(exc, OSError):  # serial.SerialException is an OSError
                        self._set_status(DeviceState.MISSING, "disconnected", exc)
                    else:
                        _log_redacted(self._port_name, exc)
                        self._set_status(DeviceState.ERROR, "read failed")
                    stop.wait(delay)
                    delay = min(delay * 2, BACKOFF_MAX_S)
        finally:
            if port is not None:
                _close(port)
            self._set_status(DeviceState.MISSING, "stopped")

    def _read_once(self, port: SerialPort, framer: _Framer) -> None:
        # Whatever is waiting, or block (up to the read timeout) for one byte.
        data = port.read(max(1, port.in_waiting))
        frames, dropped, overflowed = framer.feed(data, time.monotonic())
        self._tally.dropped(dropped)
        if overflowed:
            self._tally.bad(overflowed)
        for frame in frames:
            self._handle(frame)
        if frames:  # listeners may have taken a while; that wait is not a pause of the reader
            framer.touch(time.monotonic())

    def _open(self) -> SerialPort | None:
        try:
            # exclusive: a second reader of the same port (another kiosk process, a getty)
            # would steal half of every card's bytes.
            port = self._open_serial(
                self._port_name, baudrate=self._baudrate, timeout=READ_TIMEOUT_S, exclusive=True
            )
        except OSError as exc:  # serial.SerialException is an OSError
            problem = _OPEN_ERRORS.get(exc.errno or 0)
            if problem is None:
                self._set_status(DeviceState.MISSING, "not found", exc)
            else:
                self._set_status(DeviceState.ERROR, problem, exc)
            return None
        except Exception as exc:  # e.g. a setting the driver refuses: keep trying, say so
            self._set_status(DeviceState.ERROR, f"cannot open ({type(exc).__name__})", exc)
            return None
        self._set_status(DeviceState.OK, "open")
        return port

    def _handle(self, frame: bytes) -> None:
        try:
            badge_id = canonical(frame.decode("ascii"), self._format)
        except ValueError:  # UnicodeDecodeError included; its message would quote the bytes
            self._tally.bad(1)
            return
        now = self._clock()
        if not self._repeats.accept(badge_id, now):
            self._tally.count(repeats=1)
            return
        self._tally.count(badges=1)
        self._listeners.emit(BadgeEvent(badge_id=badge_id, at=now))

    def _set_status(self, state: DeviceState, what: str, exc: BaseException | None = None) -> None:
        status = (state, f"{what}: {self._port_name}")
        if status == self._status:
            return  # log changes only: a reader retried every 5 s would flood the log
        self._status = status
        level = logging.INFO if state is DeviceState.OK or what == "stopped" else logging.WARNING
        # pyserial's messages name the port and errno, never data read.
        reason = f": {exc}" if isinstance(exc, OSError) else ""
        log.log(level, "badge reader %s: %s (%s%s)", self._port_name, state, what, reason)


class _Framer:
    """Cuts the byte stream into frames; drops a frame whose bytes stop coming."""

    def __init__(self, ends: frozenset[int], gap_s: float) -> None:
        self._ends = ends
        self._gap_s = gap_s
        self._buf = bytearray()
        self._last = 0.0  # when the buffered bytes last grew
        self._overflow = False  # skipping an over-long frame up to its end

    def feed(self, data: bytes, now: float) -> tuple[list[bytes], int, int]:
        """Frames completed by ``data``, and how many partial and over-long ones were dropped."""
        frames: list[bytes] = []
        dropped = overflowed = 0
        if (self._buf or self._overflow) and now - self._last > self._gap_s:
            dropped += self.reset()
        for b in data:
            if b == STX:
                dropped += self.reset()
            elif b in self._ends:
                if self._buf:
                    frames.append(bytes(self._buf))
                    self._buf.clear()
                self._overflow = False
            elif not self._overflow:
                self._buf.append(b)
                if len(self._buf) > MAX_FRAME_BYTES:
                    self._buf.clear()
                    self._overflow = True
                    overflowed += 1
        if data and (self._buf or self._overflow):
            self._last = now
        return frames, dropped, overflowed

    def touch(self, now: float) -> None:
        if self._buf or self._overflow:
            self._last = max(self._last, now)

    def reset(self) -> int:
        """Forget the frame being read; returns 1 if one was dropped."""
        had = 1 if self._buf else 0
        self._buf.clear()
        self._overflow = False
        return had


def _close(port: SerialPort) -> None:
    try:
        port.close()
    except Exception as exc:  # a port whose device vanished may fail to close; it is gone anyway
        log.debug("closing a badge reader port failed: %s", type(exc).__name__)


def _log_redacted(port: str, exc: BaseException) -> None:
    # Type and stack only: an unexpected exception's message might quote a frame.
    stack = "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__)))
    log.error(
        "badge reader %s: reading failed with %s\n%s", port, type(exc).__name__, stack.rstrip()
    )
