"""In the demo, keys stand in for the hardware: F2 taps a badge, F3 lifts or hangs up, F4 taps
the demo technician's badge, F5 holds an ID card up to the lobby's camera and F6 takes it away.

Handed to the app by whoever launches the demo (launch.cli); the app itself knows no demo.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import cycle
from typing import Any

from demo.facility import DEMO_BADGES, DEMO_TECHNICIAN_BADGE
from hardware.interfaces import Devices

KEY_F2 = 283
KEY_F3 = 284
KEY_F4 = 285
KEY_F5 = 286
KEY_F6 = 287


class DemoKeys:
    def __init__(
        self, window: Any, devices: Devices, badges: tuple[str, ...] | None = None
    ) -> None:
        self._window = window
        self._devices = devices
        self._badges = cycle(badges or DEMO_BADGES)
        window.bind(on_keyboard=self._on_keyboard)

    @classmethod
    def for_devices(cls, devices: Devices) -> Callable[[Any], DemoKeys]:
        """What the app calls with its window, once the lockdown is bound."""
        return lambda window: cls(window, devices)

    def release(self) -> None:
        self._window.unbind(on_keyboard=self._on_keyboard)

    def _on_keyboard(
        self, window: Any, key: int, scancode: int = 0, codepoint: Any = None, modifiers: Any = ()
    ) -> bool:
        if modifiers:
            return False  # bound after the lockdown, so seen first: Alt+F4 stays an attempt
        if key == KEY_F2:
            self._devices.badge_reader.present(next(self._badges))
            return True
        if key == KEY_F3:
            self._devices.handset.toggle()
            return True
        if key == KEY_F4:
            self._devices.badge_reader.present(DEMO_TECHNICIAN_BADGE)
            return True
        hold = getattr(self._devices.camera, "hold", None)  # the simulated camera's
        if key in (KEY_F5, KEY_F6) and hold is not None:
            from hardware.simulated.scenes import document_scene

            camera = self._devices.camera
            hold(document_scene(camera.width, camera.height) if key == KEY_F5 else None)
            return True
        return False
