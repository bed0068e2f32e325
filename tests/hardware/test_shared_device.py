"""One camera shared by a call, the photos, the login snapshot and the self-test."""

from __future__ import annotations

import logging

from hardware.interfaces import DeviceState
from hardware.selftest import check_camera
from hardware.shared_device import SharedDevice
from hardware.simulated import SimulatedCamera
from tests.waiting import wait_until


def _frames_arrive(camera, who: str, timeout: float = 3.0) -> None:
    """The camera delivers a frame, and another after it, for ``who``."""
    first = wait_until(camera.latest_frame, timeout, f"a frame for {who}").seq
    wait_until(
        lambda: (f := camera.latest_frame()) is not None and f.seq != first,
        timeout,
        f"a second frame for {who}",
    )


def test_the_camera_stays_on_until_its_last_user_lets_go() -> None:
    camera = SharedDevice(SimulatedCamera(fps=30))
    camera.start()  # a call
    camera.start()  # the self-test
    camera.stop()  # the self-test ends
    _frames_arrive(camera, "the call, once the self-test ended")
    camera.stop()  # the call ends
    assert camera.latest_frame() is None
    assert camera.device.state is DeviceState.MISSING  # off: an idle kiosk films nobody


def test_a_selftest_during_a_call_leaves_the_call_its_camera() -> None:
    camera = SharedDevice(SimulatedCamera(fps=30))
    camera.start()  # the call
    try:
        check = check_camera(camera, frames=10)
        assert check.ok, check.detail
        assert camera.users == 1
        _frames_arrive(camera, "the call, after the self-test")
    finally:
        camera.stop()


def test_a_selftest_on_an_idle_kiosk_turns_the_camera_off_again() -> None:
    camera = SharedDevice(SimulatedCamera(fps=30))
    check = check_camera(camera, frames=10)
    assert check.ok, check.detail
    assert camera.users == 0 and camera.latest_frame() is None


def test_a_stop_without_a_start_is_harmless_and_said(caplog) -> None:
    camera = SharedDevice(SimulatedCamera(fps=30))
    with caplog.at_level(logging.WARNING, logger="hardware.shared_device"):
        camera.stop()
    assert "more often than started" in caplog.text
    camera.start()
    _frames_arrive(camera, "a start after one stop too many")  # the count stayed at 0
    camera.stop()
    assert camera.latest_frame() is None


def test_close_turns_it_off_whoever_holds_it() -> None:
    camera = SharedDevice(SimulatedCamera(fps=30))
    camera.start()
    camera.start()
    camera.close()
    assert camera.users == 0 and camera.latest_frame() is None
