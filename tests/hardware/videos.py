"""Short test videos written at test time (never committed): each frame carries its index.

The index is stamped as a :mod:`hardware.simulated.timecode` strip, which survives MJPG, and
also drawn in large digits for a human looking at a frame.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from hardware.simulated import timecode


def write_counting_video(
    path: Path, *, width: int = 640, height: int = 480, frames: int = 60, fps: float = 30.0
) -> Path:
    """Write an MJPG ``.avi`` whose frame ``i`` shows ``i``; returns ``path``."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write an MJPG video to {path}")
    scale = height / 120
    try:
        for index in range(frames):
            image = np.full((height, width, 3), 96, dtype=np.uint8)
            timecode.stamp(image, index)
            cv2.putText(
                image,
                str(index),
                (width // 8, height * 4 // 5),
                cv2.FONT_HERSHEY_SIMPLEX,
                scale,
                (255, 255, 255),
                max(1, round(scale * 2)),
            )
            writer.write(image)
    finally:
        writer.release()
    return path


def frame_index(image: np.ndarray) -> int | None:
    """The index :func:`write_counting_video` stamped into a frame, or ``None`` if unreadable."""
    return timecode.read(image)
