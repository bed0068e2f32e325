"""A facility's policy, off by default: when no face has been seen in the outgoing picture for
5 s, the picture leaves blurred until a face comes back (nobody films the room behind an empty
chair). The face check runs in a worker thread twice a second; the blur is a cheap one."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

NO_FACE_S = 5.0
CHECK_EVERY_S = 0.5
BLUR_FACTOR = 24  # the picture is shrunk this much and grown back: nothing readable remains


class FaceGate:
    def __init__(
        self,
        detector: Any | None = None,
        *,
        no_face_s: float = NO_FACE_S,
        check_every_s: float = CHECK_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``detector``: anything with ``count(image) -> int`` (kiosk.imaging's FaceDetector)."""
        if detector is None:
            from kiosk.imaging.faces import FaceDetector

            detector = FaceDetector()
        self._detector = detector
        self._no_face_s = no_face_s
        self._check_every_s = check_every_s
        self._clock = clock
        self._last_face_at = clock()
        self._last_check_at = float("-inf")
        self._checking = False
        self.blurred = False

    def __call__(self, image: np.ndarray) -> np.ndarray:
        """The picture to send: as it is, or blurred after ``no_face_s`` without a face."""
        now = self._clock()
        if not self._checking and now - self._last_check_at >= self._check_every_s:
            self._checking = True
            self._last_check_at = now
            loop = asyncio.get_running_loop()
            loop.run_in_executor(None, self._check, image, now).add_done_callback(self._checked)
        self.blurred = now - self._last_face_at > self._no_face_s
        return blur(image) if self.blurred else image

    def _check(self, image: np.ndarray, at: float) -> tuple[int, float]:
        return self._detector.count(image), at

    def _checked(self, done: asyncio.Future) -> None:
        self._checking = False
        if done.cancelled() or done.exception() is not None:
            return
        faces, at = done.result()
        if faces:
            self._last_face_at = max(self._last_face_at, at)


def blur(image: np.ndarray) -> np.ndarray:
    height, width = image.shape[:2]
    small = cv2.resize(
        image,
        (max(1, width // BLUR_FACTOR), max(1, height // BLUR_FACTOR)),
        interpolation=cv2.INTER_AREA,
    )
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
