"""The OpenCV camera adapter, through real OpenCV on video files generated at test time.

A wrapper around a real ``cv2.VideoCapture`` (``Plug``) makes the camera vanish and return one
layer below the adapter. Timing bounds are loose on purpose: the build machine is shared and
noisy; they are ratios, or the adapter's own constants plus a generous margin.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from hardware.interfaces import DeviceState, Frame
from hardware.opencv_camera import BACKOFF_MAX_S, STALL_S, OpenCvCamera
from tests.hardware.videos import frame_index, write_counting_video
from tests.waiting import wait_until

FILE_FRAMES = 60
FILE_FPS = 30.0
MARGIN_S = 1.5  # on top of the adapter's own deadlines, for a loaded build machine


def camera_threads(camera: OpenCvCamera) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == camera.thread_name]


def first_frame(camera: OpenCvCamera, timeout: float = 3.0) -> Frame:
    frame = wait_until(camera.latest_frame, timeout, "a first frame")
    assert isinstance(frame, Frame)
    return frame


def frame_after(camera: OpenCvCamera, seq: int, timeout: float = 3.0) -> Frame:
    """The first frame newer than ``seq``."""
    frame = wait_until(
        lambda: (f := camera.latest_frame()) is not None and f.seq > seq and f,
        timeout,
        f"a frame after frame {seq}",
    )
    assert isinstance(frame, Frame)
    return frame


def shows_its_seq(frame: Frame) -> bool:
    """Whether the picture is the file frame ``seq`` stands for (the file loops from frame 0)."""
    return frame_index(frame.image) == (frame.seq - 1) % FILE_FRAMES


@pytest.fixture(scope="module")
def video_vga(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("videos") / "vga.avi"
    return write_counting_video(path, width=640, height=480, frames=FILE_FRAMES, fps=FILE_FPS)


@pytest.fixture(scope="module")
def video_hd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("videos") / "hd.avi"
    return write_counting_video(path, width=1280, height=720, frames=FILE_FRAMES, fps=FILE_FPS)


@pytest.fixture
def camera(video_vga: Path) -> Iterator[OpenCvCamera]:
    cam = OpenCvCamera(video_vga)
    cam.start()
    yield cam
    cam.stop()
    assert camera_threads(cam) == []


class Plug:
    """Opens real ``cv2.VideoCapture``s; ``pull()`` makes the camera vanish, ``restore()`` brings
    it back.

    ``hang=False``: while pulled, reads fail and opens fail (a USB camera unplugged).
    ``hang=True``: while pulled, a read blocks, as V4L2's does for a camera that stopped sending,
    until the camera returns (then it gets a frame) or ``read_timeout`` passes (then it fails).
    """

    def __init__(self, *, hang: bool = False, read_timeout: float = 10.0) -> None:
        self.hang = hang
        self.read_timeout = read_timeout
        self.present = threading.Event()
        self.present.set()
        self.transform: Callable[[np.ndarray], np.ndarray] | None = None
        self._lock = threading.Lock()
        self.opened = 0  # captures that opened
        self.live = 0  # captures that opened and were not released yet

    def pull(self) -> None:
        self.present.clear()

    def restore(self) -> None:
        self.present.set()

    def open(self, source: str) -> _PluggedCapture:
        return _PluggedCapture(self, source)

    def _count(self, opened: int, live: int) -> None:
        with self._lock:
            self.opened += opened
            self.live += live


class _PluggedCapture:
    def __init__(self, plug: Plug, source: str) -> None:
        self._plug = plug
        self._inner: cv2.VideoCapture | None = None
        if plug.present.is_set():
            inner = cv2.VideoCapture(source)
            if inner.isOpened():
                self._inner = inner
                plug._count(1, 1)

    def isOpened(self) -> bool:
        return self._inner is not None

    def read(self) -> tuple[bool, np.ndarray | None]:
        plug = self._plug
        if self._inner is None:
            return False, None
        if not plug.present.is_set() and (
            not plug.hang or not plug.present.wait(plug.read_timeout)
        ):
            return False, None
        ok, image = self._inner.read()
        if ok and plug.transform is not None:
            image = plug.transform(image)
        return ok, image

    def set(self, prop: int, value: float) -> bool:
        return self._inner is not None and self._inner.set(prop, value)

    def get(self, prop: int) -> float:
        return self._inner.get(prop) if self._inner is not None else 0.0

    def release(self) -> None:
        if self._inner is not None:
            self._inner.release()
            self._inner = None
            self._plug._count(0, -1)


# -- a file plays like a live camera --------------------------------------------------------


def test_nothing_before_start(video_vga: Path) -> None:
    cam = OpenCvCamera(video_vga)
    assert cam.latest_frame() is None
    assert cam.state is DeviceState.MISSING
    assert cam.detail == "stopped"
    assert cam.granted == {}
    assert camera_threads(cam) == []


def test_frames_are_read_only_bgr_of_the_file_size(camera: OpenCvCamera) -> None:
    frame = first_frame(camera)
    assert frame.image.shape == (480, 640, 3)
    assert frame.image.dtype == np.uint8
    assert not frame.image.flags.writeable
    with pytest.raises(ValueError):
        frame.image[0, 0] = 0
    assert camera.state is DeviceState.OK
    assert camera.detail == "640x480 MJPG 30 fps"
    assert camera.granted == {"width": 640, "height": 480, "fps": 30.0, "fourcc": "MJPG"}


def test_a_720p_file(video_hd: Path) -> None:
    cam = OpenCvCamera(video_hd)
    cam.start()
    try:
        frame = first_frame(cam)
        assert frame.image.shape == (720, 1280, 3)
        assert shows_its_seq(frame)
        assert cam.detail == "1280x720 MJPG 30 fps"
    finally:
        cam.stop()


def test_plays_in_order_at_the_file_rate_and_loops(camera: OpenCvCamera) -> None:
    first = first_frame(camera)
    started = time.monotonic()
    seen: list[Frame] = []

    def looped() -> bool:
        frame = camera.latest_frame()
        assert frame is not None
        if not seen or frame is not seen[-1]:
            seen.append(frame)
        return frame.seq >= first.seq + FILE_FRAMES + 10

    # Past the end of the 60-frame file, so the loop back to its first frame is covered; polled
    # often enough to see every frame.
    wait_until(looped, 6.0, "the file to loop", every=0.005)
    elapsed = time.monotonic() - started
    seqs = [f.seq for f in seen]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert [f.captured_at for f in seen] == sorted(f.captured_at for f in seen)
    # The picture is the file frame the sequence number stands for: never an older one.
    assert all(shows_its_seq(f) for f in seen)
    rate = (seen[-1].seq - first.seq) / elapsed
    assert 0.6 < rate / FILE_FPS < 1.25
    assert 0.6 < camera.stats().fps / FILE_FPS < 1.25


def test_a_slow_reader_gets_the_newest_frame_and_the_rest_are_dropped(
    camera: OpenCvCamera,
) -> None:
    previous = first_frame(camera)
    dropped_before = camera.stats().dropped
    taken = 1
    for _ in range(5):
        time.sleep(0.2)  # a slow consumer, the case under test: about six frames' time
        captured = camera.stats().captured
        frame = camera.latest_frame()
        assert frame is not None
        taken += 1
        assert frame.seq >= captured  # the newest at the time of the call, not a queued one
        assert frame.seq - previous.seq > 1
        assert shows_its_seq(frame)
        previous = frame
    stats = camera.stats()
    assert stats.dropped - dropped_before >= 10
    assert stats.delivered == taken
    assert stats.read_failures == 0
    assert stats.captured >= stats.delivered + stats.dropped


def test_asking_twice_returns_the_same_frame_and_counts_it_once(camera: OpenCvCamera) -> None:
    first_frame(camera)
    # Two calls well within one file frame (33 ms) usually see the same frame.
    for _ in range(50):
        delivered = camera.stats().delivered
        a = camera.latest_frame()
        b = camera.latest_frame()
        if a is b:
            assert camera.stats().delivered - delivered <= 1
            return
    pytest.fail("never saw the same frame twice in a row")


def test_captured_at_comes_from_the_injected_clock(video_vga: Path) -> None:
    cam = OpenCvCamera(video_vga, clock=lambda: 1234.5)
    cam.start()
    try:
        assert first_frame(cam).captured_at == 1234.5
    finally:
        cam.stop()


# -- missing, vanishing and broken cameras ------------------------------------------------


def test_a_missing_file_is_missing_and_named(tmp_path: Path) -> None:
    path = tmp_path / "no-such-video.avi"
    cam = OpenCvCamera(path)
    cam.start()
    try:
        wait_until(lambda: cam.detail == f"not found: {path}", 3.0)
        assert cam.state is DeviceState.MISSING
        assert cam.latest_frame() is None
        assert len(camera_threads(cam)) == 1  # still trying, with a backoff
    finally:
        cam.stop()
    assert camera_threads(cam) == []


def test_a_v4l2_device_that_does_not_exist_is_missing_and_named() -> None:
    path = "/dev/video-kiosk-test-nonexistent"
    cam = OpenCvCamera(path)
    cam.start()
    try:
        wait_until(lambda: cam.detail == f"not found: {path}", 3.0)
        assert cam.state is DeviceState.MISSING
        assert cam.latest_frame() is None
    finally:
        cam.stop()
    assert camera_threads(cam) == []


def test_a_camera_that_vanishes_is_missing_released_and_found_again(video_vga: Path) -> None:
    plug = Plug()
    cam = OpenCvCamera(video_vga, open_capture=plug.open)
    cam.start()
    try:
        before = first_frame(cam)
        plug.pull()
        pulled_at = time.monotonic()
        wait_until(lambda: cam.state is DeviceState.MISSING, STALL_S + MARGIN_S)
        assert time.monotonic() - pulled_at < STALL_S + MARGIN_S
        assert cam.latest_frame() is None  # no stale face lingers
        wait_until(lambda: plug.live == 0, 3.0)  # the capture was released
        assert cam.stats().read_failures > 0
        # Still gone: it stays missing and shows nothing while it retries.
        for _ in range(20):
            assert cam.latest_frame() is None
            assert cam.state is DeviceState.MISSING
            time.sleep(0.02)
        plug.restore()
        after = frame_after(cam, before.seq, BACKOFF_MAX_S + MARGIN_S)
        assert cam.state is DeviceState.OK
        assert cam.detail == "640x480 MJPG 30 fps"
        assert plug.opened == 2 and plug.live == 1
        # Opened again from the file's start: the sequence goes on, the picture starts over.
        assert frame_index(after.image) is not None
    finally:
        plug.restore()
        cam.stop()
    assert plug.live == 0
    assert camera_threads(cam) == []


def test_a_camera_that_stops_sending_is_missing_while_its_read_still_blocks(
    video_vga: Path,
) -> None:
    plug = Plug(hang=True)
    cam = OpenCvCamera(video_vga, open_capture=plug.open)
    cam.start()
    try:
        before = first_frame(cam)
        plug.pull()
        pulled_at = time.monotonic()
        wait_until(lambda: cam.state is DeviceState.MISSING, STALL_S + MARGIN_S)
        assert time.monotonic() - pulled_at < STALL_S + MARGIN_S
        assert cam.detail == f"no frames for {STALL_S:g} s"
        assert cam.latest_frame() is None
        assert cam.stats().fps == 0
        plug.restore()  # the blocked read returns a frame
        wait_until(lambda: cam.state is DeviceState.OK, 3.0)
        after = first_frame(cam)
        assert after.seq > before.seq
    finally:
        plug.restore()
        cam.stop()
    assert camera_threads(cam) == []


def test_frames_of_the_wrong_shape_are_an_error(video_vga: Path) -> None:
    plug = Plug()
    plug.transform = lambda image: cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    cam = OpenCvCamera(video_vga, open_capture=plug.open)
    cam.start()
    try:
        wait_until(lambda: cam.state is DeviceState.ERROR, 3.0)
        assert cam.detail.startswith("wrong frame shape")
        assert cam.latest_frame() is None
        wait_until(lambda: plug.live == 0, 3.0)  # released; it is retried with a backoff
    finally:
        cam.stop()
    assert camera_threads(cam) == []


def test_a_driver_exception_is_an_error_and_the_camera_is_retried(video_vga: Path) -> None:
    plug = Plug()

    def explode(image: np.ndarray) -> np.ndarray:
        raise RuntimeError("driver hiccup")

    plug.transform = explode
    cam = OpenCvCamera(video_vga, open_capture=plug.open)
    cam.start()
    try:
        wait_until(lambda: cam.state is DeviceState.ERROR, 3.0)
        assert cam.detail == "failed: driver hiccup"
        assert len(camera_threads(cam)) == 1  # the thread lived on
        plug.transform = None
        first_frame(cam, BACKOFF_MAX_S + MARGIN_S)
        assert cam.state is DeviceState.OK
    finally:
        cam.stop()
    assert plug.live == 0


def test_a_url_that_cannot_be_opened_is_named_without_its_password() -> None:
    # Port 9 (discard) on this host: refused at once, no network needed.
    cam = OpenCvCamera("http://kiosk:secret@127.0.0.1:9/camera.mjpg")
    cam.start()
    try:
        wait_until(lambda: cam.detail.startswith("cannot open"), 3.0)
        assert cam.detail == "cannot open: http://127.0.0.1:9/camera.mjpg"
        assert cam.state is DeviceState.MISSING
    finally:
        cam.stop()


# -- lifecycle ---------------------------------------------------------------------------


def test_start_twice_is_harmless(camera: OpenCvCamera) -> None:
    camera.start()
    first_frame(camera)
    camera.start()
    assert len(camera_threads(camera)) == 1


def test_stop_start_cycles(video_vga: Path) -> None:
    plug = Plug()
    cam = OpenCvCamera(video_vga, open_capture=plug.open)
    last_seq = 0
    for cycle in range(3):
        cam.start()
        frame = frame_after(cam, last_seq)
        last_seq = frame.seq
        assert len(camera_threads(cam)) == 1
        cam.stop()
        assert cam.latest_frame() is None
        assert cam.state is DeviceState.MISSING
        assert cam.detail == "stopped"
        assert camera_threads(cam) == []
        assert plug.live == 0, f"capture not released after stop {cycle + 1}"
    assert plug.opened == 3


def test_two_cameras_do_not_share_state(video_vga: Path, video_hd: Path) -> None:
    a = OpenCvCamera(video_vga)
    b = OpenCvCamera(video_hd)
    assert a.thread_name != b.thread_name
    a.start()
    b.start()
    try:
        assert first_frame(a).image.shape == (480, 640, 3)
        assert first_frame(b).image.shape == (720, 1280, 3)
        a.stop()
        assert a.latest_frame() is None and a.state is DeviceState.MISSING
        seq = first_frame(b).seq
        frame_after(b, seq)
        assert b.state is DeviceState.OK
        assert a.granted["width"] == 640 and b.granted["width"] == 1280
        assert a.stats().captured < b.stats().captured
    finally:
        a.stop()
        b.stop()
    assert camera_threads(a) == camera_threads(b) == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"width": 8},
        {"height": 0},
        {"fps": 0.0},
        {"fps": float("nan")},
        {"fourcc": "MJPEG"},
    ],
)
def test_rejects_nonsense_settings(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        OpenCvCamera("/dev/video0", **kwargs)  # type: ignore[arg-type]
