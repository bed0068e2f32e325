"""Frontal faces with OpenCV's shipped Haar cascade.

Haar is old and easily fooled, but it ships inside the opencv-python 4.x wheel (no model file
to provision) and answers "is somebody in front of the camera, and how many" in a few
milliseconds, which is all the login snapshot and the lobby's face photo ask of it.
"""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np

CASCADE_FILE = "haarcascade_frontalface_default.xml"

# Frames are shrunk so their longer side is at most this before detection: a face at kiosk
# distance is still 60+ px there, and 1280x720 costs about a quarter of the full-size time.
WORK_LONG_SIDE = 640
# Faces smaller than this share of the frame's shorter side are ignored: they are people
# walking by in the background, not the person at the kiosk (who fills a third or more).
MIN_FACE_FRACTION = 0.12
# OpenCV's usual settings; 5 neighbours keeps single stray hits on clothing and posters out.
SCALE_FACTOR = 1.1
MIN_NEIGHBORS = 5

Box = tuple[int, int, int, int]


def default_cascade_path() -> Path:
    """Where the opencv-python wheel keeps the frontal-face cascade."""
    data = getattr(cv2, "data", None)
    folder = getattr(data, "haarcascades", None)
    if not folder:
        raise FileNotFoundError(
            "this OpenCV build ships no Haar cascades (cv2.data.haarcascades is missing); "
            "install opencv-python-headless 4.x, the 5.x wheels no longer include them"
        )
    return Path(folder) / CASCADE_FILE


class FaceDetector:
    """Counts frontal faces in BGR (or grayscale) ``uint8`` pictures.

    The cascade is loaded once per instance. OpenCV does not promise that one
    ``CascadeClassifier`` may be used by several threads at once, so calls are serialised by
    a lock: sharing one detector is safe, and one detector per worker thread avoids waiting.
    """

    def __init__(
        self,
        cascade_path: str | Path | None = None,
        *,
        min_face_fraction: float = MIN_FACE_FRACTION,
        work_long_side: int = WORK_LONG_SIDE,
    ) -> None:
        path = Path(cascade_path) if cascade_path is not None else default_cascade_path()
        if not path.is_file():
            raise FileNotFoundError(f"face cascade not found: {path}")
        classifier = cv2.CascadeClassifier()
        try:
            loaded = classifier.load(str(path))
        except cv2.error as error:  # OpenCV raises on some broken files, returns False on others
            raise ValueError(f"face cascade could not be loaded: {path}: {error}") from error
        if not loaded or classifier.empty():
            raise ValueError(f"face cascade could not be loaded (not a cascade file?): {path}")
        if not 0 < min_face_fraction <= 1:
            raise ValueError(f"min_face_fraction must be in (0, 1], not {min_face_fraction}")
        if work_long_side < 64:
            raise ValueError(f"work_long_side must be at least 64, not {work_long_side}")
        self.cascade_path = path
        self.min_face_fraction = min_face_fraction
        self.work_long_side = work_long_side
        self._classifier = classifier
        self._lock = threading.Lock()

    def faces(self, image: np.ndarray) -> list[Box]:
        """Faces as ``(x, y, w, h)`` boxes in the coordinates of ``image``, left to right."""
        gray = _grayscale(image)
        height, width = gray.shape
        scale = min(1.0, self.work_long_side / max(height, width))
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        # Evens out backlight and dim rooms; the cascade compares light and dark patches.
        gray = cv2.equalizeHist(gray)
        side = max(24, round(min(gray.shape) * self.min_face_fraction))
        with self._lock:
            found = self._classifier.detectMultiScale(
                gray,
                scaleFactor=SCALE_FACTOR,
                minNeighbors=MIN_NEIGHBORS,
                minSize=(side, side),
            )
        boxes = [
            (round(x / scale), round(y / scale), round(w / scale), round(h / scale))
            for x, y, w, h in np.asarray(found, dtype=np.int64).reshape(-1, 4)
        ]
        return sorted(boxes)

    def count(self, image: np.ndarray) -> int:
        """How many frontal faces ``image`` shows."""
        return len(self.faces(image))


def _grayscale(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise TypeError("expected a uint8 numpy image")
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if image.ndim == 3 and image.shape[2] == 1:
        return image[:, :, 0]
    raise ValueError(f"expected a BGR or grayscale image, got shape {image.shape}")
