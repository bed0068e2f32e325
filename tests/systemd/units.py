"""The shipped systemd units as data: read the way systemd reads them, for tests and benchmarks."""

from __future__ import annotations

import re
from pathlib import Path

SYSTEMD_DIR = Path(__file__).resolve().parents[2] / "systemd"
UNITS = (
    "kiosk.service",
    "kiosk-display.service",
    "kiosk-out-of-order.service",
    "kiosk-out-of-order-text.service",
)
EXEC_KEYS = ("ExecStartPre", "ExecStart", "ExecStartPost", "ExecStop", "ExecStopPost")
_UNITS_OF_TIME = {"ms": 0.001, "s": 1.0, "sec": 1.0, "min": 60.0, "m": 60.0, "h": 3600.0}


def read_unit(name: str) -> dict[str, dict[str, list[str]]]:
    """section -> key -> every value given, in order (a key may repeat; continuations joined)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    text = (SYSTEMD_DIR / name).read_text(encoding="utf-8")
    for line in text.replace("\\\n", " ").splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def seconds(value: str) -> float:
    """A systemd time span ("15s", "1min 30s", "500ms", "2") in seconds."""
    total = 0.0
    for number, unit in re.findall(r"([\d.]+)\s*([a-z]*)", value):
        total += float(number) * _UNITS_OF_TIME[unit or "s"]
    return total


def commands(name: str) -> list[str]:
    """The absolute paths of the programs a unit runs (ExecStart= and friends)."""
    found = []
    for key in EXEC_KEYS:
        for value in read_unit(name).get("Service", {}).get(key, []):
            program = value.split()[0].lstrip("-@:+!")
            found.append(program)
    return found
