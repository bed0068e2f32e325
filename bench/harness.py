"""What the benchmarks share: their processes, their figures, and touches timed to the glass.

* The orchestrator's side (bench/startup.py, session.py, capture.py, visit.py): every process
  started is ended whatever happens (``Children``, ``ended_on_signals``); an Xvfb when DISPLAY
  is unset; a benchmark's own children run interleaved, each in a process of its own, and
  their results read back from a marked line; the results file's head; ``orchestrate``, the
  frame of a benchmark's ``main``.
* Figures: the nearest-rank percentile, a sample's summary in ms, samples pooled over runs,
  a kiosk figure set against its bare-Kivy baseline, and the table of timed touches.
* CPU: a process's time from /proc/PID/stat, a thread's from its schedstat.
* Inside a Kivy child (bench/session.py, capture.py): ``Harness`` sends touches through
  Kivy's input pipeline as a real finger's go (an input provider holds each one until the next
  frame reads its input) and hooks ``Window.flip`` to time every frame and to spot the first
  one that shows a touch's result; ``run_app`` runs an app on asyncio, as the kiosk runs, with
  a scenario as the person. Kivy and the kiosk are imported only there, when called.

Nothing here keeps state at module level: what a run holds lives in the objects it makes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import os
import platform
import random
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent

SCREEN = "1280x800x24"  # the Xvfb's screen, when one is started here
WIDTH, HEIGHT = 1280, 800  # the apps' window
HOLD_S = (0.08, 0.12)  # how long the finger stays down
GAP_S = (0.0, 0.06)  # pause after a figure before the next touch
TAP_TIMEOUT_S = 15.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# A timed touch's parts (see Harness.tap), as pooled by ``medians_by_part``.
PARTS = ("input_wait_ms", "handling_ms", "draw_ms", "swap_ms", "frames", "flips")


class BenchError(Exception):
    """A program did not get as far as it should have; the message says why."""


# --- figures ----------------------------------------------------------------------------------


def percentile(values: Iterable[float], share: float) -> float:
    """Nearest-rank percentile: with 100 values p95 is the 95th smallest, with 30 the 29th."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(len(ordered) * share)) - 1]


def summary(values: list[float]) -> dict[str, Any]:
    """A sample in ms: n, median, p95, min and max (``{"n": 0}`` when it is empty)."""
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "median_ms": statistics.median(values),
        "p95_ms": percentile(values, 0.95),
        "min_ms": min(values),
        "max_ms": max(values),
    }


def latency_summary(values: list[float]) -> dict[str, Any] | None:
    """A sample in ms: n, median, p95, min and max; None when it is empty."""
    if not values:
        return None
    return {
        "n": len(values),
        "median": statistics.median(values),
        "p95": percentile(values, 0.95),
        "min": min(values),
        "max": max(values),
    }


def median_of(runs: list[dict[str, float | None]], key: str) -> float | None:
    """The median of one figure over the runs that have it."""
    values = [r[key] for r in runs if r[key] is not None]
    return statistics.median(values) if values else None


def pooled(runs: list[dict[str, Any]], key: str, field: str = "ms") -> list[float]:
    """``field`` of every figure in the list ``key`` of each run, all runs together."""
    return [sample[field] for run in runs for sample in run[key]]


def medians_by_part(
    runs: list[dict[str, Any]], key: str, parts: Iterable[str] = PARTS
) -> dict[str, float]:
    """The median of each part of the timed touches under ``key``, pooled over the runs."""
    return {part: statistics.median(pooled(runs, key, part)) for part in parts}


def versus(
    mine: dict[str, Any], base: dict[str, Any], stat: str, goal: float | None
) -> dict[str, Any]:
    """A kiosk figure (a ``summary``) against its bare-Kivy baseline on ``stat``, and against
    the issue's goal in ms when there is one."""
    return {
        "stat": stat,
        "kiosk": mine,
        "baseline": base,
        "ratio": mine[stat] / base[stat],
        "goal_ms": goal,
        "meets_goal_here": None if goal is None else mine[stat] <= goal,
    }


def print_touches(
    title: str, rows: Iterable[tuple[str, list[float], dict[str, float]]], width: int
) -> None:
    """The table of timed touches: each row's label, its sample in ms (n, median, p95, min,
    max) and the medians of its parts (``medians_by_part``); ``width`` is the label column's.
    A row with no sample is left out."""
    print(
        f"{title:<{width}}{'n':>4}{'median':>9}{'p95':>8}{'min':>8}{'max':>8}"
        "  | medians: input wait  handling   draw   swap  frames"
    )
    for label, values, p in rows:
        if not values:
            continue
        s = summary(values)
        print(
            f"  {label:<{width - 2}}{s['n']:>4}{s['median_ms']:>7.0f}ms{s['p95_ms']:>6.0f}ms"
            f"{s['min_ms']:>6.0f}ms{s['max_ms']:>6.0f}ms"
            f"  |{p['input_wait_ms']:>16.0f}ms{p['handling_ms']:>8.0f}ms{p['draw_ms']:>5.0f}ms"
            f"{p['swap_ms']:>5.0f}ms{p['frames']:>6.0f}"
        )


# --- CPU --------------------------------------------------------------------------------------


def cpu_seconds(pid: int | str, task: str | None = None) -> float:
    """utime + stime of a process (all its threads), or of one of its threads."""
    path = f"/proc/{pid}/task/{task}/stat" if task else f"/proc/{pid}/stat"
    with open(path, encoding="ascii") as handle:
        text = handle.read()
    fields = text[text.rindex(")") + 2 :].split()  # the name may hold spaces and parentheses
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # fields 14 and 15 of stat(5)


def thread_cpu_s(thread: threading.Thread | None) -> float:
    """A thread of this process: its time on a CPU so far (Linux schedstat, in ns, so finer
    than /proc's clock ticks), NaN if unknown."""
    if thread is None or thread.native_id is None:
        return math.nan
    try:
        with open(f"/proc/self/task/{thread.native_id}/schedstat", encoding="ascii") as stat:
            return int(stat.read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return math.nan


def machine_load() -> list[float]:
    """The machine's load averages (1, 5, 15 min), empty where there are none."""
    with contextlib.suppress(OSError):
        return list(os.getloadavg())
    return []


# --- processes --------------------------------------------------------------------------------


class Children:
    """Every process a benchmark starts; all of them are ended by ``stop_all``."""

    def __init__(self) -> None:
        self._procs: list[subprocess.Popen[bytes]] = []

    def spawn(self, argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        """``subprocess.Popen`` in a session of its own: the child and anything it starts can
        be ended as a group."""
        proc = subprocess.Popen(argv, start_new_session=True, **kwargs)
        self._procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes], grace_s: float = 5.0) -> None:
        """SIGTERM to the child's process group, SIGKILL if it is still there after ``grace_s``.

        Signals go only while the child is unreaped, so its id cannot belong to anyone else.
        """
        if proc.poll() is None:
            self._signal(proc, signal.SIGTERM)
            try:
                proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                self._signal(proc, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(grace_s)
        if proc in self._procs:
            self._procs.remove(proc)

    def stop_all(self) -> None:
        """Every child still known, the newest first."""
        for proc in reversed(list(self._procs)):
            self.stop(proc, grace_s=3.0)

    @staticmethod
    def _signal(proc: subprocess.Popen[bytes], signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signum)


@contextlib.contextmanager
def ended_on_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP end the benchmark through its ``finally`` blocks, like Ctrl-C."""

    def stop(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def start_xvfb(children: Children, log_path: Path, timeout_s: float = 15.0) -> tuple[str, int]:
    """An Xvfb on a free display number (Xvfb picks it); returns (DISPLAY, pid)."""
    if shutil.which("Xvfb") is None:
        raise BenchError("DISPLAY is unset and Xvfb is not installed")
    read_end, write_end = os.pipe()
    try:
        with log_path.open("wb") as log:
            proc = children.spawn(
                ["Xvfb", "-displayfd", str(write_end), "-screen", "0", SCREEN, "-nolisten", "tcp"],
                pass_fds=(write_end,),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        os.close(write_end)
        write_end = -1
        number = b""
        deadline = time.monotonic() + timeout_s
        while not number.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or proc.poll() is not None:
                raise BenchError(f"Xvfb did not start (see {log_path})")
            ready, _, _ = select.select([read_end], [], [], left)
            if ready:
                chunk = os.read(read_end, 16)
                if not chunk:
                    raise BenchError(f"Xvfb did not start (see {log_path})")
                number += chunk
        return f":{int(number)}", proc.pid
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)


def open_display(children: Children, workdir: Path) -> tuple[str, int | None, dict[str, Any]]:
    """DISPLAY, or an Xvfb of our own when it is unset (its log in ``workdir``): returns the
    display, the Xvfb's pid (None when it is not ours) and what the results say of it."""
    display = os.environ.get("DISPLAY")
    if display:
        return display, None, {"display": display, "own_xvfb": False}
    display, pid = start_xvfb(children, workdir / "xvfb.log")
    return display, pid, {"display": display, "own_xvfb": True, "screen": SCREEN}


def child_env(display: str) -> dict[str, str]:
    """This environment for a Kivy child on ``display``: no KIVY_* settings, unbuffered."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIVY_")}
    env.update(DISPLAY=display, PYTHONUNBUFFERED="1")
    return env


def last_line(path: Path) -> str:
    """The last non-blank line of a log (cut to 200 characters), to say why a child failed."""
    lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1].strip()[:200] if lines else "(no output)"


def git_state() -> dict[str, Any]:
    """The commit measured, and whether tracked files differ from it."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=REPO_DIR, capture_output=True, text=True, timeout=10, check=False
        ).stdout.strip()

    with contextlib.suppress(OSError, subprocess.SubprocessError):
        return {
            "commit": git("rev-parse", "HEAD"),
            "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        }
    return {}


def bench_header() -> dict[str, Any]:
    """The head of every results file: when, the git state, the machine."""
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "git": git_state(),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
    }


def emit_result(mark: str, result: dict[str, Any]) -> None:
    """A child's result, for its parent: one line of stdout, ``mark`` and then JSON."""
    sys.stdout.write(mark + json.dumps(result) + "\n")
    sys.stdout.flush()


def read_result(output: str, mark: str) -> dict[str, Any] | None:
    """The result a child emitted (``emit_result``) in its output, the last one; None if none."""
    for line in reversed(output.splitlines()):
        if line.startswith(mark):
            return json.loads(line[len(mark) :])
    return None


def child_main(
    args: argparse.Namespace,
    mark: str,
    kiosk_child: Callable[[argparse.Namespace], dict[str, Any]],
    bare_child: Callable[[argparse.Namespace], dict[str, Any]],
) -> int:
    """A Kivy benchmark's child, ``--child kiosk`` or ``--child bare``: its figures, with the
    machine's load average before and after, emitted for the parent under ``mark``."""
    load0 = machine_load()
    results = (kiosk_child if args.child == "kiosk" else bare_child)(args)
    results["load_average"] = [load0, machine_load()]
    emit_result(mark, results)
    return 0


def run_child(
    children: Children,
    which: str,
    options: list[str],
    *,
    script: Path,
    folder: Path,
    display: str,
    timeout: float,
    mark: str,
) -> dict[str, Any]:
    """``script --child which --workdir folder *options`` on ``display`` (stderr to
    ``folder/child.log``); its emitted result."""
    folder.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, str(script), "--child", which, "--workdir", str(folder), *options]
    log_path = folder / "child.log"
    with log_path.open("wb") as log:
        proc = children.spawn(
            argv,
            env=child_env(display),
            cwd=REPO_DIR,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
        )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        children.stop(proc)
        raise BenchError(f"{which}: not done within {timeout:g} s (log: {log_path})") from None
    children.stop(proc)
    result = read_result(out.decode(errors="replace"), mark)
    if result is None:
        raise BenchError(
            f"{which} exited with {proc.returncode} without results: {last_line(log_path)}"
            f" (log: {log_path})"
        )
    return result


def interleaved_runs(
    children: Children,
    options: list[str],
    *,
    runs: int,
    script: Path,
    workdir: Path,
    display: str,
    timeout: float,
    mark: str,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``runs`` runs each of ``script``'s ``--child bare`` and ``--child kiosk``, interleaved
    (bare, kiosk, bare, ...), each in a process of its own (``run_child``; the folders
    ``workdir/<which>-<n>``), with a line of progress each; returns (kiosk's, bare's)."""
    kiosk_runs: list[dict[str, Any]] = []
    bare_runs: list[dict[str, Any]] = []
    for n in range(1, runs + 1):
        for which, into in (("bare", bare_runs), ("kiosk", kiosk_runs)):
            start = time.monotonic()
            into.append(
                run_child(
                    children,
                    which,
                    options,
                    script=script,
                    folder=workdir / f"{which}-{n}",
                    display=display,
                    timeout=timeout,
                    mark=mark,
                )
            )
            print(f"  run {n}/{runs} {which:<5} {time.monotonic() - start:.0f} s", flush=True)
    return kiosk_runs, bare_runs


def compare_in_children(
    children: Children,
    workdir: Path,
    results: dict[str, Any],
    options: list[str],
    *,
    args: argparse.Namespace,
    script: Path,
    mark: str,
    analyse: Callable[[list[dict[str, Any]], list[dict[str, Any]]], dict[str, Any]],
) -> dict[str, Any]:
    """A Kivy benchmark's run after its settings in ``results``: the display (``open_display``),
    ``--runs`` runs of its bare and kiosk children with ``options`` (``interleaved_runs``, within
    ``--timeout`` each), and ``analyse(kiosk_runs, bare_runs)``; all of it added to
    ``results``."""
    display, _pid, results["display"] = open_display(children, workdir)
    print(f"display {display}; logs in {workdir}", flush=True)
    kiosk_runs, bare_runs = interleaved_runs(
        children,
        options,
        runs=args.runs,
        script=script,
        workdir=workdir,
        display=display,
        timeout=args.timeout,
        mark=mark,
    )
    results["kiosk_runs"], results["bare_runs"] = kiosk_runs, bare_runs
    results["analysis"] = analyse(kiosk_runs, bare_runs)
    return results


def add_output_options(parser: argparse.ArgumentParser, results_file: Path) -> None:
    """``--output`` (the JSON results, ``results_file`` unless told) and ``--keep-logs``."""
    parser.add_argument(
        "--output",
        type=Path,
        default=results_file,
        help=f"the JSON results [{results_file.relative_to(REPO_DIR)}]",
    )
    parser.add_argument(
        "--keep-logs", action="store_true", help="keep the temporary folder with the logs"
    )


def add_child_options(parser: argparse.ArgumentParser) -> None:
    """The hidden ``--child kiosk|bare`` and ``--workdir`` a benchmark's children are run with."""
    parser.add_argument("--child", choices=("kiosk", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)


def write_results(results: dict[str, Any], output: Path) -> None:
    """The results as JSON in ``output``."""
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten to {output}")


def orchestrate(
    name: str,
    args: argparse.Namespace,
    run: Callable[[argparse.Namespace, Children, Path], dict[str, Any]],
    print_table: Callable[[dict[str, Any]], None],
) -> int:
    """A benchmark's ``main`` around its ``run(args, children, workdir)``: the logs in a
    temporary folder (kept with ``--keep-logs`` or when the run fails), every child ended
    whatever happens (SIGTERM and SIGHUP too), then ``print_table`` and the results written to
    ``--output``. Returns the exit status: 1 when ``run`` raised ``BenchError``."""
    children = Children()
    workdir = Path(tempfile.mkdtemp(prefix=f"kiosk-bench-{name}-"))
    keep = args.keep_logs
    try:
        with ended_on_signals():
            try:
                results = run(args, children, workdir)
            except BenchError as error:
                print(f"{name} bench: {error}", file=sys.stderr)
                keep = True  # the logs say why
                return 1
            finally:
                children.stop_all()
    finally:
        if keep:
            print(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print_table(results)
    write_results(results, args.output)
    return 0


def bgr_into_texture(frame: Any, reuse: Any) -> Any:
    """A bare Kivy app's picture upload: one RGB texture, reused, rows flipped, BGR blitted
    (the kiosk's own is kiosk/ui/widgets/textures.py)."""
    from kivy.graphics.texture import Texture

    height, width = frame.shape[:2]
    texture = reuse
    if texture is None or texture.size != (width, height):
        texture = Texture.create(size=(width, height), colorfmt="rgb")
        texture.flip_vertical()
    texture.blit_buffer(frame.tobytes(), colorfmt="bgr", bufferfmt="ubyte")
    return texture


# --- inside a child: the kiosk and Kivy set up ------------------------------------------------


def child_logging() -> None:
    """Warnings and worse, to stderr (the child's log)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


def configure_kiosk_kivy(workdir: Path) -> None:
    """Kivy configured as the kiosk configures it (``kiosk.ui.kivy_setup``), windowed at
    WIDTH x HEIGHT, its home in ``workdir``; before Kivy's window is imported."""
    child_logging()
    from kiosk.ui.kivy_setup import configure

    configure(fullscreen=False, width=WIDTH, height=HEIGHT, kivy_home=workdir / "kivy-home")


def configure_bare_kivy(workdir: Path) -> None:
    """Kivy configured as bench/bare_kivy_app.py configures it (none of the kiosk's code)."""
    child_logging()
    from bare_kivy_app import configure

    configure(workdir / "bare-kivy-home")


def demo_config(data: Path, **overrides: Any) -> Any:
    """The demo's configuration as the CLI builds it (as tests/conftest.py's make_config),
    windowed, on the scratch folder ``data`` (the kiosk's data in ``data/kiosk``), with
    ``overrides`` of its fields."""
    from kiosk.config import KioskConfig, load

    flags = argparse.Namespace(demo=True, config=None, windowed=True)
    config = load(flags, environ={"XDG_DATA_HOME": str(data), "HOME": str(data)})
    return KioskConfig(**{**config.__dict__, "data_dir": data / "kiosk", **overrides})


def simulated_kiosk(config: Any, camera: Any) -> Any:
    """A kiosk core on ``camera`` and simulated handset, badge reader and hotplug (the devices
    built as tests/core/residents.py builds them), on the system clock."""
    from hardware.interfaces import Devices
    from hardware.simulated import SimulatedBadgeReader, SimulatedHandset, SimulatedHotplug
    from kiosk.assembly import build_kiosk
    from kiosk.core.clock import SystemClock

    devices = Devices(
        camera=camera,
        handset=SimulatedHandset(),
        badge_reader=SimulatedBadgeReader(),
        hotplug=SimulatedHotplug(),
    )
    return build_kiosk(config, SystemClock(), devices=devices)


# --- inside a child: touches through Kivy's input pipeline, timed to the drawn frame ---------

# Where a touch's lift is queued from; see Harness.
LiftFrom = Literal["coroutine", "thread"]


class Probe:
    """One timed touch: from the lift to the first swapped frame that shows each milestone."""

    def __init__(
        self, touch: Any, milestones: dict[str, Callable[[], bool]], future: asyncio.Future
    ) -> None:
        self.touch = touch
        self.milestones = milestones  # name -> shown? (the first is the touch's own figure)
        self.future = future
        self.lifted = 0.0
        self.read = 0.0  # the frame's dispatch_input took the lift
        self.frames0 = 0  # Clock.frames_displayed at the lift
        self.flips0 = 0
        self.shown: dict[str, dict[str, float]] = {}


class Harness:
    """The person's finger and eye in a Kivy child. Touches are held until the next frame
    reads its input, as a real provider's are (the SDL mouse and the touchscreen providers also
    deliver at most once a frame); every buffer swap checks whether the touch being timed shows
    on screen yet, and hands the swap to ``sampler`` when one is set.

    ``lift`` is where the finger lifts from, the one way the benchmarks time a touch
    differently, on purpose:

    * ``"coroutine"`` (bench/session.py): the person's coroutine sleeps through the hold, then
      queues the lift and notes its time. The coroutine runs when Kivy gives the asyncio loop a
      turn; at ``maxfps`` 20 with idle time between frames that is at the deadline or soon
      after, so a lift lands anywhere in the 50 ms between frames, as a real finger's does;
      kept so that the session's figures stay comparable with its earlier results.
    * ``"thread"`` (bench/capture.py): a thread sleeps to the lift's deadline and queues it
      then; the deadline is the figure's start. When frames run back to back (the capture
      screen's 30 fps preview under software rendering), the asyncio loop gets a turn only just
      before the next frame, so a lift from the coroutine would always be read at once and the
      wait for a frame, part of what a visitor sees, would not be measured.
    """

    def __init__(self, lift: LiftFrom) -> None:
        self.lift: LiftFrom = lift
        self.pending: list[tuple[str, Any]] = []
        self.pending_lock = threading.Lock()  # lifts may be queued from a thread of their own
        self.probe: Probe | None = None
        self.sampler: Callable[[float], None] | None = None  # called at every swap's end
        self.flips = 0
        self.provider: Any = None
        self.draw_started = 0.0
        self.last_frame_ms = (0.0, 0.0)  # the last drawn frame's (draw, swap)

    def install(self) -> None:
        """The input provider added to Kivy's event loop, ``Window.flip`` wrapped."""
        from kivy.base import EventLoop
        from kivy.clock import Clock
        from kivy.core.window import Window
        from kivy.input.provider import MotionEventProvider

        harness = self

        class QueuedTouches(MotionEventProvider):
            def update(self, dispatch_fn: Callable[..., None]) -> None:
                with harness.pending_lock:
                    pending, harness.pending = harness.pending, []
                probe = harness.probe
                for etype, touch in pending:
                    if probe is not None and etype == "end" and touch is probe.touch:
                        probe.read = time.perf_counter()
                    dispatch_fn(etype, touch)

        self.provider = QueuedTouches("bench", None)
        EventLoop.add_input_provider(self.provider)
        swap = Window.flip  # WindowBase.on_flip calls self.flip(): the real buffer swap

        def drawing(*_args: Any) -> None:
            self.draw_started = time.perf_counter()  # bound handlers run before on_draw's own

        def flip() -> None:
            swap_started = time.perf_counter()
            swap()
            now = time.perf_counter()
            self.flips += 1
            self.last_frame_ms = (
                (swap_started - self.draw_started) * 1000,
                (now - swap_started) * 1000,
            )
            if self.sampler is not None:
                self.sampler(time.monotonic())
            probe = self.probe
            if probe is None or not probe.read or probe.future.done():
                return
            try:
                for name, shown in probe.milestones.items():
                    if name not in probe.shown and shown():
                        probe.shown[name] = {
                            "drawn": now,
                            "draw_started": self.draw_started,
                            "swap_started": swap_started,
                            "frames": Clock.frames_displayed - probe.frames0,
                            "flips": self.flips - probe.flips0,
                        }
            except Exception as error:  # reported by the waiting tap
                probe.future.set_exception(error)
                return
            if len(probe.shown) == len(probe.milestones):
                probe.future.set_result(now)

        Window.bind(on_draw=drawing)
        Window.flip = flip

    def queue(self, etype: str, touch: Any) -> None:
        """A touch event for the next frame's ``dispatch_input``."""
        with self.pending_lock:
            self.pending.append((etype, touch))

    async def frames(self, count: int = 1) -> None:
        """Until ``count`` more frames are displayed (5 s at the most each)."""
        from kivy.clock import Clock

        for _ in range(count):
            start = Clock.frames_displayed
            deadline = time.monotonic() + 5
            while Clock.frames_displayed == start and time.monotonic() < deadline:
                await asyncio.sleep(1 / 200)

    async def redraw_cost(self, count: int = 5) -> dict[str, float]:
        """What one frame of the screen in view costs to draw and swap, redrawn unchanged
        ``count`` times: the medians, and the quickest swap."""
        from kivy.core.window import Window

        draws, swaps = [], []
        for _ in range(count):
            flips = self.flips
            Window.canvas.ask_update()
            deadline = time.monotonic() + 5
            while self.flips == flips and time.monotonic() < deadline:
                await asyncio.sleep(1 / 200)
            draw, swap = self.last_frame_ms
            draws.append(draw)
            swaps.append(swap)
            await asyncio.sleep(0.06)
        return {
            "draw_ms": statistics.median(draws),
            "swap_ms": statistics.median(swaps),
            "swap_min_ms": min(swaps),
        }

    async def until(self, condition: Callable[[], bool], timeout: float = TAP_TIMEOUT_S) -> None:
        """Until ``condition()`` holds, then one frame more; TimeoutError after ``timeout``."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError("the screen did not change as expected in time")
            await asyncio.sleep(0.01)
        await self.frames(1)

    async def tap(
        self, widget: Any, done: Callable[[], bool] | None = None, **more: Callable[[], bool]
    ) -> dict[str, Any]:
        """Finger down on the widget's centre, held 80-120 ms, lifted (from where ``lift``
        says); waits for the frames showing ``done()`` (any frame with the lift read when None)
        and each of ``more``. Returns the lift's timings: ``ms`` and its parts for ``done``,
        ``<name>_ms`` and ``<name>_frames`` for the others."""
        from kivy.clock import Clock
        from kivy.tests.common import UnitTestTouch

        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        milestones = {"done": done or (lambda: True), **more}
        probe = Probe(touch, milestones, asyncio.get_running_loop().create_future())
        self.probe = probe
        self.queue("begin", touch)
        hold = random.uniform(*HOLD_S)
        if self.lift == "thread":
            # The lift's time is its deadline; the event waits in the queue, as the OS's
            # would, until the next frame's dispatch_input reads it.
            lift_at = time.perf_counter() + hold

            def lift() -> None:
                delay = lift_at - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                probe.lifted = lift_at
                probe.frames0, probe.flips0 = Clock.frames_displayed, self.flips
                self.queue("end", touch)

            threading.Thread(target=lift, name="bench-finger", daemon=True).start()
        else:
            await asyncio.sleep(hold)
            probe.frames0, probe.flips0 = Clock.frames_displayed, self.flips
            probe.lifted = time.perf_counter()
            self.queue("end", touch)
        try:
            await asyncio.wait_for(probe.future, TAP_TIMEOUT_S)
        finally:
            self.probe = None
        first = probe.shown["done"]
        figures = {
            "ms": (first["drawn"] - probe.lifted) * 1000,
            # The parts, which add up to "ms": the lift waits for a frame to read it; then
            # it is handled (maybe over several frames) until the frame that shows it begins
            # drawing; that frame's canvas is drawn; its buffers are swapped (under Xvfb the
            # software renderer rasterises the whole window in the swap).
            "input_wait_ms": (probe.read - probe.lifted) * 1000,
            "handling_ms": (first["draw_started"] - probe.read) * 1000,
            "draw_ms": (first["swap_started"] - first["draw_started"]) * 1000,
            "swap_ms": (first["drawn"] - first["swap_started"]) * 1000,
            "frames": first["frames"],  # frames from the lift to the one that showed it, included
            "flips": first["flips"],  # of which drawn (a frame with nothing new is not)
            "lifted": probe.lifted,
            "drawn": first["drawn"],
        }
        for name in more:
            figures[f"{name}_ms"] = (probe.shown[name]["drawn"] - probe.lifted) * 1000
            figures[f"{name}_frames"] = probe.shown[name]["frames"]
        await asyncio.sleep(random.uniform(*GAP_S))
        return figures


async def tap_key(person: Harness, keys: Any, label: str) -> None:
    """A key of the kiosk's keypad or keyboard, until it is drawn released."""
    key = keys.key_for(label)
    await person.tap(key, lambda: key.state == "normal")


def gl_info() -> dict[str, str]:
    """The OpenGL renderer and version the window draws with."""
    from kivy.graphics.opengl import GL_RENDERER, GL_VERSION, glGetString

    def text(name: int) -> str:
        value = glGetString(name)
        return value.decode(errors="replace") if isinstance(value, bytes) else str(value)

    return {"renderer": text(GL_RENDERER), "version": text(GL_VERSION)}


def run_app(app: Any, scenario: Callable[[Harness], Any], *, lift: LiftFrom) -> Any:
    """Run ``app`` on asyncio (``App.async_run``, as the kiosk runs) with ``scenario`` as the
    person, its touches lifted from ``lift`` (see Harness); the scenario's results, with the
    OpenGL renderer's name under "gl"."""

    async def main() -> Any:
        started = asyncio.Event()
        app.bind(on_start=lambda *_: started.set())
        running = asyncio.create_task(app.async_run(async_lib="asyncio"))
        await asyncio.wait_for(started.wait(), timeout=60)
        harness = Harness(lift)
        harness.install()
        await harness.frames(5)
        try:
            results = await scenario(harness)
            results["gl"] = gl_info()
            return results
        finally:
            app.stop()
            await asyncio.wait_for(running, timeout=30)

    return asyncio.run(main())
