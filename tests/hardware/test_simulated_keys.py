"""A development kiosk on simulated devices is worked from its keyboard: F3 is the handset."""

from __future__ import annotations

from hardware.interfaces import Devices, HookState
from hardware.simulated import (
    SimulatedBadgeReader,
    SimulatedCamera,
    SimulatedHandset,
    SimulatedHotplug,
)
from hardware.simulated.keys import KEY_F3, KEY_F5, KEY_F6, SimulatedDeviceKeys


class Window:
    """What the keys need of Kivy's window: somewhere to bind the keyboard."""

    def __init__(self) -> None:
        self.bound: dict[str, object] = {}

    def bind(self, **handlers: object) -> None:
        self.bound.update(handlers)

    def unbind(self, **handlers: object) -> None:
        for name in handlers:
            self.bound.pop(name, None)

    def press(self, key: int, modifiers: tuple[str, ...] = ()) -> bool:
        return self.bound["on_keyboard"](self, key, 0, None, modifiers)


def devices() -> Devices:
    return Devices(
        camera=SimulatedCamera(320, 240),
        handset=SimulatedHandset(),
        badge_reader=SimulatedBadgeReader(),
        hotplug=SimulatedHotplug(),
    )


def test_f3_lifts_and_hangs_up_a_simulated_handset() -> None:
    window, hardware = Window(), devices()
    hardware.handset.start()
    SimulatedDeviceKeys.for_devices(hardware)(window)
    assert hardware.handset.hook_state == HookState.ON_HOOK
    assert window.press(KEY_F3)
    assert hardware.handset.hook_state == HookState.OFF_HOOK
    assert window.press(KEY_F3)
    assert hardware.handset.hook_state == HookState.ON_HOOK
    assert not window.press(KEY_F3, ("alt",))  # a combination stays the lockdown's
    assert hardware.handset.hook_state == HookState.ON_HOOK


def test_f5_and_f6_hold_an_id_card_up_to_a_simulated_camera_and_take_it_away() -> None:
    window, hardware = Window(), devices()
    keys = SimulatedDeviceKeys(window, hardware)
    assert window.press(KEY_F5) and window.press(KEY_F6)
    keys.release()
    assert "on_keyboard" not in window.bound
