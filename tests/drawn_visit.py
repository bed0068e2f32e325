"""Two kiosks in one visit, each the real app drawing its screen on an Xvfb of its own, each in
a process of its own, as two kiosks in a facility are.

Each kiosk's process joins the visit as its person would (the lobby's visitor checked in; the
resident's badge, PIN and handset), then looks at its own screen at every frame drawn: the
picture of the other side on the glass, and how old it is by the time code the other side's
simulated camera stamped into it (one machine, one wall clock). It tells the test what it saw
once a second, and at the end the visit's own report.

Used by the tests of visits under load (``tests/calls/test_visit_under_load.py``) and by
``bench/visit.py --screens``.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import shutil
import subprocess
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SCREEN = (1280, 800)
REPORT_EVERY_S = 1.0
BADGE, PIN = "04A1B2C3D4", "1234"
CONTEXT = multiprocessing.get_context("spawn")


@dataclass
class ScreenReport:
    """What one kiosk's screen showed since its last report (and its totals so far)."""

    kiosk_id: str
    at: float = 0.0  # monotonic: when this report was sent
    phase: str = ""
    phases: list[str] = field(default_factory=list)  # every phase seen so far, in order
    call_states: list[str] = field(default_factory=list)  # every call state seen so far
    connection_words: list[str] = field(default_factory=list)  # the notice band's, as it changed
    pictures_after_end: int = 0  # frames drawn with a picture of the other side after the end
    joined_at: float | None = None  # monotonic: this side joined
    first_picture_at: float | None = None  # monotonic: the other side's first picture drawn
    ages_ms: list[float] = field(default_factory=list)  # at each frame drawn, since the last
    pictures: int = 0  # distinct pictures of the other side drawn, since the last report
    frames: int = 0  # frames the screen drew, since the last report
    cpu_s: float = 0.0  # this kiosk's process (the screen), since it started
    # The garbage collector's pauses in the screen's process since it started: seconds and
    # collections, per generation (a pause is a frame the screen does not draw).
    gc_s: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    gc_runs: list[int] = field(default_factory=lambda: [0, 0, 0])
    call: dict[str, Any] = field(default_factory=dict)  # the call's own figures (CallStats)
    ended: dict[str, Any] | None = None  # the visit's end: its reason and call report
    error: str | None = None


# --- in the kiosk's process ----------------------------------------------------------------


def _kiosk_main(
    conn: Any, kiosk_id: str, role: str, data_dir: str, broker_url: str, netns: str | None
) -> None:
    if netns is not None:  # first, while this process has one thread: its call's process follows
        from tests.hall_network import enter_namespace

        enter_namespace(netns)
    if level := os.environ.get("DRAWN_KIOSK_LOG"):  # e.g. INFO: to follow a visit in the logs
        import logging

        logging.basicConfig(level=level, format=f"%(asctime)s {kiosk_id} %(name)s: %(message)s")
    gc.disable()  # as `kiosk run` starts (launch/cli.py): collection resumes once it is up
    try:
        asyncio.run(_kiosk_on_screen(conn, kiosk_id, role, Path(data_dir), broker_url))
    except Exception as error:  # tell the test why, then die
        conn.send(ScreenReport(kiosk_id, error=repr(error)))
        raise


async def _kiosk_on_screen(conn: Any, kiosk_id: str, role: str, data_dir: Path, broker: str):
    from kiosk.ui.kivy_setup import configure

    configure(fullscreen=False, width=SCREEN[0], height=SCREEN[1], kivy_home=data_dir / "kivy")
    from kivy.clock import Clock
    from kivy.core.window import Window

    from hardware.interfaces import Devices
    from hardware.simulated import (
        SimulatedBadgeReader,
        SimulatedCamera,
        SimulatedHandset,
        SimulatedHotplug,
        timecode,
    )
    from kiosk.assembly import build_kiosk
    from kiosk.core.clock import SystemClock
    from kiosk.ui.app import KioskApp
    from launch.process import start_sync, startup_done
    from tests.conftest import make_config
    from tests.facility_cloud import FACILITY

    config = make_config(
        data_dir,
        kiosk_id=kiosk_id,
        role=role,
        facility_id=FACILITY,
        brokers=(broker,),
        housing_unit="B" if role == "housing" else None,
    )
    devices = Devices(
        camera=SimulatedCamera(640, 480, 30.0, scene="face", timecode=True),
        handset=SimulatedHandset(),
        badge_reader=SimulatedBadgeReader(),
        hotplug=SimulatedHotplug(),
    )
    kiosk = build_kiosk(config, SystemClock(), devices=devices)
    sync = start_sync(kiosk)
    if not Window.initialized:
        Window.create_window()
        Window.register()
        Window.initialized = True
    app = KioskApp(kiosk)
    app.bind(on_start=lambda *_: startup_done())
    running = asyncio.create_task(app.async_run(async_lib="asyncio"))

    def app_ended(task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is not None:
            error = "".join(traceback.format_exception(task.exception()))
            conn.send(ScreenReport(kiosk_id, error=f"the app failed: {error}"))

    running.add_done_callback(app_ended)
    report = ScreenReport(kiosk_id)
    seen: dict[str, Any] = {"picture": None, "stamp": None}
    collecting: dict[str, float] = {}

    def collector(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collecting["since"] = time.perf_counter()
        elif "since" in collecting:
            generation = info["generation"]
            report.gc_s[generation] += time.perf_counter() - collecting.pop("since")
            report.gc_runs[generation] += 1

    gc.callbacks.append(collector)

    def look(_dt: float) -> None:
        """At each frame drawn: what the screen shows of the other side, and how old it is."""
        report.frames += 1
        visit = kiosk.visit
        phase = visit.phase if visit is not None else ""
        if phase != report.phase:
            report.phase = phase
            report.phases.append(phase)
        if visit is not None and not report.joined_at and visit.joined_at is not None:
            report.joined_at = time.monotonic()
        state = visit.call_state if visit is not None else ""
        if state and (not report.call_states or report.call_states[-1] != state):
            report.call_states.append(state)
        if app.root is None or app.root.current != "visit":
            return
        screen = app.root.get_screen("visit")
        if not report.connection_words or report.connection_words[-1] != screen.connection:
            report.connection_words.append(screen.connection)
        if phase == "ended" and screen.ids.remote_video.texture is not None:
            report.pictures_after_end += 1
        shown = screen._shown[0]
        if shown is None:
            return
        if shown is not seen["picture"]:
            seen["picture"], seen["stamp"] = shown, timecode.read(shown)
            report.pictures += 1
            if report.first_picture_at is None:
                report.first_picture_at = time.monotonic()
        if seen["stamp"] is not None:
            report.ages_ms.append(time.time() * 1000 - seen["stamp"])

    def send() -> None:
        call = getattr(kiosk.visit, "_call", None) if kiosk.visit is not None else None
        if call is not None:
            report.call = dict(call.stats.__dict__)
        report.cpu_s = time.process_time()
        report.at = time.monotonic()
        conn.send(report)
        report.ages_ms, report.pictures, report.frames = [], 0, 0

    Clock.schedule_interval(look, 0)
    try:
        await _join(kiosk, role)
        while True:
            await asyncio.sleep(REPORT_EVERY_S)
            send()
            if conn.poll() and conn.recv() == "end":
                break
        if kiosk.visit is not None and kiosk.visit.ended_at is None:
            kiosk.hang_up()
        call = getattr(kiosk.visit, "_call", None) if kiosk.visit is not None else None
        if call is not None:
            await call.wait_finished()
        report.ended = {
            "reason": kiosk.visit.end_reason if kiosk.visit is not None else None,
            "call": asdict(call.report()) if call is not None else None,
        }
        send()
    finally:
        app.stop()
        await asyncio.wait_for(running, timeout=20)
        await sync.stop()
        kiosk.close()


async def _join(kiosk: Any, role: str) -> None:
    async def until(condition: Any, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{kiosk.config.kiosk_id}: gave up waiting to join")
            await asyncio.sleep(0.05)

    await until(lambda: kiosk.visit is not None)
    if role == "lobby":
        await until(lambda: kiosk.visitor_checked_in(kiosk.visit.visit.visit_id))
        return
    # As in a facility, where the join window opens minutes before the resident comes: the
    # call's process is loaded by then (a kiosk that has just started needs a second or two).
    await until(lambda: kiosk.ready_to_call)
    await until(lambda: kiosk.settings.badge_key is not None)
    kiosk.devices.badge_reader.present(BADGE)
    await until(lambda: kiosk.sign_in is not None and kiosk.sign_in.step == "pin")
    for digit in PIN:
        kiosk.sign_in_intent("key", digit)
    kiosk.sign_in_intent("enter")
    await until(lambda: kiosk.sign_in is None)
    kiosk.devices.handset.lift()


# --- in the test's process ---------------------------------------------------------------


@contextmanager
def xvfb() -> Iterator[str]:
    """An X display of its own: ``DISPLAY`` for one kiosk."""
    read_fd, write_fd = os.pipe()
    process = subprocess.Popen(
        [shutil.which("Xvfb") or "Xvfb", "-displayfd", str(write_fd), "-screen", "0",
         f"{SCREEN[0]}x{SCREEN[1]}x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    try:
        if not number:
            raise RuntimeError("Xvfb did not start")
        yield f":{number}"
    finally:
        process.terminate()
        process.wait(timeout=10)


class DrawnKiosk:
    """One kiosk's process, and everything its screen reported so far."""

    def __init__(
        self,
        kiosk_id: str,
        role: str,
        data_dir: Path,
        broker_url: str,
        display: str,
        netns: str | None = None,
    ):
        """``netns``: the network namespace the kiosk runs in (:mod:`tests.hall_network`)."""
        self.kiosk_id = kiosk_id
        self.reports: list[ScreenReport] = []
        self._conn, theirs = CONTEXT.Pipe()
        before = os.environ.get("DISPLAY")
        os.environ["DISPLAY"] = display  # the child's environment is copied at its start
        try:
            self.process = CONTEXT.Process(
                target=_kiosk_main,
                args=(theirs, kiosk_id, role, str(data_dir), broker_url, netns),
                name=f"kiosk-{kiosk_id}",  # not daemonic: a kiosk has a call's process
            )
            self.process.start()
        finally:
            if before is None:
                os.environ.pop("DISPLAY", None)
            else:
                os.environ["DISPLAY"] = before
        theirs.close()

    def take(self) -> None:
        """Collect what the kiosk reported (without waiting)."""
        while self._conn.poll():
            report = self._conn.recv()
            if report.error:
                raise AssertionError(f"{self.kiosk_id} failed: {report.error}")
            self.reports.append(report)

    @property
    def latest(self) -> ScreenReport | None:
        self.take()
        return self.reports[-1] if self.reports else None

    def end(self, timeout: float = 30.0) -> ScreenReport:
        """Hang up and wait for the last report, with the visit's end."""
        self._conn.send("end")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._conn.poll(0.2):
                report = self._conn.recv()
                if report.error:
                    raise AssertionError(f"{self.kiosk_id} failed: {report.error}")
                self.reports.append(report)
                if report.ended is not None or not self.process.is_alive():
                    break
        self.process.join(20)
        if self.process.is_alive():
            self.process.kill()
        return self.reports[-1]

    def since(self, index: int) -> list[ScreenReport]:
        self.take()
        return self.reports[index:]


@dataclass
class Stretch:
    """What one screen showed over a stretch of a visit: the picture, the voice and the call."""

    seconds: float
    age_p50_ms: float
    age_p95_ms: float
    age_worst_ms: float
    pictures_per_s: float
    sound_per_s: float  # sound frames (20 ms each) received per second: 50 is all of them
    reconnects: int  # times the screen said "Reconnecting…"
    restarts: int  # new connections the call made
    consent_lost: int
    poor_s: float  # seconds "Poor connection" was shown
    send_kbit: int  # the lowest rate this kiosk's own picture was allowed on the line

    def line(self) -> str:
        return (
            f"age p50 {self.age_p50_ms:4.0f} p95 {self.age_p95_ms:5.0f} worst "
            f"{self.age_worst_ms:5.0f} ms | {self.pictures_per_s:4.1f} pictures/s | "
            f"sound {self.sound_per_s / 50:4.0%} | poor {self.poor_s:4.1f} s | "
            f"reconnects {self.reconnects} restarts {self.restarts} consent lost "
            f"{self.consent_lost} | sends down to {self.send_kbit} kbit/s"
        )


def stretch(reports: list[ScreenReport], start: int, end: int) -> Stretch:
    """Figures over ``reports[start:end]``, against the report just before ``start``."""
    during = reports[start:end]
    before = reports[start - 1] if start > 0 else ScreenReport(during[0].kiosk_id)
    last = during[-1]
    ages = sorted(age for report in during for age in report.ages_ms) or [float("nan")]
    seconds = last.at - before.at if before.at else len(during) * REPORT_EVERY_S

    def grew(key: str) -> float:
        return last.call.get(key, 0) - before.call.get(key, 0)

    return Stretch(
        seconds=seconds,
        age_p50_ms=ages[len(ages) // 2],
        age_p95_ms=ages[int(len(ages) * 0.95)],
        age_worst_ms=ages[-1],
        pictures_per_s=sum(r.pictures for r in during) / seconds,
        sound_per_s=grew("audio_frames_received") / seconds,
        reconnects=last.phases.count("reconnecting") - before.phases.count("reconnecting"),
        restarts=int(grew("restarts")),
        consent_lost=int(grew("consent_expired")),
        poor_s=grew("poor_seconds"),
        send_kbit=min((r.call.get("send_kbit", 0) for r in during), default=0),
    )
