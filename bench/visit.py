"""A video visit between two kiosk cores, against a bare aiortc loopback pair, in one run.

    python bench/visit.py [--seconds 60] [--runs 1] [--settle-seconds 2]

The issue's goals ("Video visits"), on loopback through Mosquitto and the cloud simulator:
both sides ready to the first remote frame <= 1.0 s; 640x480 at >= 28 fps both ways for 60 s
on this 2-core machine with the UI idle; glass-to-glass latency p95 <= 100 ms (under ITU-T
G.114's 150 ms for one-way delay); and the CPU a call costs, reported. This script
orchestrates; each side of the comparison runs in a process of its own, one after the other
(``--runs`` times interleaved: bare, kiosk, ...), so that each one's CPU time is its own:

* ``--child kiosk``: a real visit, as tests/calls/test_visit_between_kiosks.py holds one: a
  Mosquitto of our own on loopback (``cloudsim.broker.LocalBroker``), the cloud simulator on
  it relaying the signals, and a housing and a lobby kiosk core (``kiosk.core.kiosk.Kiosk``,
  each with its own data folder and sync link, ``launch.process.start_sync``) in this one
  process. The visitor checks in at the lobby; the resident badges, types her PIN and lifts
  the handset: that lift is the moment both sides are ready. Each kiosk's camera is a
  ``SimulatedCamera(640, 480, 30, scene="face", timecode=True)``; the call sends it (and the
  handset's tone) with the kiosk's own tracks (``kiosk.calls``).
* ``--child bare``: the baseline, two ``RTCPeerConnection`` in one process exchanging their SDP
  directly (no broker, no kiosk code), host candidates only as the kiosk's, each sending the
  same simulated camera through a minimal ``VideoStreamTrack`` (aiortc's own pacing) and
  aiortc's ``AudioStreamTrack`` (silence; the kiosk sends a tone), each receiving in a bare
  ``recv`` loop. Its clock starts before the peer connections are made.

What is measured, the same way on both sides: on the bare pair every video frame the receiver
decodes; on the kiosks every picture the kiosk hands its screen (``visit.media()``, asked for
60 times a second; the decoding is in each call's own process):

* ready to first remote frame: from both sides ready to each side's first decoded frame (a
  black frame before the camera's first picture counts, as the kiosk's ``first_frame_at``);
* frames a second each way over the window (``--seconds``, after ``--settle-seconds`` past
  the later first frame), and distinct pictures a second (the track repeats the camera's
  last picture when it has no newer one);
* glass-to-glass latency: the simulated camera stamps the wall clock in milliseconds into the
  top of each picture when it draws it (``hardware.simulated.timecode``: large black and
  white cells that survive VP8); the receiver reads the stamp from the decoded frame's luma
  and subtracts it from its own wall clock (one process, one clock). Each distinct picture
  counts once, at its first arrival. The figure runs from the camera's "exposure" to the
  decoded frame in the receiving kiosk's hands: it includes the camera's frame period (the
  track takes the newest picture at its own 30 Hz), encoding, the packets on loopback, the
  jitter buffer and decoding; not the screen. Also shown, from the same records: the latency a
  screen polling the picture at 30 Hz would show (a visit's frame rate on the kiosk), each
  picture counted at the first poll that finds it.
* CPU per call: the process's CPU time (all threads, ``time.process_time``) over the window,
  divided by the window's wall time, in % of one core: both ends of the call live in the one
  process, so that is one call, both ends. Mosquitto's CPU over the window is reported beside
  it (the kiosk's only; the cloud simulator's thread is in the process).

The kiosks are headless cores: no Kivy window. A fourth and fifth run (``--no-screens`` skips
them) hold the visit between two kiosks that draw their screens, idle and with a process taking
a core (bench/visit_screens.py): what a person at the kiosk sees. CPU per call counts the
kiosks' call processes. The absolute figures are this shared machine's; compare ratios. The
script only measures: it never fails on a missed goal. Figures also go to
bench/results/visit.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
for _path in (str(REPO_DIR), str(BENCH_DIR)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import numpy as np  # noqa: E402
from harness import (  # noqa: E402
    BenchError,
    Children,
    add_output_options,
    bench_header,
    cpu_seconds,
    demo_config,
    emit_result,
    last_line,
    latency_summary,
    median_of,
    orchestrate,
    read_result,
    simulated_kiosk,
)
from visit_screens import screen_figures  # noqa: E402

from hardware.simulated import timecode  # noqa: E402
from hardware.simulated.camera import SimulatedCamera  # noqa: E402

SCREENS = ("screens", "screens-hog")
RESULTS_FILE = BENCH_DIR / "results" / "visit.json"
RESULT_MARK = "BENCH-VISIT-RESULT "
WIDTH, HEIGHT, FPS = 640, 480, 30.0
SCREEN_HZ = 30.0  # kiosk/ui/kivy_setup.py: VIDEO_FPS, a visit's frame rate
# The headless cores' pictures are asked for twice as often as the camera makes them, so that
# each one is counted; SCREEN_HZ is derived from the same records.
ASK_HZ = 60.0
GOAL_FIRST_FRAME_S = 1.0
GOAL_FPS = 28.0
GOAL_LATENCY_P95_MS = 100.0
G114_MS = 150.0
FIRST_FRAME_TIMEOUT_S = 20.0

FACILITY = "f1"
HOUSING, LOBBY = "hu-01", "lobby-01"
INMATE, BADGE, PIN = "A1024", "04A1B2C3D4", "1234"
VISIT_ID = "v-bench"


def camera() -> SimulatedCamera:
    return SimulatedCamera(WIDTH, HEIGHT, FPS, scene="face", timecode=True)


# --- the meter: every decoded frame, on both sides of the comparison ---------------------


def read_stamp(frame: Any) -> int | None:
    """The camera's time code in a decoded ``av.VideoFrame``, read from the luma plane's top
    strip (no colour conversion), or ``None``."""
    if frame.format.name in ("yuv420p", "yuvj420p", "nv12", "gray"):
        plane = frame.planes[0]
        rows = timecode.ROWS * timecode.cell_size(frame.width)
        luma = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)
        return timecode.read(luma[:rows, : frame.width])
    return timecode.read(frame.to_ndarray(format="bgr24"))


class Meter:
    """One receiving side: each decoded frame's arrival (monotonic), the wall clock then (ms),
    and the time code it carried."""

    def __init__(self) -> None:
        self.arrivals: list[float] = []
        self.walls: list[float] = []
        self.stamps: list[int | None] = []
        self.sizes: set[tuple[int, int]] = set()

    def frame(self, frame: Any, now: float) -> None:
        wall_ms = time.time() * 1000
        self.arrivals.append(now)
        self.walls.append(wall_ms)
        self.stamps.append(read_stamp(frame))
        self.sizes.add((frame.width, frame.height))

    def picture(self, image: Any, now: float) -> None:
        """A picture handed to the screen (BGR), rather than a decoded frame."""
        self.arrivals.append(now)
        self.walls.append(time.time() * 1000)
        self.stamps.append(timecode.read(image))
        self.sizes.add((image.shape[1], image.shape[0]))

    @property
    def first_frame_at(self) -> float | None:
        return self.arrivals[0] if self.arrivals else None

    def window(self, start: float, end: float, ready_at: float) -> dict[str, Any]:
        """The figures of the frames that arrived within [start, end)."""
        span = end - start
        inside = [i for i, t in enumerate(self.arrivals) if start <= t < end]
        stamps = [self.stamps[i] for i in inside]
        seen: set[int] = set()
        latencies = []
        for i in inside:
            stamp = self.stamps[i]
            if stamp is not None and stamp not in seen:
                seen.add(stamp)
                latencies.append(self.walls[i] - stamp)
        pairs = zip(self.arrivals, self.stamps, strict=True)
        first_picture = next((t for t, s in pairs if s is not None), None)
        return {
            "first_frame_s": self.arrivals[0] - ready_at,
            "first_picture_s": None if first_picture is None else first_picture - ready_at,
            "frames": len(inside),
            "fps": len(inside) / span,
            "pictures_fps": len(seen) / span,
            "unreadable_frames": sum(1 for s in stamps if s is None),
            "latency_ms": latency_summary(latencies),
            "screen_latency_ms": latency_summary(self.screen_latencies(start, end)),
            "sizes": sorted(self.sizes),
        }

    def screen_latencies(self, start: float, end: float) -> list[float]:
        """What a screen polling the latest picture at SCREEN_HZ would show: each picture's
        latency at the first poll that finds it."""
        latencies, seen, index = [], set(), -1
        for tick in range(math.ceil((end - start) * SCREEN_HZ)):
            poll = start + tick / SCREEN_HZ
            while index + 1 < len(self.arrivals) and self.arrivals[index + 1] <= poll:
                index += 1
            stamp = self.stamps[index] if index >= 0 else None
            if stamp is not None and stamp not in seen:
                seen.add(stamp)
                wall_at_poll = self.walls[index] + (poll - self.arrivals[index]) * 1000
                latencies.append(wall_at_poll - stamp)
        return latencies


class Window:
    """CPU of this process (and of Mosquitto, when there is one) over the measured window."""

    def __init__(
        self, broker_pid: int | None = None, children_cpu: Callable[[], float] | None = None
    ) -> None:
        self.broker_pid = broker_pid
        # The kiosks' calls run in processes of their own: their CPU counts as this one's.
        self.children_cpu = children_cpu or (lambda: 0.0)

    def __enter__(self) -> Window:
        self.start = time.monotonic()
        self.cpu0 = time.process_time() + self.children_cpu()
        self.broker0 = cpu_seconds(self.broker_pid) if self.broker_pid else None
        return self

    def __exit__(self, *exc: object) -> None:
        self.end = time.monotonic()
        self.cpu1 = time.process_time() + self.children_cpu()
        self.broker1 = cpu_seconds(self.broker_pid) if self.broker_pid else None

    def figures(self) -> dict[str, Any]:
        wall = self.end - self.start
        broker = None
        if self.broker0 is not None and self.broker1 is not None:
            broker = (self.broker1 - self.broker0) / wall * 100
        return {
            "wall_s": wall,
            "cpu_s": self.cpu1 - self.cpu0,
            "cpu_percent_of_a_core": (self.cpu1 - self.cpu0) / wall * 100,
            "broker_cpu_percent": broker,
        }


async def until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise BenchError(f"not in time: {what}")
        await asyncio.sleep(0.005)


async def hold_window(
    meters: dict[str, Meter], ready_at: float, args: argparse.Namespace, window: Window
) -> dict[str, Any]:
    """Wait for both first frames, settle, measure ``--seconds``; the figures of both sides."""
    await until(
        lambda: all(m.first_frame_at is not None for m in meters.values()),
        FIRST_FRAME_TIMEOUT_S,
        "a first frame on both sides",
    )
    await asyncio.sleep(args.settle_seconds)
    with window:
        await asyncio.sleep(args.seconds)
    sides = {
        name: meter.window(window.start, window.end, ready_at) for name, meter in meters.items()
    }
    return {"sides": sides, "cpu": window.figures()}


def negotiated_codec(pc: Any) -> str | None:
    """The video codec a peer connection sends with (aiortc keeps it privately)."""
    with contextlib.suppress(Exception):
        for transceiver in pc.getTransceivers():
            if transceiver.kind == "video" and transceiver._codecs:
                return transceiver._codecs[0].mimeType
    return None


# --- --child bare: two peer connections, SDP handed over directly -----------------------


async def bare_pair(args: argparse.Namespace) -> dict[str, Any]:
    from aiortc import (
        AudioStreamTrack,
        RTCConfiguration,
        RTCPeerConnection,
        VideoStreamTrack,
    )
    from aiortc.mediastreams import MediaStreamError
    from av import VideoFrame

    black = np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)

    class CameraTrack(VideoStreamTrack):
        def __init__(self, source: SimulatedCamera) -> None:
            super().__init__()
            self.source = source

        async def recv(self) -> VideoFrame:
            pts, time_base = await self.next_timestamp()
            latest = self.source.latest_frame()
            image = latest.image if latest is not None else black
            frame = VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts, frame.time_base = pts, time_base
            return frame

    async def consume(track: Any, meter: Meter | None) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if meter is not None:
                meter.frame(frame, time.monotonic())

    # The names say who receives: "offerer" is the offerer's screen.
    meters = {"offerer": Meter(), "answerer": Meter()}
    cameras = [camera(), camera()]
    tasks: list[asyncio.Task[None]] = []
    ready_at = time.monotonic()
    for source in cameras:
        source.start()
    pcs = [RTCPeerConnection(RTCConfiguration(iceServers=[])) for _ in range(2)]
    try:
        for pc, source, meter in zip(pcs, cameras, meters.values(), strict=True):
            pc.addTrack(CameraTrack(source))
            if not args.bare_video_only:
                pc.addTrack(AudioStreamTrack())

            def on_track(track: Any, meter: Meter = meter) -> None:
                video = track.kind == "video"
                tasks.append(asyncio.create_task(consume(track, meter if video else None)))

            pc.on("track", on_track)
        offerer, answerer = pcs
        await offerer.setLocalDescription(await offerer.createOffer())
        await answerer.setRemoteDescription(offerer.localDescription)
        await answerer.setLocalDescription(await answerer.createAnswer())
        await offerer.setRemoteDescription(answerer.localDescription)
        result = await hold_window(meters, ready_at, args, Window())
        result["codec"] = negotiated_codec(offerer)
        result["states"] = [pc.connectionState for pc in pcs]
        return result
    finally:
        for pc in pcs:
            await pc.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for source in cameras:
            source.stop()


# --- --child kiosk: two kiosk cores, Mosquitto and the cloud simulator -----------------


def kiosk_config(data_dir: Path, broker_url: str, kiosk_id: str, role: str) -> Any:
    """A checked configuration built as the CLI builds one (as tests/conftest.py make_config)."""
    return demo_config(
        data_dir,
        kiosk_id=kiosk_id,
        role=role,
        facility_id=FACILITY,
        brokers=(broker_url,),
        housing_unit="B" if role == "housing" else None,
    )


def open_kiosk(workdir: Path, broker_url: str, kiosk_id: str, role: str) -> Any:
    config = kiosk_config(workdir / kiosk_id, broker_url, kiosk_id, role)
    return simulated_kiosk(config, camera())


def publish_facility(cloud: Any, ends_in_s: float) -> None:
    """Both kiosks' config, the resident, and a visit whose window is open until long after."""
    from cloudsim.sim import make_resident, make_visit
    from kiosk.contract.times import utc_text

    now = datetime.now(UTC)
    cloud.publish_config(HOUSING, role="housing")
    cloud.publish_config(LOBBY, role="lobby")
    cloud.publish_residents(
        HOUSING, 1, [make_resident(INMATE, "B-1", "M. Alvarez", PIN, badges=[BADGE])]
    )
    for kiosk_id, peer in ((HOUSING, LOBBY), (LOBBY, HOUSING)):
        visit = make_visit(
            VISIT_ID, now - timedelta(minutes=1), 1, "onsite", INMATE, "M. Alvarez",
            "R. Alvarez", peer_kiosk_id=peer,
        )  # fmt: skip
        visit["ends_at"] = utc_text(now + timedelta(seconds=ends_in_s))
        cloud.publish_schedule(kiosk_id, 1, [visit])


async def join_until_lift(housing: Any, lobby: Any) -> float:
    """The visitor checks in; the resident badges and types her PIN; returns the moment she
    lifts the handset (time.monotonic()): both sides are then ready."""
    await until(lambda: housing.visit is not None and lobby.visit is not None, 30, "windows")
    if not lobby.visitor_checked_in(VISIT_ID):
        raise BenchError("the lobby would not check the visitor in")
    await until(lambda: housing.settings.badge_key is not None, 30, "the badge key")
    if not housing.devices.badge_reader.present(BADGE):
        raise BenchError("the badge reader took no badge")
    await until(
        lambda: housing.sign_in is not None and housing.sign_in.step == "pin", 30, "the PIN step"
    )
    for digit in PIN:
        housing.sign_in_intent("key", digit)
    housing.sign_in_intent("enter")
    await until(lambda: housing.sign_in is None, 30, "the PIN check")
    await asyncio.sleep(0.5)  # the sign-in's aftermath settles; the lift is what we time
    ready_at = time.monotonic()
    housing.devices.handset.lift()
    return ready_at


async def watch_pictures(kiosk: Any, meter: Meter, stop: asyncio.Event) -> None:
    """Ask for the other side's picture as the visit screen does, ASK_HZ times a second;
    each new one goes to the meter, read when it was handed over."""
    last = None
    while not stop.is_set():
        visit = kiosk.visit
        remote = visit.media()[0] if visit is not None else None
        if remote is not None and remote is not last:
            last = remote
            meter.picture(remote, time.monotonic())
        await asyncio.sleep(1 / ASK_HZ)


def calls_cpu_s(kiosks: Any) -> float:
    """CPU time of the kiosks' call processes so far, as they last reported it."""
    return sum(k.visit._call.stats.process_cpu_s for k in kiosks)


async def kiosk_visit(args: argparse.Namespace, workdir: Path, broker: Any, cloud: Any) -> dict:
    from launch.process import start_sync

    publish_facility(cloud, ends_in_s=args.settle_seconds + args.seconds + 180)
    housing = open_kiosk(workdir, broker.url, HOUSING, "housing")
    lobby = open_kiosk(workdir, broker.url, LOBBY, "lobby")
    kiosks = (housing, lobby)
    syncs = [start_sync(k) for k in kiosks]
    tasks = [asyncio.create_task(k.run()) for k in kiosks]
    try:
        ready_at = await join_until_lift(housing, lobby)
        await until(
            lambda: all(k.visit._call is not None for k in kiosks),
            FIRST_FRAME_TIMEOUT_S,
            "both calls made",
        )
        # Named for who sees: "housing" is the housing kiosk's screen (the lobby's camera).
        meters = {"housing": Meter(), "lobby": Meter()}
        stop = asyncio.Event()
        watchers = [
            asyncio.create_task(watch_pictures(k, meters[name], stop))
            for name, k in zip(meters, kiosks, strict=True)
        ]
        window = Window(broker.process.pid, children_cpu=lambda: calls_cpu_s(kiosks))
        try:
            result = await hold_window(meters, ready_at, args, window)
        finally:
            stop.set()
            await asyncio.gather(*watchers)
        stats = {name: k.visit._call.stats for name, k in zip(meters, kiosks, strict=True)}
        result["phases"] = {name: k.visit.phase for name, k in zip(meters, kiosks, strict=True)}
        result["restarts"] = {name: s.restarts for name, s in stats.items()}
        result["codec"] = stats["housing"].codec
        result["states"] = [s.state for s in stats.values()]
        return result
    finally:
        for kiosk in kiosks:
            if kiosk.visit is not None and kiosk.visit.ended_at is None:
                kiosk.hang_up()
            call = getattr(kiosk.visit, "_call", None) if kiosk.visit else None
            if call is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(call.wait_finished(), 10)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for sync in syncs:
            if sync is not None:
                await sync.stop()
        for kiosk in kiosks:
            kiosk.close()


def kiosk_child(args: argparse.Namespace) -> dict[str, Any]:
    from cloudsim.broker import LocalBroker
    from cloudsim.sim import CloudSim

    workdir = Path(tempfile.mkdtemp(prefix="kiosk-bench-visit-"))
    try:
        with LocalBroker(workdir / "broker") as broker:
            cloud = CloudSim(broker.url, FACILITY, approve_delay=0, session_expiry_s=3600)
            cloud.start()
            try:
                return asyncio.run(kiosk_visit(args, workdir, broker, cloud))
            finally:
                cloud.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def child(args: argparse.Namespace) -> int:
    if args.child in SCREENS:
        from visit_screens import screens_visit

        result = screens_visit(args.seconds, args.settle_seconds, hog=args.child == "screens-hog")
    elif args.child == "kiosk":
        result = kiosk_child(args)
    else:
        result = asyncio.run(bare_pair(args))
    emit_result(RESULT_MARK, result)
    return 0


# --- the orchestrator -------------------------------------------------------------------


def run_child(
    children: Children, args: argparse.Namespace, key: str, workdir: Path, name: str
) -> dict[str, Any]:
    log_path = workdir / f"{name}.log"
    argv = [
        sys.executable, str(Path(__file__).resolve()), "--child", key,
        "--seconds", str(args.seconds), "--settle-seconds", str(args.settle_seconds),
        *(["--bare-video-only"] if args.bare_video_only else []),
    ]  # fmt: skip
    with log_path.open("wb") as log:
        proc = children.spawn(argv, stdout=log, stderr=subprocess.STDOUT, cwd=REPO_DIR)
        try:
            proc.wait(args.seconds + args.settle_seconds + 120)
        except subprocess.TimeoutExpired:
            children.stop(proc)
            raise BenchError(f"{name} did not finish in time: {last_line(log_path)}") from None
        children.stop(proc)
    result = read_result(log_path.read_text(errors="replace"), RESULT_MARK)
    if result is not None:
        return result
    raise BenchError(f"{name} gave no result (exit {proc.returncode}): {last_line(log_path)}")


def figures(result: dict[str, Any]) -> dict[str, float | None]:
    """One run's headline figures, side names made neutral: "a" receives from "b" and back."""
    sides = list(result["sides"].values())
    latencies = [s["latency_ms"] for s in sides]
    screens = [s["screen_latency_ms"] for s in sides]
    return {
        "first_frame_worse_s": max(s["first_frame_s"] for s in sides),
        "first_frame_a_s": sides[0]["first_frame_s"],
        "first_frame_b_s": sides[1]["first_frame_s"],
        "fps_worse": min(s["fps"] for s in sides),
        "fps_a": sides[0]["fps"],
        "fps_b": sides[1]["fps"],
        "pictures_fps_worse": min(s["pictures_fps"] for s in sides),
        "latency_median_worse_ms": max(
            (x["median"] for x in latencies if x), default=None
        ),
        "latency_p95_worse_ms": (
            max(x["p95"] for x in latencies) if all(latencies) else None
        ),
        "screen_latency_p95_worse_ms": (
            max(x["p95"] for x in screens) if all(screens) else None
        ),
        "unreadable_frames": sum(s["unreadable_frames"] for s in sides),
        "cpu_percent": result["cpu"]["cpu_percent_of_a_core"],
        "broker_cpu_percent": result["cpu"]["broker_cpu_percent"],
    }  # fmt: skip


# Row: label, key, unit, format, goal text, goal check (on the kiosk's figure) or None.
ROWS: list[tuple[str, str, str, str, str, Callable[[float], bool] | None]] = [
    ("ready -> 1st frame, worse", "first_frame_worse_s", "s", ".3f",
     f"<= {GOAL_FIRST_FRAME_S:g} s", lambda v: v <= GOAL_FIRST_FRAME_S),
    ("  housing / offerer sees", "first_frame_a_s", "s", ".3f", "", None),
    ("  lobby / answerer sees", "first_frame_b_s", "s", ".3f", "", None),
    ("fps received, worse way", "fps_worse", "", ".1f",
     f">= {GOAL_FPS:g}", lambda v: v >= GOAL_FPS),
    ("  lobby -> housing", "fps_a", "", ".1f", "", None),
    ("  housing -> lobby", "fps_b", "", ".1f", "", None),
    ("distinct pictures/s, worse", "pictures_fps_worse", "", ".1f", "", None),
    ("glass-glass median, worse", "latency_median_worse_ms", "ms", ".1f", "", None),
    ("glass-glass p95, worse way", "latency_p95_worse_ms", "ms", ".1f",
     f"<= {GOAL_LATENCY_P95_MS:g} ms", lambda v: v <= GOAL_LATENCY_P95_MS),
    ("  + 30 Hz screen poll, p95", "screen_latency_p95_worse_ms", "ms", ".1f",
     f"(G.114 {G114_MS:g})", None),
    ("unreadable time codes", "unreadable_frames", "", ".0f", "", None),
    ("CPU per call, % of a core", "cpu_percent", "%", ".1f", "report", None),
    ("  Mosquitto CPU", "broker_cpu_percent", "%", ".2f", "", None),
]  # fmt: skip


def print_table(results: dict[str, Any]) -> None:
    kiosk, bare = results["median"]["kiosk"], results["median"]["bare"]
    settings = results["settings"]
    print()
    print(
        f"video visit, {WIDTH}x{HEIGHT} @ {FPS:g} fps both ways, {settings['seconds']:g} s window"
        f" after {settings['settle_seconds']:g} s settling, {settings['runs']} run(s), medians;"
        f" codec kiosk {results['codec']['kiosk']}, bare {results['codec']['bare']}"
    )
    print(
        "kiosk: two headless kiosk cores (no UI drawing) in one process, signals over Mosquitto"
        " + cloudsim; bare: two aiortc peer connections in one process, SDP handed over directly"
    )
    print(f"{'figure':<30}{'kiosk':>10}{'bare':>10}{'ratio':>8}   {'goal':<14}met?")
    for label, key, unit, fmt, goal, check in ROWS:
        k, b = kiosk.get(key), bare.get(key)
        ks = "-" if k is None else f"{k:{fmt}}{(' ' + unit) if unit else ''}"
        bs = "-" if b is None else f"{b:{fmt}}{(' ' + unit) if unit else ''}"
        ratio = f"{k / b:.2f}" if k is not None and b else "-"
        met = "" if check is None else ("-" if k is None else ("yes" if check(k) else "NO"))
        print(f"{label:<30}{ks:>10}{bs:>10}{ratio:>8}   {goal:<14}{met}".rstrip())
    imports = [r["calls_import_s"] for r in results["runs"]["kiosk"] if r.get("calls_import_s")]
    if imports:
        print(
            f"  not in the first frame above: a kiosk's first visit after its start also imports"
            f" kiosk.calls (aiortc, PyAV): {statistics.median(imports):.2f} s here"
        )
    for key in ("kiosk", "bare"):
        for index, run in enumerate(results["runs"][key]):
            extra = ""
            if key == "kiosk":
                extra = f"; phases {run['phases']}, restarts {run['restarts']}"
            sizes = {name: side["sizes"] for name, side in run["sides"].items()}
            print(f"  {key} run {index + 1}: states {run['states']}, sizes {sizes}{extra}")


SCREEN_ROWS: list[tuple[str, str, str, str]] = [
    ("both present -> 1st picture", "first_picture_worse_s", "s", ".2f"),
    ("picture age, median, worse", "age_median_worse_ms", "ms", ".0f"),
    ("picture age, p95, worse", "age_p95_worse_ms", "ms", ".0f"),
    ("picture age, worst", "age_max_worse_ms", "ms", ".0f"),
    ("pictures shown/s, housing", "pictures_per_s_a", "", ".1f"),
    ("pictures shown/s, lobby", "pictures_per_s_b", "", ".1f"),
    ("CPU, housing kiosk", "cpu_percent_a", "%", ".0f"),
    ("  its screen's process", "screen_cpu_percent_a", "%", ".0f"),
    ("  its call's process", "call_cpu_percent_a", "%", ".0f"),
    ("CPU, lobby kiosk", "cpu_percent_b", "%", ".0f"),
    ("longest silence, worse", "longest_silence_worse_ms", "ms", ".0f"),
    ("reconnects", "reconnects", "", ".0f"),
]


def print_screens(results: dict[str, Any]) -> None:
    idle, hog = results["screens"].get("screens"), results["screens"].get("screens-hog")
    if not idle:
        return
    bare = results["median"]["bare"]
    print()
    print(
        "screens: two kiosks, each the real app drawing under Xvfb (llvmpipe), its call in a"
        " process of its own; 'hog': a process takes a whole core through the window"
    )
    print(f"{'figure':<30}{'idle':>10}{'hog':>10}{'bare':>10}")
    bare_of = {
        "first_picture_worse_s": bare.get("first_frame_worse_s"),
        "age_p95_worse_ms": bare.get("latency_p95_worse_ms"),
        "age_median_worse_ms": bare.get("latency_median_worse_ms"),
        "pictures_per_s_a": bare.get("pictures_fps_worse"),
        "cpu_percent_a": bare.get("cpu_percent"),
    }
    for label, key, unit, fmt in SCREEN_ROWS:
        cells = []
        for figures_ in (idle, hog or {}, {key: bare_of.get(key)}):
            value = figures_.get(key)
            cells.append("-" if value is None else f"{value:{fmt}}{(' ' + unit) if unit else ''}")
        print(f"{label:<30}{cells[0]:>10}{cells[1]:>10}{cells[2]:>10}")
    print(
        "  bare: the headless aiortc pair above (its figures are of decoded frames, both ends"
        " in one process: first frame, glass-to-glass latency, pictures/s, CPU of the pair)"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=float, default=60.0, help="the measured window of each call [60]"
    )
    parser.add_argument(
        "--settle-seconds",
        type=float,
        default=2.0,
        help="wait after both first frames before the window opens [2]",
    )
    parser.add_argument("--runs", type=int, default=1, help="calls of each, interleaved [1]")
    parser.add_argument(
        "--bare-video-only",
        action="store_true",
        help="the bare pair sends no audio track (default: aiortc's silence, as the kiosk a tone)",
    )
    add_output_options(parser, RESULTS_FILE)
    parser.add_argument(
        "--no-screens",
        action="store_true",
        help="only the headless cores and the bare pair, not the two drawn kiosks",
    )
    parser.add_argument("--child", choices=("kiosk", "bare", *SCREENS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.runs < 1 or args.seconds <= 0 or args.settle_seconds < 0:
        parser.error("--runs must be at least 1, --seconds positive, --settle-seconds >= 0")
    return args


def run(args: argparse.Namespace, children: Children, workdir: Path) -> dict[str, Any]:
    print(f"logs in {workdir}", flush=True)
    runs: dict[str, list[dict[str, Any]]] = {"bare": [], "kiosk": []}
    for index in range(args.runs):
        for key in ("bare", "kiosk"):  # interleaved: bare, kiosk, bare, kiosk, ...
            print(
                f"  run {index + 1}/{args.runs} {key}: {args.settle_seconds:g} s settling +"
                f" {args.seconds:g} s ...",
                end="",
                flush=True,
            )
            try:
                result = run_child(children, args, key, workdir, f"{key}-{index + 1}")
            except BenchError:
                print(flush=True)  # ends the line of progress before the error
                raise
            runs[key].append(result)
            f = figures(result)
            print(
                f" first frame {f['first_frame_worse_s']:.3f} s, {f['fps_worse']:.1f} fps,"
                f" p95 {f['latency_p95_worse_ms'] or float('nan'):.1f} ms,"
                f" CPU {f['cpu_percent']:.0f} %",
                flush=True,
            )
    screens: dict[str, list[dict[str, Any]]] = {key: [] for key in SCREENS}
    for index in range(0 if args.no_screens else args.runs):
        for key in SCREENS:
            print(f"  run {index + 1}/{args.runs} {key} ...", end="", flush=True)
            result = run_child(children, args, key, workdir, f"{key}-{index + 1}")
            screens[key].append(result)
            f = screen_figures(result)
            print(
                f" first picture {f['first_picture_worse_s']:.2f} s, age p95"
                f" {f['age_p95_worse_ms']:.0f} ms, {f['pictures_per_s_a']:.1f} pictures/s",
                flush=True,
            )
    per_screens = {key: [screen_figures(r) for r in results] for key, results in screens.items()}
    per_run = {key: [figures(r) for r in results] for key, results in runs.items()}
    keys = per_run["kiosk"][0].keys()
    return {
        **bench_header(),
        "settings": {
            "seconds": args.seconds,
            "settle_seconds": args.settle_seconds,
            "runs": args.runs,
            "size": [WIDTH, HEIGHT],
            "fps": FPS,
            "bare_audio": not args.bare_video_only,
            "screen_poll_hz": SCREEN_HZ,
            "ui": "none: headless kiosk cores",
        },
        "goals": {
            "first_frame_s_max": GOAL_FIRST_FRAME_S,
            "fps_min": GOAL_FPS,
            "latency_p95_ms_max": GOAL_LATENCY_P95_MS,
            "g114_one_way_ms": G114_MS,
        },
        "codec": {key: results[0].get("codec") for key, results in runs.items()},
        "median": {key: {k: median_of(per_run[key], k) for k in keys} for key in per_run},
        "per_run": per_run,
        "runs": runs,
        "screens": {
            key: {k: median_of(results, k) for k in results[0]} if results else None
            for key, results in per_screens.items()
        },
        "screens_runs": screens,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        return child(args)
    return orchestrate("visit", args, run, lambda r: (print_table(r), print_screens(r)))


if __name__ == "__main__":
    sys.exit(main())
