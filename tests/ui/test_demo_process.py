"""The README's demo command, as a newcomer runs it: a real process with a real window."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiosk.store.database import connect
from tests.waiting import wait_until

pytestmark = pytest.mark.ui


class DemoProcess:
    """``kiosk run --demo`` in a process of its own, its output kept."""

    def __init__(self, display: str, data: Path, *args: str) -> None:
        env = {**os.environ, "DISPLAY": display, "HOME": str(data), "XDG_DATA_HOME": str(data)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "launch", "run", "--demo", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []

    def wait_for_main_loop(self) -> None:
        def main_loop_started() -> bool:
            line = self.process.stdout.readline()
            assert line, f"the demo ended before its main loop:\n{self.log}"
            self.lines.append(line)
            return "Start application main loop" in line

        wait_until(main_loop_started, 60, lambda: f"its main loop:\n{self.log}", every=0)

    def wait_for_line(self, containing: str, timeout: float = 60) -> str:
        def seen() -> bool:
            line = self.process.stdout.readline()
            assert line, f"the demo ended before saying {containing!r}:\n{self.log}"
            self.lines.append(line)
            return containing in line

        wait_until(seen, timeout, lambda: f"{containing!r} in:\n{self.log}", every=0)
        return self.lines[-1]

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def stop(self) -> str:
        """SIGTERM, as systemd stops it; the whole output once it has ended."""
        try:
            self.process.send_signal(signal.SIGTERM)
            out, _ = self.process.communicate(timeout=20)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        self.lines.append(out)
        return self.log


@pytest.mark.parametrize("role", ["housing", "lobby"])
def test_demo_kiosk_starts_draws_and_stops_cleanly_on_sigterm(display, tmp_path, role):
    demo = DemoProcess(display, tmp_path, "--role", role)
    try:
        demo.wait_for_main_loop()
        time.sleep(1.0)  # a few frames of the idle screen: it must still be running after them
        assert demo.process.poll() is None, demo.log
    finally:
        log = demo.stop()
    assert demo.process.returncode == 0, log
    assert "Traceback" not in log
    database = tmp_path / "kiosk-demo" / role / "kiosk.sqlite3"
    assert database.exists()


def schedule_version(database: Path) -> int | None:
    """The version of the schedule the kiosk holds, read beside it as an operator would."""
    with contextlib.closing(connect(database, timeout=10)) as conn:
        row = conn.execute("SELECT version FROM snapshots WHERE kind = 'schedule'").fetchone()
    return None if row is None else row[0]


def test_a_restarted_demo_moves_its_visits_to_the_new_start_once_drawn(display, tmp_path):
    """A restart first shows the facility it kept, as any kiosk does; the demo's schedule,
    delivered anew so that its visit begins 25 minutes from now again, follows its first frame
    (the check against the contract would have delayed that frame)."""
    database = tmp_path / "kiosk-demo" / "housing" / "kiosk.sqlite3"
    first = DemoProcess(display, tmp_path, "--offline")
    try:
        first.wait_for_main_loop()
    finally:
        log = first.stop()
    assert first.process.returncode == 0, log
    kept = schedule_version(database)
    assert kept is not None, "a first start delivers the schedule before its first frame"
    # The demo versions its schedule in seconds: the restart's must be able to be newer.
    wait_until(lambda: time.time() >= kept + 1, 5.0, "the next second")

    again = DemoProcess(display, tmp_path, "--offline")
    try:
        again.wait_for_main_loop()
        wait_until(
            lambda: (schedule_version(database) or 0) > kept, 30.0, "the schedule delivered anew"
        )
        assert again.process.poll() is None, again.log
    finally:
        log = again.stop()
    assert again.process.returncode == 0, log
    assert "Traceback" not in log


def test_the_demo_gives_a_newcomer_the_family_page_of_its_remote_visit(display, tmp_path):
    """``make demo VISIT_IN=10``: the log gives the family's page; opened in a browser (here
    Chromium), it is the demo's remote visit, its window open, waiting for the resident."""
    from tests.family_browser import FamilyBrowser

    demo = DemoProcess(display, tmp_path, "--visit-in", "10")
    try:
        demo.wait_for_main_loop()
        line = demo.wait_for_line("Open the family's page")
        link = line.rsplit(" ", 1)[-1].strip()
        assert link.startswith("http://127.0.0.1:") and link.endswith("?code=RA2026"), line
        assert "R. Alvarez joins from home in 10 minutes" in line
        with FamilyBrowser() as browser:
            browser.open(link)
            browser.until(
                lambda b: b.text("status") == "Waiting for M. Alvarez to join…",
                20.0,
                "the visit waiting for the resident",
            )
            assert browser.text("title") == "Video visit with M. Alvarez"
            # Her visit begins 10 minutes from the demo's start (on the minute), 30 long.
            assert browser.text("time-left").startswith("Your visit begins at ")
        assert demo.process.poll() is None, demo.log
    finally:
        log = demo.stop()
    assert demo.process.returncode == 0, log
    assert "Traceback" not in log
