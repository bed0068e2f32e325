"""What one frame of a visit's screen costs to draw in software, against a bare Kivy app
showing the same two pictures, in one run.

    python bench/visit_frame.py [--seconds 5] [--runs 3]

Each app runs in a process of its own on the same display (an Xvfb of ours when DISPLAY is
unset), ``--runs`` times interleaved (bare, kiosk, ...), with Mesa's llvmpipe rasterising on
the UI thread (``LP_NUM_THREADS=0``), so that all a frame costs is the process's CPU time. No
frame cap: a new 640x480 picture of the other side and one of yourself at every frame, for
``--seconds``.

* ``--child kiosk``: the real ``KioskApp`` on the visit screen, its words filled in as a
  remote visit's, the pictures handed in as a call hands them (``VisitScreen.follow``).
* ``--child bare``: a bare Kivy app (configured as ``bench/bare_kivy_app.py``, none of the
  kiosk's code): Kivy's own ``Image`` widgets where the kiosk shows its two pictures, each
  picture blitted as BGR.

Figures: frames drawn a second and CPU per frame drawn (both apps' whole process), and the
ratio. What the visit screen adds to two pictures (its header, bars and words) and what it
saves (no stencil clipping, pictures converted by OpenCV): docs/benchmarks.md, "Remote
visits". Absolute figures are this shared machine's; compare ratios. Figures also go to
bench/results/visit_frame.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
for _path in (str(REPO_DIR), str(BENCH_DIR)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from harness import (  # noqa: E402
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
    orchestrate,
    run_app,
    simulated_kiosk,
)

RESULTS_FILE = BENCH_DIR / "results" / "visit_frame.json"
RESULT_MARK = "BENCH-VISIT-FRAME-RESULT "
PICTURE = (480, 640, 3)
SETTLE_FRAMES = 20
# Where the kiosk's visit screen puts its pictures at 1280x800 (visit_screen.kv): the stage
# between the bars, and yourself at 22 % of it near its bottom right corner.
STAGE = (0, 52, 1280, 572)
SELF_VIEW = (0.22, 0.98, 0.03)  # size hint, right, y (of the stage)


def pictures() -> list[Any]:
    """Four different pictures to cycle through: each frame's picture is new."""
    import numpy as np

    rng = np.random.default_rng(1)
    return [rng.integers(0, 255, PICTURE, dtype=np.uint8) for _ in range(4)]


async def measure(harness: Harness, seconds: float) -> dict[str, Any]:
    """Frames drawn and the process's CPU over ``seconds``, after a few frames to settle."""
    from kivy.clock import Clock

    Clock._max_fps = 0.0  # no cap: frames back to back
    await harness.frames(SETTLE_FRAMES)
    flips, cpu, wall = harness.flips, time.process_time(), time.monotonic()
    await asyncio.sleep(seconds)
    flips, cpu = harness.flips - flips, time.process_time() - cpu
    wall = time.monotonic() - wall
    return {
        "frames_per_s": flips / wall,
        "cpu_ms_per_frame": cpu * 1000 / flips if flips else None,
        "frames": flips,
        "seconds": wall,
    }


def kiosk_child(args: argparse.Namespace) -> dict[str, Any]:
    configure_kiosk_kivy(args.workdir)
    from hardware.simulated import SimulatedCamera
    from kiosk.ui.app import KioskApp

    kiosk = simulated_kiosk(demo_config(args.workdir), SimulatedCamera(640, 480, 30.0))
    frames, count = pictures(), [0]

    def media() -> tuple[Any, Any]:
        count[0] += 1
        return frames[count[0] % 4], frames[(count[0] + 2) % 4]

    async def scenario(harness: Harness) -> dict[str, Any]:
        from kivy.app import App

        screens = App.get_running_app().root
        visit = screens.get_screen("visit")
        screens.current = "visit"
        visit.title = "Your video visit with R. Alvarez, at home"
        visit.time_left, visit.ends_at = "Ends in 14:32", "Ends at 3:45 PM"
        visit.monitoring = "This visit may be recorded and monitored."
        visit.hang_up_text = "Hang up"
        visit.follow(media)
        try:
            return await measure(harness, args.seconds)
        finally:
            visit.unfollow()

    try:
        return run_app(KioskApp(kiosk), scenario, lift="thread")
    finally:
        kiosk.close()


def bare_child(args: argparse.Namespace) -> dict[str, Any]:
    configure_bare_kivy(args.workdir)
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.uix.floatlayout import FloatLayout
    from kivy.uix.image import Image

    frames, count = pictures(), [0]

    def shown(image: Image, frame: Any) -> None:
        image.texture = bgr_into_texture(frame, image.texture)
        image.canvas.ask_update()

    class BareVisit(App):
        def build(self) -> FloatLayout:
            root = FloatLayout()
            x, y, width, height = STAGE
            stage = FloatLayout(size_hint=(None, None), pos=(x, y), size=(width, height))
            self.remote = Image(fit_mode="contain")
            hint, right, bottom = SELF_VIEW
            self.yours = Image(
                fit_mode="contain",
                size_hint=(hint, hint),
                pos_hint={"right": right, "y": bottom},
            )
            stage.add_widget(self.remote)
            stage.add_widget(self.yours)
            root.add_widget(stage)
            return root

        def on_start(self) -> None:
            Clock.schedule_interval(self.next_pictures, 0)

        def next_pictures(self, _dt: float) -> None:
            count[0] += 1
            shown(self.remote, frames[count[0] % 4])
            shown(self.yours, frames[(count[0] + 2) % 4])

    return run_app(BareVisit(), lambda harness: measure(harness, args.seconds), lift="thread")


def analyse(kiosk_runs: list[dict[str, Any]], bare_runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("frames_per_s", "cpu_ms_per_frame"):
        kiosk = statistics.median(r[key] for r in kiosk_runs)
        bare = statistics.median(r[key] for r in bare_runs)
        out[key] = {"kiosk": kiosk, "bare": bare, "ratio": kiosk / bare if bare else None}
    return out


def print_table(results: dict[str, Any]) -> None:
    analysis = results["analysis"]
    print()
    print(
        f"a visit's frame, {results['settings']['runs']} run(s), medians; both pictures new at"
        " every frame, no frame cap, llvmpipe on the UI thread"
    )
    print(f"{'figure':<32}{'kiosk':>10}{'bare':>10}{'ratio':>8}")
    for key, label, unit in (
        ("cpu_ms_per_frame", "CPU per frame drawn", "ms"),
        ("frames_per_s", "frames drawn a second", ""),
    ):
        row = analysis[key]
        print(
            f"{label:<32}{row['kiosk']:>8.1f}{unit:<2}{row['bare']:>8.1f}{unit:<2}"
            f"{row['ratio']:>8.2f}"
        )
    print(
        "  kiosk: the visit screen (header, bars, words, both pictures); bare: two Kivy Image"
        " widgets in the same places, BGR blits"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="kiosk and bare runs, each [3]")
    parser.add_argument(
        "--seconds", type=float, default=5.0, help="the measured window of each run [5]"
    )
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="longest a child may take, in seconds [120]"
    )
    add_output_options(parser, RESULTS_FILE)
    add_child_options(parser)
    args = parser.parse_args(argv)
    if args.runs < 1 or args.seconds <= 0:
        parser.error("--runs must be at least 1 and --seconds positive")
    if args.child and args.workdir is None:
        parser.error("--child needs --workdir")
    return args


def run(args: argparse.Namespace, children: Children, workdir: Path) -> dict[str, Any]:
    # The children inherit it: each rasterises on its own UI thread, its CPU all its frames'.
    os.environ["LP_NUM_THREADS"] = "0"
    results: dict[str, Any] = {
        **bench_header(),
        "settings": {"runs": args.runs, "seconds": args.seconds, "picture": list(PICTURE)},
    }
    return compare_in_children(
        children,
        workdir,
        results,
        ["--seconds", str(args.seconds)],
        args=args,
        script=Path(__file__).resolve(),
        mark=RESULT_MARK,
        analyse=analyse,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        return child_main(args, RESULT_MARK, kiosk_child, bare_child)
    return orchestrate("visit-frame", args, run, print_table)


if __name__ == "__main__":
    sys.exit(main())
