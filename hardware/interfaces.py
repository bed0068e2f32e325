"""The small interfaces the kiosk core sees; real and simulated adapters both implement them.

Listeners are called on the thread that produced the event. The core hands them to its
event loop (``loop.call_soon_threadsafe``); adapters never touch the loop themselves.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from hardware.shared_device import SharedDevice

if TYPE_CHECKING:  # only for a type: numpy is loaded by whatever makes a picture
    import numpy as np


class DeviceState(enum.StrEnum):
    """What telemetry and the technician screen say of a device."""

    OK = "ok"
    MISSING = "missing"
    ERROR = "error"


# eq=False: the generated __eq__/__hash__ would compare the pixel array, which raises
# ("truth value of an array is ambiguous"); frames compare by identity, or by ``seq``.
@dataclass(frozen=True, eq=False)
class Frame:
    """One camera picture: BGR ``uint8`` pixels, when it was captured, and its sequence number."""

    image: np.ndarray
    captured_at: float  # time.monotonic() at capture
    seq: int


class HookState(enum.StrEnum):
    ON_HOOK = "on_hook"  # handset resting in its cradle
    OFF_HOOK = "off_hook"  # handset lifted

    def flipped(self) -> HookState:
        """The other state."""
        return HookState.ON_HOOK if self is HookState.OFF_HOOK else HookState.OFF_HOOK


@dataclass(frozen=True)
class HookEvent:
    state: HookState
    at: float  # time.monotonic()


@dataclass(frozen=True)
class BadgeEvent:
    """A badge read: its canonical text (raw UID in upper hex, or ``FC:CARD`` for H10301).

    Never log or store ``badge_id`` in clear: it is matched only through its HMAC lookup.
    """

    badge_id: str
    at: float  # time.monotonic()

    def __repr__(self) -> str:  # keep the badge out of logs and tracebacks
        return f"BadgeEvent(at={self.at:.3f})"


@dataclass(frozen=True)
class DeviceEvent:
    """A device of the kiosk came, went or failed."""

    device: str  # "camera" | "handset" | "badge_reader"
    state: DeviceState
    detail: str = ""


class Camera(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def latest_frame(self) -> Frame | None:
        """The newest frame, never an older queued one; ``None`` before the first."""
        ...

    def subscribe_frames(self, listener: Callable[[Frame], None]) -> Callable[[], None]:
        """Call ``listener`` with each new frame, on the grab thread, as soon as it is captured;
        returns a function that unsubscribes. A visit's track waits on it, not on a timer."""
        ...

    @property
    def state(self) -> DeviceState: ...


class Handset(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def subscribe(self, listener: Callable[[HookEvent], None]) -> Callable[[], None]:
        """Call ``listener`` on every hook change; returns a function that unsubscribes."""
        ...

    def play_tone(self, kind: str) -> None:
        """A tone in the earpiece (``warning``: a visit's 5- and 1-minute warnings)."""
        ...

    @property
    def hook_state(self) -> HookState: ...
    @property
    def state(self) -> DeviceState: ...


class BadgeReader(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def subscribe(self, listener: Callable[[BadgeEvent], None]) -> Callable[[], None]: ...
    @property
    def state(self) -> DeviceState: ...


class Hotplug(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def subscribe(self, listener: Callable[[DeviceEvent], None]) -> Callable[[], None]: ...


@dataclass
class Devices:
    """The adapters one kiosk runs on; built stopped, the kiosk starts them.

    ``microphone`` and ``earpiece``: the handset's sound (hardware/alsa_audio.py), when its
    ALSA device is configured; a visit turns them on for its call only. Without them a visit
    sends a test tone.
    """

    camera: Camera
    handset: Handset
    badge_reader: BadgeReader
    hotplug: Hotplug
    microphone: Any = None
    earpiece: Any = None

    def __post_init__(self) -> None:
        # A call, the lobby's photos, the login snapshot and the self-test each turn these on
        # and off for themselves: shared from the start, wherever the devices are built.
        for name in ("camera", "microphone", "earpiece"):
            device = getattr(self, name)
            if device is not None and not isinstance(device, SharedDevice):
                setattr(self, name, SharedDevice(device))
