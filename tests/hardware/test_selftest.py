"""The technician's self-test on the simulated devices: what each check finds and reports."""

from __future__ import annotations

import threading

from hardware.factory import build_devices
from hardware.selftest import check_camera, run_selftest
from hardware.simulated import SimulatedCamera

SIMULATED = {"camera": "simulated", "handset": "simulated", "badge_reader": "simulated"}


def test_a_working_kiosk_passes_and_says_what_was_measured() -> None:
    devices = build_devices(SIMULATED)
    try:
        report = run_selftest(devices, expected_size=(640, 480), expected_fps=30)
    finally:
        for device in (devices.handset, devices.badge_reader):
            device.stop()
    assert report.ok
    camera = report.as_dict()["hardware"]["camera"]
    assert camera["state"] == "ok" and camera["width"] == 640 and camera["height"] == 480
    assert camera["frames"] == 30 and 24 <= camera["fps"] <= 36
    assert "(hook not exercised)" in report.checks["handset"].detail
    # A camera that was off is off again afterwards: an idle kiosk films nobody.
    assert devices.camera.latest_frame() is None


def test_a_camera_of_the_wrong_size_or_too_slow_fails_with_the_reason() -> None:
    wrong_size = check_camera(SimulatedCamera(320, 240), expected_size=(1280, 720))
    assert (wrong_size.state, wrong_size.detail) == ("error", "320x240, not the 1280x720 asked")
    slow = check_camera(SimulatedCamera(320, 240, fps=10), expected_fps=30, frames=8)
    assert slow.state == "error" and slow.detail.endswith("fps, not the 30 asked")


def test_a_camera_that_delivers_nothing_is_reported_missing() -> None:
    camera = SimulatedCamera(320, 240)
    camera.unplug()
    check = check_camera(camera, timeout_s=0.5)
    assert check.state == "missing" and "no frames" in check.detail
    assert not run_selftest(build_devices(SIMULATED), expected_size=(9, 9)).ok


def test_with_a_technician_the_hook_and_a_test_card_are_exercised() -> None:
    devices = build_devices(SIMULATED)
    said: list[str] = []

    def technician(line: str) -> None:
        said.append(line)
        # Acts a moment later, as a person at the kiosk would.
        if "handset" in line:
            threading.Timer(
                0.05, lambda: (devices.handset.lift(), devices.handset.hang_up())
            ).start()
        else:
            threading.Timer(0.05, devices.badge_reader.present, ["04A1B2C3D4"]).start()

    try:
        report = run_selftest(devices, interactive=True, wait_s=3, say=technician)
    finally:
        for device in (devices.handset, devices.badge_reader):
            device.stop()
    assert report.ok, report.as_dict()
    assert said == [
        "Lift the handset, then put it back.",
        "Present the test card to the badge reader.",
    ]
    assert report.checks["badge_reader"].detail == "test card read"
    assert "04A1B2C3D4" not in str(report.as_dict())  # the card itself is never reported


def test_nobody_at_the_kiosk_fails_the_interactive_checks_in_time() -> None:
    devices = build_devices(SIMULATED)
    try:
        report = run_selftest(devices, interactive=True, wait_s=0.2)
    finally:
        for device in (devices.handset, devices.badge_reader):
            device.stop()
    assert report.checks["handset"].detail == "no hook change within 0.2 s"
    assert report.checks["badge_reader"].detail == "no card read within 0.2 s"
    assert not report.ok


def test_the_handsets_sound_is_part_of_the_handsets_entry(card) -> None:
    from hardware.factory import DeviceSettings
    from tests.hardware.sound_card import Voice, silence

    handset = card.plug("handset")
    devices = build_devices(SIMULATED, DeviceSettings(handset_audio="handset"))
    missing = build_devices(SIMULATED, DeviceSettings(handset_audio="no-such-handset"))
    try:
        with Voice(handset, silence):  # a quiet room: the card delivers, nobody speaks
            report = run_selftest(devices)
        broken = run_selftest(missing)
    finally:
        for kit in (devices, missing):
            kit.handset.stop()
            kit.badge_reader.stop()
    entry = report.checks["handset"]
    assert report.ok and entry.ok
    assert entry.detail.endswith("audio: microphone and earpiece open (sound not looped back)")
    # Off again after the test: an idle kiosk records nobody.
    assert not devices.microphone.running and not devices.earpiece.running
    # The contract knows three devices: a handset without its sound fails as the handset.
    assert not broken.ok
    assert broken.checks["handset"].state == "missing"
    assert "audio: microphone: not found: no-such-handset" in broken.checks["handset"].detail
