"""The optional login snapshot: one frame at sign-in, a face check, a JPEG for the facility.

The camera is on only for the moment it takes; a missing face or camera never stops a sign-in,
the ``login`` event says what happened instead.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from hardware.interfaces import Camera

FIRST_FRAME_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Snapshot:
    outcome: str  # face | no_face | no_camera
    jpeg: bytes | None


async def take_snapshot(camera: Camera, check: Callable[[object], tuple[int, bytes]]) -> Snapshot:
    """Grab one fresh frame and ``check`` it (faces counted, JPEG made) in a worker thread."""
    loop = asyncio.get_running_loop()
    started = time.monotonic()
    # A device may take its time to open or to let go: never on the loop that draws the screen.
    await loop.run_in_executor(None, camera.start)
    try:
        frame = None
        # Real time, not the kiosk's clock: this waits for a device, not for a rule.
        while time.monotonic() - started < FIRST_FRAME_TIMEOUT_S:
            frame = camera.latest_frame()
            if frame is not None:
                break
            await asyncio.sleep(0.03)
    finally:
        await loop.run_in_executor(None, camera.stop)
    if frame is None:
        return Snapshot("no_camera", None)
    faces, jpeg = await loop.run_in_executor(None, check, frame.image)
    return Snapshot("face" if faces >= 1 else "no_face", jpeg)
