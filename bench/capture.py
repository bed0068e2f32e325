"""The lobby's credential capture (live preview, Take picture, the checks), against a bare Kivy app.

    python bench/capture.py [--runs 1] [--seconds 10] [--takes 10]

The issue's goals: the live preview at the camera's rate with no more than one frame of lag;
the face and sharpness checks on a 1280x720 still <= 150 ms; Take picture to the still shown
<= 200 ms. This script orchestrates; each app runs in a process of its own (Kivy has one window
per process), both on the same display, ``--runs`` times interleaved (bare, kiosk, ...):

* ``--child kiosk``: the real ``KioskApp`` on a fresh demo lobby kiosk (``demo.seed``)
  whose camera is a ``SimulatedCamera(1280, 720, fps=30, scene="face")``. The person, driven
  from this script: touch the idle screen's prompt, type the demo's confirmation code K7Q2MX on
  the keypad and the last name Ortega on the keyboard: a privileged visit, which asks for three
  photos (an ID, a bar card, the face). On the first photo's screen the preview is watched for
  ``--seconds`` (the camera's own moving scene); then, with ``document_scene(1280, 720)`` held
  to the lens, ``--takes`` timed touches of Take picture (Retake in between), Accept; the bar
  card taken and accepted; then, with ``face_scene(1280, 720)`` held, ``--takes`` more for the
  face.
* ``--child bare``: a bare Kivy app (Kivy configured as ``bench/bare_kivy_app.py`` configures
  it, none of the kiosk's code) with the same camera: an Image that, while previewing, polls
  the camera at 30 a second (``Clock.schedule_interval(1/30)``, ``maxfps`` raised to 30 as
  ``kiosk.ui.kivy_setup.set_frame_rate`` does) and blits each new frame into one reused
  texture (BGR into an RGB texture, flipped, as ``kiosk/ui/widgets/textures.py`` does,
  re-implemented here); a Take picture button that stops the preview (``maxfps`` back to 20,
  as the kiosk's screen does) and blits the newest frame; a Retake button that restarts it.

What is measured, the same way in both apps, at the end of every buffer swap (``Window.flip``):

1. Preview: over ``--seconds``, the frames the screen shows (its ``_shown_seq``; the bare
   app's own) and the camera's newest frame then (``latest_frame().seq``): distinct camera
   frames shown a second against the camera's own rate, the camera frames never shown, and
   the lag: frames behind (newest seq minus seq on screen) and the age of the picture on
   screen (swap end minus the frame's ``captured_at``; one frame is 33 ms at 30 fps). The CPU
   of the process over the same window, in % of one core (``time.process_time``), split into
   the UI thread (``time.thread_time``), the camera's grab thread (its schedstat; the camera
   draws its scene in both processes alike) and the rest (under Xvfb, Mesa's llvmpipe
   threads rasterising each frame). For comparison, one frame of the screen with the still
   is redrawn unchanged and timed (draw + swap, no texture upload).
2. Take picture -> still shown: from the finger's lift on Take picture to the end of the
   first swap after which the screen shows the still (kiosk: the capture screen's stage is no
   longer "preview" and its Image's texture holds the still the core took; bare: the handler
   blitted it).
3. Take picture -> Accept offered: from the same lift to the end of the first swap showing
   Accept enabled (the checks done in the worker thread: ``CredentialCapture.can_accept``),
   for the ID (document check) and the face (Haar cascade) separately, split at the end of
   the check and at the moment the screen's ``can_accept`` turned true. The check itself, as
   the worker thread runs it (the lobby's ``_check_still``, wrapped here where the lobby keeps it
   for its captures), and once more alone on the UI thread after the app has stopped.
   bench/image_checks.py has the raw checks against bare OpenCV; here the in-app figure is
   set against the 150 ms budget and against the bare app's take -> shown.

Touches go through Kivy's input pipeline as bench/session.py sends them: a small input provider
holds them until the next frame's ``dispatch_input``; the finger is held 80-120 ms and lifted at
a random moment (bench/harness.py's ``Harness``). Unlike bench/session.py, the lift is queued
from a thread at its own deadline (``lift="thread"``), which is the figure's start: lifted from
the person's coroutine it could only happen when Kivy gives the asyncio loop a turn, which is
just before the next frame when frames run back to back (the kiosk's preview here), so the wait
for that frame would not be seen. Both apps run on ``App.async_run``, at ``maxfps`` 30 while
previewing and 20 otherwise, as the kiosk switches it (Kivy's clock on asyncio ticks about a
third faster than ``maxfps`` on this machine: its clock's tick rate is printed).

An Xvfb (1280x800x24) is started when DISPLAY is unset: software rendering (llvmpipe) on a
shared machine, so the absolute figures are this machine's, not a kiosk's; compare ratios.
The script only measures: it never fails on a missed goal. Figures also go to
bench/results/capture.json.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import random
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
for _path in (str(REPO_DIR), str(BENCH_DIR)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from harness import (  # noqa: E402
    HOLD_S,
    Children,
    Harness,
    add_child_options,
    add_output_options,
    bench_header,
    bgr_into_texture,
    child_main,
    compare_in_children,
    configure_bare_kivy,
    configure_kiosk_kivy,
    demo_config,
    medians_by_part,
    orchestrate,
    percentile,
    pooled,
    print_touches,
    run_app,
    simulated_kiosk,
    summary,
    tap_key,
    thread_cpu_s,
    versus,
)

RESULTS_FILE = BENCH_DIR / "results" / "capture.json"
RESULT_MARK = "BENCH-CAPTURE-RESULT "
CAMERA_W, CAMERA_H, CAMERA_FPS = 1280, 720, 30
CALM_FPS, VIDEO_FPS = 20, 30  # as kiosk/ui/kivy_setup.py
CONFIRMATION_CODE, LAST_NAME = "K7Q2MX", "Ortega"  # demo/facility.py's attorney visit
GOAL_STILL_SHOWN_MS = 200.0
GOAL_CHECK_MS = 150.0
GOAL_BEHIND_FRAMES = 1
GOAL_RATE_SHARE = 0.95  # "at the camera's rate": this share of the camera's frames, or more
SETTLE_S = 1.5  # the preview runs this long before it is watched
REDRAWS = 7  # unchanged frames timed for the redraw cost


# --- inside a child: the camera, watched ------------------------------------------------------


def timed_camera() -> Any:
    """The issue's camera, which also remembers when each frame it handed out was captured."""
    from hardware.simulated import SimulatedCamera

    class TimedCamera(SimulatedCamera):
        def __init__(self) -> None:
            super().__init__(CAMERA_W, CAMERA_H, fps=CAMERA_FPS, scene="face")
            self.captured_at: dict[int, float] = {}

        def latest_frame(self) -> Any:
            frame = super().latest_frame()
            if frame is not None:
                self.captured_at[frame.seq] = frame.captured_at
            return frame

    return TimedCamera()


def camera_thread(camera: Any) -> threading.Thread | None:
    return next((t for t in threading.enumerate() if t.name == camera.thread_name), None)


async def watch_preview(
    person: Harness, camera: Any, shown_seq: Callable[[], int], seconds: float
) -> dict[str, Any]:
    """``seconds`` of preview: at every swap, the frame on screen and the camera's newest."""
    from kivy.clock import Clock

    samples: list[tuple[float, int, int, float, float]] = []

    def sample(now: float) -> None:
        latest = camera.latest_frame()
        draw, swap = person.last_frame_ms
        samples.append((now, latest.seq if latest is not None else -1, shown_seq(), draw, swap))

    grabber = camera_thread(camera)
    ticks0, displayed0 = Clock.frames, Clock.frames_displayed
    wall0, cpu0, ui0, cam0 = time.monotonic(), time.process_time(), time.thread_time(), 0.0
    cam0 = thread_cpu_s(grabber)
    person.sampler = sample
    try:
        await asyncio.sleep(seconds)
    finally:
        person.sampler = None
    wall = time.monotonic() - wall0
    cpu, ui = time.process_time() - cpu0, time.thread_time() - ui0
    cam = thread_cpu_s(grabber) - cam0
    ticks, displayed = Clock.frames - ticks0, Clock.frames_displayed - displayed0
    if len(samples) < 10:
        raise RuntimeError(f"only {len(samples)} frames were drawn in {seconds:g} s of preview")

    times = [s[0] for s in samples]
    latest = [s[1] for s in samples]
    shown = [s[2] for s in samples]
    span = times[-1] - times[0]
    changes = [i for i in range(1, len(samples)) if shown[i] != shown[i - 1]]
    jumps = [shown[i] - shown[i - 1] for i in changes]
    behind = [newest - on_screen for newest, on_screen in zip(latest, shown, strict=True)]
    ages = [
        (now - camera.captured_at[seq]) * 1000
        for now, seq in zip(times, shown, strict=True)
        if seq in camera.captured_at
    ]
    gaps = [(b - a) * 1000 for a, b in itertools.pairwise(times)]
    camera_fps = (latest[-1] - latest[0]) / span
    shown_fps = len(changes) / span
    return {
        "seconds": wall,
        "flips": len(samples),
        "flips_per_s": (len(samples) - 1) / span,
        "clock_ticks_per_s": ticks / wall,
        "frames_displayed_per_s": displayed / wall,
        "camera_fps": camera_fps,
        "shown_fps": shown_fps,
        "shown_share": shown_fps / camera_fps if camera_fps else math.nan,
        "camera_frames": latest[-1] - latest[0],
        "camera_frames_never_shown": sum(j - 1 for j in jumps if j > 1),
        "flips_without_a_new_frame": len(samples) - 1 - len(changes),
        "behind": {
            "median": statistics.median(behind),
            "p95": percentile(behind, 0.95),
            "max": max(behind),
            "counts": {str(k): v for k, v in sorted(Counter(behind).items())},
        },
        "age": summary(ages),
        "flip_gap": summary(gaps),
        "draw_ms_median": statistics.median(s[3] for s in samples),
        "swap_ms_median": statistics.median(s[4] for s in samples),
        "cpu_percent": cpu / wall * 100,
        "ui_thread_cpu_percent": ui / wall * 100,
        "camera_thread_cpu_percent": cam / wall * 100,
        # The rest: OpenGL's software rasteriser (llvmpipe's threads) under Xvfb, mostly.
        "other_threads_cpu_percent": (cpu - ui - cam) / wall * 100,
    }


# --- the kiosk child --------------------------------------------------------------------------


def open_lobby(workdir: Path, camera: Any) -> Any:
    """A fresh demo lobby kiosk on ``camera`` (as tests/ui/test_screenshots.py's lobby)."""
    from demo.seed import seed

    config = demo_config(
        workdir / "kiosk-data",
        role="lobby",
        kiosk_id="demo-lobby-01",
        kiosk_name="Visitor Lobby · Station 1",
        housing_unit=None,
    )
    kiosk = simulated_kiosk(config, camera)
    seed(kiosk)
    return kiosk


def kiosk_child(args: argparse.Namespace) -> dict[str, Any]:
    configure_kiosk_kivy(args.workdir)

    from hardware.simulated.scenes import document_scene, face_scene

    camera = timed_camera()
    kiosk = open_lobby(args.workdir, camera)
    lobby = kiosk.lobby
    # The check as the capture's worker thread runs it: timed where it runs. The lobby hands
    # its check to each new capture, so it is wrapped before the visitor checks in.
    checks: list[tuple[str, float, float]] = []
    original_check = lobby._check_still

    def timed_check(purpose: str, image: Any) -> tuple[str | None, bytes]:
        start = time.perf_counter()
        try:
            return original_check(purpose, image)
        finally:
            checks.append((purpose, start, time.perf_counter()))

    lobby._check_still = timed_check
    document, face = document_scene(CAMERA_W, CAMERA_H), face_scene(CAMERA_W, CAMERA_H)

    from kiosk.ui.app import KioskApp

    app = KioskApp(kiosk)

    async def scenario(person: Harness) -> dict[str, Any]:
        screens = app.root
        await person.until(lambda: screens.current == "idle")
        await person.tap(
            screens.get_screen("idle").ids.prompt, lambda: screens.current == "check_in"
        )
        check_in = screens.get_screen("check_in")
        keypad, keyboard = check_in.ids.keypad, check_in.ids.keyboard
        for label in CONFIRMATION_CODE:
            await tap_key(person, keypad, label)
        await person.tap(keypad.key_for(keypad.enter_text), lambda: check_in.step == "name")
        await person.frames(2)
        for label in (keyboard.shift_text, *LAST_NAME):
            await tap_key(person, keyboard, label)
        await person.tap(keyboard.key_for(keyboard.enter_text))
        await person.until(lambda: screens.current == "capture", timeout=10)
        capture = screens.get_screen("capture")
        picture = capture.ids.picture
        await person.until(lambda: picture.texture is not None and capture._shown_seq > 0)
        await asyncio.sleep(SETTLE_S)
        out: dict[str, Any] = {
            "preview": await watch_preview(person, camera, lambda: capture._shown_seq, args.seconds)
        }

        def still_shown() -> bool:
            core = lobby.capture
            return (
                core is not None
                and capture.stage != "preview"
                and capture._shown_seq == -1
                and capture._still_id == core._still_id
                and picture.texture is not None
            )

        accept_set: list[float] = []  # when the screen's can_accept became true

        def can_accept_changed(_screen: Any, value: bool) -> None:
            if value:
                accept_set.append(time.perf_counter())

        capture.bind(can_accept=can_accept_changed)

        def accept_offered() -> bool:
            return (
                capture.stage == "still" and capture.can_accept and not capture.ids.accept.disabled
            )

        async def takes(count: int) -> list[dict[str, Any]]:
            figures = []
            for index in range(count):
                before = len(checks)
                figure = await person.tap(capture.ids.take, still_shown, accept=accept_offered)
                figure["check_ms"] = sum((end - start) * 1000 for _, start, end in checks[before:])
                figure["check_started_ms"] = (checks[before][1] - figure["lifted"]) * 1000
                accepted = figure["lifted"] + figure["accept_ms"] / 1000
                figure["check_done_to_accept_ms"] = (accepted - checks[-1][2]) * 1000
                # ... of which the core's news reaching the screen (the asyncio loop), and the
                # screen's change reaching the glass (the next frames).
                figure["check_done_to_screen_ms"] = (accept_set[-1] - checks[-1][2]) * 1000
                figure["screen_to_accept_drawn_ms"] = (accepted - accept_set[-1]) * 1000
                figure["purpose"] = checks[before][0]
                figures.append(figure)
                if index == count - 1 and "redraw_still" not in out:
                    out["redraw_still"] = await person.redraw_cost(REDRAWS)
                if index < count - 1:
                    await person.tap(
                        capture.ids.retake,
                        lambda: capture.stage == "preview" and capture._shown_seq > 0,
                    )
                    await asyncio.sleep(random.uniform(0.2, 0.4))
            return figures

        camera.hold(document)
        await person.frames(3)
        out["id"] = await takes(args.takes)
        await person.tap(
            capture.ids.accept, lambda: capture.stage == "preview" and "2 of 3" in capture.title
        )
        await person.until(lambda: capture._shown_seq > 0)
        await person.tap(capture.ids.take, accept_offered)  # the bar card, untimed
        await person.tap(
            capture.ids.accept, lambda: capture.stage == "preview" and "3 of 3" in capture.title
        )
        camera.hold(face)
        await person.until(lambda: capture.frame_shape == "face" and capture._shown_seq > 0)
        await asyncio.sleep(0.3)
        out["face"] = await takes(args.takes)
        await person.tap(capture.ids.accept, lambda: screens.current == "photo_review")
        return out

    try:
        results = run_app(app, scenario, lift="thread")
    finally:
        lobby._check_still = original_check
        kiosk.close()
    # The checks once more, alone on this thread: what the worker thread's figure is made of.
    alone: dict[str, list[float]] = {"visitor_id": [], "visitor_face": []}
    for _ in range(5):
        for purpose, image in (("visitor_id", document), ("visitor_face", face)):
            start = time.perf_counter()
            original_check(purpose, image)
            alone[purpose].append((time.perf_counter() - start) * 1000)
    results["check_alone_ms"] = alone
    results["checks"] = [
        {"purpose": purpose, "ms": (end - start) * 1000} for purpose, start, end in checks
    ]
    return results


# --- the bare child ---------------------------------------------------------------------------


def bare_child(args: argparse.Namespace) -> dict[str, Any]:
    configure_bare_kivy(args.workdir)

    from kivy.app import App
    from kivy.clock import Clock
    from kivy.metrics import dp
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.button import Button
    from kivy.uix.image import Image
    from kivy.uix.label import Label

    from hardware.simulated.scenes import document_scene

    camera = timed_camera()

    class BareCaptureApp(App):
        title = "bare kivy"

        def build(self) -> BoxLayout:
            self.stage = "preview"
            self.shown_seq = -1
            self.still_seq = -1
            self.event: Any = None
            root = BoxLayout(orientation="vertical")
            root.add_widget(
                Label(text="Photo 1 of 3", font_size="28sp", size_hint_y=None, height=dp(120))
            )
            self.picture = Image(fit_mode="contain")
            root.add_widget(self.picture)
            row = BoxLayout(size_hint_y=None, height=dp(144), padding=dp(16), spacing=dp(16))
            self.retake = Button(text="Retake", font_size="28sp", size_hint_x=0.4)
            self.take = Button(text="Take picture", font_size="28sp")
            self.retake.bind(on_release=lambda *_: self.start_preview())
            self.take.bind(on_release=lambda *_: self.take_picture())
            row.add_widget(self.retake)
            row.add_widget(self.take)
            root.add_widget(row)
            return root

        def on_start(self) -> None:
            camera.start()
            self.start_preview()

        def on_stop(self) -> None:
            camera.stop()

        def start_preview(self) -> None:
            self.stage = "preview"
            if self.event is None:
                Clock._max_fps = float(VIDEO_FPS)
                self.event = Clock.schedule_interval(self.poll, 1 / VIDEO_FPS)
                self.poll(0)

        def poll(self, _dt: float) -> None:
            frame = camera.latest_frame()
            if frame is None or frame.seq == self.shown_seq:
                return
            self.shown_seq = frame.seq
            self.put(frame.image)

        def take_picture(self) -> None:
            if self.stage != "preview":
                return
            if self.event is not None:
                self.event.cancel()
                self.event = None
                Clock._max_fps = float(CALM_FPS)
            frame = camera.latest_frame()
            if frame is None:
                return
            self.stage, self.shown_seq, self.still_seq = "still", -1, frame.seq
            self.put(frame.image)

        def put(self, image: Any) -> None:
            self.picture.texture = bgr_into_texture(image, self.picture.texture)
            self.picture.canvas.ask_update()

    app = BareCaptureApp()

    async def scenario(person: Harness) -> dict[str, Any]:
        await person.until(lambda: app.picture.texture is not None and app.shown_seq > 0)
        await asyncio.sleep(SETTLE_S)
        out: dict[str, Any] = {
            "preview": await watch_preview(person, camera, lambda: app.shown_seq, args.seconds)
        }
        camera.hold(document_scene(CAMERA_W, CAMERA_H))
        await person.frames(3)
        takes = []
        for _ in range(2 * args.takes):  # as many takes as the kiosk's two steps
            takes.append(
                await person.tap(
                    app.take,
                    lambda: app.stage == "still" and app.still_seq > 0 and app.shown_seq == -1,
                )
            )
            if "redraw_still" not in out:
                out["redraw_still"] = await person.redraw_cost(REDRAWS)
            await person.tap(app.retake, lambda: app.stage == "preview" and app.shown_seq > 0)
            await asyncio.sleep(random.uniform(0.2, 0.4))
        out["take"] = takes
        return out

    return run_app(app, scenario, lift="thread")


# --- the orchestrator -------------------------------------------------------------------------


def preview_medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Each preview figure, the median over runs (one run: that run's)."""
    previews = [run["preview"] for run in runs]
    flat = (
        "flips_per_s",
        "clock_ticks_per_s",
        "camera_fps",
        "shown_fps",
        "shown_share",
        "camera_frames_never_shown",
        "flips_without_a_new_frame",
        "draw_ms_median",
        "swap_ms_median",
        "cpu_percent",
        "ui_thread_cpu_percent",
        "camera_thread_cpu_percent",
        "other_threads_cpu_percent",
    )
    out: dict[str, Any] = {key: statistics.median(p[key] for p in previews) for key in flat}
    for key in ("median", "p95", "max"):
        out[f"behind_{key}"] = statistics.median(p["behind"][key] for p in previews)
    for key in ("median_ms", "p95_ms", "max_ms"):
        out[f"age_{key}"] = statistics.median(p["age"][key] for p in previews)
        out[f"flip_gap_{key}"] = statistics.median(p["flip_gap"][key] for p in previews)
    for key in ("draw_ms", "swap_ms", "swap_min_ms"):
        out[f"redraw_still_{key}"] = statistics.median(r["redraw_still"][key] for r in runs)
    counts: Counter[str] = Counter()
    for p in previews:
        counts.update(p["behind"]["counts"])
    out["behind_counts"] = dict(sorted(counts.items(), key=lambda kv: int(kv[0])))
    return out


def analyse(kiosk_runs: list[dict[str, Any]], bare_runs: list[dict[str, Any]]) -> dict[str, Any]:
    kiosk_preview, bare_preview = preview_medians(kiosk_runs), preview_medians(bare_runs)
    bare_take = pooled(bare_runs, "take")
    kiosk_shown = pooled(kiosk_runs, "id") + pooled(kiosk_runs, "face")
    base, shown = summary(bare_take), summary(kiosk_shown)
    figures: dict[str, Any] = {
        "still_shown": versus(shown, base, "median_ms", GOAL_STILL_SHOWN_MS),
        "still_shown_p95": versus(shown, base, "p95_ms", GOAL_STILL_SHOWN_MS),
    }
    for kind in ("id", "face"):
        accept = summary(pooled(kiosk_runs, kind, "accept_ms"))
        figures[f"accept_{kind}"] = versus(accept, base, "median_ms", None)
        checks = summary(pooled(kiosk_runs, kind, "check_ms"))
        figures[f"check_{kind}"] = {
            "stat": "median_ms",
            "kiosk": checks,
            "goal_ms": GOAL_CHECK_MS,
            "meets_goal_here": checks["median_ms"] <= GOAL_CHECK_MS,
        }
    breakdown = {
        name: medians_by_part(runs, key)
        for name, runs, key in (
            ("kiosk_id", kiosk_runs, "id"),
            ("kiosk_face", kiosk_runs, "face"),
            ("bare_take", bare_runs, "take"),
        )
    }
    checks_parts = (
        "check_started_ms",
        "check_ms",
        "check_done_to_accept_ms",
        "check_done_to_screen_ms",
        "screen_to_accept_drawn_ms",
        "accept_frames",
    )
    for kind in ("id", "face"):
        breakdown[f"kiosk_{kind}"].update(medians_by_part(kiosk_runs, kind, checks_parts))
    alone = {
        purpose: summary([ms for run in kiosk_runs for ms in run["check_alone_ms"][purpose]])
        for purpose in ("visitor_id", "visitor_face")
    }
    return {
        "preview": {"kiosk": kiosk_preview, "bare": bare_preview},
        "figures": figures,
        "medians_by_part": breakdown,
        "check_alone": alone,
        "samples_ms": {
            "kiosk_still_shown_id": pooled(kiosk_runs, "id"),
            "kiosk_still_shown_face": pooled(kiosk_runs, "face"),
            "kiosk_accept_id": pooled(kiosk_runs, "id", "accept_ms"),
            "kiosk_accept_face": pooled(kiosk_runs, "face", "accept_ms"),
            "kiosk_check_id": pooled(kiosk_runs, "id", "check_ms"),
            "kiosk_check_face": pooled(kiosk_runs, "face", "check_ms"),
            "bare_take_shown": bare_take,
        },
    }


def print_table(results: dict[str, Any]) -> None:
    a = results["analysis"]
    k, b = a["preview"]["kiosk"], a["preview"]["bare"]
    figs, parts = a["figures"], a["medians_by_part"]
    print()
    print(
        f"{'':<38}{'kiosk':>9}{'bare kivy':>11}{'ratio':>7}   issue's goal "
        "(absolute; measured here on a shared machine, Xvfb software rendering)"
    )

    def row(
        label: str,
        mine: float,
        base: float | None,
        unit: str,
        goal: str = "",
        met: Any = None,
        words: tuple[str, str] = ("met", "MISSED"),
    ) -> None:
        ratio = f"{mine / base:>7.2f}" if base else f"{'':>7}"
        baseline = f"{base:>9.1f}{unit:<2}" if base is not None else f"{'':>11}"
        verdict = "" if met is None else words[0 if met else 1]
        print(f"{label:<38}{mine:>7.1f}{unit:<2}{baseline}{ratio}   {goal:<22}{verdict}")

    row(
        "preview: camera frames shown/s",
        k["shown_fps"],
        b["shown_fps"],
        "",
        f"camera's {k['camera_fps']:.1f}/s",
        k["shown_share"] >= GOAL_RATE_SHARE,
    )
    row("  share of the camera's frames", k["shown_share"] * 100, b["shown_share"] * 100, "%")
    row("  buffer swaps/s", k["flips_per_s"], b["flips_per_s"], "")
    for label, key, judged in (
        ("preview: frames behind, p95", "behind_p95", True),
        ("  median", "behind_median", False),
        ("  max", "behind_max", True),
    ):
        goal = f"<= {GOAL_BEHIND_FRAMES} frame" if judged else ""
        met = k[key] <= GOAL_BEHIND_FRAMES if judged else None
        row(label, k[key], b[key], "", goal, met)
    row("preview: age of picture shown, median", k["age_median_ms"], b["age_median_ms"], "ms")
    row("  p95", k["age_p95_ms"], b["age_p95_ms"], "ms", f"(1 frame = {1000 / CAMERA_FPS:.0f} ms)")
    for label, name in (
        ("take -> still shown, median", "still_shown"),
        ("  p95", "still_shown_p95"),
    ):
        f, stat = figs[name], figs[name]["stat"]
        goal = f"<= {GOAL_STILL_SHOWN_MS:g} ms"
        row(label, f["kiosk"][stat], f["baseline"][stat], "ms", goal, f["meets_goal_here"])
    for kind, label in (("id", "ID"), ("face", "face")):
        f, c = figs[f"accept_{kind}"], figs[f"check_{kind}"]
        # The 150 ms budget is the check's; the in-app figure also holds the frames around it,
        # so it is set against the budget for information ("under"/"over"), not judged.
        row(
            f"take -> Accept offered, {label}, median",
            f["kiosk"]["median_ms"],
            f["baseline"]["median_ms"],
            "ms",
            f"(check: {GOAL_CHECK_MS:g} ms)",
            f["kiosk"]["median_ms"] <= GOAL_CHECK_MS,
            ("under", "over"),
        )
        row(
            f"  the {'document' if kind == 'id' else 'face'} check (worker), median",
            c["kiosk"]["median_ms"],
            None,
            "ms",
            f"<= {GOAL_CHECK_MS:g} ms",
            c["meets_goal_here"],
        )
    for label, key in (
        ("CPU in preview, % of one core", "cpu_percent"),
        ("  UI thread", "ui_thread_cpu_percent"),
        ("  camera's grab thread", "camera_thread_cpu_percent"),
        ("  other threads (llvmpipe)", "other_threads_cpu_percent"),
    ):
        row(label, k[key], b[key], "%")
    print("  (baselines: for the take figures the bare app's Take picture -> still shown; for the")
    print("   preview the bare app polling the same camera at 30/s into one reused texture)")
    print()
    samples = (
        ("kiosk_still_shown_id", "kiosk still shown, ID", "kiosk_id"),
        ("kiosk_still_shown_face", "kiosk still shown, face", "kiosk_face"),
        ("bare_take_shown", "bare still shown", "bare_take"),
    )
    print_touches(
        "take samples",
        [(label, a["samples_ms"][key], parts[part]) for key, label, part in samples],
        width=28,
    )
    print()
    for kind in ("id", "face"):
        p = parts[f"kiosk_{kind}"]
        accept = summary(a["samples_ms"][f"kiosk_accept_{kind}"])
        print(
            f"take -> Accept, {kind}, medians: lift -> check starts {p['check_started_ms']:.0f} ms,"
            f" check {p['check_ms']:.0f} ms (worker thread), check done -> Accept drawn "
            f"{p['check_done_to_accept_ms']:.0f} ms\n  (check done -> screen's can_accept "
            f"{p['check_done_to_screen_ms']:.0f} ms, -> drawn {p['screen_to_accept_drawn_ms']:.0f}"
            f" ms; frames from the lift {p['accept_frames']:.0f}); total p95 "
            f"{accept['p95_ms']:.0f} ms, max {accept['max_ms']:.0f} ms"
        )
    alone = a["check_alone"]
    print(
        f"the checks alone (the lobby's check incl. the JPEG, UI thread, app stopped): ID median "
        f"{alone['visitor_id']['median_ms']:.0f} ms, face median "
        f"{alone['visitor_face']['median_ms']:.0f} ms"
    )
    print(
        f"preview, medians: kiosk clock {k['clock_ticks_per_s']:.1f} ticks/s, swap gap p95 "
        f"{k['flip_gap_p95_ms']:.0f} ms, draw {k['draw_ms_median']:.1f} ms + swap "
        f"{k['swap_ms_median']:.1f} ms a frame; bare {b['clock_ticks_per_s']:.1f} ticks/s, "
        f"swap gap p95 {b['flip_gap_p95_ms']:.0f} ms, draw {b['draw_ms_median']:.1f} + swap "
        f"{b['swap_ms_median']:.1f} ms"
    )
    seconds = results["settings"]["seconds"]
    print(
        f"preview: camera frames never shown: kiosk {k['camera_frames_never_shown']:.0f}, bare "
        f"{b['camera_frames_never_shown']:.0f} (of ~{k['camera_fps'] * seconds:.0f}); frames "
        f"behind at each swap, counts:\n  kiosk {k['behind_counts']}\n  bare  {b['behind_counts']}"
    )
    print(
        f"one frame redrawn unchanged, still shown (no upload), draw+swap ms (medians): kiosk "
        f"{k['redraw_still_draw_ms']:.1f}+{k['redraw_still_swap_ms']:.1f} (swap min "
        f"{k['redraw_still_swap_min_ms']:.1f}), bare {b['redraw_still_draw_ms']:.1f}+"
        f"{b['redraw_still_swap_ms']:.1f} (swap min {b['redraw_still_swap_min_ms']:.1f})"
    )
    print(f"OpenGL: {results['kiosk_runs'][0]['gl']['renderer']}")
    print(
        "Frames behind = the camera's newest seq minus the seq on screen at the end of each swap;"
        " age = swap end minus\nthe shown frame's capture time. Parts: input wait = the lift "
        "waiting for the next frame to read it; handling = to the start\nof drawing the frame "
        "that shows the still; draw = Kivy's canvas; swap = Window.flip (Xvfb rasterises there)."
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="kiosk and bare runs, each [1]")
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="preview watched, in seconds [10]"
    )
    parser.add_argument(
        "--takes", type=int, default=10, help="timed takes per photo (ID, face) per run [10]"
    )
    parser.add_argument(
        "--timeout", type=float, default=180.0, help="longest a child may take, in seconds [180]"
    )
    add_output_options(parser, RESULTS_FILE)
    add_child_options(parser)
    args = parser.parse_args(argv)
    if min(args.runs, args.takes) < 1 or args.seconds < 1:
        parser.error("--runs and --takes must be at least 1, --seconds at least 1")
    if args.child and args.workdir is None:
        parser.error("--child needs --workdir")
    return args


def run(args: argparse.Namespace, children: Children, workdir: Path) -> dict[str, Any]:
    results: dict[str, Any] = {
        **bench_header(),
        "settings": {
            "runs": args.runs,
            "seconds": args.seconds,
            "takes": args.takes,
            "camera": {"width": CAMERA_W, "height": CAMERA_H, "fps": CAMERA_FPS, "scene": "face"},
            "maxfps": {"preview": VIDEO_FPS, "otherwise": CALM_FPS},
            "hold_s": HOLD_S,
        },
        "goals": {
            "preview_share_of_camera_frames": GOAL_RATE_SHARE,
            "preview_frames_behind": GOAL_BEHIND_FRAMES,
            "check_ms": GOAL_CHECK_MS,
            "still_shown_ms": GOAL_STILL_SHOWN_MS,
        },
    }
    return compare_in_children(
        children,
        workdir,
        results,
        ["--seconds", str(args.seconds), "--takes", str(args.takes)],
        args=args,
        script=Path(__file__).resolve(),
        mark=RESULT_MARK,
        analyse=analyse,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        return child_main(args, RESULT_MARK, kiosk_child, bare_child)
    return orchestrate("capture", args, run, print_table)


if __name__ == "__main__":
    sys.exit(main())
