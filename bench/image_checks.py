"""The lobby's still checks on a 1280x720 frame, against bare OpenCV calls on the same frame.

    python bench/image_checks.py [--runs 30] [--width 1280] [--height 720]

Frames come from ``hardware.simulated.scenes`` (a face, an ID card), so every run measures
the same pixels. Each call is timed ``--runs`` times after two warm-up calls, interleaved
(check, baseline, check, baseline, ...) so that a busy moment on a shared machine hits both;
median and p95 of each, and the ratio of medians:

* face check: ``check_face_photo`` (grayscale, shrink to 640 wide, equalise, Haar cascade)
  against a bare ``cv2.cvtColor`` + ``cv2.resize`` to 640 wide, the floor every check pays;
* document check: ``check_document_photo`` (grayscale, shrink, near-white share, Laplacian
  variance) against the same floor;
* capture: ``encode_jpeg`` against a bare ``cv2.imencode`` at quality 85.

The lobby's budget is 150 ms a still. Figures also go to bench/results/image_checks.json.
One thread, one detector: what one capture worker does.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
if str(REPO_DIR) not in sys.path:
    sys.path.insert(0, str(REPO_DIR))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from av import VideoFrame  # noqa: E402
from harness import percentile  # noqa: E402

from hardware.simulated.scenes import document_scene, face_scene  # noqa: E402
from kiosk.calls.face_gate import blur  # noqa: E402
from kiosk.imaging import (  # noqa: E402
    FaceDetector,
    check_document_photo,
    check_face_photo,
    encode_jpeg,
)

RESULTS_FILE = BENCH_DIR / "results" / "image_checks.json"
BUDGET_MS = 150.0
WARMUP = 2


def timed_pair(
    check: Callable[[], object], baseline: Callable[[], object], runs: int
) -> tuple[list[float], list[float]]:
    """Milliseconds of ``check`` and ``baseline``, called in turn ``runs`` times."""
    for _ in range(WARMUP):
        check()
        baseline()
    check_ms: list[float] = []
    baseline_ms: list[float] = []
    for _ in range(runs):
        for call, into in ((check, check_ms), (baseline, baseline_ms)):
            start = time.perf_counter()
            call()
            into.append((time.perf_counter() - start) * 1000)
    return check_ms, baseline_ms


def summary(values: list[float]) -> dict[str, float]:
    return {"median_ms": statistics.median(values), "p95_ms": percentile(values, 0.95)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="timed calls of each [30]")
    parser.add_argument("--width", type=int, default=1280, help="frame width [1280]")
    parser.add_argument("--height", type=int, default=720, help="frame height [720]")
    args = parser.parse_args(argv)

    face = face_scene(args.width, args.height, faces=1)
    vga = face_scene(640, 480, faces=1)  # a visit's outgoing picture
    card = document_scene(args.width, args.height)
    detector = FaceDetector()
    # The check's verdicts, so a fast but wrong check does not pass unnoticed.
    verdicts = {
        "face": check_face_photo(face, detector).problem or "ok",
        "document": check_document_photo(card).problem or "ok",
    }
    work_size = (640, round(args.height * 640 / args.width))

    def floor(image: np.ndarray) -> Callable[[], object]:
        return lambda: cv2.resize(
            cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), work_size, interpolation=cv2.INTER_AREA
        )

    cases = {
        "face check": (lambda: check_face_photo(face, detector), floor(face), "cvtColor+resize"),
        "document check": (lambda: check_document_photo(card), floor(card), "cvtColor+resize"),
        "capture JPEG": (
            lambda: encode_jpeg(face),
            lambda: cv2.imencode(".jpg", face, [cv2.IMWRITE_JPEG_QUALITY, 85]),
            "cv2.imencode q85",
        ),
        # The no-face policy (kiosk/calls/face_gate.py): the blur, on every outgoing frame of a
        # visit while it is on, against the conversion every frame goes through anyway.
        "no-face blur VGA": (
            lambda: blur(vga),
            lambda: VideoFrame.from_ndarray(vga, format="bgr24").reformat(format="yuv420p"),
            "frame to yuv420p",
        ),
        "face check VGA": (
            lambda: detector.count(vga),
            floor(vga),
            "cvtColor+resize",
        ),
    }
    print(
        f"image checks on a {args.width}x{args.height} still, {args.runs} runs each "
        f"(OpenCV {cv2.__version__}, {cv2.getNumThreads()} threads); "
        f"verdicts: face {verdicts['face']}, document {verdicts['document']}"
    )
    print(f"{'':16}{'median ms':>10}{'p95 ms':>9}   {'baseline':18}{'median ms':>10}"
          f"{'p95 ms':>9}{'ratio':>8}")  # fmt: skip
    results: dict[str, Any] = {
        "size": [args.width, args.height],
        "runs": args.runs,
        "opencv": cv2.__version__,
        "verdicts": verdicts,
        "budget_ms": BUDGET_MS,
        "cases": {},
    }
    for name, (check, baseline, baseline_name) in cases.items():
        check_ms, baseline_ms = timed_pair(check, baseline, args.runs)
        c, b = summary(check_ms), summary(baseline_ms)
        ratio = c["median_ms"] / b["median_ms"]
        results["cases"][name] = {"check": c, "baseline": baseline_name, "baseline_ms": b,
                                  "ratio_of_medians": ratio}  # fmt: skip
        print(
            f"{name:16}{c['median_ms']:10.2f}{c['p95_ms']:9.2f}   {baseline_name:18}"
            f"{b['median_ms']:10.2f}{b['p95_ms']:9.2f}{ratio:8.1f}"
        )
    worst = max(results["cases"][n]["check"]["p95_ms"] for n in ("face check", "document check"))
    verdict = "met" if worst <= BUDGET_MS else "MISSED"
    print(f"slowest check p95 {worst:.1f} ms; budget {BUDGET_MS:.0f} ms a still: {verdict}")

    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nfigures in {RESULTS_FILE.relative_to(REPO_DIR)}")
    return 0 if verdicts == {"face": "ok", "document": "ok"} else 1


if __name__ == "__main__":
    sys.exit(main())
