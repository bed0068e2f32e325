"""A camera that needs no camera: colour bars, a moving box, the time and a frame counter.

It behaves like the real adapter will: a grab thread, only the latest frame kept, and a
``state`` that telemetry can read. The moving box and the ticking clock make a frozen or
lagging picture obvious on the demo screen and in a video visit.

``scene="face"`` shows a generated person instead of the bars (see
:mod:`hardware.simulated.scenes`), with the box and clock kept small at the bottom so that the
login snapshot and the lobby's face photo find exactly one face.

``timecode=True`` also stamps the wall-clock time, in milliseconds, as a strip of large black
and white cells along the top edge (see :mod:`hardware.simulated.timecode`): it survives the
video codec, so whoever receives the frame can measure the latency end to end.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from datetime import datetime
from types import ModuleType
from typing import TYPE_CHECKING

from hardware.interfaces import DeviceState, Frame
from hardware.listeners import Listeners

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

# 75 % colour bars, BGR: white, yellow, cyan, green, magenta, red, blue.
_BARS = (
    (191, 191, 191),
    (0, 191, 191),
    (191, 191, 0),
    (0, 191, 0),
    (191, 0, 191),
    (0, 0, 191),
    (191, 0, 0),
)
_JOIN_TIMEOUT_S = 1.0
SCENES = ("bars", "face")
# The widest caption the face scene draws, to size its font once.
_FACE_CAPTION_SAMPLE = "0000-00-00 00:00:00.000  frame 0000000"


def _background(width: int, height: int) -> np.ndarray:
    """Colour bars over the top three quarters, a black band below for the text."""
    import numpy as np

    image = np.zeros((height, width, 3), dtype=np.uint8)
    bar_of_column = np.arange(width) * len(_BARS) // width
    image[: height * 3 // 4] = np.array(_BARS, dtype=np.uint8)[bar_of_column]
    return image


class SimulatedCamera:
    """A generated video source implementing :class:`hardware.interfaces.Camera`.

    ``clock`` stamps ``Frame.captured_at`` (monotonic, may be a fake); pacing always uses the
    real monotonic clock, since a fake clock would make the thread spin or sleep forever.
    ``wall_clock`` supplies the time drawn on the picture.
    """

    def __init__(
        self,
        width: int = 640,
        height: int = 480,
        fps: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        *,
        wall_clock: Callable[[], float] = time.time,
        scene: str = "bars",
        timecode: bool = False,
    ) -> None:
        if scene not in SCENES:
            raise ValueError(f"camera scene must be one of {', '.join(SCENES)}, not {scene!r}")
        if width < 16 or height < 16:
            raise ValueError(f"camera size {width}x{height} is too small (at least 16x16)")
        if not (math.isfinite(fps) and fps > 0):
            raise ValueError(f"camera fps must be a positive number, not {fps!r}")
        self.width = width
        self.height = height
        self.fps = fps
        self._clock = clock
        self._wall_clock = wall_clock
        # Unique per instance: two kiosks in one process each have their own grab thread.
        self.thread_name = f"sim-camera-{id(self):x}"

        self.scene = scene
        if timecode and not _timecode().fits(width, height):
            raise ValueError(f"a {width}x{height} picture is too small for a time code")
        self.timecode = timecode
        # Drawn once, at the first frame (a camera that stays off, as an idle kiosk's does,
        # loads no numpy or OpenCV); each frame starts from a copy of it.
        self._background: np.ndarray | None = None
        if scene == "bars":
            self._box = max(8, height // 6)
            self._box_y = (height * 3 // 4 - self._box) // 2
            self._band_top = height * 3 // 4
            self._font_scale = max(0.3, height / 480 * 0.8)
        else:
            # A black caption band along the bottom, the box running just above it over the
            # shirt: both stay clear of the face, which the cascade must see whole.
            band = max(12, height // 10)
            self._band_top = height - band
            self._box = max(6, height // 24)
            self._box_y = self._band_top - self._box - max(2, height // 120)
            self._font_scale = 0.0  # measured with the face
        travel = width - self._box
        self._travel = travel
        # Cross the picture in about two seconds whatever the frame rate.
        self._step = max(1, round(travel / (2 * fps)))
        self._thickness = max(1, height // 240)

        # One lock guards every field below; the condition wakes the grab thread early on
        # stop/unplug/replug instead of letting it sleep out its frame period.
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._running = False
        self._plugged = True
        # Bumped by every stop: a grab thread that outlived its join sees it and publishes
        # nothing, even if the camera has been started again meanwhile.
        self._generation = 0
        self._seq = 0
        self._latest: Frame | None = None
        self._thread: threading.Thread | None = None
        self._held: np.ndarray | None = None  # a picture held up to the lens (``hold``)
        self._frame_listeners: Listeners[Frame] = Listeners("camera")

    def start(self) -> None:
        """Start the grab thread; does nothing if it is already running."""
        with self._lock:
            if self._running:
                return
            previous = self._thread
        if previous is not None:  # a thread that missed stop()'s join is on its way out
            previous.join(_JOIN_TIMEOUT_S)
        with self._lock:
            if self._running:  # another thread started us while we waited
                return
            self._running = True
            generation = self._generation
            self._thread = threading.Thread(
                target=self._run, args=(generation,), name=self.thread_name, daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop the grab thread and forget the last frame; waits up to one second."""
        with self._lock:
            self._running = False
            self._generation += 1
            # A stopped camera shows nothing: the last face it saw must not linger.
            self._latest = None
            self._wake.notify_all()
            thread = self._thread
        if thread is None or thread is threading.current_thread():
            return
        thread.join(_JOIN_TIMEOUT_S)
        if thread.is_alive():
            log.warning(
                "camera grab thread %s did not stop within %.1f s", thread.name, _JOIN_TIMEOUT_S
            )
            return
        with self._lock:
            if self._thread is thread:
                self._thread = None

    def subscribe_frames(self, listener: Callable[[Frame], None]) -> Callable[[], None]:
        return self._frame_listeners.subscribe(listener)

    def latest_frame(self) -> Frame | None:
        """The newest frame, never an older one; ``None`` before the first or while missing."""
        with self._lock:
            return self._latest

    @property
    def state(self) -> DeviceState:
        with self._lock:
            return DeviceState.OK if self._running and self._plugged else DeviceState.MISSING

    def hold(self, picture: np.ndarray | None) -> None:
        """Hold ``picture`` (BGR, any size) in front of the lens: every frame from the next one
        on is exactly it, with no caption or time code; ``None`` shows the scene again.

        Tests and the demo use it for an ID card, an empty room or two faces.
        """
        import numpy as np

        held = None
        if picture is not None:
            if picture.dtype != np.uint8 or picture.ndim != 3 or picture.shape[2] != 3:
                raise ValueError("hold() takes a BGR uint8 picture")
            held = picture.copy()
            held.flags.writeable = False
        with self._lock:
            self._held = held

    def unplug(self) -> None:
        """Simulate pulling the cable: frames stop and ``state`` becomes MISSING."""
        with self._lock:
            self._plugged = False
            self._latest = None
            self._wake.notify_all()

    def replug(self) -> None:
        """Simulate plugging the cable back: frames resume if the camera is started."""
        with self._lock:
            self._plugged = True
            self._wake.notify_all()

    def _run(self, generation: int) -> None:
        period = 1.0 / self.fps
        next_at = time.monotonic()
        while True:
            with self._lock:
                while True:
                    if self._generation != generation:
                        return
                    if not self._plugged:
                        self._wake.wait()
                        next_at = time.monotonic()  # no burst of catch-up frames on replug
                        continue
                    delay = next_at - time.monotonic()
                    if delay <= 0:
                        break
                    self._wake.wait(delay)
                self._seq += 1
                seq = self._seq
            captured_at = self._clock()
            frame = Frame(image=self.draw(seq), captured_at=captured_at, seq=seq)
            with self._lock:
                # Unplugged or stopped while drawing: that frame was never "captured".
                captured = self._generation == generation and self._plugged
                if captured:
                    self._latest = frame
            if captured:
                self._frame_listeners.emit(frame)
            next_at += period
            now = time.monotonic()
            if next_at < now - period:
                # Fell behind (a busy host): drop the missed frames rather than burst them.
                next_at = now

    def _scene_background(self) -> np.ndarray:
        if self._background is None and self.scene == "bars":
            self._background = _background(self.width, self.height)
        elif self._background is None:
            from hardware.simulated.scenes import face_scene

            background = face_scene(self.width, self.height, faces=1)
            background[self._band_top :] = 0
            band = self.height - self._band_top
            self._font_scale = _fit_font_scale(_FACE_CAPTION_SAMPLE, self.width - 16, band * 0.5)
            self._background = background
        return self._background

    def draw(self, seq: int) -> np.ndarray:
        """Frame ``seq`` as the camera makes it (a held picture while one is held): also for
        whoever wants the same frames without running the camera."""
        with self._lock:
            held = self._held
        if held is not None:
            return held
        import cv2

        image = self._scene_background().copy()
        phase = (seq * self._step) % (2 * self._travel)
        x = phase if phase <= self._travel else 2 * self._travel - phase
        y = self._box_y
        # Black with a white rim, so it shows on every bar, the white one included.
        cv2.rectangle(image, (x, y), (x + self._box - 1, y + self._box - 1), (0, 0, 0), -1)
        cv2.rectangle(image, (x, y), (x + self._box - 1, y + self._box - 1), (255, 255, 255), 2)

        now = self._wall_clock()
        stamp = datetime.fromtimestamp(now).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        band_top = self._band_top
        if self.scene == "bars":
            line = (self.height - band_top) // 3
            captions = [
                (text, (8, band_top + line * (row + 1) + line // 3))
                for row, text in enumerate((stamp, f"frame {seq}"))
            ]
        else:
            band = self.height - band_top
            captions = [(f"{stamp}  frame {seq}", (8, band_top + band * 3 // 4))]
        for text, origin in captions:
            cv2.putText(
                image,
                text,
                origin,
                cv2.FONT_HERSHEY_SIMPLEX,
                self._font_scale,
                (255, 255, 255),
                self._thickness,
                cv2.LINE_AA,
            )
        if self.timecode:
            _timecode().stamp(image, round(now * 1000))
        # Frames are shared between readers (preview, video track): nobody may scribble on one.
        image.flags.writeable = False
        return image


def _timecode() -> ModuleType:
    """The time code's module, with the numpy it needs, loaded only by a camera that stamps."""
    from hardware.simulated import timecode

    return timecode


def _fit_font_scale(sample: str, max_width: float, max_height: float) -> float:
    """The largest font scale at which ``sample`` fits the box (never below 0.3, still legible)."""
    import cv2

    (text_w, text_h), _ = cv2.getTextSize(sample, cv2.FONT_HERSHEY_SIMPLEX, 1.0, 1)
    return max(0.3, min(max_width / text_w, max_height / text_h))
