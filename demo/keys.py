"""In the demo, keys stand in for the hardware: F2 taps a badge, F3 lifts or hangs up, F4 taps
the demo technician's badge, F5 holds an ID card up to the lobby's camera and F6 takes it away.

Handed to the app by whoever launches the demo (launch.cli); the app itself knows no demo.
"""

from __future__ import annotations

from itertools import cycle
from typing import Any

from demo.facility import DEMO_BADGES, DEMO_TECHNICIAN_BADGE
from hardware.interfaces import Devices
from hardware.simulated.keys import SimulatedDeviceKeys

KEY_F2 = 283
KEY_F4 = 285


class DemoKeys(SimulatedDeviceKeys):
    """The simulated devices' keys, and the demo facility's badges on F2 and F4."""

    def __init__(
        self, window: Any, devices: Devices, badges: tuple[str, ...] | None = None
    ) -> None:
        self._badges = cycle(badges or DEMO_BADGES)
        super().__init__(window, devices)

    def pressed(self, key: int) -> bool:
        if key == KEY_F2:
            self.devices.badge_reader.present(next(self._badges))
            return True
        if key == KEY_F4:
            self.devices.badge_reader.present(DEMO_TECHNICIAN_BADGE)
            return True
        return super().pressed(key)
