"""FaceDetector on generated frames: how many faces, where, and its failure modes."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from hardware.simulated.scenes import face_scene
from kiosk.imaging import FaceDetector


@pytest.mark.parametrize("size", [(640, 480), (1280, 720)])
@pytest.mark.parametrize("people", [0, 1, 2, 3])
def test_counts_the_people_in_the_frame(
    detector: FaceDetector, size: tuple[int, int], people: int
) -> None:
    assert detector.count(face_scene(*size, faces=people)) == people


@pytest.mark.parametrize(("blur", "brightness"), [(2.0, 1.0), (0.0, 0.6), (0.0, 1.3)])
def test_soft_dim_or_bright_faces_are_still_found(
    detector: FaceDetector, blur: float, brightness: float
) -> None:
    image = face_scene(1280, 720, faces=1, blur=blur, brightness=brightness)
    assert detector.count(image) == 1


def test_boxes_are_in_the_coordinates_of_the_full_frame(detector: FaceDetector) -> None:
    # 1280x720 is detected on a half-size copy: the box must be scaled back up.
    boxes = detector.faces(face_scene(1280, 720, faces=2))
    assert len(boxes) == 2
    (lx, ly, lw, lh), (rx, _, rw, _) = boxes
    assert lx + lw / 2 == pytest.approx(320, abs=40)  # the left person's slot centre
    assert rx + rw / 2 == pytest.approx(960, abs=40)
    assert ly + lh / 2 == pytest.approx(0.45 * 720, abs=50)
    assert 120 < lw < 400


def test_grayscale_input_gives_the_same_answer(detector: FaceDetector) -> None:
    image = face_scene(640, 480, faces=1)
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    assert detector.faces(gray) == detector.faces(image)


def test_a_blank_or_noisy_frame_has_no_face(detector: FaceDetector) -> None:
    assert detector.count(np.zeros((480, 640, 3), np.uint8)) == 0
    noise = np.random.default_rng(7).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    assert detector.count(noise) == 0


def test_faces_below_the_minimum_size_are_ignored(detector: FaceDetector) -> None:
    # Eight people across a 720p frame: faces about a fifth of its height.
    crowd = face_scene(1280, 720, faces=8)
    assert detector.count(crowd) == 8
    assert FaceDetector(min_face_fraction=0.3).count(crowd) == 0


def test_shared_between_threads_gives_consistent_answers(detector: FaceDetector) -> None:
    frames = [face_scene(640, 480, faces=n) for n in (0, 1, 2)]
    results: list[list[int]] = []
    lock = threading.Lock()

    def work() -> None:
        counts = [detector.count(frame) for frame in frames for _ in range(3)]
        with lock:
            results.append(counts)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == [[0, 0, 0, 1, 1, 1, 2, 2, 2]] * 4


def test_each_detector_has_its_own_cascade() -> None:
    assert FaceDetector()._classifier is not FaceDetector()._classifier


def test_a_missing_cascade_file_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.xml"
    with pytest.raises(FileNotFoundError, match=r"nope\.xml"):
        FaceDetector(missing)


def test_an_opencv_without_cascades_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # What the OpenCV 5 wheels look like: no cv2.data.haarcascades.
    monkeypatch.delattr(cv2, "data")
    with pytest.raises(FileNotFoundError, match="haarcascades"):
        FaceDetector()


def test_a_file_that_is_no_cascade_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.xml"
    junk.write_text("<opencv_storage></opencv_storage>")
    with pytest.raises(ValueError, match="could not be loaded"):
        FaceDetector(junk)


def test_wrong_pictures_are_refused(detector: FaceDetector) -> None:
    with pytest.raises(TypeError):
        detector.count(np.zeros((48, 64, 3), np.float32))
    with pytest.raises(ValueError):
        detector.count(np.zeros((48, 64, 4), np.uint8))
