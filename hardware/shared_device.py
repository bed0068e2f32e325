"""One device, several users: it is on while anybody needs it, and off once the last lets go.

A visit's call, the lobby's credential photos, the login snapshot and the self-test each turn
the camera (and the handset's microphone and earpiece) on and off for themselves. Without
counting, one user's ``stop`` (the self-test ending) would cut off another (a call that began
meanwhile).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

log = logging.getLogger(__name__)


class SharedDevice:
    """Counts ``start``/``stop`` pairs around ``device``; everything else is the device's own."""

    def __init__(self, device: Any) -> None:
        self.device = device
        # Held while the device itself starts or stops: a stop that overtook a slow start
        # would leave the device on with nobody using it.
        self._lock = threading.Lock()
        self._users = 0

    @property
    def users(self) -> int:
        return self._users

    @property
    def running(self) -> bool:
        return self._users > 0

    def start(self) -> None:
        with self._lock:
            self._users += 1
            if self._users == 1:
                self.device.start()

    def stop(self) -> None:
        with self._lock:
            if self._users == 0:
                # A stop with no start is a caller's bug; the device is off, which is safe.
                log.warning("%s stopped more often than started", type(self.device).__name__)
                return
            self._users -= 1
            if self._users == 0:
                self.device.stop()

    def close(self) -> None:
        """Off, whoever still holds it: the kiosk is shutting down."""
        with self._lock:
            self._users = 0
            self.device.stop()

    def __getattr__(self, name: str) -> Any:
        # latest_frame, state, detail, subscribe_frames, listen, write...: the device's own.
        return getattr(self.device, name)
