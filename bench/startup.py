"""Startup time and idle cost of ``kiosk run --demo`` against a bare Kivy app, in one run.

    python bench/startup.py [--idle-seconds 30] [--runs 5]

1. Startup: from the moment this script spawns the process to the first drawn frame of the
   kiosk's idle screen, and of ``bench/bare_kivy_app.py`` (one Label, Kivy configured the same
   way). Both run under ``bench/probe.py``, which notes the first ``Window.on_flip`` once the
   app's root widget is on the window and then ends the process. Runs are interleaved
   (kiosk, bare, kiosk, bare, ...) after one untimed warm-up of each; medians and their ratio.
2. Idle: each program is started again and left running; once its first frame is drawn and a
   short settling time has passed, its CPU time (utime + stime from /proc/PID/stat, all
   threads) is sampled over ``--idle-seconds`` and its RSS (VmRSS) read.
3. Where the kiosk's extra import time goes: ``python -X importtime`` starts of both, self
   time summed by top-level package (skip with ``--no-import-profile``).

The bare app runs with ``App.run``; ``--bare-async`` runs it on asyncio with
``App.async_run`` as the kiosk runs (Kivy's asyncio clock alone costs some idle CPU).

The project's modules are compiled first, as installing the kiosk compiles them (a checkout
under PYTHONDONTWRITEBYTECODE would otherwise compile them at every start).

The kiosk keeps its data in a temporary XDG_DATA_HOME (reused by all its runs, so the timed
runs are restarts of an already seeded demo; the warm-up is its first start on an empty
folder, then one start left running until its own cloud has delivered the arriving
messages). An Xvfb (1280x800x24) is started when DISPLAY is unset and stopped at the end.
Every process started here is ended, whatever happens; so is any a program left running after
it ended (found by its command line, which names the run's folder; listed in the results as
``left_running``). The script only measures: it never fails on a missed goal. The figures also
go to bench/results/startup.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import (
    BENCH_DIR,
    REPO_DIR,
    SCREEN,
    BenchError,
    Children,
    add_output_options,
    bench_header,
    child_env,
    cpu_seconds,
    last_line,
    open_display,
    orchestrate,
)

PROBE = BENCH_DIR / "probe.py"
BARE_APP = BENCH_DIR / "bare_kivy_app.py"
RESULTS_FILE = BENCH_DIR / "results" / "startup.json"
PACKAGES = ("kiosk", "hardware", "launch", "demo", "cloudsim", "provisioning")

GOAL_STARTUP_RATIO = 1.5
GOAL_IDLE_CPU_PERCENT = 2.0
GOAL_IDLE_RSS_MIB = 250.0

POLL_S = 0.005


# --- /proc ------------------------------------------------------------------------------


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds by thread, keyed "main" or "<thread name> <tid>"."""
    result = {}
    for task in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError):  # a thread may end while we look
            with open(f"/proc/{pid}/task/{task}/comm", encoding="utf-8") as handle:
                name = "main" if task == str(pid) else f"{handle.read().strip()} {task}"
            result[name] = cpu_seconds(pid, task)
    return result


def status(pid: int) -> dict[str, str]:
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        return dict(line.split(":", 1) for line in handle if ":" in line)


def kib_to_mib(value: str) -> float:
    return int(value.split()[0]) / 1024  # "123456 kB"


def naming(folder: Path) -> dict[int, str]:
    """Live processes (zombies aside) whose command line names ``folder``, with that line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            line = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if stat[stat.rindex(")") + 2] not in "ZX" and str(folder) in line:
                found[int(entry.name)] = line.strip()
    return found


def end_leftovers(workdir: Path, grace_s: float = 5.0) -> list[str]:
    """What the programs started and left running once they had ended (a demo kiosk's
    Mosquitto did, when the probe ended the kiosk with os._exit): ended here, and returned so
    that the results say so. Found by their command lines, which name this run's folder."""
    left = naming(workdir)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while naming(workdir).keys() & left.keys() and time.monotonic() < deadline:
        time.sleep(POLL_S)
    for pid in naming(workdir).keys() & left.keys():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return sorted(left.values())


# --- the two programs -------------------------------------------------------------------


@dataclass
class Program:
    key: str  # "kiosk" or "bare"
    label: str
    argv: list[str]
    env: dict[str, str]
    runs: list[dict[str, Any]] = field(default_factory=list)


def compile_packages() -> None:
    """Compile the project's modules, as installing the kiosk does (pip and Debian compile at
    install). With PYTHONDONTWRITEBYTECODE set, as on some build machines, a checkout would
    otherwise compile its ~200 modules at every start, which an installed kiosk never does;
    Kivy's own modules were compiled when they were installed. Ignored by git."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", *PACKAGES],
        cwd=REPO_DIR,
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=300,
    )


def programs(workdir: Path, display: str, *, bare_async: bool = False) -> list[Program]:
    base = child_env(display)
    kiosk_env = {**base, "XDG_DATA_HOME": str(workdir / "kiosk-data")}
    python = sys.executable
    return [
        Program("kiosk", "kiosk", [python, str(PROBE), "-m", "launch", "run", "--demo"], kiosk_env),
        Program(
            "bare",
            "bare kivy",
            [
                python,
                str(PROBE),
                str(BARE_APP),
                "--kivy-home",
                str(workdir / "bare-kivy-home"),
                *(["--async"] if bare_async else []),
            ],
            dict(base),
        ),
    ]


@dataclass
class Started:
    proc: subprocess.Popen[bytes]
    spawn_time: float
    timings: dict[str, Any]
    log_path: Path


def start_until_first_frame(
    children: Children,
    program: Program,
    workdir: Path,
    name: str,
    *,
    exit_after: bool,
    timeout_s: float,
    python_flags: tuple[str, ...] = (),
) -> Started:
    """Spawn the program under the probe and wait for its first frame (or its failure)."""
    out = workdir / f"{name}.json"
    log_path = workdir / f"{name}.log"
    out.unlink(missing_ok=True)
    env = {
        **program.env,
        "BENCH_PROBE_OUT": str(out),
        "BENCH_PROBE_EXIT": "1" if exit_after else "",
    }
    argv = [program.argv[0], *python_flags, *program.argv[1:]]
    with log_path.open("wb") as log:
        env["BENCH_SPAWN_TIME"] = repr(spawn_time := time.time())
        proc = children.spawn(
            argv,
            env=env,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + timeout_s
    while not out.exists():
        if proc.poll() is not None:
            # The probe may have written its file and exited in between the two checks.
            if out.exists():
                break
            children.stop(proc)
            raise BenchError(
                f"{program.label} exited with {proc.returncode} before its first frame: "
                f"{last_line(log_path)} (log: {log_path})"
            )
        if time.monotonic() > deadline:
            children.stop(proc)
            raise BenchError(f"{program.label}: no frame within {timeout_s:g} s (log: {log_path})")
        time.sleep(POLL_S)
    timings = json.loads(out.read_text(encoding="utf-8"))
    return Started(proc, spawn_time, timings, log_path)


def time_startup(
    children: Children, program: Program, workdir: Path, name: str, timeout_s: float
) -> dict[str, Any]:
    started = start_until_first_frame(
        children, program, workdir, name, exit_after=True, timeout_s=timeout_s
    )
    with contextlib.suppress(subprocess.TimeoutExpired):
        started.proc.wait(10)
    children.stop(started.proc)
    t, spawn = started.timings, started.spawn_time
    return {
        "first_frame_s": t["first_frame"] - spawn,
        "python_start_s": t["probe_start"] - spawn,  # interpreter and site, up to the probe
        "to_window_s": t["window_created"] - spawn,  # the Kivy window exists
        "window_to_frame_s": t["first_frame"] - t["window_created"],
    }


def let_the_demo_settle(
    children: Children, program: Program, workdir: Path, timeout_s: float
) -> bool:
    """Start the demo kiosk once more and leave it running until its own cloud has sent the
    arriving messages (it keeps their photo beside its broker's data), as a demo that has run
    before has: the timed starts end at their first frame, before the cloud starts, and the
    idle kiosk must be a restart, not the cloud's first start. False without that cloud."""
    started = start_until_first_frame(
        children, program, workdir, "kiosk-settle", exit_after=False, timeout_s=timeout_s
    )
    photo = workdir / "kiosk-data" / "kiosk-demo" / "housing" / "demo-broker" / "arriving-photo.jpg"
    deadline = time.monotonic() + timeout_s
    try:
        while not photo.exists() and started.proc.poll() is None:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return photo.exists()
    finally:
        children.stop(started.proc)


def measure_idle(
    children: Children,
    program: Program,
    workdir: Path,
    *,
    idle_s: float,
    settle_s: float,
    timeout_s: float,
    xvfb_pid: int | None,
) -> dict[str, Any]:
    started = start_until_first_frame(
        children, program, workdir, f"{program.key}-idle", exit_after=False, timeout_s=timeout_s
    )
    proc, pid = started.proc, started.proc.pid
    gone = f"{program.label} exited during the idle test"
    try:
        time.sleep(settle_s)
        t0, cpu0, threads0 = time.monotonic(), cpu_seconds(pid), thread_cpu(pid)
        x0 = cpu_seconds(xvfb_pid) if xvfb_pid else None
        rss_max = 0.0
        end = t0 + idle_s
        while (now := time.monotonic()) < end:
            time.sleep(min(1.0, end - now))
            if proc.poll() is not None:
                break
            rss_max = max(rss_max, kib_to_mib(status(pid)["VmRSS"]))
        if proc.poll() is not None:
            raise BenchError(f"{gone}: {last_line(started.log_path)}")
        cpu1, threads1 = cpu_seconds(pid), thread_cpu(pid)
        x1 = cpu_seconds(xvfb_pid) if xvfb_pid else None
        wall = time.monotonic() - t0
        info = status(pid)
    except OSError as error:  # /proc/PID vanished: the program ended under our feet
        raise BenchError(f"{gone}: {error}; {last_line(started.log_path)}") from None
    finally:
        children.stop(proc)
    per_thread = {
        name: (seconds - threads0.get(name, 0.0)) / wall * 100 for name, seconds in threads1.items()
    }
    return {
        "seconds": wall,
        "cpu_percent": (cpu1 - cpu0) / wall * 100,
        "rss_mib": kib_to_mib(info["VmRSS"]),
        "rss_max_sampled_mib": rss_max,
        "rss_peak_mib": kib_to_mib(info["VmHWM"]),
        "threads": int(info["Threads"]),
        "thread_cpu_percent": dict(sorted(per_thread.items(), key=lambda kv: -kv[1])),
        "xvfb_cpu_percent": None if x0 is None or x1 is None else (x1 - x0) / wall * 100,
    }


# --- import profile ---------------------------------------------------------------------

IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)")


def import_profile(
    children: Children, program: Program, workdir: Path, timeout_s: float, repeats: int = 3
) -> dict[str, float]:
    """Self import time (ms) by top-level package: the median of ``repeats`` starts under
    ``python -X importtime`` (one start is noisy: a page fault or a GC lands on some module)."""
    samples: list[Counter[str]] = []
    for index in range(repeats):
        started = start_until_first_frame(
            children,
            program,
            workdir,
            f"{program.key}-importtime-{index + 1}",
            exit_after=True,
            timeout_s=timeout_s,
            python_flags=("-X", "importtime"),
        )
        with contextlib.suppress(subprocess.TimeoutExpired):
            started.proc.wait(10)
        children.stop(started.proc)
        totals: Counter[str] = Counter()
        for line in started.log_path.read_text(errors="replace").splitlines():
            match = IMPORT_LINE.match(line)
            if match:
                totals[match.group(3).split(".")[0]] += int(match.group(1)) / 1000
        samples.append(totals)
    names = set().union(*samples)
    medians = {name: statistics.median(t.get(name, 0.0) for t in samples) for name in names}
    return dict(sorted(medians.items(), key=lambda kv: -kv[1]))


# --- report -----------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "ok" if ok else "OVER"


def print_table(results: dict[str, Any]) -> None:
    s = results["startup"]
    k, b = s["kiosk"], s["bare"]
    print()
    print(
        f"startup to first frame   kiosk {k['median_s']:.2f} s   bare kivy {b['median_s']:.2f} s"
        f"   ratio {s['ratio']:.2f}   (goal <= {GOAL_STARTUP_RATIO})"
        f"  {verdict(s['ratio'] <= GOAL_STARTUP_RATIO)}"
    )
    idle = results.get("idle")
    if idle:
        ki, bi = idle["kiosk"], idle["bare"]
        seconds = results["settings"]["idle_seconds"]
        cpu = f"idle CPU over {seconds:g} s"
        print(
            f"{cpu:<24} kiosk {ki['cpu_percent']:.1f} %    bare kivy {bi['cpu_percent']:.1f} %"
            f"{'':<18}(goal <= {GOAL_IDLE_CPU_PERCENT:g} %)"
            f"  {verdict(ki['cpu_percent'] <= GOAL_IDLE_CPU_PERCENT)}"
        )
        print(
            f"{'idle RSS':<24} kiosk {ki['rss_mib']:.0f} MiB  bare kivy {bi['rss_mib']:.0f} MiB"
            f"{'':<17}(goal <= {GOAL_IDLE_RSS_MIB:g} MiB)"
            f"  {verdict(ki['rss_mib'] <= GOAL_IDLE_RSS_MIB)}"
        )
    print()
    print("startup, medians (s)      python start   Kivy window   window->frame   first frame")
    for key, label in (("kiosk", "kiosk"), ("bare", "bare kivy")):
        m = s[key]["median_parts_s"]
        print(
            f"  {label:<23} {m['python_start_s']:>12.3f} {m['to_window_s']:>13.3f}"
            f" {m['window_to_frame_s']:>15.3f} {s[key]['median_s']:>13.3f}"
        )
    for key, label in (("kiosk", "kiosk"), ("bare", "bare kivy")):
        runs = ", ".join(f"{r['first_frame_s']:.3f}" for r in s[key]["runs"])
        print(f"  {label} runs: {runs}")
    first = s.get("kiosk_first_start")
    if first:
        shown = (
            f"{first['first_frame_s']:.3f} s" if first.get("ok") else f"FAILED: {first['error']}"
        )
        print(f"  kiosk first start on an empty data folder (warm-up): {shown}")
    if idle:
        print()
        print(
            "idle details              RSS peak   threads   Xvfb CPU"
            "   busiest threads (% of a core)"
        )
        for key, label in (("kiosk", "kiosk"), ("bare", "bare kivy")):
            d = idle[key]
            busiest = ", ".join(
                f"{name} {value:.1f}" for name, value in list(d["thread_cpu_percent"].items())[:2]
            )
            xvfb = "-" if d["xvfb_cpu_percent"] is None else f"{d['xvfb_cpu_percent']:.1f} %"
            print(
                f"  {label:<23} {d['rss_peak_mib']:>5.0f} MiB {d['threads']:>8} {xvfb:>10}   "
                f"{busiest}"
            )
    profile = results.get("import_ms")
    if profile:
        kiosk, bare = profile["kiosk"], profile["bare"]
        extra = {name: kiosk.get(name, 0.0) - bare.get(name, 0.0) for name in kiosk}
        top = sorted(extra.items(), key=lambda kv: -kv[1])[:10]
        print()
        print(
            "import time (-X importtime, self ms summed, median of 3 starts):"
            f" kiosk {sum(kiosk.values()):.0f} ms, bare kivy {sum(bare.values()):.0f} ms;"
            " the kiosk's extra by package:"
        )
        print("  " + ", ".join(f"{name} +{ms:.0f} ms" for name, ms in top))
    left = results.get("left_running")
    if left:
        print()
        print(f"left running by the programs after they ended (now ended): {len(left)}")
        for line in left:
            print(f"  {line}")


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    parts = ("python_start_s", "to_window_s", "window_to_frame_s")
    return {
        "median_s": statistics.median(r["first_frame_s"] for r in runs),
        "min_s": min(r["first_frame_s"] for r in runs),
        "max_s": max(r["first_frame_s"] for r in runs),
        "median_parts_s": {p: statistics.median(r[p] for r in runs) for p in parts},
        "runs": runs,
    }


# --- main -------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--idle-seconds",
        type=float,
        default=30.0,
        help="how long idle CPU is sampled, per program [30]",
    )
    parser.add_argument("--runs", type=int, default=5, help="timed startups per program [5]")
    parser.add_argument(
        "--settle-seconds",
        type=float,
        default=2.0,
        help="wait after the first frame before the idle sampling starts [2]",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="longest wait for a first frame, in seconds [60]",
    )
    parser.add_argument(
        "--bare-async",
        action="store_true",
        help="run the bare app on asyncio with App.async_run, as the kiosk runs (default: App.run)",
    )
    parser.add_argument(
        "--no-import-profile",
        action="store_true",
        help="skip the python -X importtime start of each program",
    )
    add_output_options(parser, RESULTS_FILE)
    args = parser.parse_args(argv)
    if args.runs < 1 or args.idle_seconds < 0 or args.settle_seconds < 0 or args.timeout <= 0:
        parser.error("--runs must be at least 1; times must not be negative")
    return args


def run(args: argparse.Namespace, children: Children, workdir: Path) -> dict[str, Any]:
    try:
        results = measure(args, children, workdir)
    finally:
        left = end_leftovers(workdir)
    results["left_running"] = left
    return results


def measure(args: argparse.Namespace, children: Children, workdir: Path) -> dict[str, Any]:
    results: dict[str, Any] = {
        **bench_header(),
        "settings": {
            "runs": args.runs,
            "idle_seconds": args.idle_seconds,
            "settle_seconds": args.settle_seconds,
            "bare_app": "App.async_run on asyncio" if args.bare_async else "App.run",
            "bytecode": "the project's modules compiled before the runs, as an install does",
        },
        "goals": {
            "startup_ratio_max": GOAL_STARTUP_RATIO,
            "idle_cpu_percent_max": GOAL_IDLE_CPU_PERCENT,
            "idle_rss_mib_max": GOAL_IDLE_RSS_MIB,
        },
    }
    display, xvfb_pid, results["display"] = open_display(children, workdir)
    print(
        f"display {display}{' (own Xvfb ' + SCREEN + ')' if xvfb_pid else ''}; logs in {workdir}",
        flush=True,
    )
    kiosk, bare = progs = programs(workdir, display, bare_async=args.bare_async)

    compile_packages()
    # Warm-up: the OS file cache, Kivy's config.ini, the kiosk's database.
    first: dict[str, Any]
    try:
        first = {"ok": True, **time_startup(children, kiosk, workdir, "kiosk-warmup", args.timeout)}
    except BenchError as error:
        first = {"ok": False, "error": str(error)}
        print(f"kiosk warm-up on an empty data folder failed, trying again: {error}", flush=True)
        time_startup(children, kiosk, workdir, "kiosk-warmup-2", args.timeout)
    first["cloud_settled"] = let_the_demo_settle(children, kiosk, workdir, args.timeout)
    time_startup(children, bare, workdir, "bare-warmup", args.timeout)

    for index in range(args.runs):
        for program in progs:  # interleaved: A B A B ...
            figures = time_startup(
                children, program, workdir, f"{program.key}-{index + 1}", args.timeout
            )
            program.runs.append(figures)
            print(
                f"  startup {index + 1}/{args.runs} {program.label:<9} "
                f"{figures['first_frame_s']:.3f} s",
                flush=True,
            )
    startup = {p.key: summarise(p.runs) for p in progs}
    startup["ratio"] = startup["kiosk"]["median_s"] / startup["bare"]["median_s"]
    startup["kiosk_first_start"] = first
    results["startup"] = startup

    if args.idle_seconds > 0:
        results["idle"] = {}
        for program in progs:
            print(
                f"  idle {program.label}: {args.settle_seconds:g} s settling, then "
                f"{args.idle_seconds:g} s sampling",
                flush=True,
            )
            results["idle"][program.key] = measure_idle(
                children,
                program,
                workdir,
                idle_s=args.idle_seconds,
                settle_s=args.settle_seconds,
                timeout_s=args.timeout,
                xvfb_pid=xvfb_pid,
            )

    if not args.no_import_profile:
        results["import_ms"] = {
            p.key: import_profile(children, p, workdir, args.timeout) for p in (kiosk, bare)
        }
    return results


def main(argv: list[str] | None = None) -> int:
    return orchestrate("startup", parse_args(argv), run, print_table)


if __name__ == "__main__":
    sys.exit(main())
