"""Checks on camera stills: faces present, ID photos sharp and not blown out, JPEG captures.

Everything here is blocking CPU work: call it from a worker thread, never on the event loop.
"""

from kiosk.imaging.faces import FaceDetector
from kiosk.imaging.stills import (
    StillCheck,
    check_document_photo,
    check_face_photo,
    encode_jpeg,
    overexposed_fraction,
    sharpness,
)

__all__ = [
    "FaceDetector",
    "StillCheck",
    "check_document_photo",
    "check_face_photo",
    "encode_jpeg",
    "overexposed_fraction",
    "sharpness",
]
