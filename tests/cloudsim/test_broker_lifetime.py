"""A Mosquitto started by LocalBroker ends with the process that started it, even a SIGKILLed one.

Both starters are real processes: a demo kiosk (``kiosk run --demo --headless``, whose broker
is started by a short-lived thread), and a bare process that starts a LocalBroker from a thread
that ends at once.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from cloudsim.broker import LocalBroker
from tests.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]
WAIT_S = 30.0


@pytest.fixture(autouse=True)
def mosquitto_installed() -> None:
    """Like the sync tests: a missing broker fails, it is not a pass."""
    if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
        pytest.fail("mosquitto is not installed (apt-get install mosquitto)")


def running(pid: int, marker: str) -> bool:
    """Whether ``pid`` is a live process (not a zombie left for init) whose command line
    names ``marker`` (so a recycled pid is not mistaken for it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    state = stat[stat.rindex(")") + 2]
    return state not in "ZX" and marker in cmdline


def mosquittos(parent: int | None = None, marker: str = "") -> list[int]:
    """The Mosquitto processes whose parent is ``parent`` (any when None) and whose command
    line names ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        if parent in (None, ppid) and "mosquitto" in cmdline and marker in cmdline:
            found.append(int(entry.name))
    return found


def accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), 0.5).close()
    except OSError:
        return False
    return True


@pytest.fixture
def processes(tmp_path: Path):
    """Every process a test starts, SIGKILLed at its end if it is still there; so is a
    Mosquitto of this test's that a failing test left behind."""
    started: list[subprocess.Popen] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    for pid in mosquittos(marker=str(tmp_path)):
        if running(pid, str(tmp_path)):
            os.kill(pid, signal.SIGKILL)


def test_a_sigkilled_demo_kiosk_takes_its_mosquitto_with_it(tmp_path: Path, processes) -> None:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path), "PYTHONPATH": str(REPO)}
    kiosk = subprocess.Popen(
        [sys.executable, "-m", "launch", "run", "--demo", "--headless"],
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    processes.append(kiosk)
    broker_pid = wait_until(lambda: mosquittos(kiosk.pid), WAIT_S, "the demo kiosk's Mosquitto")[0]
    marker = str(tmp_path)
    assert running(broker_pid, marker)

    kiosk.send_signal(signal.SIGKILL)
    kiosk.wait(10)

    wait_until(lambda: not running(broker_pid, marker), WAIT_S, "Mosquitto gone after its kiosk")


def test_a_broker_started_by_a_thread_that_ended_lives_until_its_process_is_killed(
    tmp_path: Path, processes
) -> None:
    starter = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, threading\n"
            "from pathlib import Path\n"
            "from cloudsim.broker import LocalBroker\n"
            "broker = LocalBroker(Path(sys.argv[1]))\n"
            "thread = threading.Thread(target=broker.start)\n"
            "thread.start(); thread.join()\n"
            "print(broker.port, broker.process.pid, flush=True)\n"
            "sys.stdin.read()\n",
            str(tmp_path / "broker"),
        ],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    processes.append(starter)
    port, broker_pid = (int(word) for word in starter.stdout.readline().split())
    marker = str(tmp_path)
    # The thread that started it has ended: the broker must still be serving.
    assert running(broker_pid, marker)
    assert accepts(port)

    starter.send_signal(signal.SIGKILL)
    starter.wait(10)

    wait_until(lambda: not running(broker_pid, marker), WAIT_S, "Mosquitto gone after its starter")
    assert not accepts(port)


def test_stop_still_ends_mosquitto_cleanly(tmp_path: Path) -> None:
    broker = LocalBroker(tmp_path / "broker").start()
    pid = broker.process.pid
    broker.stop()
    assert not running(pid, str(tmp_path))
    assert (tmp_path / "broker" / "mosquitto.db").exists()  # SIGTERM: it saved its sessions
