"""The self-test a technician runs on a kiosk's devices: one routine per device, one report.

Blocking by design (it waits for frames, a lifted handset, a test card): run it in a thread or
from ``kiosk-provision selftest``, never on the loop that draws the screen. The report is plain
data (``as_dict``) for the contract's ``selftest`` event and the enrollment's hardware summary.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hardware.factory import Devices
from hardware.interfaces import BadgeEvent, DeviceState, HookEvent
from hardware.shared_camera import SharedCamera

CAMERA_FRAMES = 30  # about a second of a 30 fps camera
CAMERA_TIMEOUT_S = 5.0
# A camera delivering less than this share of the rate it was asked for fails: a visit at
# 10 fps (YUYV at 720p on many webcams) is what the MJPG setting exists to avoid.
CAMERA_MIN_RATE_SHARE = 0.8
INTERACTIVE_WAIT_S = 30.0  # for the technician to lift the handset or present a test card


@dataclass(frozen=True)
class DeviceCheck:
    """One device's result: ``state`` as the contract's telemetry spells it, and why."""

    state: str  # ok | missing | error
    detail: str
    measured: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.state == DeviceState.OK


@dataclass(frozen=True)
class SelfTestReport:
    checks: dict[str, DeviceCheck]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks.values())

    def as_dict(self) -> dict[str, Any]:
        """``{"hardware": {device: {state, detail, ...measured}}, "ok": bool}``."""
        return {
            "hardware": {
                name: {"state": check.state, "detail": check.detail, **check.measured}
                for name, check in self.checks.items()
            },
            "ok": self.ok,
        }


def run_selftest(
    devices: Devices,
    *,
    expected_size: tuple[int, int] | None = None,
    expected_fps: float | None = None,
    interactive: bool = False,
    wait_s: float = INTERACTIVE_WAIT_S,
    say: Callable[[str], None] = lambda _line: None,
) -> SelfTestReport:
    """Test every device. ``interactive``: a technician is there to lift the handset and
    present a test card (``say`` tells them when); otherwise those are only checked present."""
    return SelfTestReport(
        {
            "camera": check_camera(devices.camera, expected_size, expected_fps),
            "handset": check_handset(devices.handset, interactive, wait_s, say),
            "badge_reader": check_badge_reader(devices.badge_reader, interactive, wait_s, say),
        }
    )


def check_camera(
    camera: Any,
    expected_size: tuple[int, int] | None = None,
    expected_fps: float | None = None,
    frames: int = CAMERA_FRAMES,
    timeout_s: float = CAMERA_TIMEOUT_S,
) -> DeviceCheck:
    """The camera delivers ``frames`` new frames, of the expected size, near the expected rate.

    A camera that was off is turned on for the test and off again after it. A shared one (the
    kiosk's) is held for the test like any other user holds it.
    """
    owned = isinstance(camera, SharedCamera) or camera.latest_frame() is None
    if owned:
        camera.start()
    try:
        seen: list[tuple[int, float]] = []
        shape = None
        deadline = time.monotonic() + timeout_s
        while len(seen) < frames and time.monotonic() < deadline:
            frame = camera.latest_frame()
            if frame is not None and (not seen or frame.seq != seen[-1][0]):
                seen.append((frame.seq, time.monotonic()))
                shape = frame.image.shape
            time.sleep(0.002)
        # Read before it is turned off again: then it would only say "stopped".
        detail, state = getattr(camera, "detail", ""), camera.state
    finally:
        if owned:
            camera.stop()
    if not seen:
        state = state if state != DeviceState.OK else DeviceState.ERROR
        return DeviceCheck(str(state), detail or f"no frames within {timeout_s:g} s")
    height, width = shape[:2]
    # Frames counted by their sequence numbers: the camera's rate, not how often we looked.
    elapsed = seen[-1][1] - seen[0][1]
    fps = (seen[-1][0] - seen[0][0]) / elapsed if elapsed > 0 else 0.0
    measured = {"frames": len(seen), "width": width, "height": height, "fps": round(fps, 1)}
    if len(seen) < frames:
        return DeviceCheck(
            "error", f"only {len(seen)} of {frames} frames in {timeout_s:g} s", measured
        )
    if expected_size is not None and (width, height) != tuple(expected_size):
        return DeviceCheck(
            "error",
            f"{width}x{height}, not the {expected_size[0]}x{expected_size[1]} asked",
            measured,
        )
    if expected_fps is not None and fps < expected_fps * CAMERA_MIN_RATE_SHARE:
        return DeviceCheck("error", f"{fps:.1f} fps, not the {expected_fps:g} asked", measured)
    return DeviceCheck("ok", f"{frames} frames {width}x{height} at {fps:.1f} fps", measured)


def check_handset(
    handset: Any, interactive: bool, wait_s: float, say: Callable[[str], None]
) -> DeviceCheck:
    """Present; with a technician there, lifted and put back (both changes seen)."""
    if handset.state != DeviceState.OK and not _started(handset):
        return DeviceCheck(str(handset.state), getattr(handset, "detail", "") or "not found")
    if not interactive:
        return DeviceCheck(
            str(handset.state), f"present, {handset.hook_state} (hook not exercised)"
        )
    seen: list[HookEvent] = []
    changed = threading.Event()

    def heard(event: HookEvent) -> None:
        seen.append(event)
        if len({e.state for e in seen}) == 2:
            changed.set()

    unsubscribe = handset.subscribe(heard)
    try:
        say("Lift the handset, then put it back.")
        if not changed.wait(wait_s):
            return DeviceCheck("error", f"no hook change within {wait_s:g} s")
    finally:
        unsubscribe()
    return DeviceCheck("ok", "hook lifted and put back", {"hook_changes": len(seen)})


def check_badge_reader(
    reader: Any, interactive: bool, wait_s: float, say: Callable[[str], None]
) -> DeviceCheck:
    """Present; with a technician there, a test card is read (its value is not reported)."""
    if not _started(reader):
        return DeviceCheck(str(reader.state), getattr(reader, "detail", "") or "not found")
    if not interactive:
        return DeviceCheck(str(reader.state), getattr(reader, "detail", "") or "present")
    read = threading.Event()

    def heard(_event: BadgeEvent) -> None:
        read.set()

    unsubscribe = reader.subscribe(heard)
    try:
        say("Present the test card to the badge reader.")
        if not read.wait(wait_s):
            return DeviceCheck("error", f"no card read within {wait_s:g} s")
    finally:
        unsubscribe()
    return DeviceCheck("ok", "test card read")


def _started(device: Any) -> bool:
    """Start ``device`` if it is not running yet; True when it then says it is OK."""
    if device.state != DeviceState.OK:
        device.start()
        deadline = time.monotonic() + 1.0
        while device.state != DeviceState.OK and time.monotonic() < deadline:
            time.sleep(0.02)
    return device.state == DeviceState.OK
