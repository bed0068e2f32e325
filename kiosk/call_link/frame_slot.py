"""One picture at a time between two processes: the newest wins, nothing ever queues.

A slot is shared memory (``multiprocessing`` raw arrays, handed to the call's process when it
is spawned) with two picture buffers. The writer fills the buffer the reader is not meant to
be reading, then publishes its number; a reader copies the newest and checks that the writer
did not come round to that buffer meanwhile (it retries if it did). Neither side ever waits on
the other, so a busy screen cannot hold the call back and a busy call cannot hold the screen.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from multiprocessing.context import BaseContext
from typing import Any

import numpy as np

# Per buffer: seq (-1 while being written), width, height, captured_at, arrived_at (the
# writer's time.monotonic(), one clock for every process of the machine).
_FIELDS = 5
_SEQ, _WIDTH, _HEIGHT, _CAPTURED, _ARRIVED = range(_FIELDS)
_WRITING = -1.0
# A reader that finds the writer lapping it tries again this many times, then gives up until
# its next turn (the writer is then far faster than the reader can copy).
_READ_TRIES = 3


@dataclass(frozen=True, eq=False)
class SlotPicture:
    """A picture taken from a slot: BGR pixels (the reader's own copy) and its times."""

    image: np.ndarray
    seq: int
    captured_at: float  # when the camera took it (the writer's side knows best), monotonic
    arrived_at: float  # when it reached the slot's writer, monotonic


class FrameSlot:
    """Pictures up to ``max_width`` × ``max_height`` (BGR); larger ones are refused."""

    def __init__(self, context: BaseContext, max_width: int, max_height: int) -> None:
        self.max_width, self.max_height = max_width, max_height
        capacity = max_width * max_height * 3
        # lock=False: the sequence numbers are the only synchronisation this needs.
        self._header = context.RawArray("d", 1 + 2 * _FIELDS)
        self._pixels = (context.RawArray("B", capacity), context.RawArray("B", capacity))
        self._views: tuple[np.ndarray, ...] | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_views"] = None  # numpy views are rebuilt on the other side
        return state

    def _arrays(self) -> tuple[np.ndarray, ...]:
        if self._views is None:
            self._views = (
                np.frombuffer(self._header, dtype=np.float64),
                np.frombuffer(self._pixels[0], dtype=np.uint8),
                np.frombuffer(self._pixels[1], dtype=np.uint8),
            )
        return self._views

    @property
    def latest_seq(self) -> int:
        """The number of the newest picture written (0: none yet)."""
        return int(self._arrays()[0][0])

    def fits(self, width: int, height: int) -> bool:
        return width <= self.max_width and height <= self.max_height

    def write(
        self, image: np.ndarray, *, captured_at: float, arrived_at: float | None = None
    ) -> int:
        """Put ``image`` (H×W×3 ``uint8``) in as the newest picture; returns its number."""
        height, width = image.shape[:2]
        if image.ndim != 3 or image.shape[2] != 3 or not self.fits(width, height):
            raise ValueError(
                f"a {width}x{height} picture does not fit a "
                f"{self.max_width}x{self.max_height} BGR slot"
            )
        header, *pixels = self._arrays()
        seq = int(header[0]) + 1
        buffer = seq % 2
        fields = header[1 + buffer * _FIELDS : 1 + (buffer + 1) * _FIELDS]
        fields[_SEQ] = _WRITING
        size = width * height * 3
        np.copyto(pixels[buffer][:size].reshape(height, width, 3), image)
        fields[_WIDTH], fields[_HEIGHT] = width, height
        fields[_CAPTURED] = captured_at
        fields[_ARRIVED] = time.monotonic() if arrived_at is None else arrived_at
        fields[_SEQ] = seq
        header[0] = seq
        return seq

    def read(self, newer_than: int = 0) -> SlotPicture | None:
        """The newest picture if it is newer than ``newer_than``; ``None`` otherwise."""
        header, *pixels = self._arrays()
        for _ in range(_READ_TRIES):
            seq = int(header[0])
            if seq <= newer_than:
                return None
            buffer = seq % 2
            fields = header[1 + buffer * _FIELDS : 1 + (buffer + 1) * _FIELDS]
            if fields[_SEQ] != seq:
                continue  # the writer is already back at this buffer
            width, height = int(fields[_WIDTH]), int(fields[_HEIGHT])
            captured_at, arrived_at = float(fields[_CAPTURED]), float(fields[_ARRIVED])
            image = pixels[buffer][: width * height * 3].reshape(height, width, 3).copy()
            if fields[_SEQ] == seq:
                image.flags.writeable = False
                return SlotPicture(image, seq, captured_at, arrived_at)
        return None
