"""The sender gives up size, then rate, when encoding takes most of its time; and takes them back
slowly once it is easy again."""

from __future__ import annotations

import asyncio
import time

from hardware.simulated import SimulatedCamera
from kiosk.calls.send_quality import LADDER, UP_AFTER_S, SendQuality
from kiosk.calls.tracks import CameraVideoTrack


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def run(quality: SendQuality, clock: Clock, seconds: float, share: float, fps: float = 30) -> None:
    """``seconds`` of frames at ``fps``, each keeping the sender busy ``share`` of its interval."""
    for _ in range(round(seconds * fps)):
        clock.now += 1 / fps
        quality.busy(share / fps)


def test_an_overloaded_sender_shrinks_the_picture_before_it_slows_it() -> None:
    clock = Clock()
    quality = SendQuality(clock=clock)
    run(quality, clock, 1.5, 0.95)
    assert quality.level == 0  # one second over the line is not yet a trend
    run(quality, clock, 1.0, 0.95)
    assert quality.step.scale == 0.75 and quality.step.rate == 1.0
    assert quality.size(640, 480) == (480, 360)
    run(quality, clock, 2.0, 0.95)
    assert quality.size(640, 480) == (320, 240) and quality.step.rate == 1.0
    run(quality, clock, 2.0, 0.95)
    assert quality.step == LADDER[3] and quality.step.rate == 0.5  # then fewer frames
    run(quality, clock, 20.0, 0.95)
    assert quality.level == len(LADDER) - 1  # and no further: the call goes on


def test_a_sender_with_room_to_spare_keeps_what_it_has() -> None:
    clock = Clock()
    quality = SendQuality(clock=clock)
    run(quality, clock, 30.0, 0.6)
    assert quality.level == 0 and quality.changes == 0
    assert 0.55 < quality.usage < 0.65


def test_the_picture_comes_back_after_a_quiet_while_and_more_slowly_after_a_failed_try() -> None:
    clock = Clock()
    quality = SendQuality(clock=clock)
    run(quality, clock, 5.0, 0.95)  # two steps of two seconds over the line
    assert quality.level == 2
    run(quality, clock, UP_AFTER_S - 2, 0.2)
    assert quality.level == 2  # not yet
    run(quality, clock, 4.0, 0.2)
    assert quality.level == 1
    run(quality, clock, 3.0, 0.95)  # too much again at once: that step up failed
    assert quality.level == 2
    run(quality, clock, UP_AFTER_S + 2, 0.2)
    assert quality.level == 2  # the wait has doubled
    run(quality, clock, UP_AFTER_S + 2, 0.2)
    assert quality.level == 1


def test_the_camera_track_sends_a_smaller_picture_when_frames_keep_it_busy() -> None:
    """A consumer as slow as an encoder on a starved processor: 45 ms a frame at 30 fps."""
    camera = SimulatedCamera(width=640, height=480, fps=30.0)
    camera.start()
    track = CameraVideoTrack(camera, fps=30.0)

    async def slow_sender() -> list[tuple[int, int]]:
        sizes = []
        deadline = time.monotonic() + 20
        while track.quality.step.rate == 1.0 and time.monotonic() < deadline:
            frame = await track.recv()
            sizes.append((frame.width, frame.height))
            await asyncio.sleep(0.045)  # the encoder's work, for this frame
        return sizes

    try:
        sizes = asyncio.run(slow_sender())
    finally:
        track.stop()
        camera.stop()
    assert sizes[0] == (640, 480)
    assert sizes.index((480, 360)) < sizes.index((320, 240))  # smaller, then smaller still
    assert track.quality.step.rate < 1.0, "the rate never came down"
    assert track.send_fps < 30.0 and track.sent_size == (320, 240)


def test_the_line_caps_the_size_as_the_processor_does_and_the_smaller_wins() -> None:
    clock = Clock()
    quality = SendQuality(clock=clock)
    quality.fit_line(0.5)
    assert quality.size(640, 480) == (320, 240)
    quality.fit_line(1.0)
    assert quality.size(640, 480) == (640, 480)
    run(quality, clock, 2.5, 0.95)  # the processor's first step: 0.75
    quality.fit_line(0.5)
    assert quality.size(640, 480) == (320, 240)
    quality.fit_line(1.0)
    assert quality.size(640, 480) == (480, 360)
