"""The no-face blur policy: the outgoing picture blurs after 5 s without a face, and clears
when a face comes back; the face check never runs on the loop."""

from __future__ import annotations

import asyncio
import threading

from hardware.simulated.scenes import face_scene
from kiosk.calls.face_gate import FaceGate, blur
from kiosk.core.clock import FakeClock
from kiosk.imaging.faces import FaceDetector
from kiosk.imaging.stills import sharpness
from tests.waiting import until


class CountingDetector(FaceDetector):
    def __init__(self) -> None:
        super().__init__()
        self.threads: set[str] = set()

    def count(self, image) -> int:
        self.threads.add(threading.current_thread().name)
        return super().count(image)


def test_no_face_for_five_seconds_blurs_until_a_face_returns(clock: FakeClock) -> None:
    person, empty = face_scene(640, 480, faces=1), face_scene(640, 480, faces=0)

    async def scenario() -> None:
        detector = CountingDetector()
        gate = FaceGate(detector, clock=clock.monotonic)

        async def send(image, seconds: float):
            """Frames at 10 a second for ``seconds``, as a call would send them."""
            out = image
            for _ in range(int(seconds * 10)):
                out = gate(image)
                # A check started on this frame comes back from its worker thread before the next.
                await until(lambda: not gate._checking, 5.0, "the face check back from its thread")
                clock.advance(0.1)
            return out

        out = await send(person, 2)
        assert not gate.blurred and out is person
        out = await send(empty, 4.5)
        assert not gate.blurred  # under 5 s without a face: still sharp
        out = await send(empty, 1.5)
        assert gate.blurred
        assert out is not empty and (out == blur(empty)).all()
        out = await send(person, 1.5)
        assert not gate.blurred and out is person
        assert threading.main_thread().name not in detector.threads  # never on the loop

    asyncio.run(scenario())


def test_the_blur_leaves_nothing_readable() -> None:
    person = face_scene(640, 480, faces=1)
    blurred = blur(person)
    assert blurred.shape == person.shape
    assert sharpness(blurred) < sharpness(person) / 10
