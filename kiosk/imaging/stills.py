"""Still pictures: JPEG captures within a byte budget, sharpness and exposure of ID photos."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from kiosk.imaging.faces import FaceDetector

MAX_CAPTURE_BYTES = 2 * 1024 * 1024
DEFAULT_QUALITY = 85
# Below this the JPEG blocks start to smear eyes and ID text; shrink the picture instead.
MIN_QUALITY = 40
QUALITY_STEP = 10
# Shrinking stops here: a smaller capture is no use to the staff who review it.
MIN_SHORT_SIDE = 240
SHRINK_FACTOR = 0.75

# Sharpness and exposure are measured on the picture resized so its longer side is this, so
# the figures do not depend on the camera's resolution (and a 1280x720 still costs little).
NORMAL_LONG_SIDE = 640
# A pixel counts as blown out from this gray level up (sensor clipping sits at 255; JPEG and
# demosaicing spread clipped areas over 250..255).
NEAR_WHITE = 250

# Thresholds, measured on hardware.simulated.scenes.document_scene (an ID card filling most of
# the frame, sensor noise included) at 640x480, 1280x720 and 1920x1080, with Gaussian blur of
# sigma s * long_side / 640 (the same blur once brought to the normal size):
#   sharpness  s=0: 1850..1890   s=0.5: 740..880   s=1: 208..219   s=1.5: 63..97   s=2: 24..60
# 150 sits between s=1 (text still crisp to the eye) and s=1.5 (strokes visibly soft), so a
# sharp card passes with a 12x margin. Noise keeps a blurred picture's figure up (the floor is
# 10..40 here); a noisier lobby camera needs this re-measured on its own blurred stills.
SHARPNESS_MIN = 150.0
#   near-white share  normal card: 0.000 at every size   overexposed: 0.42..0.44
# 0.10 of the frame is about a fifth of the card: enough glare to hide the photo or a line of
# text, while a small specular glint on a laminated card still passes.
OVEREXPOSED_MAX = 0.10
# A visitor's face photo: the face's box at least this share of the picture's height. Measured
# on the generated scenes: a face filling the lobby's oval gives 0.46-0.47 at 640x480 and
# 1280x720; the portrait on an ID card held up to the camera instead gives 0.21-0.25, and must
# not pass for the visitor's own face.
FACE_MIN_HEIGHT_SHARE = 0.33


@dataclass(frozen=True)
class StillCheck:
    """The verdict on one still: ``problem`` is a machine code for the UI to word, else None."""

    ok: bool
    # "no_face" | "several_faces" | "face_too_small" | "blurred" | "overexposed"
    problem: str | None = None

    @classmethod
    def passed(cls) -> StillCheck:
        return cls(ok=True)

    @classmethod
    def failed(cls, problem: str) -> StillCheck:
        return cls(ok=False, problem=problem)


def encode_jpeg(
    image: np.ndarray, max_bytes: int = MAX_CAPTURE_BYTES, quality: int = DEFAULT_QUALITY
) -> bytes:
    """JPEG bytes of ``image`` no larger than ``max_bytes``.

    Lowers the quality first, then shrinks the picture; raises ValueError if even the
    smallest allowed picture at the lowest allowed quality does not fit.
    """
    _check_image(image)
    if max_bytes <= 0:
        raise ValueError(f"max_bytes must be positive, not {max_bytes}")
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be 1..100, not {quality}")
    qualities = list(range(quality, MIN_QUALITY - 1, -QUALITY_STEP)) or [quality]
    if qualities[-1] != min(quality, MIN_QUALITY):
        qualities.append(min(quality, MIN_QUALITY))
    picture = image
    while True:
        for q in qualities:
            ok, buffer = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, q])
            if not ok:
                raise ValueError("OpenCV could not encode the picture as JPEG")
            if buffer.size <= max_bytes:
                return buffer.tobytes()
        height, width = picture.shape[:2]
        if round(min(height, width) * SHRINK_FACTOR) < MIN_SHORT_SIDE:
            raise ValueError(
                f"a {image.shape[1]}x{image.shape[0]} picture does not fit in {max_bytes} bytes"
            )
        size = (round(width * SHRINK_FACTOR), round(height * SHRINK_FACTOR))
        picture = cv2.resize(picture, size, interpolation=cv2.INTER_AREA)


def sharpness(image: np.ndarray) -> float:
    """Variance of the Laplacian of the grayscale picture at the normal size: higher is sharper."""
    return _laplacian_variance(_normalised_gray(image))


def overexposed_fraction(image: np.ndarray) -> float:
    """Share (0..1) of near-white pixels: glare on a laminated card, or a blown-out exposure."""
    return _near_white_share(_normalised_gray(image))


def check_face_photo(image: np.ndarray, detector: FaceDetector) -> StillCheck:
    """A visitor's face photo must show exactly one face, near enough to fill the guide."""
    faces = detector.faces(image)
    if not faces:
        return StillCheck.failed("no_face")
    if len(faces) > 1:
        return StillCheck.failed("several_faces")
    _x, _y, _w, height = faces[0]
    if height < FACE_MIN_HEIGHT_SHARE * image.shape[0]:
        return StillCheck.failed("face_too_small")
    return StillCheck.passed()


def check_document_photo(image: np.ndarray) -> StillCheck:
    """An ID or credential photo must be neither blown out nor blurred."""
    gray = _normalised_gray(image)
    # Exposure first: a blown-out card has lost its edges too, and "blurred" would send the
    # visitor to hold still when the cure is to tilt the card out of the glare.
    if _near_white_share(gray) > OVEREXPOSED_MAX:
        return StillCheck.failed("overexposed")
    if _laplacian_variance(gray) < SHARPNESS_MIN:
        return StillCheck.failed("blurred")
    return StillCheck.passed()


def _laplacian_variance(gray: np.ndarray) -> float:
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def _near_white_share(gray: np.ndarray) -> float:
    return float(np.count_nonzero(gray >= NEAR_WHITE)) / gray.size


def _check_image(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise TypeError("expected a uint8 numpy image")
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3)):
        raise ValueError(f"expected a BGR or grayscale image, got shape {image.shape}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError("the picture is empty")


def _normalised_gray(image: np.ndarray) -> np.ndarray:
    _check_image(image)
    if image.ndim == 2:
        gray = image
    elif image.shape[2] == 1:
        gray = image[:, :, 0]
    else:
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    height, width = gray.shape
    scale = NORMAL_LONG_SIDE / max(height, width)
    if scale != 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        # AREA when shrinking keeps fine detail honest; LINEAR when enlarging adds none.
        interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
        gray = cv2.resize(gray, size, interpolation=interpolation)
    return gray
