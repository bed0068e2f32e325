"""Stills: JPEG within budget, sharpness and exposure figures, the face and ID photo checks."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from hardware.simulated.scenes import document_scene, face_scene
from kiosk.imaging import (
    FaceDetector,
    StillCheck,
    check_document_photo,
    check_face_photo,
    encode_jpeg,
    overexposed_fraction,
    sharpness,
)
from kiosk.imaging.stills import MAX_CAPTURE_BYTES, OVEREXPOSED_MAX, SHARPNESS_MIN

SIZES = [(640, 480), (1280, 720), (1920, 1080)]


def noise(width: int, height: int) -> np.ndarray:
    """The worst case for JPEG: nothing to compress."""
    return np.random.default_rng(3).integers(0, 256, (height, width, 3), dtype=np.uint8)


def decode(data: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


# --- encode_jpeg ---------------------------------------------------------------------------


def test_a_camera_frame_fits_the_capture_budget_at_full_size() -> None:
    image = face_scene(1280, 720)
    data = encode_jpeg(image)
    assert data[:2] == b"\xff\xd8"  # a JPEG
    assert len(data) <= MAX_CAPTURE_BYTES
    decoded = decode(data)
    assert decoded.shape == image.shape
    # Close to the original, not some other picture of the right size.
    assert np.abs(decoded.astype(int) - image).mean() < 3


def test_quality_is_lowered_before_the_picture_is_shrunk() -> None:
    image = noise(640, 480)
    full = len(encode_jpeg(image, max_bytes=10**9))
    budget = full * 2 // 3
    data = encode_jpeg(image, max_bytes=budget)
    assert len(data) <= budget
    assert decode(data).shape == image.shape


def test_the_picture_is_shrunk_when_quality_alone_is_not_enough() -> None:
    image = noise(1280, 720)
    lowest = len(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 40])[1])
    budget = lowest // 2
    data = encode_jpeg(image, max_bytes=budget)
    assert len(data) <= budget
    height, width = decode(data).shape[:2]
    assert height < 720 and width < 1280
    assert width / height == pytest.approx(1280 / 720, rel=0.01)


def test_an_impossible_budget_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        encode_jpeg(noise(640, 480), max_bytes=1000)


@pytest.mark.parametrize(("kwargs"), [{"max_bytes": 0}, {"quality": 0}, {"quality": 101}])
def test_bad_arguments_are_refused(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        encode_jpeg(face_scene(64, 48), **kwargs)


# --- sharpness and exposure ----------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_sharp_and_blurred_cards_fall_either_side_of_the_line(size: tuple[int, int]) -> None:
    k = max(size) / 640  # the same blur once brought to the normal size
    sharp = sharpness(document_scene(*size))
    soft = sharpness(document_scene(*size, blur=2.0 * k))
    assert sharp > 5 * SHARPNESS_MIN
    assert soft < SHARPNESS_MIN
    assert sharpness(document_scene(*size, blur=0.5 * k)) < sharp  # monotonic in blur


def test_sharpness_does_not_depend_on_resolution() -> None:
    figures = [sharpness(document_scene(*size)) for size in SIZES]
    assert max(figures) / min(figures) < 1.25, figures


def test_overexposed_fraction() -> None:
    assert overexposed_fraction(np.zeros((48, 64, 3), np.uint8)) == 0.0
    assert overexposed_fraction(np.full((48, 64, 3), 255, np.uint8)) == 1.0
    half = np.zeros((48, 64), np.uint8)
    half[:, 32:] = 252
    assert overexposed_fraction(half) == pytest.approx(0.5, abs=0.02)
    assert overexposed_fraction(document_scene(1280, 720)) < 0.01
    assert overexposed_fraction(document_scene(1280, 720, overexpose=True)) > 3 * OVEREXPOSED_MAX


# --- the checks ----------------------------------------------------------------------------


def test_face_photo_with_one_face_is_ok(detector: FaceDetector) -> None:
    assert check_face_photo(face_scene(1280, 720), detector) == StillCheck(ok=True, problem=None)


def test_face_photo_of_an_empty_room(detector: FaceDetector) -> None:
    result = check_face_photo(face_scene(1280, 720, faces=0), detector)
    assert result == StillCheck(ok=False, problem="no_face")


def test_face_photo_with_two_people(detector: FaceDetector) -> None:
    result = check_face_photo(face_scene(1280, 720, faces=2), detector)
    assert result == StillCheck(ok=False, problem="several_faces")


def test_an_id_card_held_up_to_the_camera_is_not_the_visitors_face(detector) -> None:
    """The card's portrait is a face, but far too small to be the one in front of the kiosk."""
    for width, height in ((1280, 720), (640, 480)):
        assert detector.count(document_scene(width, height)) == 1
        result = check_face_photo(document_scene(width, height), detector)
        assert result == StillCheck.failed("face_too_small")


@pytest.mark.parametrize("size", SIZES)
def test_sharp_id_photo_is_ok(size: tuple[int, int]) -> None:
    assert check_document_photo(document_scene(*size)) == StillCheck(ok=True)


@pytest.mark.parametrize("size", SIZES)
def test_blurred_id_photo(size: tuple[int, int]) -> None:
    image = document_scene(*size, blur=2.0 * max(size) / 640)
    assert check_document_photo(image) == StillCheck(ok=False, problem="blurred")


def test_overexposed_id_photo() -> None:
    image = document_scene(1280, 720, overexpose=True)
    assert check_document_photo(image) == StillCheck(ok=False, problem="overexposed")


def test_glare_is_reported_before_blur() -> None:
    # Blown out and blurred: tilting the card is the advice that helps.
    image = document_scene(1280, 720, blur=4.0, overexpose=True)
    assert check_document_photo(image).problem == "overexposed"
