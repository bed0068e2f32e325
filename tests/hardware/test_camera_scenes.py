"""Generated pictures, and the simulated camera's face scene as the login snapshot sees it."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from hardware.interfaces import Frame
from hardware.simulated import SimulatedCamera
from hardware.simulated.scenes import document_scene, face_scene
from kiosk.imaging import FaceDetector
from tests.waiting import wait_until


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return FaceDetector()


@pytest.fixture
def face_camera() -> Iterator[SimulatedCamera]:
    cam = SimulatedCamera(width=640, height=480, fps=30.0, scene="face")
    cam.start()
    yield cam
    cam.stop()


def frames(camera: SimulatedCamera, count: int, timeout: float = 3.0) -> list[Frame]:
    """``count`` distinct frames from the running camera, as a login snapshot would take them."""
    seen: dict[int, Frame] = {}

    def enough() -> bool:
        frame = camera.latest_frame()
        if frame is not None:
            seen[frame.seq] = frame
        return len(seen) >= count

    wait_until(enough, timeout, lambda: f"{count} distinct frames (only {len(seen)} came)")
    return list(seen.values())[:count]


def test_face_camera_frames_show_exactly_one_face(
    face_camera: SimulatedCamera, detector: FaceDetector
) -> None:
    # Several frames: the moving box and the clock must never hide the face.
    shots = frames(face_camera, 5)
    assert [detector.count(frame.image) for frame in shots] == [1] * 5
    assert all(frame.image.shape == (480, 640, 3) for frame in shots)


@pytest.mark.parametrize("size", [(320, 240), (1280, 720)])
def test_face_scene_is_found_at_other_camera_sizes(
    size: tuple[int, int], detector: FaceDetector
) -> None:
    cam = SimulatedCamera(*size, fps=30.0, scene="face")
    cam.start()
    try:
        assert detector.count(frames(cam, 1)[0].image) == 1
    finally:
        cam.stop()


def test_face_camera_picture_still_moves(face_camera: SimulatedCamera) -> None:
    a, b = frames(face_camera, 2)
    assert b.seq > a.seq
    assert np.any(a.image != b.image, axis=2).sum() > 50


def test_the_default_is_still_the_bars_without_a_face(detector: FaceDetector) -> None:
    cam = SimulatedCamera(width=640, height=480)
    assert cam.scene == "bars"
    cam.start()
    try:
        image = frames(cam, 1)[0].image
    finally:
        cam.stop()
    assert detector.count(image) == 0
    assert len(np.unique(image.reshape(-1, 3), axis=0)) >= 7


def test_an_unknown_scene_is_refused() -> None:
    with pytest.raises(ValueError, match="scene"):
        SimulatedCamera(scene="beach")


def test_scenes_are_deterministic() -> None:
    assert np.array_equal(face_scene(640, 480, faces=2), face_scene(640, 480, faces=2))
    assert np.array_equal(document_scene(640, 480), document_scene(640, 480))
    assert not np.array_equal(face_scene(640, 480), face_scene(640, 480, faces=0))


@pytest.mark.parametrize("draw", [face_scene, document_scene])
def test_scenes_have_the_asked_size(draw) -> None:
    image = draw(800, 600)
    assert image.shape == (600, 800, 3)
    assert image.dtype == np.uint8


def test_face_scene_refuses_a_negative_crowd() -> None:
    with pytest.raises(ValueError):
        face_scene(640, 480, faces=-1)
