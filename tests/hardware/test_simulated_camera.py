"""The simulated camera: generated frames, only the latest kept, a clean stop, faults on demand.

Timing bounds are loose on purpose: the build machine is shared and noisy.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

from hardware.interfaces import DeviceState, Frame
from hardware.simulated import SimulatedCamera
from tests.waiting import wait_until


def camera_threads(camera: SimulatedCamera) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == camera.thread_name]


@pytest.fixture
def camera() -> Iterator[SimulatedCamera]:
    cam = SimulatedCamera(width=320, height=240, fps=30.0)
    cam.start()
    yield cam
    cam.stop()


def first_frame(camera: SimulatedCamera) -> Frame:
    frame = wait_until(camera.latest_frame, 2.0, "a first frame")
    assert isinstance(frame, Frame)
    return frame


def test_nothing_before_start() -> None:
    cam = SimulatedCamera()
    assert cam.latest_frame() is None
    assert cam.state is DeviceState.MISSING
    assert camera_threads(cam) == []


def test_frames_have_the_configured_size(camera: SimulatedCamera) -> None:
    frame = first_frame(camera)
    assert frame.image.shape == (240, 320, 3)
    assert frame.image.dtype == np.uint8
    assert camera.state is DeviceState.OK


def test_default_size_is_vga() -> None:
    cam = SimulatedCamera()
    cam.start()
    try:
        assert first_frame(cam).image.shape == (480, 640, 3)
    finally:
        cam.stop()


def test_picture_is_a_pattern_not_a_blank(camera: SimulatedCamera) -> None:
    image = first_frame(camera).image
    colours = np.unique(image.reshape(-1, 3), axis=0)
    assert len(colours) >= 7  # the bars at least


def test_picture_changes_over_time(camera: SimulatedCamera) -> None:
    a = first_frame(camera)
    b = wait_until(
        lambda: (f := camera.latest_frame()) is not None and f.seq >= a.seq + 3 and f,
        2.0,
        "a frame 0.1 s (three frames) later",
    )
    assert b.seq > a.seq
    changed = np.any(a.image != b.image, axis=2)
    # The box moved and the text changed: a good many pixels, not a stray one.
    assert changed.sum() > 100


def test_seq_increases_and_never_goes_back(camera: SimulatedCamera) -> None:
    seen = []
    # Watched for half a second, as often as a reader could ask: the span under test.
    end = time.monotonic() + 0.5
    while time.monotonic() < end:
        frame = camera.latest_frame()
        if frame is not None:
            seen.append((frame.seq, frame.captured_at))
        time.sleep(0.001)
    seqs = [s for s, _ in seen]
    assert seqs == sorted(seqs)
    assert [c for _, c in seen] == sorted(c for _, c in seen)
    assert len(set(seqs)) > 3  # it really moved on during the half second


def test_keeps_only_the_latest_frame_not_a_queue(camera: SimulatedCamera) -> None:
    a = first_frame(camera)
    time.sleep(0.3)  # a consumer that comes back only after several frames: the case under test
    b = camera.latest_frame()
    assert b is not None
    # A queue would hand out a.seq + 1; the latest frame is several frames on.
    assert b.seq >= a.seq + 3


def test_rate_is_roughly_the_configured_fps(camera: SimulatedCamera) -> None:
    a = first_frame(camera)
    started = time.monotonic()
    time.sleep(1.0)  # the second over which the rate is measured
    b = camera.latest_frame()
    elapsed = time.monotonic() - started
    assert b is not None
    rate = (b.seq - a.seq) / elapsed
    assert 0.5 * camera.fps <= rate <= 1.5 * camera.fps, rate


def test_captured_at_comes_from_the_injected_clock() -> None:
    cam = SimulatedCamera(width=64, height=48, clock=lambda: 1234.5)
    cam.start()
    try:
        assert first_frame(cam).captured_at == 1234.5
    finally:
        cam.stop()


def test_frames_are_read_only(camera: SimulatedCamera) -> None:
    frame = first_frame(camera)
    with pytest.raises(ValueError):
        frame.image[0, 0] = (1, 2, 3)


def test_start_is_idempotent(camera: SimulatedCamera) -> None:
    camera.start()
    camera.start()
    assert len(camera_threads(camera)) == 1


def test_stop_joins_the_thread_within_a_second(camera: SimulatedCamera) -> None:
    first_frame(camera)
    assert len(camera_threads(camera)) == 1
    started = time.monotonic()
    camera.stop()
    assert time.monotonic() - started < 1.0
    assert camera_threads(camera) == []
    assert camera.state is DeviceState.MISSING
    assert camera.latest_frame() is None  # the last picture does not linger
    camera.stop()  # a second stop is harmless


def test_stop_waits_for_a_thread_busy_drawing() -> None:
    def slow_wall_clock() -> float:  # makes every frame take 50 ms to draw
        time.sleep(0.05)
        return time.time()

    cam = SimulatedCamera(width=64, height=48, wall_clock=slow_wall_clock)
    cam.start()
    first_frame(cam)
    cam.stop()
    assert camera_threads(cam) == []
    assert cam.latest_frame() is None  # the frame being drawn at stop is not published


def test_restart_after_stop_continues_the_sequence(camera: SimulatedCamera) -> None:
    before = first_frame(camera).seq
    camera.stop()
    camera.start()
    after = first_frame(camera)
    assert after.seq > before
    assert camera.state is DeviceState.OK
    assert len(camera_threads(camera)) == 1


def test_unplug_stops_frames_and_replug_resumes_them(camera: SimulatedCamera) -> None:
    before = first_frame(camera)
    camera.unplug()
    assert camera.state is DeviceState.MISSING
    assert camera.latest_frame() is None
    time.sleep(0.2)  # six frames' time: a frame would have come in it, were the camera plugged
    assert camera.latest_frame() is None  # no frame sneaks in while unplugged
    assert len(camera_threads(camera)) == 1  # still started, waiting for the device

    camera.replug()
    assert camera.state is DeviceState.OK
    after = first_frame(camera)
    assert after.seq > before.seq


def test_unplugged_camera_still_stops_promptly(camera: SimulatedCamera) -> None:
    camera.unplug()
    camera.stop()
    assert camera_threads(camera) == []


def test_two_cameras_run_independently() -> None:
    a, b = SimulatedCamera(width=64, height=48), SimulatedCamera(width=96, height=64)
    a.start()
    b.start()
    try:
        assert a.thread_name != b.thread_name
        assert first_frame(b).image.shape == (64, 96, 3)
        a.unplug()
        assert b.state is DeviceState.OK
        assert first_frame(b) is not None
    finally:
        a.stop()
        b.stop()
    assert camera_threads(a) == camera_threads(b) == []


@pytest.mark.parametrize(
    "kwargs", [{"width": 0}, {"height": 4}, {"fps": 0.0}, {"fps": -1.0}, {"fps": float("nan")}]
)
def test_rejects_nonsense_settings(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        SimulatedCamera(**kwargs)  # type: ignore[arg-type]
