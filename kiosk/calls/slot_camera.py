"""The kiosk's camera as the call's process sees it: pictures the kiosk puts in a frame slot.

The camera itself stays with the kiosk (the lobby's photos and the self-test share it); the
call only reads the newest picture. A thread looks for a new one every couple of milliseconds:
the slot has no way to ring, and a look costs a few microseconds.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from hardware.interfaces import DeviceState, Frame
from hardware.listeners import Listeners
from kiosk.call_link.frame_slot import FrameSlot

log = logging.getLogger(__name__)

LOOK_EVERY_S = 0.002


class SlotCamera:
    """A :class:`hardware.interfaces.Camera` reading ``slot``; start and stop are the kiosk's."""

    def __init__(self, slot: FrameSlot) -> None:
        self._slot = slot
        self._frame: Frame | None = None
        self._lock = threading.Lock()
        self._listeners: Listeners[Frame] = Listeners("camera slot")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        pass

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=1.0)

    def state(self) -> DeviceState:
        return DeviceState.OK

    def latest_frame(self) -> Frame | None:
        with self._lock:
            seen = self._frame.seq if self._frame is not None else 0
            picture = self._slot.read(newer_than=seen)
            if picture is not None:
                self._frame = Frame(picture.image, picture.captured_at, picture.seq)
            return self._frame

    def subscribe_frames(self, listener: Callable[[Frame], None]) -> Callable[[], None]:
        unsubscribe = self._listeners.subscribe(listener)
        if self._thread is None:
            self._thread = threading.Thread(target=self._look, name="camera-slot", daemon=True)
            self._thread.start()
        return unsubscribe

    def _look(self) -> None:
        told = 0
        while not self._stop.wait(LOOK_EVERY_S):
            if self._slot.latest_seq == told:
                continue
            frame = self.latest_frame()
            if frame is not None and frame.seq != told:
                told = frame.seq
                self._listeners.emit(frame)
