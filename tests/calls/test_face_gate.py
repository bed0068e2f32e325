"""The no-face blur policy: the outgoing picture blurs after 5 s without a face, and clears
when a face comes back; the face check never runs on the loop."""

from __future__ import annotations

import asyncio
import threading

from hardware.simulated.scenes import face_scene
from kiosk.calls.face_gate import FaceGate, blur
from kiosk.imaging.faces import FaceDetector
from kiosk.imaging.stills import sharpness


class Ticker:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class CountingDetector(FaceDetector):
    def __init__(self) -> None:
        super().__init__()
        self.threads: set[str] = set()

    def count(self, image) -> int:
        self.threads.add(threading.current_thread().name)
        return super().count(image)


def test_no_face_for_five_seconds_blurs_until_a_face_returns() -> None:
    person, empty = face_scene(640, 480, faces=1), face_scene(640, 480, faces=0)

    async def scenario() -> None:
        clock, detector = Ticker(), CountingDetector()
        gate = FaceGate(detector, clock=clock)

        async def send(image, seconds: float):
            """Frames at 10 a second for ``seconds``, as a call would send them."""
            out = image
            for _ in range(int(seconds * 10)):
                out = gate(image)
                await asyncio.sleep(0.01)  # the worker thread's check comes back
                clock.now += 0.1
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
