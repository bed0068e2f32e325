"""The kiosk's camera into the call's frame slot, picture by picture, as the camera delivers."""

from __future__ import annotations

import logging
from collections.abc import Callable

from hardware.interfaces import Camera, Frame
from kiosk.call_link.frame_slot import FrameSlot

log = logging.getLogger(__name__)


class CameraFeed:
    """While running, each new camera picture is copied into ``slot`` (on the grab thread: a
    copy of a VGA picture takes a fraction of a millisecond, and nothing waits for the screen)."""

    def __init__(self, camera: Camera, slot: FrameSlot) -> None:
        self._camera = camera
        self._slot = slot
        self._unsubscribe: Callable[[], None] | None = None
        self._too_big_told = False

    def start(self) -> None:
        if self._unsubscribe is None:
            self._unsubscribe = self._camera.subscribe_frames(self._copy)

    def stop(self) -> None:
        unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()

    def _copy(self, frame: Frame) -> None:
        image = frame.image
        height, width = image.shape[:2]
        if not self._slot.fits(width, height):
            # A camera larger than configured: every n-th pixel, as cheap as a copy.
            step = max(-(-width // self._slot.max_width), -(-height // self._slot.max_height))
            image = image[::step, ::step]
            if not self._too_big_told:
                self._too_big_told = True
                log.warning("camera sends %dx%d, more than configured: sent smaller", width, height)
        self._slot.write(image, captured_at=frame.captured_at)
