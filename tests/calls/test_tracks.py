"""The call's media tracks and sinks, without a peer connection."""

from __future__ import annotations

import asyncio
import fractions
import math
import time

import numpy as np
import pytest
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame, VideoFrame

from hardware.interfaces import DeviceState, Frame
from hardware.listeners import Listeners
from hardware.simulated import SimulatedCamera
from kiosk.calls.tracks import (
    AudioLevelSink,
    CameraVideoTrack,
    ForwardingTrack,
    ToneAudioTrack,
    VideoSink,
)
from tests.waiting import until


class StillCamera:
    """A camera the test drives: ``show`` publishes a frame, ``unplug`` makes it vanish."""

    def __init__(self) -> None:
        self._frame: Frame | None = None
        self._seq = 0
        self._listeners: Listeners[Frame] = Listeners("camera")

    def subscribe_frames(self, listener):
        return self._listeners.subscribe(listener)

    def start(self) -> None:
        pass

    def stop(self) -> None:
        self._frame = None

    @property
    def state(self) -> DeviceState:
        return DeviceState.OK

    def latest_frame(self) -> Frame | None:
        return self._frame

    def show(self, value: int, width: int = 64, height: int = 48) -> None:
        self._seq += 1
        image = np.full((height, width, 3), value, dtype=np.uint8)
        self._frame = Frame(image=image, captured_at=time.monotonic(), seq=self._seq)
        self._listeners.emit(self._frame)


class QueueTrack(MediaStreamTrack):
    """A remote track stand-in: hands out what the test puts in; ``None`` ends it."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.queue: asyncio.Queue[object] = asyncio.Queue()

    async def recv(self):  # type: ignore[override]
        frame = await self.queue.get()
        if frame is None:
            self.stop()
            raise MediaStreamError
        return frame


def test_camera_track_sends_the_camera_at_its_frame_rate() -> None:
    camera = SimulatedCamera(width=320, height=240, fps=30.0)
    camera.start()
    track = CameraVideoTrack(camera, fps=30.0)

    async def scenario() -> tuple[list[VideoFrame], float]:
        began = time.monotonic()
        frames = [await track.recv() for _ in range(16)]
        return frames, time.monotonic() - began

    try:
        frames, took = asyncio.run(scenario())
    finally:
        camera.stop()
    assert 0.4 < took < 1.5  # 15 periods of 1/30 s, loosely
    steps = np.diff([f.pts for f in frames])  # on a 90 kHz clock, as the frames were spaced
    assert steps.min() > 0 and 1500 < np.median(steps) < 6000
    assert all(f.time_base == fractions.Fraction(1, 90_000) for f in frames)
    assert (frames[-1].width, frames[-1].height) == (320, 240)
    assert track.frames_sent == 16
    assert track.camera_frames_sent >= 12  # the camera's own frames, rarely a repeat
    assert track.latest_image() is None  # stopped camera: no self-view
    assert not track.camera_failed


def test_camera_track_repeats_the_last_frame_then_reports_a_stall_and_recovery() -> None:
    camera = StillCamera()
    events: list[bool] = []
    track = CameraVideoTrack(
        camera, fps=50.0, stall_s=0.3, slate_fps=20.0, on_camera_failed=events.append
    )

    async def scenario() -> None:
        first = (await track.recv()).to_ndarray(format="bgr24")
        assert first.shape == (480, 640, 3) and first.max() == 0  # black until a first frame
        camera.show(200)
        repeated = [(await track.recv()).to_ndarray(format="bgr24") for _ in range(3)]
        assert all(image.shape == (48, 64, 3) and image.mean() > 190 for image in repeated)
        assert track.camera_frames_sent == 1 and track.frames_sent == 4

        camera.stop()  # nothing new from now on
        while not track.camera_failed:
            await track.recv()
        slate = (await track.recv()).to_ndarray(format="bgr24")
        assert slate.shape == (48, 64, 3) and 30 < np.median(slate) < 70  # grey "unavailable"
        assert events == [True]

        camera.show(100)
        back = (await track.recv()).to_ndarray(format="bgr24")
        assert abs(back.mean() - 100) < 5
        assert events == [True, False] and not track.camera_failed

    asyncio.run(scenario())


def test_a_new_camera_frame_goes_out_when_it_comes_not_at_the_tracks_next_tick() -> None:
    camera = StillCamera()
    # At 2 fps a timer-driven track would send the old picture again half a second on; the
    # camera's next picture, 0.6 s on, must go out itself.
    track = CameraVideoTrack(camera, fps=2.0)

    async def scenario() -> None:
        camera.show(50)
        first = await track.recv()
        loop = asyncio.get_running_loop()
        loop.call_later(0.6, camera.show, 150)
        second = await track.recv()
        assert abs(first.to_ndarray(format="bgr24").mean() - 50) < 3
        assert abs(second.to_ndarray(format="bgr24").mean() - 150) < 3
        assert track.camera_frames_sent == 2 and track.frames_sent == 2

    asyncio.run(scenario())


def test_a_camera_faster_than_the_track_is_thinned() -> None:
    camera = SimulatedCamera(width=160, height=120, fps=60.0)
    camera.start()
    track = CameraVideoTrack(camera, fps=15.0)

    async def scenario() -> float:
        await track.recv()
        began = time.monotonic()
        for _ in range(10):
            await track.recv()
        return time.monotonic() - began

    try:
        took = asyncio.run(scenario())
    finally:
        camera.stop()
        track.stop()
    # Ten frames at 15 a second, not at the camera's 60: compared as a ratio of the two.
    assert took > 0.6 * (10 / 15.0)
    assert track.camera_frames_sent == 11


def test_a_stopped_track_ends() -> None:
    track = CameraVideoTrack(StillCamera())
    track.stop()
    with pytest.raises(MediaStreamError):
        asyncio.run(track.recv())


def test_tone_is_48k_mono_s16_in_20ms_frames_without_gaps() -> None:
    track = ToneAudioTrack(frequency=1000.0, level=0.5)

    async def scenario() -> list[AudioFrame]:
        return [await track.recv() for _ in range(5)]

    frames = asyncio.run(scenario())
    for index, frame in enumerate(frames):
        assert (frame.sample_rate, frame.samples, frame.format.name) == (48_000, 960, "s16")
        assert frame.layout.name == "mono"
        assert frame.pts == index * 960
    samples = np.concatenate([f.to_ndarray()[0] for f in frames]).astype(float) / 32767
    assert math.isclose(np.sqrt(np.mean(samples**2)), 0.5 / math.sqrt(2), rel_tol=0.02)
    # Continuous across frames: no jump larger than one step of a 1 kHz sine.
    assert np.max(np.abs(np.diff(samples))) < 0.5 * 2 * math.pi * 1000 / 48_000 * 1.05
    assert track.frames_sent == 5

    track.muted = True
    silent = asyncio.run(track.recv())
    assert not silent.to_ndarray().any()


def test_a_forwarding_track_ends_alone() -> None:
    source = ToneAudioTrack()
    handle = ForwardingTrack(source)

    async def scenario() -> None:
        assert handle.kind == "audio"
        frame = await handle.recv()
        assert frame.samples == 960
        handle.stop()  # what aiortc does when its sender stops
        with pytest.raises(MediaStreamError):
            await handle.recv()
        assert source.readyState == "live"
        await ForwardingTrack(source).recv()

    asyncio.run(scenario())
    assert source.frames_sent == 2


def test_video_sink_keeps_the_latest_frame_its_count_and_rate() -> None:
    sink = VideoSink()

    async def scenario() -> None:
        track = QueueTrack("video")
        sink.start(track)
        for value in (10, 20, 30):
            image = np.full((48, 64, 3), value, dtype=np.uint8)
            track.queue.put_nowait(VideoFrame.from_ndarray(image, format="bgr24"))
        await until(lambda: sink.frames >= 3, 5.0)
        assert sink.size == (64, 48)
        latest = sink.latest_image()
        assert latest is not None and latest.shape == (48, 64, 3)
        assert abs(latest.mean() - 30) < 3
        assert sink.latest_image() is latest  # converted once
        assert sink.fps == 3.0
        assert sink.first_frame_at is not None and sink.running

        # A new track (a restarted connection) replaces the old one; counts go on.
        second = QueueTrack("video")
        sink.start(second)
        track.queue.put_nowait(VideoFrame.from_ndarray(image, format="bgr24"))
        second.queue.put_nowait(None)  # ended
        await until(lambda: not sink.running, 5.0, "the sink to see the track end")
        assert sink.frames == 3
        await sink.stop()
        assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []

    asyncio.run(scenario())


def test_audio_level_sink_measures_rms() -> None:
    sink = AudioLevelSink()

    async def scenario() -> None:
        track = QueueTrack("audio")
        sink.start(track)
        t = np.arange(1920) / 48_000
        stereo = (np.sin(2 * np.pi * 440 * t) * 0.5 * 32767).astype(np.int16)
        frame = AudioFrame.from_ndarray(np.repeat(stereo, 2).reshape(1, -1), layout="stereo")
        frame.sample_rate = 48_000
        track.queue.put_nowait(frame)
        await until(lambda: sink.frames >= 1, 5.0)
        assert math.isclose(sink.level, 0.5 / math.sqrt(2), rel_tol=0.02)
        assert math.isclose(sink.level_dbfs, -9.03, abs_tol=0.2)
        assert sink.sample_rate == 48_000
        silence = AudioFrame.from_ndarray(np.zeros((1, 1920), dtype=np.int16), layout="stereo")
        silence.sample_rate = 48_000
        track.queue.put_nowait(silence)
        await until(lambda: sink.frames >= 2, 5.0)
        assert sink.level == 0.0 and sink.level_dbfs == -math.inf
        await sink.stop()
        assert not sink.running

    asyncio.run(scenario())
