"""One camera, several users: it is on while anybody needs it, and off once the last lets go.

A visit's call, the lobby's credential photos, the login snapshot and the self-test each turn the
camera on and off for themselves. Without counting, one user's ``stop`` (the self-test ending)
would blind another (a call that began meanwhile).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from hardware.interfaces import Camera, DeviceState, Frame

log = logging.getLogger(__name__)


class SharedCamera:
    """Counts ``start``/``stop`` pairs around ``device``; everything else is the device's own."""

    def __init__(self, device: Camera) -> None:
        self.device = device
        # Held while the device itself starts or stops: a stop that overtook a slow start
        # would leave the camera on with nobody using it.
        self._lock = threading.Lock()
        self._users = 0

    @property
    def users(self) -> int:
        return self._users

    def start(self) -> None:
        with self._lock:
            self._users += 1
            if self._users == 1:
                self.device.start()

    def stop(self) -> None:
        with self._lock:
            if self._users == 0:
                # A stop with no start is a caller's bug; the camera is off, which is safe.
                log.warning("camera stopped more often than started")
                return
            self._users -= 1
            if self._users == 0:
                self.device.stop()

    def close(self) -> None:
        """Off, whoever still holds it: the kiosk is shutting down."""
        with self._lock:
            self._users = 0
            self.device.stop()

    def latest_frame(self) -> Frame | None:
        return self.device.latest_frame()

    def subscribe_frames(self, listener: Callable[[Frame], None]) -> Callable[[], None]:
        return self.device.subscribe_frames(listener)

    @property
    def state(self) -> DeviceState:
        return self.device.state

    def __getattr__(self, name: str) -> Any:
        # detail, granted, stats, and the simulated camera's unplug/hold: the device's own.
        return getattr(self.device, name)
