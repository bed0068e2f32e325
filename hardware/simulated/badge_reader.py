"""A badge reader driven by calls: a demo key press or a test presents a badge."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from hardware.interfaces import BadgeEvent, DeviceState
from hardware.listeners import Listeners

DEBOUNCE_S = 2.0


class SimulatedBadgeReader:
    """Implements :class:`hardware.interfaces.BadgeReader`; badges come from :meth:`present`.

    Real readers report a badge again and again while it rests on them, so the same badge
    within ``debounce_s`` of its last accepted read counts once; ``clock`` is monotonic.
    """

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, *, debounce_s: float = DEBOUNCE_S
    ) -> None:
        if debounce_s < 0:
            raise ValueError(f"debounce_s must not be negative, not {debounce_s!r}")
        self._clock = clock
        self._debounce_s = debounce_s
        # Listeners' failures are logged without their messages: they may quote the badge.
        self._listeners: Listeners[BadgeEvent] = Listeners("badge_reader", redact=True)
        # Serialises present() so the debounce check and the emit are one step: two threads
        # presenting the same badge at once still produce one event.
        self._lock = threading.RLock()
        self._running = False
        self._plugged = True
        self._last: tuple[str, float] | None = None  # last accepted badge and when

    def start(self) -> None:
        with self._lock:
            self._running = True

    def stop(self) -> None:
        with self._lock:
            self._running = False
            self._last = None  # keep no badge in memory longer than needed

    @property
    def state(self) -> DeviceState:
        with self._lock:
            return DeviceState.OK if self._running and self._plugged else DeviceState.MISSING

    def subscribe(self, listener: Callable[[BadgeEvent], None]) -> Callable[[], None]:
        """Call ``listener`` on every accepted badge read; returns a function that unsubscribes."""
        return self._listeners.subscribe(listener)

    def unplug(self) -> None:
        """Simulate pulling the cable: ``state`` becomes MISSING and badges are not read."""
        with self._lock:
            self._plugged = False
            self._last = None  # a reader that lost power remembers no badge

    def replug(self) -> None:
        """Simulate plugging the cable back: badges are read again."""
        with self._lock:
            self._plugged = True

    def present(self, badge_id: str) -> bool:
        """Hold ``badge_id`` to the reader; returns whether an event was emitted.

        Nothing is emitted while the reader is stopped or unplugged (a real one is not
        listening) or for a repeat of the same badge within the debounce time.
        """
        if not isinstance(badge_id, str) or not badge_id:
            raise ValueError("badge_id must be a non-empty string")
        with self._lock:
            if not (self._running and self._plugged):
                return False
            now = self._clock()
            if self._last is not None:
                last_id, last_at = self._last
                if last_id == badge_id and now - last_at < self._debounce_s:
                    return False
            self._last = (badge_id, now)
            self._listeners.emit(BadgeEvent(badge_id=badge_id, at=now))
            return True
