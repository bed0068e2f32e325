"""Hotplug notices driven by calls: a test or the demo announces a device coming or going."""

from __future__ import annotations

import threading
from collections.abc import Callable

from hardware.interfaces import DeviceEvent, DeviceState
from hardware.listeners import Listeners

DEVICES = frozenset({"camera", "handset", "badge_reader"})


class SimulatedHotplug:
    """Implements :class:`hardware.interfaces.Hotplug`; events come from :meth:`announce`."""

    def __init__(self) -> None:
        self._listeners: Listeners[DeviceEvent] = Listeners("hotplug")
        self._lock = threading.RLock()  # keeps announcements in order across threads
        self._running = False

    def start(self) -> None:
        with self._lock:
            self._running = True

    def stop(self) -> None:
        with self._lock:
            self._running = False

    def subscribe(self, listener: Callable[[DeviceEvent], None]) -> Callable[[], None]:
        """Call ``listener`` on every device event; returns a function that unsubscribes."""
        return self._listeners.subscribe(listener)

    def announce(self, device: str, state: DeviceState, detail: str = "") -> bool:
        """Report that ``device`` came, went or failed; returns whether an event was emitted.

        Nothing is emitted while stopped, like a udev monitor that is not running.
        """
        # A typo here would otherwise be an event the core silently ignores.
        if device not in DEVICES:
            raise ValueError(f"unknown device {device!r} (known: {', '.join(sorted(DEVICES))})")
        state = DeviceState(state)
        with self._lock:
            if not self._running:
                return False
            self._listeners.emit(DeviceEvent(device=device, state=state, detail=detail))
            return True
