"""Media for a video visit: what the kiosk sends (camera, handset microphone) and what it does
with what it receives (the peer's picture for the screen, the peer's voice for the earpiece).

Everything here runs on the kiosk's event loop and never blocks it: the camera is read with
:meth:`Camera.latest_frame` (its grab thread does the waiting), encoding and decoding happen in
aiortc's threads, and a sink converts a received picture to BGR only when someone looks at it.

The video track follows the camera: it sends each new frame as soon as the grab thread has it.
The tone paces itself on ``time.monotonic`` rather than aiortc's ``time.time``: a wall-clock step
(NTP, a technician setting the date) must neither freeze nor burst a call. A tone that falls far
behind (a busy host, or a pause between two peer connections) starts counting again from now
instead of sending the frames it missed in a burst.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
import math
import time
from collections import deque
from collections.abc import Callable

import cv2
import numpy as np
from aiortc import AudioStreamTrack, MediaStreamTrack, VideoStreamTrack
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame, VideoFrame
from av.frame import Frame

from hardware.interfaces import Camera
from hardware.interfaces import Frame as CameraFrame
from kiosk.calls.send_quality import SendQuality

log = logging.getLogger(__name__)

VIDEO_CLOCK_RATE = 90_000
VIDEO_TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK_RATE)
# Behind schedule by more than this, a track re-anchors its clock instead of catching up.
_MAX_LAG_S = 0.25
_DEFAULT_SIZE = (640, 480)


class _Pacer:
    """Hands out media timestamps at a steady rate on the monotonic clock."""

    def __init__(self, clock_rate: int) -> None:
        self._rate = clock_rate
        self._start: float | None = None
        self.timestamp = 0

    async def next(self, period_s: float) -> int:
        now = time.monotonic()
        if self._start is None:
            self._start = now
            return self.timestamp
        self.timestamp += max(1, round(period_s * self._rate))
        due = self._start + self.timestamp / self._rate
        if due < now - _MAX_LAG_S:
            self._start = now - self.timestamp / self._rate  # resume from now, no burst
        elif due > now:
            await asyncio.sleep(due - now)
        return self.timestamp


class CameraVideoTrack(VideoStreamTrack):
    """The kiosk camera as a WebRTC video track, up to ``fps`` frames a second.

    Each ``recv`` waits for the camera's next frame and hands it on as soon as it is captured
    (a track on a timer of its own would send a frame up to one interval old). A camera faster
    than ``fps`` is thinned; with nothing new for ``1.5 / fps`` s the last picture is sent
    again (the encoder makes a repeat almost free). When the camera delivers nothing new for
    ``stall_s`` seconds (unplugged, stopped, hung), the track sets :attr:`camera_failed`, calls
    ``on_camera_failed(True)`` and sends a grey "camera unavailable" picture at ``slate_fps``
    instead, so the call goes on with its audio; when frames come back it calls
    ``on_camera_failed(False)``. The check runs while a peer connection pulls frames.

    The time the sender spends on each frame (from one ``recv`` returning to the next call) is
    told to :attr:`quality`, which lowers the size and then the rate sent when the processor
    cannot keep up (:mod:`kiosk.calls.send_quality`).
    """

    def __init__(
        self,
        camera: Camera,
        *,
        fps: float = 30.0,
        stall_s: float = 2.0,
        slate_fps: float = 2.0,
        on_camera_failed: Callable[[bool], None] | None = None,
        picture_filter: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> None:
        """``picture_filter``: what the picture goes through before it leaves (a policy's blur);
        the self-view shows its result, so the resident sees what the other side sees."""
        super().__init__()
        if not (math.isfinite(fps) and fps > 0):
            raise ValueError(f"fps must be a positive number, not {fps!r}")
        self._camera = camera
        self._camera_period = 1.0 / fps
        self._slate_period = 1.0 / slate_fps
        self._stall_s = stall_s
        self._on_camera_failed = on_camera_failed
        self._picture_filter = picture_filter
        self._sent_image: np.ndarray | None = None
        self._started_at: float | None = None  # monotonic time of pts 0
        self._last_pts = -1
        self._last_sent_at: float | None = None
        self._last_seq: int | None = None  # None until a camera frame was sent
        self._last_image: np.ndarray | None = None
        self._last_new_at = time.monotonic()
        self._slate: np.ndarray | None = None
        self._slate_key: tuple[int, int, bool] | None = None
        self._frame_came: asyncio.Event | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._returned_at: float | None = None
        self.quality = SendQuality()
        self.camera_failed = False
        self.sent_size: tuple[int, int] | None = None
        self.frames_sent = 0  # every frame handed to the encoder, repeats and slates included
        self.camera_frames_sent = 0  # distinct camera frames among them

    def latest_image(self) -> np.ndarray | None:
        """The newest camera picture (BGR, read-only), for the self-view; ``None`` if none.

        With a picture filter, the last picture as it was sent (blurred when it was)."""
        if self._picture_filter is not None and self._sent_image is not None:
            return self._sent_image
        frame = self._camera.latest_frame()
        return frame.image if frame is not None else None

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        super().stop()

    @property
    def _period(self) -> float:
        return self._camera_period / self.quality.step.rate

    @property
    def send_fps(self) -> float:
        """The frame rate the sender aims at now."""
        return 1.0 / self._period

    async def recv(self) -> VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._returned_at is not None:
            self.quality.busy(time.monotonic() - self._returned_at)
        frame = await self._next_camera_frame()
        if self.readyState != "live":
            raise MediaStreamError
        now = time.monotonic()
        if frame is not None and frame.seq != self._last_seq:
            self._last_seq = frame.seq
            self._last_image = frame.image
            self._last_new_at = now
            self.camera_frames_sent += 1
            self._set_failed(False)
        elif now - self._last_new_at > self._stall_s:
            self._set_failed(True)
        if self.camera_failed or self._last_image is None:
            image = self._slate_image()
        elif self._picture_filter is not None:
            image = self._picture_filter(self._last_image)
            self._sent_image = image
        else:
            image = self._last_image
        image = self._fitted(image)
        self.sent_size = (image.shape[1], image.shape[0])
        video_frame = VideoFrame.from_ndarray(image, format="bgr24")
        video_frame.pts = self._timestamp(now)
        video_frame.time_base = VIDEO_TIME_BASE
        self._last_sent_at = now
        self.frames_sent += 1
        self._returned_at = time.monotonic()
        return video_frame

    def _fitted(self, image: np.ndarray) -> np.ndarray:
        height, width = image.shape[:2]
        size = self.quality.size(width, height)
        if size == (width, height):
            return image
        return cv2.resize(image, size, interpolation=cv2.INTER_AREA)

    async def _next_camera_frame(self) -> CameraFrame | None:
        """The camera's next new frame once it comes; the current one (a repeat) if none comes
        in time. Never two camera frames closer than 0.9 of the track's interval."""
        if self._frame_came is None:
            loop = asyncio.get_running_loop()
            self._frame_came = came = asyncio.Event()
            # Set from the grab thread: the loop wakes with the frame, not at the next tick.
            self._unsubscribe = self._camera.subscribe_frames(
                lambda _frame: loop.call_soon_threadsafe(came.set)
            )
            # The frame already there may be nearly an interval old: the first one sent is the
            # next, unless none comes within an interval.
            current = self._camera.latest_frame()
            stale_seq = current.seq if current is not None else None
        else:
            stale_seq = None
        if self._last_seq is not None:  # _last_new_at: when the last camera frame was sent
            earliest = self._last_new_at + 0.9 * self._period
            if (wait := earliest - time.monotonic()) > 0:
                await asyncio.sleep(wait)
        if self._last_sent_at is None:
            deadline = time.monotonic() + self._period
        else:
            deadline = self._last_sent_at + (
                self._slate_period if self.camera_failed else 1.5 * self._period
            )
        while True:
            self._frame_came.clear()
            frame = self._camera.latest_frame()
            if frame is not None and frame.seq not in (self._last_seq, stale_seq):
                return frame
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.readyState != "live":
                return frame
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self._frame_came.wait()

    def _timestamp(self, now: float) -> int:
        """90 kHz media time of a frame sent ``now``: the receiver plays frames as spaced as
        they were captured, and the clock never runs backwards."""
        if self._started_at is None:
            self._started_at = now
        pts = max(self._last_pts + 1, round((now - self._started_at) * VIDEO_CLOCK_RATE))
        self._last_pts = pts
        return pts

    def _set_failed(self, failed: bool) -> None:
        if failed == self.camera_failed:
            return
        self.camera_failed = failed
        if failed:
            log.warning("camera delivered nothing for %.1f s: video paused", self._stall_s)
        else:
            log.info("camera delivers again: video resumed")
        if self._on_camera_failed is not None:
            try:
                self._on_camera_failed(failed)
            except Exception:  # a listener's bug must not stop the video sender
                log.exception("camera failure listener raised")

    def _slate_image(self) -> np.ndarray:
        if self._last_image is not None:
            height, width = self._last_image.shape[:2]
        else:
            width, height = _DEFAULT_SIZE
        key = (width, height, self.camera_failed)
        if self._slate is None or self._slate_key != key:
            self._slate = _slate(width, height, "camera unavailable" if self.camera_failed else "")
            self._slate_key = key
        return self._slate


def _slate(width: int, height: int, text: str) -> np.ndarray:
    """Black while waiting for the first frame; dark grey with a caption once the camera failed."""
    image = np.full((height, width, 3), 48 if text else 0, dtype=np.uint8)
    if text:
        font = cv2.FONT_HERSHEY_SIMPLEX
        scale = max(0.4, width / 640)
        thickness = max(1, round(2 * scale))
        (text_w, text_h), _ = cv2.getTextSize(text, font, scale, thickness)
        origin = ((width - text_w) // 2, (height + text_h) // 2)
        cv2.putText(image, text, origin, font, scale, (255, 255, 255), thickness, cv2.LINE_AA)
    image.flags.writeable = False
    return image


class ToneAudioTrack(AudioStreamTrack):
    """A steady tone standing in for the handset microphone: 48 kHz mono s16, 20 ms frames.

    ``level`` is the tone's peak amplitude as a fraction of full scale; ``muted`` sends silence
    (the handset on its hook) without stopping the stream.
    """

    def __init__(
        self,
        frequency: float = 440.0,
        level: float = 0.25,
        *,
        sample_rate: int = 48_000,
        ptime_s: float = 0.020,
    ) -> None:
        super().__init__()
        if not 0.0 <= level <= 1.0:
            raise ValueError(f"level must be within 0..1, not {level!r}")
        self.frequency = frequency
        self.level = level
        self.sample_rate = sample_rate
        self.samples_per_frame = round(sample_rate * ptime_s)
        self._ptime_s = self.samples_per_frame / sample_rate
        self._time_base = fractions.Fraction(1, sample_rate)
        self._pacer = _Pacer(sample_rate)
        self._phase = 0.0
        self.muted = False
        self.frames_sent = 0

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        pts = await self._pacer.next(self._ptime_s)
        count = self.samples_per_frame
        step = 2 * math.pi * self.frequency / self.sample_rate
        if self.muted:
            samples = np.zeros(count, dtype=np.int16)
        else:
            phases = self._phase + step * np.arange(count)
            samples = np.round(np.sin(phases) * self.level * 32767).astype(np.int16)
        self._phase = (self._phase + step * count) % (2 * math.pi)
        frame = AudioFrame.from_ndarray(samples.reshape(1, count), format="s16", layout="mono")
        frame.sample_rate = self.sample_rate
        frame.pts = pts
        frame.time_base = self._time_base
        self.frames_sent += 1
        return frame


class ForwardingTrack(MediaStreamTrack):
    """A peer connection's handle on a track that outlives it.

    aiortc stops a sender's track when the sender stops, which every restart does; the call's
    camera and tone tracks must go on (the self-view, the counters, the next connection). Each
    peer connection gets one of these instead: stopping it leaves ``source`` live.
    """

    def __init__(self, source: MediaStreamTrack) -> None:
        super().__init__()
        self.kind = source.kind
        self._source = source

    async def recv(self) -> Frame:
        if self.readyState != "live":
            raise MediaStreamError
        return await self._source.recv()


class _Sink:
    """Consumes one remote track at a time in a task; :meth:`start` again to follow a new one."""

    kind = "media"

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None
        self._retiring: set[asyncio.Task[None]] = set()
        self.frames = 0
        self.first_frame_at: float | None = None  # time.monotonic() of the first frame
        self.last_frame_at: float | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self, track: MediaStreamTrack) -> None:
        """Consume ``track`` from now on (the one consumed so far, if any, is let go)."""
        self._retire()
        self._task = asyncio.create_task(self._consume(track), name=f"{self.kind}-sink")

    async def stop(self) -> None:
        """Stop consuming; counters and the last frame stay readable."""
        self._retire()
        tasks = list(self._retiring)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, MediaStreamError):
                await task

    def _retire(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            self._retiring.add(task)  # keep it referenced until it has unwound
            task.add_done_callback(self._retiring.discard)

    async def _consume(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return  # the track ended: its peer connection closed
            now = time.monotonic()
            if self.first_frame_at is None:
                self.first_frame_at = now
            self.last_frame_at = now
            self.frames += 1
            self._take(frame, now)

    def _take(self, frame: object, now: float) -> None:
        raise NotImplementedError


class VideoSink(_Sink):
    """The peer's picture: the latest frame (as BGR, for the UI), how many came, and the rate."""

    kind = "video"

    def __init__(self, *, fps_window_s: float = 1.0) -> None:
        super().__init__()
        self._window = fps_window_s
        self._arrivals: deque[float] = deque()
        self._frame: VideoFrame | None = None
        self._image: np.ndarray | None = None
        # Told of each frame as it arrives (the call's process wakes its picture writer).
        self.on_frame: Callable[[], None] | None = None

    @property
    def fps(self) -> float:
        """Frames received over the last second (``fps_window_s``)."""
        self._forget_before(time.monotonic() - self._window)
        return len(self._arrivals) / self._window

    @property
    def size(self) -> tuple[int, int] | None:
        """``(width, height)`` of the latest frame."""
        return (self._frame.width, self._frame.height) if self._frame is not None else None

    @property
    def latest_frame(self) -> VideoFrame | None:
        """The latest frame as decoded, not converted."""
        return self._frame

    def latest_image(self) -> np.ndarray | None:
        """The latest frame as a BGR ``uint8`` array (converted once, when first asked)."""
        if self._image is None and self._frame is not None:
            self._image = self._frame.to_ndarray(format="bgr24")
        return self._image

    def _take(self, frame: object, now: float) -> None:
        assert isinstance(frame, VideoFrame)
        self._frame = frame
        self._image = None
        self._arrivals.append(now)
        self._forget_before(now - self._window)
        if self.on_frame is not None:
            self.on_frame()

    def _forget_before(self, limit: float) -> None:
        while self._arrivals and self._arrivals[0] < limit:
            self._arrivals.popleft()


# RMS of a frame that carries sound (-40 dBFS): a voice or the tone; below is silence.
AUDIBLE = 0.01


class AudioLevelSink(_Sink):
    """The peer's voice, standing in for the handset earpiece: its loudness, frame by frame.

    :attr:`level` is the RMS of the latest frame as a fraction of full scale (0 is silence,
    about 0.18 a tone at a quarter of full scale); :attr:`level_dbfs` the same in dBFS.
    """

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self.level = 0.0
        self.sample_rate: int | None = None
        self.last_audible_at: float | None = None
        # The longest wait between two audible frames: a voice that drops out for longer
        # than a syllable (200 ms) is heard as broken.
        self.longest_silence_s = 0.0

    @property
    def level_dbfs(self) -> float:
        return 20 * math.log10(self.level) if self.level > 0 else -math.inf

    def _take(self, frame: object, now: float) -> None:
        assert isinstance(frame, AudioFrame)
        self.sample_rate = frame.sample_rate
        self.level = _rms(frame.to_ndarray())
        if self.level >= AUDIBLE:
            if self.last_audible_at is not None:
                gap = now - self.last_audible_at
                self.longest_silence_s = max(self.longest_silence_s, gap)
            self.last_audible_at = now


def _rms(samples: np.ndarray) -> float:
    if samples.size == 0:
        return 0.0
    values = samples.astype(np.float64)
    if np.issubdtype(samples.dtype, np.integer):
        values /= -float(np.iinfo(samples.dtype).min)  # int16: 32768 is full scale
    return float(np.sqrt(np.mean(values * values)))
