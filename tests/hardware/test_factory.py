"""The factory: simulated devices from configuration, clear errors for anything else."""

from __future__ import annotations

import threading

import pytest

from hardware.factory import DeviceSettings, build_devices
from hardware.interfaces import BadgeEvent, Devices
from hardware.shared_device import SharedDevice
from hardware.simulated import (
    SimulatedBadgeReader,
    SimulatedCamera,
    SimulatedHandset,
    SimulatedHotplug,
)
from tests.kiosks import make_kiosk

SIMULATED = {"camera": "simulated", "handset": "simulated", "badge_reader": "simulated"}


def test_builds_simulated_devices() -> None:
    devices = build_devices(SIMULATED)
    assert isinstance(devices, Devices)
    assert isinstance(devices.camera.device, SimulatedCamera)
    assert isinstance(devices.handset, SimulatedHandset)
    assert isinstance(devices.badge_reader, SimulatedBadgeReader)
    assert isinstance(devices.hotplug, SimulatedHotplug)
    # A call, a photo and the self-test each turn the camera on and off: it counts its users.
    assert isinstance(devices.camera, SharedDevice)


def test_building_starts_nothing() -> None:
    before = set(threading.enumerate())
    devices = build_devices(SIMULATED)
    assert set(threading.enumerate()) == before
    assert devices.camera.latest_frame() is None


def test_two_kiosks_get_their_own_devices() -> None:
    a, b = build_devices(SIMULATED), build_devices(SIMULATED)
    assert a.camera is not b.camera
    assert a.badge_reader is not b.badge_reader
    heard_by_b: list[BadgeEvent] = []
    b.badge_reader.subscribe(heard_by_b.append)
    assert isinstance(a.badge_reader, SimulatedBadgeReader)
    a.badge_reader.start()
    a.badge_reader.present("04A1B2C3D4")
    assert heard_by_b == []


def test_unknown_kind_names_device_and_known_kinds() -> None:
    with pytest.raises(ValueError) as raised:
        build_devices({**SIMULATED, "camera": "v4l3"})
    assert (
        str(raised.value) == 'hardware.camera: unknown kind "v4l3" (known: file, simulated, v4l2)'
    )


@pytest.mark.parametrize("device", ["handset", "badge_reader"])
def test_unknown_kind_for_other_devices(device: str) -> None:
    with pytest.raises(ValueError, match=f'^hardware.{device}: unknown kind "hid"'):
        build_devices({**SIMULATED, device: "hid"})


def test_real_adapters_are_built_from_their_settings_and_start_nothing(tmp_path) -> None:
    from hardware.opencv_camera import OpenCvCamera
    from hardware.serial_badge_reader import SerialBadgeReader

    before = set(threading.enumerate())
    settings = DeviceSettings(
        camera_source=str(tmp_path / "no-camera"), camera_width=640, camera_height=480,
        badge_device=str(tmp_path / "no-reader"), badge_format="h10301",
    )  # fmt: skip
    devices = build_devices(
        {"camera": "v4l2", "handset": "simulated", "badge_reader": "serial"}, settings
    )
    assert isinstance(devices.camera.device, OpenCvCamera)
    assert isinstance(devices.badge_reader, SerialBadgeReader)
    assert devices.badge_reader.port == str(tmp_path / "no-reader")
    assert set(threading.enumerate()) == before
    assert devices.camera.latest_frame() is None


def test_missing_device_is_an_error_not_a_silent_simulation() -> None:
    kinds = {k: v for k, v in SIMULATED.items() if k != "handset"}
    with pytest.raises(ValueError, match=r"^hardware\.handset: no kind configured"):
        build_devices(kinds)


def test_unknown_device_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"^hardware\.camra: unknown device"):
        build_devices({**SIMULATED, "camra": "simulated"})


def test_a_kiosk_configured_with_a_video_file_films_it(tmp_path, clock) -> None:
    """`hardware.camera = "file"`: the configured file through the real OpenCV path, as a
    bench set-up or a demo without a camera would run it."""
    from tests.conftest import make_config
    from tests.hardware.videos import frame_index, write_counting_video
    from tests.waiting import wait_until

    video = write_counting_video(tmp_path / "lobby.avi", width=640, height=480)
    config = make_config(tmp_path, camera="file", camera_source=str(video))
    kiosk = make_kiosk(config, clock)
    try:
        kiosk.devices.camera.start()
        frame = wait_until(kiosk.devices.camera.latest_frame, 5, "a frame of the video file")
        assert frame.image.shape == (480, 640, 3)
        assert frame_index(frame.image) is not None  # the file's own pictures
    finally:
        kiosk.close()


def test_evdev_adapters_are_built_from_their_settings(tmp_path) -> None:
    from hardware.evdev_badge_reader import EvdevBadgeReader
    from hardware.evdev_handset import EvdevHandset

    before = set(threading.enumerate())
    settings = DeviceSettings(
        badge_device="0c27:3bfa",
        handset_device=str(tmp_path / "no-handset"),
        handset_mode="toggle",
        handset_codes=("KEY_MUTE",),
    )
    devices = build_devices(
        {"camera": "simulated", "handset": "evdev", "badge_reader": "evdev"}, settings
    )
    assert isinstance(devices.badge_reader, EvdevBadgeReader)
    assert isinstance(devices.handset, EvdevHandset)
    assert devices.handset.mode == "toggle"
    assert set(threading.enumerate()) == before  # nothing opened or started yet


def test_udev_watches_each_real_device_where_its_adapter_opens_it(tmp_path) -> None:
    video = tmp_path / "visit.mp4"
    video.write_bytes(b"")
    devices = build_devices(
        {"camera": "file", "handset": "evdev", "badge_reader": "serial"},
        DeviceSettings(
            camera_source=str(video),
            handset_device="/dev/input/by-id/usb-CM108-event-if03",
            badge_device="/dev/ttyUSB0",
        ),
    )
    from hardware.device_match import DeviceRule
    from hardware.udev_hotplug import UdevHotplug

    assert isinstance(devices.hotplug, UdevHotplug)
    # The video file has no node: nobody must call the camera unplugged for want of one.
    assert set(devices.hotplug.states()) == {"handset", "badge_reader"}
    assert set(devices.hotplug.rules) == {
        DeviceRule("handset", "input", by_id="/dev/input/by-id/usb-CM108-event-if03"),
        DeviceRule("badge_reader", "tty", devnode="/dev/ttyUSB0"),
    }


def test_a_kiosk_with_no_device_node_watches_nothing(tmp_path) -> None:
    video = tmp_path / "visit.mp4"
    video.write_bytes(b"")
    devices = build_devices(
        {**SIMULATED, "camera": "file"}, DeviceSettings(camera_source=str(video))
    )
    assert isinstance(devices.hotplug, SimulatedHotplug)


def test_the_handsets_sound_is_built_when_its_alsa_device_is_named() -> None:
    from hardware.alsa_audio import AlsaEarpiece, AlsaMicrophone

    before = set(threading.enumerate())
    devices = build_devices(SIMULATED, DeviceSettings(handset_audio="plughw:CARD=Handset"))
    assert isinstance(devices.microphone.device, AlsaMicrophone)
    assert isinstance(devices.earpiece.device, AlsaEarpiece)
    assert set(threading.enumerate()) == before  # a visit turns them on, not the factory
    plain = build_devices(SIMULATED)
    assert plain.microphone is None and plain.earpiece is None  # a visit sends a test tone


def test_the_configuration_names_exactly_the_adapters_and_places_the_factory_knows() -> None:
    """kiosk.config reads its file without hardware code: its vocabulary must be the factory's."""
    from hardware.factory import KINDS
    from kiosk import config

    assert dict(config.DEVICE_KINDS) == {kind: tuple(names) for kind, names in KINDS.items()}
    defaults = DeviceSettings()
    assert (
        defaults.camera_source,
        defaults.handset_device,
        defaults.badge_device,
    ) == (config.CAMERA_SOURCE, config.HANDSET_DEVICE, config.BADGE_DEVICE)
