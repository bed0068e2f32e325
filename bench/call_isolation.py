"""Where a visit's call must run so that the screen cannot starve it: the three places, measured.

    python bench/call_isolation.py [--seconds 60] [--ui-busy-ms 30] [--ui-threads 1]
                                   [--modes loop,thread,process]

One aiortc call on loopback (host candidates only, as the kiosk's), each end sending a
640x480, 30 frames a second simulated camera with a time code and a 50-packets-a-second audio
track. The answerer (the family's side) always runs quiet in a process of its own. The offerer
(the kiosk's side) is placed beside a stand-in for the kiosk's screen: a Python thread that,
every 50 ms (Kivy's 20 frames a second on the kiosk), runs ``--ui-busy-ms`` of pure Python and
so holds the GIL as the screen's Python does (converting pictures, layout, the kv rules):

* ``loop``: the call on the screen's own asyncio loop, as the kiosk ran it (Kivy's
  ``async_run``); the screen's work is a task on that loop;
* ``thread``: the call on an asyncio loop in a thread of its own, in the screen's process;
* ``process``: the call in a process of its own; the screen's process only runs the screen.

``--ui-threads`` runs that many screen threads (the issue saw a bare aiortc offerer fall to 6-7
frames a second with two busy threads in its process).

Measured at the offerer, over ``--seconds`` after its first picture: pictures received a
second; the age of each new picture when it arrives (wall clock minus the camera's time code,
one machine, one clock) p50, p95 and worst; audio packets a second (50 sent) and the longest
gap between two; the connection's state changes (``failed`` is ICE consent expiring). CPU:
the offerer's process, all threads (in ``loop`` and ``thread`` that includes the screen's
stand-in). The answerer's figures are printed beside. The script only measures; figures also
go to bench/results/call_isolation.json.
"""

from __future__ import annotations

import argparse
import asyncio
import fractions
import itertools
import math
import multiprocessing
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
for _path in (str(REPO_DIR), str(BENCH_DIR)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import numpy as np  # noqa: E402
from harness import add_output_options, bench_header, orchestrate  # noqa: E402

from hardware.simulated import timecode  # noqa: E402
from hardware.simulated.camera import SimulatedCamera  # noqa: E402

WIDTH, HEIGHT, FPS = 640, 480, 30.0
SCREEN_PERIOD_S = 0.05  # kiosk/ui/kivy_setup.py: maxfps 20
AUDIO_RATE, AUDIO_PTIME_S = 48000, 0.02
FIRST_PICTURE_TIMEOUT_S = 30.0
MODES = ("loop", "thread", "process")
CTX = multiprocessing.get_context("spawn")
RESULTS_FILE = BENCH_DIR / "results" / "call_isolation.json"


# --- the screen's stand-in --------------------------------------------------------------


def spin(seconds: float) -> None:
    """Pure Python for ``seconds``: holds the GIL but for the interpreter's switch interval."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        sum(range(200))


def screen_thread(stop: threading.Event, busy_s: float) -> None:
    while not stop.is_set():
        start = time.perf_counter()
        spin(busy_s)
        stop.wait(max(0.0, SCREEN_PERIOD_S - (time.perf_counter() - start)))


async def screen_task(busy_s: float) -> None:
    while True:
        start = time.perf_counter()
        spin(busy_s)
        await asyncio.sleep(max(0.0, SCREEN_PERIOD_S - (time.perf_counter() - start)))


# --- one end of the call ----------------------------------------------------------------


def picture_stamp(frame: Any) -> int | None:
    """The camera's time code, read from the decoded frame's luma (no colour conversion)."""
    plane = frame.planes[0]
    rows = timecode.ROWS * timecode.cell_size(frame.width)
    luma = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)
    return timecode.read(luma[:rows, : frame.width])


class Received:
    """What one end received, arrival by arrival."""

    def __init__(self) -> None:
        self.pictures: list[tuple[float, float | None]] = []  # (monotonic, age ms) per new one
        self.audio: list[float] = []
        self.frames = 0
        self._last_stamp: int | None = None

    def picture(self, frame: Any) -> None:
        now = time.monotonic()
        self.frames += 1
        stamp = picture_stamp(frame)
        if stamp is None or stamp == self._last_stamp:
            return  # unreadable, or the same picture repeated
        self._last_stamp = stamp
        self.pictures.append((now, time.time() * 1000 - stamp))

    def figures(self, start: float, end: float) -> dict[str, Any]:
        seconds = end - start
        ages = sorted(age for at, age in self.pictures if start <= at < end and age is not None)
        heard = [at for at in self.audio if start <= at < end]
        gaps = [b - a for a, b in itertools.pairwise(heard)]
        return {
            "pictures_per_s": len(ages) / seconds,
            "age_p50_ms": statistics.median(ages) if ages else None,
            "age_p95_ms": ages[min(len(ages) - 1, math.ceil(0.95 * len(ages)) - 1)]
            if ages
            else None,
            "age_max_ms": ages[-1] if ages else None,
            "audio_per_s": len(heard) / seconds,
            "audio_longest_gap_ms": max(gaps) * 1000 if gaps else None,
        }


async def call_end(role: str, conn: Any, seconds: float) -> dict[str, Any]:
    """One end: offer or answer over ``conn``, send and receive for ``seconds`` after the
    first picture, report."""
    from aiortc import (
        AudioStreamTrack,
        RTCConfiguration,
        RTCPeerConnection,
        RTCSessionDescription,
        VideoStreamTrack,
    )
    from aiortc.mediastreams import MediaStreamError
    from av import AudioFrame, VideoFrame

    class CameraTrack(VideoStreamTrack):
        def __init__(self, camera: SimulatedCamera) -> None:
            super().__init__()
            self.camera = camera
            self.black = np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)

        async def recv(self) -> VideoFrame:
            pts, time_base = await self.next_timestamp()
            latest = self.camera.latest_frame()
            frame = VideoFrame.from_ndarray(
                latest.image if latest is not None else self.black, format="bgr24"
            )
            frame.pts, frame.time_base = pts, time_base
            return frame

    class ToneTrack(AudioStreamTrack):
        """A 440 Hz tone in 20 ms packets, paced like aiortc's own silence."""

        def __init__(self) -> None:
            super().__init__()
            self.samples = int(AUDIO_RATE * AUDIO_PTIME_S)
            self.sent = 0
            self.started: float | None = None

        async def recv(self) -> AudioFrame:
            if self.started is None:
                self.started = time.time()
            wait = self.started + self.sent * AUDIO_PTIME_S - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
            t = (np.arange(self.samples) + self.sent * self.samples) / AUDIO_RATE
            tone = (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16).reshape(1, -1)
            frame = AudioFrame.from_ndarray(tone, format="s16", layout="mono")
            frame.sample_rate = AUDIO_RATE
            frame.pts = self.sent * self.samples
            frame.time_base = fractions.Fraction(1, AUDIO_RATE)
            self.sent += 1
            return frame

    received = Received()
    states: list[tuple[float, str]] = []
    first_picture = asyncio.Event()
    camera = SimulatedCamera(WIDTH, HEIGHT, FPS, scene="bars", timecode=True)
    camera.start()
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    tasks: list[asyncio.Task[None]] = []
    began = time.monotonic()

    async def consume(track: Any) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if track.kind == "video":
                received.picture(frame)
                if received.pictures:
                    first_picture.set()
            else:
                received.audio.append(time.monotonic())

    @pc.on("track")
    def on_track(track: Any) -> None:
        tasks.append(asyncio.create_task(consume(track)))

    @pc.on("connectionstatechange")
    def on_state() -> None:
        states.append((round(time.monotonic() - began, 2), pc.connectionState))

    loop = asyncio.get_running_loop()
    try:
        pc.addTrack(CameraTrack(camera))
        pc.addTrack(ToneTrack())
        if role == "offerer":
            await pc.setLocalDescription(await pc.createOffer())
            conn.send(pc.localDescription.sdp)
            answer = await loop.run_in_executor(None, conn.recv)
            await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        else:
            offer = await loop.run_in_executor(None, conn.recv)
            await pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
            await pc.setLocalDescription(await pc.createAnswer())
            conn.send(pc.localDescription.sdp)
        await asyncio.wait_for(first_picture.wait(), FIRST_PICTURE_TIMEOUT_S)
        first_s = time.monotonic() - began
        start = time.monotonic()
        cpu0 = time.process_time()
        await asyncio.sleep(seconds)
        end = time.monotonic()
        cpu = (time.process_time() - cpu0) / (end - start) * 100
        return {
            "role": role,
            "first_picture_s": first_s,
            **received.figures(start, end),
            "process_cpu_percent": cpu,
            "states": states,
        }
    finally:
        await pc.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        camera.stop()


def end_in_process(role: str, conn: Any, seconds: float, results: Any) -> None:
    """A process's entry point: one end, its figures put on ``results``."""
    try:
        results.put(asyncio.run(call_end(role, conn, seconds)))
    except Exception as error:  # reported, not raised: the parent must hear of it
        results.put({"role": role, "error": f"{type(error).__name__}: {error}"})


# --- one placement ----------------------------------------------------------------------


def measure(mode: str, args: argparse.Namespace) -> dict[str, Any]:
    offer_end, answer_end = CTX.Pipe()
    results = CTX.Queue()
    answerer = CTX.Process(
        target=end_in_process, args=("answerer", answer_end, args.seconds, results)
    )
    answerer.start()
    busy_s = args.ui_busy_ms / 1000
    stop = threading.Event()
    screens = [
        threading.Thread(target=screen_thread, args=(stop, busy_s), daemon=True)
        for _ in range(args.ui_threads if mode != "loop" else args.ui_threads - 1)
    ]
    offerer_process = None
    figures: list[dict[str, Any]] = []
    try:
        for screen in screens:
            screen.start()
        if mode == "loop":

            async def on_the_screens_loop() -> dict[str, Any]:
                screen = asyncio.create_task(screen_task(busy_s))
                try:
                    return await call_end("offerer", offer_end, args.seconds)
                finally:
                    screen.cancel()

            figures.append(asyncio.run(on_the_screens_loop()))
        elif mode == "thread":
            box: list[dict[str, Any]] = []
            call = threading.Thread(
                target=lambda: box.append(asyncio.run(call_end("offerer", offer_end, args.seconds)))
            )
            call.start()
            call.join()
            figures += box
        else:
            offerer_process = CTX.Process(
                target=end_in_process, args=("offerer", offer_end, args.seconds, results)
            )
            offerer_process.start()
            figures.append(results.get(timeout=args.seconds + 120))
        figures.append(results.get(timeout=args.seconds + 120))
    finally:
        stop.set()
        for process in (answerer, offerer_process):
            if process is not None:
                process.join(30)
                if process.is_alive():
                    process.kill()
    by_role = {entry["role"]: entry for entry in figures}
    return {"mode": mode, "offerer": by_role.get("offerer"), "answerer": by_role.get("answerer")}


# --- the report -------------------------------------------------------------------------


def cell(value: Any, form: str) -> str:
    return "-" if value is None else format(value, form)


def print_table(results: dict[str, Any]) -> None:
    s = results["settings"]
    print(
        f"\ncall placement, {s['seconds']:g} s each; the screen's stand-in: "
        f"{s['ui_threads']} thread(s) busy {s['ui_busy_ms']:g} ms every 50 ms"
    )
    print(
        f"  {'mode':<8} {'end':<9} {'pictures/s':>10} {'age p50':>8} {'age p95':>8} "
        f"{'age max':>8} {'audio/s':>8} {'gap max':>8} {'CPU %':>6}  states"
    )
    for run in results["runs"]:
        for role in ("offerer", "answerer"):
            f = run[role] or {"error": "no result"}
            if "error" in f:
                print(f"  {run['mode']:<8} {role:<9} {f['error']}")
                continue
            states = " ".join(state for _at, state in f["states"])
            print(
                f"  {run['mode']:<8} {role:<9} {cell(f['pictures_per_s'], '10.1f')} "
                f"{cell(f['age_p50_ms'], '8.0f')} {cell(f['age_p95_ms'], '8.0f')} "
                f"{cell(f['age_max_ms'], '8.0f')} {cell(f['audio_per_s'], '8.1f')} "
                f"{cell(f['audio_longest_gap_ms'], '8.0f')} "
                f"{cell(f['process_cpu_percent'], '6.0f')}  {states}"
            )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--ui-busy-ms", type=float, default=30.0)
    parser.add_argument("--ui-threads", type=int, default=1)
    parser.add_argument("--modes", default=",".join(MODES))
    add_output_options(parser, RESULTS_FILE)
    args = parser.parse_args(argv)
    modes = args.modes.split(",")
    if not set(modes) <= set(MODES) or args.seconds <= 0 or args.ui_threads < 1:
        parser.error(f"--modes from {', '.join(MODES)}; --seconds > 0; --ui-threads >= 1")
    if not 0 <= args.ui_busy_ms < SCREEN_PERIOD_S * 1000:
        parser.error("--ui-busy-ms from 0 to under 50")
    args.modes = modes
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def run(_args: argparse.Namespace, _children: Any, _workdir: Path) -> dict[str, Any]:
        results: dict[str, Any] = {
            **bench_header(),
            "settings": {
                "seconds": args.seconds,
                "ui_busy_ms": args.ui_busy_ms,
                "ui_threads": args.ui_threads,
            },
            "runs": [],
        }
        for mode in args.modes:
            print(f"  {mode}: {args.seconds:g} s", flush=True)
            results["runs"].append(measure(mode, args))
        return results

    return orchestrate("call_isolation", args, run, print_table)


if __name__ == "__main__":
    sys.exit(main())
