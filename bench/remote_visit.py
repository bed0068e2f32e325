"""A remote visit (Chromium and a drawn housing kiosk) against a bare aiortc peer, in one run.

    python bench/remote_visit.py [--seconds 60] [--runs 1] [--settle-seconds 2] [--resident-last]
                                 [--browser-nice N] [--browser-idle]

The issue's goals (remote visits, 640x480, 60 s): both present and ready to the first picture
on each side <= 1.0 s; >= 28 frames shown a second each way; the browser's camera to the
kiosk's screen (glass to glass) p95 <= 150 ms; the kiosk's CPU for the call, as a ratio to the
bare peer's. Each run holds two visits, one after the other (``--runs`` times interleaved:
bare, kiosk, ...), with the same Chromium (``tests.family_camera.CameraBrowser``, headless,
started once) on the same page, the simulator's family page (``cloudsim/family/page``):

* **kiosk**: the real thing, as a person sees it. A Mosquitto of its own and the cloud
  simulator publish a remote visit (kind "remote", no peer kiosk) to a housing kiosk; the
  simulator's media gateway (``FamilyGateway``) serves the page and passes the handshake. The
  kiosk is the real app drawing its screen under an Xvfb of its own, in a process of its own,
  its call in another (``tests.drawn_visit.DrawnKiosk``, as bench/visit_screens.py uses it):
  the resident badges, types her PIN and lifts the handset.
* **bare**, the baseline: one ``RTCPeerConnection`` in a process of its own (``--child bare``),
  no kiosk code, no broker: a ``FamilyGateway`` in that process with a tiny stand-in for the
  cloud offers to the page when the page says it is ready. It sends a
  ``SimulatedCamera(640, 480, 30, timecode=True)`` and a tone, and receives in a bare ``recv``
  loop.

Chromium leaves loopback out of its ICE candidates (it offers only the machine's network
addresses), so both visits go through the facility's TURN relay on 127.0.0.1, relayed paths
only, at both ends (``tests.turn_server``, as tests/calls/test_remote_visit.py): everything
stays on loopback, the same way in both.

What is measured:

* **both present -> first picture**: from the later of the page's "ready" (its camera on, at
  the gateway) and the resident's lift (the bare peer is always there), to the first frame
  drawn with the other side's picture: on the kiosk's glass (its own report), in the browser
  the first frame of the remote ``<video>`` (``requestVideoFrameCallback``). By default the
  resident lifts first and the family opens the link after, as the bare peer waits for the
  page; ``--resident-last`` opens the page as the kiosk starts (the kiosk may miss the page's
  "ready" then, and the gateway repeats it a second after the kiosk's own).
* **frames shown a second** each way: the kiosk's distinct pictures drawn (its report), the
  browser's frames presented by the remote ``<video>`` (and ``getStats`` framesDecoded); the
  bare peer's frames decoded.
* **glass to glass, browser -> kiosk**: the browser's camera is a Y4M whose frames carry
  their index in the time code's cells (``tests.family_camera``); a script in the page reads
  each camera frame as it leaves the camera (``MediaStreamTrackProcessor``; its timestamp is
  the capture time on the monotonic clock). The kiosk reads the cells of every frame it draws;
  the age is the draw's wall clock minus that frame's capture. Given at every frame drawn (as
  bench/visit_screens.py) and at each picture's first draw; the bare peer's when it decodes.
* **glass to glass, kiosk -> browser**: the kiosk's camera stamps the wall clock; the script
  reads it from the remote ``<video>`` at each frame presented, against the frame's expected
  display time.
* **the family's browser elsewhere**: on a facility's kiosk the family's browser is not on the
  kiosk's two cores; here it is. ``--browser-nice 19`` lets Chromium take only what the kiosk
  (or the bare peer) leaves, which comes closer to the kiosk alone on its machine;
  ``--browser-idle`` (the kernel's SCHED_IDLE) closer still: then Chromium is the one short.
* **CPU**: the kiosk's screen process and its call's process over the window, against the bare
  peer's process (its gateway thread taken out); Chromium's beside both, for context.

One machine, one clock: Date.now() and time.time() agree. The script only measures: it never
fails on a missed goal. Figures also go to bench/results/remote_visit.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
# The repository before bench/: bench/hardware.py must not shadow the hardware package.
for _path in (str(REPO_DIR), str(BENCH_DIR)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from family_meter import (  # noqa: E402
    CAMERA_FRAMES,
    CameraTimes,
    Family,
    browser_side,
    changes,
    cpu_or_zero,
    descendants,
    wall_minus_monotonic_ms,
)
from harness import (  # noqa: E402
    CLOCK_TICKS,
    BenchError,
    Children,
    add_output_options,
    bench_header,
    emit_result,
    last_line,
    latency_summary,
    median_of,
    orchestrate,
    thread_cpu_s,
)

from tests.family_camera import FPS, HEIGHT, WIDTH, frame_index, split_age  # noqa: E402

RESULTS_FILE = BENCH_DIR / "results" / "remote_visit.json"
RESULT_MARK = "BENCH-REMOTE-VISIT-RESULT "
GOAL_FIRST_PICTURE_S = 1.0
GOAL_FPS = 28.0
GOAL_G2G_P95_MS = 150.0
FIRST_PICTURE_TIMEOUT_S = 60.0
JOIN_TIMEOUT_S = 90.0
VISIT_ID, HOUSING = "v-home", "hu-01"
INMATE, RESIDENT, VISITOR = "A1024", "M. Alvarez", "R. Alvarez"


@contextlib.contextmanager
def stderr_to(path: Path) -> Iterator[None]:
    """This process's stderr (fd 2) into ``path`` for a while: the kiosk's processes, started
    meanwhile, inherit it, and their Kivy and sync lines go to the log rather than between the
    lines of progress."""
    sys.stderr.flush()
    saved = os.dup(2)
    with path.open("ab") as log:
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def until(condition: Callable[[], Any], timeout: float, what: str | Callable[[], str]) -> Any:
    """Poll ``condition`` until it returns something true; that value, or BenchError saying
    ``what`` (called then, when it is a function: the state things were left in)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise BenchError(f"not in time: {what() if callable(what) else what}")
        time.sleep(0.05)


# --- the bare peer: --child bare -----------------------------------------------------------


class BareSide:
    """What the gateway needs of the cloud (``KioskSide``), for the bare peer: the one visit,
    and the page's signals handed to the peer's loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, ice_server: dict[str, Any]) -> None:
        from cloudsim.family.remote import RemoteVisit

        self._loop = loop
        self._ice_server = ice_server
        self.signals: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.page_ready_at: float | None = None
        now = datetime.now(UTC)
        self._visit = RemoteVisit(
            visit_id=VISIT_ID,
            kiosk_id="bare-peer",
            starts_at=now - timedelta(minutes=1),
            ends_at=now + timedelta(hours=1),
            resident=RESIDENT,
            visitor=VISITOR,
            privileged=False,
        )

    def remote_visit(self, visit_id: str) -> Any:
        return self._visit if visit_id == VISIT_ID else None

    def send_gateway_signal(self, visit_id: str, kind: str, **fields: Any) -> None:
        if kind == "ready" and self.page_ready_at is None:
            self.page_ready_at = time.monotonic()
        self._loop.call_soon_threadsafe(self.signals.put_nowait, (kind, fields))

    def ice_servers_for(self, visit_id: str) -> list[dict[str, Any]]:
        return [self._ice_server]

    def relay_only_for(self, visit_id: str) -> bool:
        return True


def say(line: str) -> None:
    """A line to the orchestrator, on stdout."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def bare_peer(args: argparse.Namespace) -> dict[str, Any]:
    """Offer to the page when it is ready, send a camera and a tone, receive in a bare loop;
    take the window's marks from stdin ("mark", then "stop")."""
    import numpy as np
    from aiortc import (
        AudioStreamTrack,
        RTCConfiguration,
        RTCIceServer,
        RTCPeerConnection,
        RTCSessionDescription,
        VideoStreamTrack,
    )
    from aiortc.mediastreams import MediaStreamError
    from aiortc.rtcconfiguration import RTCIceTransportPolicy
    from av import VideoFrame
    from visit import read_stamp

    from cloudsim.family.gateway import FamilyGateway
    from hardware.simulated.camera import SimulatedCamera

    loop = asyncio.get_running_loop()
    ice = json.loads(args.ice)
    side = BareSide(loop, ice)
    camera = SimulatedCamera(WIDTH, HEIGHT, float(FPS), scene="face", timecode=True)
    black = np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)
    tone = (np.sin(2 * np.pi * np.arange(160) / 20) * 8000).astype("<i2").tobytes()

    class CameraTrack(VideoStreamTrack):
        async def recv(self) -> VideoFrame:
            pts, time_base = await self.next_timestamp()
            latest = camera.latest_frame()
            frame = VideoFrame.from_ndarray(
                latest.image if latest is not None else black, format="bgr24"
            )
            frame.pts, frame.time_base = pts, time_base
            return frame

    class ToneTrack(AudioStreamTrack):
        async def recv(self) -> Any:
            frame = await super().recv()  # aiortc's paced silence: 20 ms at 8 kHz
            frame.planes[0].update(tone)  # 400 Hz: 160 samples are eight whole periods
            return frame

    frames: list[list[Any]] = []  # [arrival (monotonic), wall ms, frame index]
    audio = {"frames": 0}
    tasks: list[asyncio.Task[None]] = []

    async def consume(track: Any) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if track.kind != "video":
                audio["frames"] += 1
                continue
            arrived, wall = time.monotonic(), time.time() * 1000
            if not frames:
                say(f"FIRST {arrived}")
            frames.append([arrived, wall, frame_index(read_stamp(frame))])

    def commands() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(side.signals.put_nowait, ("command", line.strip()))

    threading.Thread(target=commands, name="commands", daemon=True).start()
    server = RTCIceServer(urls=ice["urls"], username=ice["username"], credential=ice["credential"])
    config = RTCConfiguration(iceServers=[server], iceTransportPolicy=RTCIceTransportPolicy.RELAY)
    pc: Any = None
    result: dict[str, Any] = {"marks": {}}
    camera.start()
    try:
        with FamilyGateway(side) as gateway:
            gateway_thread = next(t for t in threading.enumerate() if t.name == "family-gateway")

            def cpu() -> dict[str, float]:
                return {
                    "at": time.monotonic(),
                    "process_s": time.process_time(),
                    "gateway_s": thread_cpu_s(gateway_thread),
                }

            say(f"LINK {gateway.link(VISIT_ID)}")
            while True:
                kind, said = await side.signals.get()
                if kind == "ready" and pc is None:
                    result["offer_started_at"] = time.monotonic()
                    pc = RTCPeerConnection(config)
                    pc.addTrack(CameraTrack())
                    pc.addTrack(ToneTrack())
                    pc.on("track", lambda track: tasks.append(asyncio.create_task(consume(track))))
                    await pc.setLocalDescription(await pc.createOffer())
                    gateway.from_kiosk(VISIT_ID, {"kind": "offer", "sdp": pc.localDescription.sdp})
                elif kind == "answer" and pc is not None:
                    await pc.setRemoteDescription(RTCSessionDescription(said["sdp"], "answer"))
                elif kind == "command" and said in ("mark", "stop"):
                    result["marks"][said] = cpu()
                    if said == "stop":
                        break
                elif kind == "bye" or (kind == "command" and said == "quit"):
                    break
            result.update(
                page_ready_at=side.page_ready_at,
                frames=frames,
                audio_frames=audio["frames"],
                connection=pc.connectionState if pc is not None else None,
                route=selected_route(pc),
                codec=sent_codec(pc),
            )
    finally:
        if pc is not None:
            await pc.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        camera.stop()
    return result


def selected_route(pc: Any) -> str | None:
    """The candidate pair aiortc's ICE chose (aioice keeps it privately): "relay -> relay"."""
    with contextlib.suppress(Exception):
        for transceiver in pc.getTransceivers():
            connection = transceiver.sender.transport.transport._connection
            for pair in connection._nominated.values():
                return f"{pair.local_candidate.type} -> {pair.remote_candidate.type}"
    return None


def sent_codec(pc: Any) -> str | None:
    """The video codec the peer connection sends with (aiortc keeps it privately)."""
    with contextlib.suppress(Exception):
        for transceiver in pc.getTransceivers():
            if transceiver.kind == "video" and transceiver._codecs:
                return transceiver._codecs[0].mimeType
    return None


# --- the orchestrator: both visits, with the one Chromium ---------------------------------


class ChildLines:
    """The bare peer's stdout, line by line, read in a thread of its own; its stdin."""

    def __init__(self, proc: subprocess.Popen[str], log: Path) -> None:
        self.proc, self.log = proc, log
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, name="child-lines", daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def expect(self, prefix: str, timeout: float) -> str:
        """The rest of the next line that starts with ``prefix``."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise BenchError(
                    f"bare peer: no {prefix.strip()} in time: {last_line(self.log)}"
                ) from None
            if line is None:
                raise BenchError(f"bare peer ended: {last_line(self.log)}")
            if line.startswith(prefix):
                return line[len(prefix) :]

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()


class Window:
    """The measured window as the orchestrator holds it: its ends (monotonic), the browser's
    own figures, and for context the CPU of Chromium, the TURN relay, the kiosk's Xvfb and the
    whole machine (others' work included) over it."""

    def __init__(self, family: Family) -> None:
        self.family = family
        self.stats0 = family.stats()
        self.cpu0 = self._cpu()
        self.start = time.monotonic()
        self.end = math.nan
        self.stats1: dict[str, Any] | None = None
        self.cpu_percent: dict[str, float] = {}

    def _cpu(self) -> dict[str, float]:
        named = {name: descendants(os.getpid(), named=name) for name in ("turnserver", "Xvfb")}
        return {
            "chromium": self.family.cpu_s(),
            "relay": sum(cpu_or_zero(pid) for pid in named["turnserver"]),
            "xvfb": sum(cpu_or_zero(pid) for pid in named["Xvfb"]),
            # Everything this benchmark runs: the rest of the machine's time is others' work.
            "ours": sum(cpu_or_zero(pid) for pid in [os.getpid(), *descendants(os.getpid())]),
            "machine": machine_busy_s(),
        }

    def close(self) -> None:
        self.end = time.monotonic()
        cpu1 = self._cpu()  # before the stats: on a busy machine they may take a while
        self.stats1 = self.family.stats()
        self.cpu_percent = {
            key: (cpu1[key] - self.cpu0[key]) / self.seconds * 100 for key in self.cpu0
        }

    @property
    def seconds(self) -> float:
        return self.end - self.start

    def wall_ms(self, offset_ms: float) -> tuple[float, float]:
        return self.start * 1000 + offset_ms, self.end * 1000 + offset_ms

    def context(self) -> dict[str, Any]:
        return {
            "chromium_cpu_percent": self.cpu_percent["chromium"],
            "relay_cpu_percent": self.cpu_percent["relay"],
            "xvfb_cpu_percent": self.cpu_percent["xvfb"],
            "machine_busy_percent": self.cpu_percent["machine"],
            "others_cpu_percent": self.cpu_percent["machine"] - self.cpu_percent["ours"],
            "load_average": list(os.getloadavg()),
            "wall_s": self.seconds,
        }


def machine_busy_s() -> float:
    """CPU time the whole machine has spent busy, all cores (/proc/stat)."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


def glass_to_glass(sightings: list[tuple[float, int | None]], camera: CameraTimes) -> dict:
    """The browser's camera to a receiver: ``sightings`` are (wall ms, frame index) each time
    the receiver showed (or decoded) a frame. At every sighting, and at each picture's first
    (a picture drawn again in the next screen frame counts there once)."""
    every, first, unmatched, last = [], [], 0, None
    for seen_at, index in sightings:
        if index is None:
            continue
        left = camera.left_camera(index, seen_at)
        if left is None:
            unmatched += 1
        else:
            every.append(seen_at - left)
            if index != last:
                first.append(seen_at - left)
        last = index
    return {
        "every": latency_summary(every),
        "first": latency_summary(first),
        "unmatched": unmatched,
    }


def bare_visit(
    children: Children, args: argparse.Namespace, family: Family, ice: dict[str, Any], log: Path
) -> dict[str, Any]:
    """The family's page with the bare peer (``--child bare``, a process of its own)."""
    script = str(Path(__file__).resolve())
    argv = [sys.executable, script, "--child", "bare", "--ice", json.dumps(ice)]
    with log.open("wb") as err:
        proc = children.spawn(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, cwd=REPO_DIR,
            text=True,
        )  # fmt: skip
    lines = ChildLines(proc, log)
    try:
        family.open(lines.expect("LINK ", 60))
        lines.expect("FIRST ", FIRST_PICTURE_TIMEOUT_S)
        until(family.first_shown, FIRST_PICTURE_TIMEOUT_S, "the bare peer's picture in the browser")
        time.sleep(args.settle_seconds)
        lines.send("mark")
        window = Window(family)
        time.sleep(args.seconds)
        lines.send("stop")
        window.close()
        meter = family.meter()
        family.leave()  # the page's socket closed: the peer's gateway can stop at once
        result = json.loads(lines.expect(RESULT_MARK, 30))
    finally:
        family.leave()
        children.stop(proc)
    offset_ms = wall_minus_monotonic_ms()
    camera = CameraTimes(meter["camera"], offset_ms)
    both_present = result["page_ready_at"]
    frames = result["frames"]
    inside = [f for f in frames if window.start <= f[0] < window.end]
    mark, stop = result["marks"]["mark"], result["marks"]["stop"]
    span = stop["at"] - mark["at"]
    gateway_s = stop["gateway_s"] - mark["gateway_s"]
    process_s = stop["process_s"] - mark["process_s"]
    return {
        "both_present_at": both_present,
        "receiver": {
            "first_picture_s": frames[0][0] - both_present if frames else None,
            "pictures_per_s": changes([f[2] for f in inside]) / window.seconds,
            "frames_per_s": len(inside) / window.seconds,
            "g2g_ms": glass_to_glass([(f[1], f[2]) for f in inside], camera),
            "unreadable": sum(1 for f in inside if f[2] is None),
            # The gateway's thread is the cloud's part, not the peer's.
            "cpu_percent": (process_s - gateway_s) / span * 100,
            "gateway_cpu_percent": gateway_s / span * 100,
            "route": result["route"],
            "codec": result["codec"],
            "connection": result["connection"],
            "audio_frames": result["audio_frames"],
        },
        "browser": browser_side(
            meter,
            window.wall_ms(offset_ms),
            both_present,
            offset_ms,
            (window.stats0, window.stats1),
        ),
        "camera": {"read_lag_ms": camera.read_lag_ms, "unreadable": camera.unreadable},
        **window.context(),
    }


class ReadyClock:
    """The cloud simulator as the gateway sees it (``KioskSide``), noting when the family's
    page first says it is ready."""

    def __init__(self, cloud: Any) -> None:
        self._cloud = cloud
        self.page_ready_at: float | None = None

    def remote_visit(self, visit_id: str) -> Any:
        return self._cloud.remote_visit(visit_id)

    def send_gateway_signal(self, visit_id: str, kind: str, **fields: Any) -> None:
        # The first "ready" is the page's: the gateway repeats it to the kiosk only after.
        if kind == "ready" and self.page_ready_at is None:
            self.page_ready_at = time.monotonic()
        self._cloud.send_gateway_signal(visit_id, kind, **fields)

    def ice_servers_for(self, visit_id: str) -> list[dict[str, Any]]:
        return self._cloud.ice_servers_for(visit_id)

    def relay_only_for(self, visit_id: str) -> bool:
        return self._cloud.relay_only_for(visit_id)


def publish_remote_visit(cloud: Any, ice: dict[str, Any], ends_in_s: float) -> None:
    """The housing kiosk's config (the TURN relay, relayed paths only), the resident, and a
    remote visit open until long after the window (as tests/calls/test_remote_visit.py)."""
    from cloudsim.sim import make_resident, make_visit
    from kiosk.contract.times import utc_text
    from tests.drawn_visit import BADGE, PIN

    now = datetime.now(UTC)
    cloud.publish_config(HOUSING, role="housing", ice_servers=[ice], ice_relay_only=True)
    cloud.publish_residents(
        HOUSING, 1, [make_resident(INMATE, "B-1", RESIDENT, PIN, badges=[BADGE])]
    )
    visit = make_visit(VISIT_ID, now - timedelta(minutes=1), 1, "remote", INMATE, RESIDENT, VISITOR)
    visit["ends_at"] = utc_text(now + timedelta(seconds=ends_in_s))
    cloud.publish_schedule(HOUSING, 1, [visit])


def kiosk_visit(
    args: argparse.Namespace, family: Family, ice: dict[str, Any], workdir: Path
) -> dict[str, Any]:
    """The family's page with a drawn housing kiosk, through Mosquitto, the cloud simulator
    and its gateway."""
    from cloudsim.broker import LocalBroker
    from cloudsim.family.gateway import FamilyGateway
    from cloudsim.sim import CloudSim
    from tests.drawn_visit import DrawnKiosk, xvfb
    from tests.facility_cloud import FACILITY

    with LocalBroker(workdir / "broker") as broker:
        cloud = CloudSim(broker.url, FACILITY, approve_delay=0, session_expiry_s=3600)
        cloud.start()
        try:
            publish_remote_visit(cloud, ice, ends_in_s=args.settle_seconds + args.seconds + 300)
            side = ReadyClock(cloud)
            with FamilyGateway(side) as gateway, xvfb() as display:
                cloud.gateway = gateway
                kiosk = DrawnKiosk(HOUSING, "housing", workdir / HOUSING, broker.url, display)
                try:
                    return hold_kiosk_visit(args, family, side, gateway.link(VISIT_ID), kiosk)
                except AssertionError as error:  # the kiosk's process said why it failed
                    raise BenchError(str(error)) from error
                finally:
                    if kiosk.process.is_alive():
                        with contextlib.suppress(Exception):
                            kiosk.end()
                    if kiosk.process.is_alive():
                        kiosk.process.kill()
                    family.leave()
                    cloud.gateway = None
        finally:
            cloud.stop()


def hold_kiosk_visit(
    args: argparse.Namespace, family: Family, side: ReadyClock, link: str, kiosk: Any
) -> dict[str, Any]:
    """Both join, both first pictures, settle, the window; the figures of both sides."""
    if args.resident_last:
        family.open(link)
    until(
        lambda: (r := kiosk.latest) is not None and r.joined_at is not None,
        JOIN_TIMEOUT_S,
        "the resident lifting the handset",
    )
    if not args.resident_last:
        family.open(link)

    def where() -> str:
        latest = kiosk.latest
        return (
            f"the kiosk's phases {latest.phases}, call {latest.call_states}, its call's"
            f" figures {latest.call}; the browser's {family.stats()}"
        )

    until(
        lambda: kiosk.latest.first_picture_at is not None,
        FIRST_PICTURE_TIMEOUT_S,
        lambda: f"the family's picture on the kiosk's screen: {where()}",
    )
    until(
        family.first_shown,
        FIRST_PICTURE_TIMEOUT_S,
        lambda: f"the kiosk's picture in the browser: {where()}",
    )
    time.sleep(args.settle_seconds)
    before = kiosk.latest
    mark = len(kiosk.reports)
    window = Window(family)
    time.sleep(args.seconds)
    window.close()
    after = kiosk.latest
    meter = family.meter()
    offset_ms = wall_minus_monotonic_ms()
    camera = CameraTimes(meter["camera"], offset_ms)
    during = kiosk.reports[mark:]
    joined_at = after.joined_at
    both_present = max(side.page_ready_at or 0.0, joined_at or 0.0)
    sightings = []
    for report in during:
        # The ages came in the second before the report: its time is good to within a
        # second or two, far inside split_age's 50 s.
        about_ms = report.at * 1000 + offset_ms - 500
        for age in report.ages_ms:
            seen_at, index = split_age(age, about_ms)
            sightings.append((seen_at, index))
    span = after.at - before.at
    screen_s = after.cpu_s - before.cpu_s
    call_s = after.call.get("process_cpu_s", 0.0) - before.call.get("process_cpu_s", 0.0)
    received = after.call.get("frames_received", 0) - before.call.get("frames_received", 0)
    return {
        "both_present_at": both_present,
        "last_to_join": "resident"
        if (joined_at or 0.0) >= (side.page_ready_at or 0.0)
        else "family",
        "receiver": {
            "first_picture_s": after.first_picture_at - both_present,
            "pictures_per_s": sum(r.pictures for r in during) / span,
            "pictures_each_s": [r.pictures for r in during],
            "frames_per_s": sum(r.frames for r in during) / span,  # the screen's frames drawn
            "call_frames_per_s": received / span,  # frames the call received
            "g2g_ms": glass_to_glass(sightings, camera),
            "cpu_percent": (screen_s + call_s) / span * 100,
            "screen_cpu_percent": screen_s / span * 100,
            # The collector's pauses in the screen's process: frames it could not draw.
            "screen_gc_percent": (sum(after.gc_s) - sum(before.gc_s)) / span * 100,
            "screen_gc_full_per_min": (after.gc_runs[2] - before.gc_runs[2]) / span * 60,
            "call_cpu_percent": call_s / span * 100,
            "send_size": after.call.get("send_size"),
            "send_fps": after.call.get("send_fps"),
            "codec": after.call.get("codec"),
            "connection": after.call.get("state"),
            "restarts": after.call.get("restarts"),
            "longest_silence_ms": round(after.call.get("longest_silence_s", 0.0) * 1000, 1),
            "phases": after.phases,
        },
        "browser": browser_side(
            meter,
            window.wall_ms(offset_ms),
            both_present,
            offset_ms,
            (window.stats0, window.stats1),
        ),
        "camera": {"read_lag_ms": camera.read_lag_ms, "unreadable": camera.unreadable},
        **window.context(),
    }


# --- figures and the table -----------------------------------------------------------------


def figures(result: dict[str, Any]) -> dict[str, float | None]:
    """One visit's headline figures; the same keys for the kiosk and the bare peer."""
    receiver, browser = result["receiver"], result["browser"]
    g2g, back = receiver["g2g_ms"], browser["g2g_ms"]

    def of(stats: dict[str, Any] | None, key: str) -> float | None:
        return None if stats is None else stats[key]

    firsts = [receiver["first_picture_s"], browser["first_picture_s"]]
    return {
        "first_picture_worse_s": max(firsts) if None not in firsts else None,
        "first_picture_receiver_s": receiver["first_picture_s"],
        "first_picture_browser_s": browser["first_picture_s"],
        "browser_connected_s": browser["timeline_s"].get("connected"),
        "browser_first_sent_s": browser["timeline_s"].get("firstSent"),
        "fps_worse": min(receiver["pictures_per_s"], browser["frames_shown_per_s"]),
        "fps_to_receiver": receiver["pictures_per_s"],
        "fps_to_browser": browser["frames_shown_per_s"],
        "decoded_per_s_browser": browser["frames_decoded_per_s"],
        "g2g_to_receiver_p95_ms": of(g2g["every"], "p95"),
        "g2g_to_receiver_median_ms": of(g2g["every"], "median"),
        "g2g_to_receiver_first_p95_ms": of(g2g["first"], "p95"),
        "g2g_to_receiver_max_ms": of(g2g["every"], "max"),
        "g2g_to_browser_p95_ms": of(back, "p95"),
        "g2g_to_browser_median_ms": of(back, "median"),
        "cpu_percent": receiver["cpu_percent"],
        # The bare peer's process is all call: its figure stands beside the kiosk's call's.
        "call_cpu_percent": receiver.get("call_cpu_percent", receiver["cpu_percent"]),
        "screen_cpu_percent": receiver.get("screen_cpu_percent"),
        "screen_gc_percent": receiver.get("screen_gc_percent"),
        "screen_gc_full_per_min": receiver.get("screen_gc_full_per_min"),
        "chromium_cpu_percent": result["chromium_cpu_percent"],
        "relay_cpu_percent": result["relay_cpu_percent"],
        "machine_busy_percent": result["machine_busy_percent"],
        "others_cpu_percent": result["others_cpu_percent"],
        "unmatched": g2g["unmatched"],
    }


# Row: label, key, unit, format, goal text, goal check (on the kiosk's figure) or None.
ROWS: list[tuple[str, str, str, str, str, Callable[[float], bool] | None]] = [
    ("both present -> 1st picture, worse", "first_picture_worse_s", "s", ".2f",
     f"<= {GOAL_FIRST_PICTURE_S:g} s", lambda v: v <= GOAL_FIRST_PICTURE_S),
    ("  at the kiosk / bare peer", "first_picture_receiver_s", "s", ".2f", "", None),
    ("  in the browser", "first_picture_browser_s", "s", ".2f", "", None),
    ("  the browser connected", "browser_connected_s", "s", ".2f", "", None),
    ("  its first frame sent", "browser_first_sent_s", "s", ".2f", "", None),
    ("frames shown/s, worse way", "fps_worse", "", ".1f",
     f">= {GOAL_FPS:g}", lambda v: v >= GOAL_FPS),
    ("  browser -> kiosk / peer", "fps_to_receiver", "", ".1f", "", None),
    ("  kiosk / peer -> browser", "fps_to_browser", "", ".1f", "", None),
    ("  decoded/s in the browser", "decoded_per_s_browser", "", ".1f", "", None),
    ("glass-glass browser->kiosk p95", "g2g_to_receiver_p95_ms", "ms", ".0f",
     f"<= {GOAL_G2G_P95_MS:g} ms", lambda v: v <= GOAL_G2G_P95_MS),
    ("  median", "g2g_to_receiver_median_ms", "ms", ".0f", "", None),
    ("  p95 at each picture's 1st draw", "g2g_to_receiver_first_p95_ms", "ms", ".0f", "", None),
    ("  worst", "g2g_to_receiver_max_ms", "ms", ".0f", "", None),
    ("glass-glass kiosk->browser p95", "g2g_to_browser_p95_ms", "ms", ".0f", "", None),
    ("  median", "g2g_to_browser_median_ms", "ms", ".0f", "", None),
    ("CPU for the call, % of a core", "cpu_percent", "%", ".0f", "ratio", None),
    ("  its call's process", "call_cpu_percent", "%", ".0f", "", None),
    ("  its screen's process", "screen_cpu_percent", "%", ".0f", "", None),
    ("    in the collector's pauses", "screen_gc_percent", "%", ".1f", "", None),
    ("    full collections a minute", "screen_gc_full_per_min", "", ".1f", "", None),
    ("Chromium's CPU (context)", "chromium_cpu_percent", "%", ".0f", "", None),
    ("the TURN relay's CPU (context)", "relay_cpu_percent", "%", ".1f", "", None),
    ("the machine busy, of 200 % (context)", "machine_busy_percent", "%", ".0f", "", None),
    ("  of which others' work", "others_cpu_percent", "%", ".0f", "", None),
    ("unmatched time codes", "unmatched", "", ".0f", "", None),
]  # fmt: skip


def print_table(results: dict[str, Any]) -> None:
    kiosk, bare = results["median"]["kiosk"], results["median"]["bare"]
    settings = results["settings"]
    print()
    print(
        f"remote visit, {WIDTH}x{HEIGHT} @ {FPS} fps both ways, {settings['seconds']:g} s window"
        f" after {settings['settle_seconds']:g} s settling, {settings['runs']} run(s), medians;"
        f" the family in headless Chromium (nice {settings.get('browser_nice', 0)}"
        f"{', SCHED_IDLE' if settings.get('browser_idle') else ''}), both ends"
        f" through the TURN relay on 127.0.0.1"
    )
    print(
        "kiosk: a housing kiosk drawing its screen (Xvfb, llvmpipe), its call in a process of"
        " its own, via Mosquitto + cloudsim + its gateway; bare: one aiortc peer connection"
    )
    print(f"{'figure':<36}{'kiosk':>10}{'bare':>10}{'ratio':>8}   {'goal':<12}met?")
    for label, key, unit, fmt, goal, check in ROWS:
        k, b = kiosk.get(key), bare.get(key)
        ks = "-" if k is None else f"{k:{fmt}}{(' ' + unit) if unit else ''}"
        bs = "-" if b is None else f"{b:{fmt}}{(' ' + unit) if unit else ''}"
        ratio = f"{k / b:.2f}" if k is not None and b else "-"
        met = "" if check is None else ("-" if k is None else ("yes" if check(k) else "NO"))
        print(f"{label:<36}{ks:>10}{bs:>10}{ratio:>8}   {goal:<12}{met}".rstrip())
    for key in ("kiosk", "bare"):
        for index, run in enumerate(results["runs"][key]):
            receiver, browser = run["receiver"], run["browser"]
            route = (browser.get("stats") or {}).get("route") or {}
            sent = (browser.get("stats") or {}).get("sent") or {}
            extra = ""
            if key == "kiosk":
                extra = (
                    f"; last to join: {run['last_to_join']}; its Xvfb"
                    f" {run['xvfb_cpu_percent']:.0f} %; the kiosk sends"
                    f" {receiver['send_size']} at {receiver['send_fps']} fps, phases"
                    f" {receiver['phases']}"
                )
            print(
                f"  {key} run {index + 1}: {receiver['connection']}, {receiver['codec']};"
                f" browser's route {route.get('local')} -> {route.get('remote')};"
                f" browser sends {sent.get('width')}x{sent.get('height')}"
                f" (limited by {sent.get('limitation')}); camera read lag"
                f" {run['camera']['read_lag_ms']:.1f} ms{extra}"
            )


# --- the benchmark ---------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="the measured window [60]")
    parser.add_argument(
        "--settle-seconds",
        type=float,
        default=2.0,
        help="wait after both first pictures before the window opens [2]",
    )
    parser.add_argument("--runs", type=int, default=1, help="visits of each, interleaved [1]")
    parser.add_argument(
        "--resident-last",
        action="store_true",
        help="the family opens the page as the kiosk starts and the resident lifts after"
        " (default: the resident waits and the family joins last, as the bare peer waits for"
        " the page)",
    )
    parser.add_argument(
        "--browser-nice",
        type=int,
        default=0,
        choices=range(20),
        metavar="N",
        help="Chromium's niceness, 0-19 [0]; 19: it takes only the CPU the kiosk leaves, as if"
        " the family's browser were on another machine",
    )
    parser.add_argument(
        "--browser-idle",
        action="store_true",
        help="Chromium under the kernel's idle policy (SCHED_IDLE): it runs only on CPU that"
        " nothing else wants, closer still to a browser on another machine (Chromium is then"
        " the one short of CPU: it presents fewer of the kiosk's frames)",
    )
    add_output_options(parser, RESULTS_FILE)
    parser.add_argument("--child", choices=("bare",), help=argparse.SUPPRESS)
    parser.add_argument("--ice", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.runs < 1 or args.seconds <= 0 or args.settle_seconds < 0:
        parser.error("--runs must be at least 1, --seconds positive, --settle-seconds >= 0")
    return args


def run(args: argparse.Namespace, children: Children, workdir: Path) -> dict[str, Any]:
    from tests.family_camera import CameraBrowser, write_y4m
    from tests.turn_server import TurnServer

    print(f"logs in {workdir}", flush=True)
    video = write_y4m(workdir / "family-camera.y4m", frames=CAMERA_FRAMES)
    runs: dict[str, list[dict[str, Any]]] = {"bare": [], "kiosk": []}
    # The video (66 MiB) goes with the browser, even when the logs are kept.
    with contextlib.ExitStack() as stack:
        stack.callback(video.unlink, missing_ok=True)
        turn = stack.enter_context(TurnServer(workdir / "turn"))
        family = Family(
            stack.enter_context(
                CameraBrowser(video, nice=args.browser_nice, idle=args.browser_idle)
            )
        )
        for index in range(args.runs):
            for key in ("bare", "kiosk"):  # interleaved: bare, kiosk, bare, kiosk, ...
                print(f"  run {index + 1}/{args.runs} {key} ...", end="", flush=True)
                folder = workdir / f"{key}-{index + 1}"
                folder.mkdir()
                try:
                    if key == "bare":
                        result = bare_visit(
                            children, args, family, turn.ice_server, folder / "peer.log"
                        )
                    else:
                        with stderr_to(folder / "kiosk.log"):
                            result = kiosk_visit(args, family, turn.ice_server, folder)
                except BenchError:
                    print(flush=True)  # ends the line of progress before the error
                    raise
                runs[key].append(result)
                f = figures(result)
                print(
                    f" first picture {f['first_picture_worse_s']:.2f} s,"
                    f" {f['fps_to_receiver']:.1f} / {f['fps_to_browser']:.1f} shown/s,"
                    f" p95 {f['g2g_to_receiver_p95_ms'] or math.nan:.0f} /"
                    f" {f['g2g_to_browser_p95_ms'] or math.nan:.0f} ms,"
                    f" CPU {f['cpu_percent']:.0f} %",
                    flush=True,
                )
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
            "last_to_join": "resident" if args.resident_last else "family",
            "route": "TURN relay on 127.0.0.1, relayed paths only, both ends",
            "browser_camera_frames": CAMERA_FRAMES,
            "browser_nice": args.browser_nice,
            "browser_idle": args.browser_idle,
        },
        "goals": {
            "first_picture_s_max": GOAL_FIRST_PICTURE_S,
            "fps_min": GOAL_FPS,
            "g2g_p95_ms_max": GOAL_G2G_P95_MS,
        },
        "median": {key: {k: median_of(per_run[key], k) for k in keys} for key in per_run},
        "per_run": per_run,
        "runs": runs,
    }


def child(args: argparse.Namespace) -> int:
    """The bare peer's process."""
    emit_result(RESULT_MARK, asyncio.run(bare_peer(args)))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        return child(args)
    return orchestrate("remote_visit", args, run, print_table)


if __name__ == "__main__":
    sys.exit(main())
