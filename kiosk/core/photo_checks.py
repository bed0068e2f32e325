"""The kiosk's checks on stills (faces, sharpness, glare) and their JPEGs, run in worker threads.

OpenCV is imported by the first check, not at start: an idle kiosk never needs it.
"""

from __future__ import annotations

from typing import Any


class PhotoChecks:
    """One face detector per kiosk, built on first use (OpenCV's cascade loads once)."""

    def __init__(self) -> None:
        self._face_detector: Any = None

    def check_face(self, image: Any) -> tuple[int, bytes]:
        """Faces counted and a JPEG made (the login snapshot)."""
        from kiosk.imaging.stills import encode_jpeg

        return self._faces().count(image), encode_jpeg(image)

    def check_still(self, purpose: str, image: Any) -> tuple[str | None, bytes]:
        """A visitor's photo checked and made a JPEG: what is wrong with it, if anything."""
        from kiosk.imaging.stills import check_document_photo, check_face_photo, encode_jpeg

        if purpose == "visitor_face":
            verdict = check_face_photo(image, self._faces())
        else:
            verdict = check_document_photo(image)
        return verdict.problem, encode_jpeg(image)

    def _faces(self) -> Any:
        from kiosk.imaging.faces import FaceDetector

        if self._face_detector is None:
            self._face_detector = FaceDetector()
        return self._face_detector
