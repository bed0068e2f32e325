"""A real camera through OpenCV: a V4L2 device, or a video file or URL for tests and demos.

A grab thread reads as fast as the source delivers and keeps only the newest frame, so
``latest_frame()`` never hands out a picture V4L2 queued a while ago. A camera that goes away
(failing reads, or no frame for :data:`STALL_S`) is reported ``MISSING`` within that time, its
capture released, and re-opened with a backoff until it comes back.

OpenCV's V4L2 backend waits up to 10 s in ``select()`` for each frame of a stalled camera and
has no per-capture timeout; the state still turns ``MISSING`` after :data:`STALL_S` (it is
judged from the last frame's age), but the capture is only released once that read returns.
Set ``OPENCV_VIDEOIO_V4L_SELECT_TIMEOUT=2`` in the kiosk's environment to shorten the wait.
"""

from __future__ import annotations

import collections
import logging
import math
import os
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import cv2
import numpy as np

from hardware.interfaces import DeviceState, Frame
from hardware.listeners import Listeners
from hardware.reconnecting_reader import BACKOFF_FIRST_S, BACKOFF_MAX_S

log = logging.getLogger(__name__)

STALL_S = 2.0  # no frame for this long and the camera counts as gone
# A camera that went away is reopened with the other devices' backoff: BACKOFF_FIRST_S, doubling
# up to BACKOFF_MAX_S (both from hardware.reconnecting_reader).
_JOIN_TIMEOUT_S = 1.0
# Between failed reads of a camera whose device node is still there: a transient glitch
# should not flap the state, and a dead one must not spin the CPU until STALL_S.
_RETRY_READ_S = 0.05
_FPS_WINDOW_S = 1.0


class VideoCaptureLike(Protocol):
    """The part of ``cv2.VideoCapture`` the adapter uses."""

    def isOpened(self) -> bool: ...
    def read(self) -> tuple[bool, np.ndarray | None]: ...
    def set(self, prop: int, value: float) -> bool: ...
    def get(self, prop: int) -> float: ...
    def release(self) -> None: ...


@dataclass(frozen=True)
class CameraStats:
    """Counters since the camera was built, and the frame rate over the last second."""

    captured: int  # frames read from the source
    delivered: int  # distinct frames handed out by latest_frame()
    dropped: int  # frames replaced or discarded before anyone took them, plus failed reads
    read_failures: int
    fps: float


def _source_kind(path: str) -> str:
    if path.startswith("/dev/"):
        return "v4l2"
    if "://" in path:
        return "stream"
    return "file"


def _display_name(source: str) -> str:
    """``source`` for logs and the technician screen: a URL's user and password left out."""
    if "://" not in source:
        return source
    parts = urllib.parse.urlsplit(source)
    if parts.username is None and parts.password is None:
        return source
    host = parts.hostname or ""
    if ":" in host:  # IPv6: keep the brackets urlsplit took off
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def _default_open(kind: str) -> Callable[[str], VideoCaptureLike]:
    if kind == "v4l2":
        # Pinned: letting OpenCV pick would try GStreamer/FFmpeg on a device node first.
        return lambda path: cv2.VideoCapture(path, cv2.CAP_V4L2)
    return lambda path: cv2.VideoCapture(path)


def _decode_fourcc(value: float) -> str:
    code = int(value) & 0xFFFFFFFF
    text = code.to_bytes(4, "little").decode("latin-1")
    return text if text.isprintable() and code else ""


class OpenCvCamera:
    """A camera read through ``cv2.VideoCapture``, implementing :class:`hardware.interfaces.Camera`.

    ``source`` is a V4L2 device path (``/dev/...``, opened with the V4L2 backend and asked for
    ``width`` x ``height`` at ``fps`` in ``fourcc``), a video file (looped at its own rate, like
    a live camera) or a URL (a live stream). ``clock`` stamps ``Frame.captured_at``; pacing and
    the stall watchdog always use the real monotonic clock. ``open_capture`` replaces
    ``cv2.VideoCapture`` so tests can make a camera vanish below the adapter.
    """

    def __init__(
        self,
        source: str | os.PathLike[str],
        *,
        width: int = 1280,
        height: int = 720,
        fps: float = 30.0,
        fourcc: str = "MJPG",
        clock: Callable[[], float] = time.monotonic,
        open_capture: Callable[[str], VideoCaptureLike] | None = None,
    ) -> None:
        if width < 16 or height < 16:
            raise ValueError(f"camera size {width}x{height} is too small (at least 16x16)")
        if not (math.isfinite(fps) and fps > 0):
            raise ValueError(f"camera fps must be a positive number, not {fps!r}")
        if len(fourcc) not in (0, 4) or not fourcc.isascii():
            raise ValueError(f"camera fourcc must be four ASCII characters, not {fourcc!r}")
        self.source = os.fspath(source)
        if not self.source:
            raise ValueError("camera source is empty")
        self.width = width
        self.height = height
        self.fps = fps
        self.fourcc = fourcc
        self._kind = _source_kind(self.source)
        self._name = _display_name(self.source)
        self._clock = clock
        self._open_capture = open_capture or _default_open(self._kind)
        # Unique per instance: two kiosks in one process each have their own grab thread.
        self.thread_name = f"opencv-camera-{id(self):x}"

        # One lock guards every field below; the condition wakes the thread from its pacing
        # and backoff waits on stop() instead of letting it sleep them out.
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._running = False
        # Bumped by every stop: a grab thread that outlived its join (stuck in a V4L2 read)
        # sees it and publishes nothing, even if the camera has been started again meanwhile.
        self._generation = 0
        self._thread: threading.Thread | None = None
        self._state = DeviceState.MISSING
        self._detail = "stopped"
        # While streaming: when the watchdog calls the camera gone if no frame came by then.
        self._frame_deadline: float | None = None
        self._granted: dict[str, Any] = {}
        self._latest: Frame | None = None
        self._taken = False  # whether _latest was handed out (for the counters)
        self._seq = 0
        self._captured = 0
        self._delivered = 0
        self._dropped = 0
        self._read_failures = 0
        self._recent: collections.deque[float] = collections.deque()
        self._frame_listeners: Listeners[Frame] = Listeners("camera")

    # -- the Camera protocol ----------------------------------------------------------------

    def start(self) -> None:
        """Start the grab thread; does nothing if it is already running."""
        with self._lock:
            if self._running:
                return
            previous = self._thread
        if previous is not None:  # a thread that missed stop()'s join may still hold the device
            previous.join(_JOIN_TIMEOUT_S)
        with self._lock:
            if self._running:  # another thread started us while we waited
                return
            self._running = True
            self._state, self._detail = DeviceState.MISSING, f"opening {self._name}"
            self._frame_deadline = None
            self._thread = threading.Thread(
                target=self._run, args=(self._generation,), name=self.thread_name, daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop the grab thread, release the capture and forget the last frame (waits up to 1 s)."""
        with self._lock:
            self._running = False
            self._generation += 1
            self._set_status(DeviceState.MISSING, "stopped")
            self._wake.notify_all()
            thread = self._thread
        if thread is None or thread is threading.current_thread():
            return
        thread.join(_JOIN_TIMEOUT_S)
        if thread.is_alive():
            log.warning(
                "camera grab thread %s did not stop within %.1f s; it releases %s when its read "
                "returns",
                thread.name,
                _JOIN_TIMEOUT_S,
                self._name,
            )
            return
        with self._lock:
            if self._thread is thread:
                self._thread = None

    def latest_frame(self) -> Frame | None:
        """The newest frame, never an older one; ``None`` before the first or while not OK."""
        with self._lock:
            if self._effective(time.monotonic())[0] is not DeviceState.OK:
                return None
            frame = self._latest
            if frame is not None and not self._taken:
                self._taken = True
                self._delivered += 1
            return frame

    def subscribe_frames(self, listener: Callable[[Frame], None]) -> Callable[[], None]:
        return self._frame_listeners.subscribe(listener)

    @property
    def state(self) -> DeviceState:
        with self._lock:
            return self._effective(time.monotonic())[0]

    # -- for telemetry and the technician screen ----------------------------------------------

    @property
    def detail(self) -> str:
        """A short state for the technician screen: ``1280x720 MJPG 30 fps``, ``not found: ...``."""
        with self._lock:
            return self._effective(time.monotonic())[1]

    @property
    def granted(self) -> dict[str, Any]:
        """The ``width``, ``height``, ``fps`` and ``fourcc`` last granted; ``{}`` before."""
        with self._lock:
            return dict(self._granted)

    def stats(self) -> CameraStats:
        """The frame counters, and the frames captured over the last second."""
        with self._lock:
            self._prune_recent(time.monotonic())
            return CameraStats(
                captured=self._captured,
                delivered=self._delivered,
                dropped=self._dropped,
                read_failures=self._read_failures,
                fps=len(self._recent) / _FPS_WINDOW_S,
            )

    # -- state, under the lock ------------------------------------------------------------

    def _effective(self, now: float) -> tuple[DeviceState, str]:
        # The watchdog lives here, not in the thread: a V4L2 read can block for 10 s, and the
        # kiosk must stop showing a frozen face after STALL_S whatever the thread is doing.
        if self._frame_deadline is not None and now > self._frame_deadline:
            return DeviceState.MISSING, f"no frames for {STALL_S:g} s"
        return self._state, self._detail

    def _set_status(self, state: DeviceState, detail: str) -> None:
        if state is not DeviceState.OK:
            self._frame_deadline = None
            # A camera that is not OK shows nothing: the last face it saw must not linger.
            self._discard_latest()
        if (state, detail) != (self._state, self._detail):
            calm = state is DeviceState.OK or detail == "stopped"
            level = logging.INFO if calm else logging.WARNING
            log.log(level, "camera %s: %s (%s)", self._name, state.value, detail)
        self._state, self._detail = state, detail

    def _discard_latest(self) -> None:
        if self._latest is not None and not self._taken:
            self._dropped += 1
        self._latest = None

    def _prune_recent(self, now: float) -> None:
        while self._recent and self._recent[0] <= now - _FPS_WINDOW_S:
            self._recent.popleft()

    # -- the grab thread ------------------------------------------------------------------

    def _current(self, generation: int) -> bool:
        with self._lock:
            return self._generation == generation

    def _wait(self, generation: int, seconds: float) -> bool:
        """Sleep ``seconds`` unless stopped first; whether the thread should go on."""
        deadline = time.monotonic() + seconds
        with self._lock:
            while self._generation == generation:
                left = deadline - time.monotonic()
                if left <= 0:
                    return True
                self._wake.wait(left)
            return False

    def _report(self, generation: int, state: DeviceState, detail: str) -> None:
        with self._lock:
            if self._generation == generation:
                self._set_status(state, detail)

    def _run(self, generation: int) -> None:
        backoff = BACKOFF_FIRST_S
        while self._current(generation):
            capture = self._open(generation)
            if capture is not None:
                try:
                    if self._stream(capture, generation):
                        backoff = BACKOFF_FIRST_S  # it worked for a while: retry promptly
                except Exception as exc:  # the thread must outlive a driver's surprise, and retry
                    log.exception("camera %s failed", self._name)
                    self._report(generation, DeviceState.ERROR, f"failed: {exc}"[:120])
                finally:
                    self._release(capture)
            if not self._wait(generation, backoff):
                return
            backoff = min(backoff * 2, BACKOFF_MAX_S)

    def _open(self, generation: int) -> VideoCaptureLike | None:
        try:
            capture = self._open_capture(self.source)
        except Exception:  # an odd source must not kill the thread that retries it
            log.exception("opening camera %s failed", self._name)
            capture = None
        if capture is not None and capture.isOpened():
            return capture
        if capture is not None:
            self._release(capture)
        gone = self._kind != "stream" and not os.path.exists(self.source)
        self._report(
            generation,
            DeviceState.MISSING,
            f"{'not found' if gone else 'cannot open'}: {self._name}",
        )
        return None

    def _release(self, capture: VideoCaptureLike) -> None:
        try:
            capture.release()
        except Exception:  # a vanished device may fail even this; nothing is left to free
            log.debug("releasing camera %s failed", self._name, exc_info=True)

    def _configure(self, capture: VideoCaptureLike) -> dict[str, Any]:
        if self._kind == "v4l2":
            # MJPG first: in YUYV most UVC cameras cannot do 720p above about 10 fps over USB 2.
            if self.fourcc:
                capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*self.fourcc))
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
            capture.set(cv2.CAP_PROP_FPS, self.fps)
            # One driver buffer, where supported, so a read gets a fresh frame, not a queued one.
            capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        fps = capture.get(cv2.CAP_PROP_FPS)
        granted = {
            "width": int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
            "height": int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
            "fps": round(fps, 3) if math.isfinite(fps) and fps > 0 else 0.0,
            "fourcc": _decode_fourcc(capture.get(cv2.CAP_PROP_FOURCC)),
        }
        if self._kind == "v4l2" and (
            (granted["width"], granted["height"]) != (self.width, self.height)
            or granted["fps"] != self.fps
            or (self.fourcc and granted["fourcc"] != self.fourcc)
        ):
            log.warning(
                "camera %s: asked for %dx%d %s %g fps, got %dx%d %s %g fps",
                self._name,
                self.width,
                self.height,
                self.fourcc,
                self.fps,
                granted["width"],
                granted["height"],
                granted["fourcc"],
                granted["fps"],
            )
        return granted

    def _shape_problem(self, image: object, granted: dict[str, Any]) -> str | None:
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
            return f"wrong frame type: {getattr(image, 'dtype', type(image).__name__)}"
        if image.ndim != 3 or image.shape[2] != 3:
            return f"wrong frame shape: {image.shape}, expected BGR"
        width, height = granted["width"], granted["height"]
        # Some backends report 0x0; then any BGR size is taken as what the device sends.
        if width > 0 and height > 0 and image.shape[:2] != (height, width):
            return f"wrong frame size: {image.shape[1]}x{image.shape[0]}, expected {width}x{height}"
        return None

    def _stream(self, capture: VideoCaptureLike, generation: int) -> bool:
        """Read frames until the capture fails or the camera is stopped; whether any came."""
        granted = self._configure(capture)
        looping = self._kind == "file"
        granted_fps = granted["fps"] or self.fps
        period = 1.0 / granted_fps
        with self._lock:
            if self._generation != generation:
                return False
            self._granted = granted
            # The status stays as it was until the first frame: a camera that opens but sends
            # wrong frames must not flap ERROR -> OK -> ERROR on every retry.
            self._frame_deadline = time.monotonic() + STALL_S
        ok_detail = (
            f"{granted['width']}x{granted['height']} {granted['fourcc'] or '?'} {granted_fps:g} fps"
        )
        last_good = time.monotonic()
        next_at = last_good
        got_any = False
        while True:
            ok, image = capture.read()
            if not ok and looping and self._current(generation):
                # The end of the file: start it again, as a live camera would go on.
                capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, image = capture.read()
            now = time.monotonic()
            if not self._current(generation):
                return got_any
            if not ok or image is None:
                with self._lock:
                    self._read_failures += 1
                    self._dropped += 1
                if self._kind != "stream" and not os.path.exists(self.source):
                    self._report(generation, DeviceState.MISSING, f"disconnected: {self._name}")
                    return got_any
                if now - last_good >= STALL_S:
                    self._report(generation, DeviceState.MISSING, f"no frames for {STALL_S:g} s")
                    return got_any
                if not self._wait(generation, _RETRY_READ_S):
                    return got_any
                continue
            problem = self._shape_problem(image, granted)
            if problem is not None:
                self._report(generation, DeviceState.ERROR, problem)
                return got_any
            captured_at = self._clock()
            # Frames are shared between readers (preview, video track): nobody may scribble on one.
            image.flags.writeable = False
            with self._lock:
                if self._generation != generation:
                    return got_any
                self._discard_latest()
                self._seq += 1
                self._latest = Frame(image=image, captured_at=captured_at, seq=self._seq)
                self._taken = False
                self._captured += 1
                self._recent.append(now)
                self._prune_recent(now)
                self._frame_deadline = now + STALL_S
                self._set_status(DeviceState.OK, ok_detail)
                frame = self._latest
            self._frame_listeners.emit(frame)
            last_good = now
            got_any = True
            if looping:
                next_at += period
                if next_at < now - period:
                    # Fell behind (a busy host): skip ahead rather than burst frames.
                    next_at = now
                if not self._wait(generation, next_at - time.monotonic()):
                    return got_any
