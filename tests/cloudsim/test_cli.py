"""The simulator's command as a process: ``python -m cloudsim``, and ``kiosk-cloudsim``
(demo.cloud_cli) with the demo facility. Its own broker, signals, stdin."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kiosk.contract import builders
from tests.cloudsim.fake_kiosk import FakeKiosk
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]


class Process:
    """The simulator's process, its stdout read line by line on a thread."""

    def __init__(self, *args: str, stdin: int, module: str = "cloudsim") -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        self.popen = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=ROOT,
            env=env,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.lines.put(line.rstrip("\n"))

    def expect(self, pattern: str, timeout: float = 10.0) -> re.Match[str]:
        """The next line matching ``pattern`` (the lines before it are passed over)."""

        def matching_line() -> re.Match[str] | None:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                return None
            self.seen.append(line)
            return re.search(pattern, line)

        return wait_until(
            matching_line,
            timeout,
            lambda: f"a line matching {pattern!r}; output so far: {self.seen}",
            every=0,
        )

    def terminate(self) -> int:
        self.popen.send_signal(signal.SIGTERM)
        return self.popen.wait(timeout=10)

    def all_output(self) -> list[str]:
        """Every line, once the process has ended."""
        self._reader.join(timeout=5)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return self.seen


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    started: list[Process] = []
    yield started
    for process in started:
        if process.popen.poll() is None:
            process.popen.kill()
            process.popen.wait()


def test_runs_with_its_own_broker_without_stdin_and_exits_0_on_sigterm(processes):
    process = Process(
        "--start-broker", "--seed-demo", stdin=subprocess.DEVNULL, module="demo.cloud_cli"
    )
    processes.append(process)

    url = process.expect(r"broker (mqtt://127\.0\.0\.1:(\d+))")
    process.expect(r"ready")
    kiosk = FakeKiosk(int(url.group(2)), "demo", "demo-hu-01")
    try:
        retained = {kind for kind, _, _ in kiosk.take(3)}
        # The demo's messages go out once the housing kiosk says it is online.
        birth = builders.status(
            "online", "connected", "0.1.0", "housing", datetime.now(UTC), "Housing B"
        )
        kiosk.publish("status", birth, retain=True)
        inbox = [payload for kind, payload, _ in kiosk.take(2) if kind == "inbox"]
    finally:
        kiosk.close()
    # Nothing to wait for: had the end of stdin stopped it, it would have stopped by now.
    time.sleep(0.3)

    assert process.popen.poll() is None
    assert retained == {"config", "schedule", "residents"}
    assert [m["inmate_id"] for m in inbox] == ["A1024", "A2048"]
    assert process.terminate() == 0
    process.expect(r"stopped")


def test_commands_on_stdin_then_eof_keeps_it_running(processes):
    process = Process("--start-broker", "--approve-delay", "0", stdin=subprocess.PIPE)
    processes.append(process)
    url = process.expect(r"broker mqtt://127\.0\.0\.1:(\d+)")
    process.expect(r"ready")
    kiosk = FakeKiosk(int(url.group(1)), "demo", "demo-hu-01")
    assert process.popen.stdin is not None
    try:
        process.popen.stdin.write(
            "message demo-hu-01 A1024 private words\n"
            'command demo-hu-01 lock {"reason": "count"}\n'
            "bogus\n"
            "notice lockdown Facility lockdown\n"
        )
        process.popen.stdin.close()
        got = {kind: payload for kind, payload, _ in kiosk.take(3)}
    finally:
        kiosk.close()

    assert got["inbox"]["body"] == "private words"
    assert (got["cmd"]["name"], got["cmd"]["args"]) == ("lock", {"reason": "count"})
    assert (got["notice"]["severity"], got["notice"]["text"]) == ("lockdown", "Facility lockdown")
    process.expect(r"unknown command 'bogus'")
    assert process.popen.poll() is None
    assert process.terminate() == 0
    output = process.all_output()
    assert output[-1] == "stopped"
    assert any("inbox message" in line and "(13 chars" in line for line in output)
    assert not any("private words" in line or "Facility lockdown" in line for line in output)
