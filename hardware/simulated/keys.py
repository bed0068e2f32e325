"""Keys that stand in for simulated devices on a development kiosk's keyboard: F3 lifts or hangs
up a simulated handset, F5 holds an ID card up to a simulated camera and F6 takes it away.

Bound only by whoever launches a kiosk on simulated devices (never on real ones); the window is
anything with Kivy's ``bind``/``unbind`` of ``on_keyboard``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hardware.interfaces import Devices

KEY_F3 = 284
KEY_F5 = 286
KEY_F6 = 287


class SimulatedDeviceKeys:
    def __init__(self, window: Any, devices: Devices) -> None:
        self._window = window
        self.devices = devices
        window.bind(on_keyboard=self._on_keyboard)

    @classmethod
    def for_devices(cls, devices: Devices) -> Callable[[Any], SimulatedDeviceKeys]:
        """What the app calls with its window, once the lockdown is bound."""
        return lambda window: cls(window, devices)

    def release(self) -> None:
        self._window.unbind(on_keyboard=self._on_keyboard)

    def _on_keyboard(
        self, window: Any, key: int, scancode: int = 0, codepoint: Any = None, modifiers: Any = ()
    ) -> bool:
        if modifiers:
            return False  # bound after the lockdown, so seen first: Alt+F4 stays an attempt
        return self.pressed(key)

    def pressed(self, key: int) -> bool:
        """True when the key stood for a device and was taken."""
        toggle = getattr(self.devices.handset, "toggle", None)  # the simulated handset's
        if key == KEY_F3 and toggle is not None:
            toggle()
            return True
        hold = getattr(self.devices.camera, "hold", None)  # the simulated camera's
        if key in (KEY_F5, KEY_F6) and hold is not None:
            from hardware.simulated.scenes import document_scene

            camera = self.devices.camera
            hold(document_scene(camera.width, camera.height) if key == KEY_F5 else None)
            return True
        return False
