"""bench/visit.py's third side: a visit between two kiosks that draw their screens.

Each kiosk is the real app on an Xvfb of its own, in a process of its own, with its call in a
process of its own (``tests/drawn_visit.py``, as the tests hold such a visit): what a person
at either kiosk sees, measured at every frame its screen draws. With ``hog``, a process takes
a whole core for the measured window, as an update installing would.

Figures, per kiosk (named for the screen, "housing" shows the lobby's camera):

* both present -> first picture on the glass: from the later of the two joins (the visitor
  checked in, the resident's handset lifted) to the first frame drawn with the other side's
  picture;
* the picture's age on the glass at every frame drawn (wall clock minus the other camera's
  time code; one machine, one clock): median, p95, worst;
* pictures shown a second (distinct pictures drawn) and frames drawn a second;
* CPU of the kiosk, its screen's process and its call's process, in % of one core.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import percentile

from tests.calls.test_visit_between_kiosks import publish_facility
from tests.drawn_visit import DrawnKiosk, ScreenReport, xvfb

FIRST_PICTURE_TIMEOUT_S = 90.0


def screens_visit(seconds: float, settle_s: float, hog: bool) -> dict[str, Any]:
    from cloudsim.broker import LocalBroker
    from cloudsim.sim import CloudSim
    from tests.facility_cloud import FACILITY

    workdir = Path(tempfile.mkdtemp(prefix="kiosk-bench-screens-"))
    with LocalBroker(workdir / "broker") as broker:
        cloud = CloudSim(broker.url, FACILITY, approve_delay=0, session_expiry_s=3600)
        cloud.start()
        try:
            publish_facility(cloud, ends_in_s=seconds + settle_s + 240)
            with xvfb() as housing_display, xvfb() as lobby_display:
                kiosks = {
                    "housing": DrawnKiosk(
                        "hu-01", "housing", workdir / "hu-01", broker.url, housing_display
                    ),
                    "lobby": DrawnKiosk(
                        "lobby-01", "lobby", workdir / "lobby-01", broker.url, lobby_display
                    ),
                }
                try:
                    return _measure(kiosks, seconds, settle_s, hog)
                finally:
                    for kiosk in kiosks.values():
                        if kiosk.process.is_alive():
                            kiosk.end()
        finally:
            cloud.stop()


def _measure(
    kiosks: dict[str, DrawnKiosk], seconds: float, settle_s: float, hog: bool
) -> dict[str, Any]:
    deadline = time.monotonic() + FIRST_PICTURE_TIMEOUT_S
    while not all(_first_picture(k) for k in kiosks.values()):
        if time.monotonic() > deadline:
            raise RuntimeError(f"no picture on both screens: {[k.latest for k in kiosks.values()]}")
        time.sleep(0.1)
    time.sleep(settle_s)
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if hog else None
    try:
        before = {name: k.latest for name, k in kiosks.items()}
        marks = {name: len(k.reports) for name, k in kiosks.items()}
        started = time.monotonic()
        time.sleep(seconds)
        wall = time.monotonic() - started
        after = {name: k.latest for name, k in kiosks.items()}
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()
    both_present = max(k.reports[-1].joined_at or 0.0 for k in kiosks.values())
    sides = {}
    for name, kiosk in kiosks.items():
        during = kiosk.reports[marks[name] :]
        sides[name] = _side(during, before[name], after[name], wall, both_present)
    return {"sides": sides, "wall_s": wall, "hog": hog}


def _first_picture(kiosk: DrawnKiosk) -> bool:
    latest = kiosk.latest
    return latest is not None and latest.first_picture_at is not None


def _side(
    during: list[ScreenReport],
    before: ScreenReport,
    after: ScreenReport,
    wall: float,
    both_present: float,
) -> dict[str, Any]:
    ages = [age for report in during for age in report.ages_ms]
    span = len(during) or 1  # a report a second
    screen_cpu = after.cpu_s - before.cpu_s
    call_cpu = after.call.get("process_cpu_s", 0.0) - before.call.get("process_cpu_s", 0.0)
    return {
        "first_picture_s": (after.first_picture_at or 0.0) - both_present,
        "age_ms": {
            "n": len(ages),
            "median": statistics.median(ages) if ages else None,
            "p95": percentile(ages, 0.95) if ages else None,
            "max": max(ages) if ages else None,
        },
        "pictures_per_s": sum(r.pictures for r in during) / span,
        "frames_per_s": sum(r.frames for r in during) / span,
        "cpu_percent": (screen_cpu + call_cpu) / wall * 100,
        "screen_cpu_percent": screen_cpu / wall * 100,
        "call_cpu_percent": call_cpu / wall * 100,
        "reconnects": after.call.get("stalls"),
        "longest_silence_ms": round(after.call.get("longest_silence_s", 0.0) * 1000, 1),
        "phases": after.phases,
    }


def screen_figures(result: dict[str, Any]) -> dict[str, float | None]:
    sides = list(result["sides"].values())
    return {
        "first_picture_worse_s": max(s["first_picture_s"] for s in sides),
        "age_median_worse_ms": max(s["age_ms"]["median"] or 0 for s in sides),
        "age_p95_worse_ms": max(s["age_ms"]["p95"] or 0 for s in sides),
        "age_max_worse_ms": max(s["age_ms"]["max"] or 0 for s in sides),
        "pictures_per_s_a": sides[0]["pictures_per_s"],
        "pictures_per_s_b": sides[1]["pictures_per_s"],
        "cpu_percent_a": sides[0]["cpu_percent"],
        "cpu_percent_b": sides[1]["cpu_percent"],
        "screen_cpu_percent_a": sides[0]["screen_cpu_percent"],
        "call_cpu_percent_a": sides[0]["call_cpu_percent"],
        "longest_silence_worse_ms": max(s["longest_silence_ms"] for s in sides),
        "reconnects": sum(s["reconnects"] or 0 for s in sides),
    }
