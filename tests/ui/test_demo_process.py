"""The README's demo command, as a newcomer runs it: a real process with a real window."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.waiting import wait_until

pytestmark = pytest.mark.ui


@pytest.mark.parametrize("role", ["housing", "lobby"])
def test_demo_kiosk_starts_draws_and_stops_cleanly_on_sigterm(display, tmp_path, role):
    env = {**os.environ, "DISPLAY": display, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "launch", "run", "--demo", "--role", role],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = []

    def main_loop_started() -> bool:
        line = process.stdout.readline()
        assert line, f"the demo ended before its main loop:\n{''.join(lines)}"
        lines.append(line)
        return "Start application main loop" in line

    try:
        wait_until(main_loop_started, 60, lambda: f"its main loop:\n{''.join(lines)}", every=0)
        time.sleep(1.0)  # a few frames of the idle screen: it must still be running after them
        assert process.poll() is None, "".join(lines)
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    log = "".join(lines) + out
    assert process.returncode == 0, log
    assert "Traceback" not in log
    database = tmp_path / "kiosk-demo" / role / "kiosk.sqlite3"
    assert database.exists()
