"""The encrypted store against the plain one, in one run: the fleet and the session.

    python bench/store_compare.py [--pairs 2] [--kiosks 200] [--fleet-pairs N]

Runs ``bench/fleet.py`` and ``bench/session.py`` with ``--store encrypted`` and ``--store
plain`` alternately (encrypted, plain, encrypted, plain...), ``--pairs`` times each, so that
both stores meet the same machine in the same minutes. Each of those runs measures its own
bare baseline (paho clients for the fleet, a bare Kivy app for the session); the table gives,
per figure, the medians on each store and two ratios: encrypted / plain as measured, and the
same after dividing each run by its own baseline (what the machine's mood between runs does
not move). The fleet's run is short and its p95 moves with the machine's mood from one run to
the next: ``--fleet-pairs`` gives it more pairs than the session. The outbox drain compares
the stores inside one process of its own (``bench/outbox_drain.py``). Figures also go to
bench/results/store_compare.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
RESULTS_FILE = BENCH / "results" / "store_compare.json"

# (figure, label): where each is read from the runs' results.
FLEET = (
    ("p95_ms", "fleet of {kiosks}: schedule applied, p95"),
    ("cpu_s", "fleet of {kiosks}: its CPU for a round"),
)
SESSION = (
    ("sign_in", "sign-in -> inbox (10,000 messages), median"),
    ("open_message", "open a message, median"),
    ("key", "key -> character drawn, p95"),
)


def fleet_run(store: str, kiosks: int) -> dict[str, float]:
    subprocess.run(
        [sys.executable, str(BENCH / "fleet.py"), "--kiosks", str(kiosks), "--store", store],
        check=True,
    )
    runs = json.loads((BENCH / "results" / "fleet.json").read_text())["runs"]
    key = f"{kiosks} kiosks, 1 process(es)" + ("" if store == "encrypted" else f", {store} store")
    summary = runs[key]["summary"]
    return {
        "p95_ms": summary["kiosk"]["p95_ms"],
        "p95_ms_baseline": summary["bare"]["p95_ms"],
        # The fleet's own CPU for one round: what the store costs, less moved by the machine's
        # mood than the p95, which is 200 kiosks queueing behind one GIL.
        "cpu_s": summary["kiosk"]["cpu_s"],
        "cpu_s_baseline": summary["bare"]["cpu_s"],
    }


def session_run(store: str, folder: Path) -> dict[str, float]:
    output = folder / f"session-{store}.json"
    subprocess.run(
        [sys.executable, str(BENCH / "session.py"), "--store", store, "--output", str(output)],
        check=True,
    )
    figures = json.loads(output.read_text())["analysis"]["figures"]
    found: dict[str, float] = {}
    for name, _label in SESSION:
        figure = figures[name]
        found[name] = figure["kiosk"][figure["stat"]]
        found[f"{name}_baseline"] = figure["baseline"][figure["stat"]]
    return found


def compare(runs: dict[str, list[dict[str, float]]], name: str) -> dict[str, float]:
    """Medians on each store, and the ratios as measured and against each run's baseline."""
    enc = [run[name] for run in runs["encrypted"]]
    plain = [run[name] for run in runs["plain"]]
    enc_rel = [run[name] / run[f"{name}_baseline"] for run in runs["encrypted"]]
    plain_rel = [run[name] / run[f"{name}_baseline"] for run in runs["plain"]]
    return {
        "encrypted_ms": statistics.median(enc),
        "plain_ms": statistics.median(plain),
        "ratio": statistics.median(enc) / statistics.median(plain),
        "ratio_to_baselines": statistics.median(enc_rel) / statistics.median(plain_rel),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=2, help="runs on each store, each [2]")
    parser.add_argument("--kiosks", type=int, default=200, help="the fleet's size [200]")
    parser.add_argument(
        "--fleet-pairs", type=int, default=None, help="the fleet's runs on each store [--pairs]"
    )
    args = parser.parse_args(argv)
    fleet_pairs = args.fleet_pairs if args.fleet_pairs is not None else args.pairs
    fleet: dict[str, list[dict[str, float]]] = {"encrypted": [], "plain": []}
    session: dict[str, list[dict[str, float]]] = {"encrypted": [], "plain": []}
    with tempfile.TemporaryDirectory(prefix="store-compare-") as tmp:
        folder = Path(tmp)
        for number in range(max(args.pairs, fleet_pairs)):
            for store in ("encrypted", "plain"):
                if number < fleet_pairs:
                    fleet[store].append(fleet_run(store, args.kiosks))
                if number < args.pairs:
                    session[store].append(session_run(store, folder))
    table = {}
    if fleet_pairs:
        table.update({label.format(kiosks=args.kiosks): compare(fleet, n) for n, label in FLEET})
    if args.pairs:
        table.update({label: compare(session, name) for name, label in SESSION})
    print(
        f"\nThe encrypted store against the plain one, alternated: {fleet_pairs} fleet and "
        f"{args.pairs} session run(s) on each"
    )
    print(f"{'':46}{'encrypted':>11}{'plain':>9}{'ratio':>8}{'vs baselines':>14}")
    for label, row in table.items():
        unit = "s" if "CPU" in label else "ms"
        places = 2 if unit == "s" else 0
        print(
            f"{label:46}{row['encrypted_ms']:9.{places}f}{unit:<2}{row['plain_ms']:7.{places}f}"
            f"{unit:<2}{row['ratio']:8.2f}{row['ratio_to_baselines']:14.2f}"
        )
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(
        json.dumps(
            {"pairs": args.pairs, "table": table, "fleet": fleet, "session": session}, indent=2
        )
        + "\n"
    )
    print(f"\nwritten to {RESULTS_FILE.relative_to(BENCH.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
