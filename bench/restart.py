"""How fast a crashed or hung kiosk is back on its idle screen, against a bare Kivy app's start.

    python bench/restart.py [--runs 5] [--hangs 1]

The kiosk (`kiosk run --demo --offline`, under bench/probe.py, which notes each process's
first drawn frame) runs under tests/systemd/supervisor.py, which restarts it as kiosk.service
tells systemd to: RestartSec= after it ends, SIGABRT when WATCHDOG=1 stops for WatchdogSec=,
and the unit's Environment=, all read from systemd/kiosk.service. Each run:

* crash: SIGKILL to the kiosk (a segfault, the OOM killer); timed to the new process's first
  drawn frame of the idle screen and to its READY=1 (sent once that frame is on the glass);
  split into the restart's pause and the new process's start-up;
* between crashes, the baseline: ``bench/bare_kivy_app.py`` (one Label, Kivy configured alike)
  from spawn to first frame, as bench/startup.py times it, interleaved with the crashes;
* ``--hangs``: SIGSTOP to the kiosk (its loop turns no more); timed to the watchdog's kill and
  to the next READY=1. Each takes WatchdogSec and more (about 20 s).

The issue's limits: back within 5 s of a crash, within 30 s of a hang. `--offline`: the demo's
broker and cloud simulator would be orphaned by each SIGKILL; a facility kiosk carries neither.
An Xvfb is started when DISPLAY is unset. The figures also go to bench/results/restart.json.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
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
    BenchError,
    Children,
    add_output_options,
    bench_header,
    child_env,
    open_display,
    orchestrate,
)
from startup import PROBE, programs, time_startup  # noqa: E402

from tests.systemd.supervisor import NotifySocket, Supervisor, UnitTimes  # noqa: E402

RESULTS_FILE = BENCH_DIR / "results" / "restart.json"
GOAL_CRASH_S = 5.0
GOAL_HANG_S = 30.0
SETTLE_S = 1.0  # the idle screen shown a while before each crash


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="crashes, and bare starts [5]")
    parser.add_argument("--hangs", type=int, default=1, help="hangs, ~20 s each [1]")
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="longest wait for a start, in seconds [60]"
    )
    add_output_options(parser, RESULTS_FILE)
    args = parser.parse_args(argv)
    if args.runs < 1 or args.hangs < 0 or args.timeout <= 0:
        parser.error("--runs must be at least 1, --hangs not negative, --timeout positive")
    return args


class Kiosk:
    """The kiosk under the supervisor, and what its probe saw of each process's first frame."""

    def __init__(self, workdir: Path, display: str, times: UnitTimes) -> None:
        self.frame_file = workdir / "first-frame.json"
        self.notify = NotifySocket(Path("/tmp") / f"kiosk-bench-notify-{os.getpid()}")
        env = {
            **child_env(display),
            "XDG_DATA_HOME": str(workdir / "kiosk-data"),
            "HOME": str(workdir),
            "BENCH_PROBE_OUT": str(self.frame_file),
        }
        argv = [sys.executable, str(PROBE), "-m", "launch", "run", "--demo", "--offline"]
        (workdir / "kiosk").mkdir()
        self.supervisor = Supervisor(argv, env, self.notify, times, workdir / "kiosk")
        self.timeout = 0.0

    def ready(self, since: float, not_pid: int | None, timeout: float) -> Any:
        ready = self.supervisor.ready(timeout, since=since, not_pid=not_pid)
        if ready is None:
            raise BenchError(
                f"no READY=1 within {timeout:g} s; supervisor saw "
                f"{[e.kind for e in self.supervisor.events]} (logs: {self.supervisor.log_dir})"
            )
        return ready

    def first_frame(self, pid: int, timeout: float) -> float:
        """The wall-clock time process ``pid`` drew its first frame (bench/probe.py)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.frame_file.exists():
                seen = json.loads(self.frame_file.read_text(encoding="utf-8"))
                if seen["pid"] == pid:
                    return seen["first_frame"]
            time.sleep(0.01)
        raise BenchError(f"the probe noted no first frame of process {pid}")

    def spawned(self, pid: int) -> float:
        return next(e.at for e in self.supervisor.events if e.kind == "start" and e.pid == pid)

    def close(self) -> None:
        self.supervisor.stop()
        self.notify.close()


def crash(kiosk: Kiosk, timeout: float) -> dict[str, Any]:
    old = kiosk.supervisor.main.pid
    time.sleep(SETTLE_S)
    crashed_wall, crashed_at = time.time(), time.monotonic()
    os.kill(old, signal.SIGKILL)
    ready = kiosk.ready(crashed_at, old, timeout)
    frame_s = kiosk.first_frame(ready.pid, timeout) - crashed_wall
    spawned_s = kiosk.spawned(ready.pid) - crashed_at
    return {
        "crash_to_first_frame_s": frame_s,
        "crash_to_ready_s": ready.at - crashed_at,
        "restart_pause_s": spawned_s,
        "start_to_first_frame_s": frame_s - spawned_s,
    }


def hang(kiosk: Kiosk, times: UnitTimes, timeout: float) -> dict[str, Any]:
    old = kiosk.supervisor.main.pid
    time.sleep(SETTLE_S)
    hung_at = time.monotonic()
    os.kill(old, signal.SIGSTOP)
    ready = kiosk.ready(hung_at, old, times.watchdog_s + times.abort_s + timeout)
    caught = next(e.at for e in kiosk.supervisor.events if e.kind == "watchdog" and e.pid == old)
    return {"hang_to_watchdog_s": caught - hung_at, "hang_to_ready_s": ready.at - hung_at}


def figures(values: list[float]) -> dict[str, float]:
    return {"median_s": statistics.median(values), "max_s": max(values), "min_s": min(values)}


def run(args: argparse.Namespace, children: Children, workdir: Path) -> dict[str, Any]:
    times = UnitTimes.of_kiosk_unit()
    results: dict[str, Any] = {
        **bench_header(),
        "settings": {"runs": args.runs, "hangs": args.hangs, "settle_s": SETTLE_S},
        "unit": {
            "RestartSec": times.restart_s,
            "WatchdogSec": times.watchdog_s,
            "TimeoutAbortSec": times.abort_s,
        },
        "goals": {"crash_s": GOAL_CRASH_S, "hang_s": GOAL_HANG_S},
    }
    display, _pid, results["display"] = open_display(children, workdir)
    print(f"display {display}; logs in {workdir}", flush=True)
    bare = next(p for p in programs(workdir, display) if p.key == "bare")
    time_startup(children, bare, workdir, "bare-warmup", args.timeout)
    kiosk = Kiosk(workdir, display, times)
    crashes: list[dict[str, Any]] = []
    hangs: list[dict[str, Any]] = []
    try:
        kiosk.supervisor.start()
        kiosk.ready(0.0, None, args.timeout)  # the first start: the warm-up
        for n in range(1, args.runs + 1):
            bare.runs.append(time_startup(children, bare, workdir, f"bare-{n}", args.timeout))
            crashes.append(crash(kiosk, args.timeout))
            print(
                f"  run {n}/{args.runs}: bare kivy start {bare.runs[-1]['first_frame_s']:.2f} s;"
                f" crash -> frame {crashes[-1]['crash_to_first_frame_s']:.2f} s,"
                f" READY=1 {crashes[-1]['crash_to_ready_s']:.2f} s",
                flush=True,
            )
        for n in range(1, args.hangs + 1):
            hangs.append(hang(kiosk, times, args.timeout))
            print(
                f"  hang {n}/{args.hangs}: watchdog {hangs[-1]['hang_to_watchdog_s']:.1f} s,"
                f" READY=1 {hangs[-1]['hang_to_ready_s']:.1f} s",
                flush=True,
            )
    finally:
        kiosk.close()
    results["crashes"] = crashes
    results["hangs"] = hangs
    results["bare_runs"] = bare.runs
    summary = {
        key: figures([c[key] for c in crashes])
        for key in (
            "crash_to_first_frame_s",
            "crash_to_ready_s",
            "restart_pause_s",
            "start_to_first_frame_s",
        )
    }
    summary["bare_start_to_first_frame_s"] = figures([r["first_frame_s"] for r in bare.runs])
    summary["start_ratio"] = (
        summary["start_to_first_frame_s"]["median_s"]
        / summary["bare_start_to_first_frame_s"]["median_s"]
    )
    if hangs:
        summary["hang_to_watchdog_s"] = figures([h["hang_to_watchdog_s"] for h in hangs])
        summary["hang_to_ready_s"] = figures([h["hang_to_ready_s"] for h in hangs])
    results["summary"] = summary
    return results


def print_table(results: dict[str, Any]) -> None:
    s, unit = results["summary"], results["unit"]
    n = len(results["crashes"])

    def row(label: str, key: str, goal: float | None = None) -> None:
        f = s[key]
        verdict = (
            ""
            if goal is None
            else f"  goal <= {goal:g} s: " + ("met" if f["max_s"] <= goal else "MISSED")
        )
        print(f"  {label:<44}{f['median_s']:>7.2f} s{f['max_s']:>8.2f} s{verdict}")

    print()
    print(f"{'crash -> idle screen again, ' + str(n) + ' runs':<46}{'median':>9}{'max':>10}")
    row("crash -> first frame of the new process", "crash_to_first_frame_s")
    row("crash -> READY=1 of the new process", "crash_to_ready_s", GOAL_CRASH_S)
    row(f"  of which the restart's pause (RestartSec={unit['RestartSec']:g})", "restart_pause_s")
    row("  of which the kiosk's start to first frame", "start_to_first_frame_s")
    row("baseline: bare Kivy start to first frame", "bare_start_to_first_frame_s")
    print(f"  kiosk's start / bare Kivy's start: ratio {s['start_ratio']:.2f}")
    if "hang_to_ready_s" in s:
        print()
        print(f"hang, {len(results['hangs'])} run(s) (WatchdogSec={unit['WatchdogSec']:g})")
        row("hang -> watchdog kills it", "hang_to_watchdog_s")
        row("hang -> READY=1 of the new process", "hang_to_ready_s", GOAL_HANG_S)


def main(argv: list[str] | None = None) -> int:
    return orchestrate("restart", parse_args(argv), run, print_table)


if __name__ == "__main__":
    sys.exit(main())
