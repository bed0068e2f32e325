"""A badge reader on a serial line (USB serial or RS-232): one card per text frame.

Never log or keep a badge in clear: frames that fail are logged without their content, and
the repeat filter keeps only a keyed digest.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

import serial

from hardware.badge_formats import FORMATS, RepeatFilter, canonical
from hardware.badge_tally import BadgeTally, ReaderStats
from hardware.interfaces import BadgeEvent
from hardware.listeners import Listeners
from hardware.reconnecting_reader import ReaderStatus, ReconnectingReader

STX, ETX, CR, LF = 0x02, 0x03, 0x0D, 0x0A
READ_TIMEOUT_S = 0.1  # how long stop() may wait for the reader thread to notice
# Longer than any badge in any supported format with separators; a longer run without a
# terminator is line noise (a wrong baud rate, say), and must not grow without bound.
MAX_FRAME_BYTES = 128


class SerialPort(Protocol):
    """The part of ``serial.Serial`` the reader uses."""

    @property
    def in_waiting(self) -> int: ...
    def read(self, size: int = 1) -> bytes: ...
    def close(self) -> None: ...


class SerialBadgeReader(ReaderStatus):
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
        self._clock = clock
        self._open_serial: Callable[..., SerialPort] = open_serial or serial.Serial
        self._repeats = RepeatFilter(repeat_window_s)
        self._framer = _Framer(self._ends, inter_key_timeout)  # used by the reader thread only
        # Failures are logged without their messages: a listener's may quote the badge.
        self._listeners: Listeners[BadgeEvent] = Listeners("badge_reader", redact=True)
        self._tally = BadgeTally(f"badge reader {port}", card_format)
        self._reader: ReconnectingReader[SerialPort] = ReconnectingReader(
            port,
            role="badge reader",
            thread_name=f"badge-reader {port}",
            open_device=self._open,
            read_once=self._read_once,
            close_device=lambda p: p.close(),
            on_open=self._opened,
            # A half-read card must never join the next one.
            on_lost=lambda: self._tally.dropped(self._framer.reset()),
            # pyserial cannot recover a port whose device vanished, whatever the errno.
            gone_errnos=None,
        )

    @property
    def port(self) -> str:
        return self._port_name

    @property
    def stats(self) -> ReaderStats:
        """Counts of badges, repeats, bad and dropped frames, reconnects: never a badge."""
        return self._tally.stats

    def subscribe(self, listener: Callable[[BadgeEvent], None]) -> Callable[[], None]:
        """Call ``listener`` on every accepted badge read; returns a function that unsubscribes."""
        return self._listeners.subscribe(listener)

    def start(self) -> None:
        """Start reading in a thread of its own; opening the port is retried until it works."""
        self._reader.start()

    def stop(self) -> None:
        """Stop the thread (within about ``READ_TIMEOUT_S``) and close the port."""
        self._reader.stop()
        self._repeats.reset()  # keep no trace of a badge longer than needed

    # -- on the reader thread --------------------------------------------------------------

    def _open(self) -> SerialPort:
        # exclusive: a second reader of the same port (another kiosk process, a getty)
        # would steal half of every card's bytes.
        return self._open_serial(
            self._port_name, baudrate=self._baudrate, timeout=READ_TIMEOUT_S, exclusive=True
        )

    def _opened(self, reconnect: bool) -> None:
        if reconnect:
            self._tally.count(reconnects=1)

    def _read_once(self, port: SerialPort, stop: threading.Event) -> None:
        # Whatever is waiting, or block (up to the read timeout) for one byte.
        data = port.read(max(1, port.in_waiting))
        frames, dropped, overflowed = self._framer.feed(data, time.monotonic())
        self._tally.dropped(dropped)
        if overflowed:
            self._tally.bad(overflowed)
        for frame in frames:
            self._handle(frame)
        if frames:  # listeners may have taken a while; that wait is not a pause of the reader
            self._framer.touch(time.monotonic())

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
