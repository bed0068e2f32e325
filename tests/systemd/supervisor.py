"""systemd's side of kiosk.service, played on a build machine: the notification socket, and a
supervisor that restarts the kiosk process the way the unit tells systemd to.

``NotifySocket`` is a unix datagram socket bound where NOTIFY_SOCKET points, read in a thread;
like systemd it asks the kernel for each sender's credentials (SO_PASSCRED), so a message is
known to come from the main process (``NotifyAccess=main``).

``Supervisor`` starts a command as systemd starts the unit's ExecStart (the unit's Environment=,
NOTIFY_SOCKET, WATCHDOG_USEC from WatchdogSec=, WATCHDOG_PID the process's own id) and then:
when the process ends, starts it again after RestartSec=; when READY=1 has not come within
TimeoutStartSec=, or WATCHDOG=1 has not come for WatchdogSec= since the last one, sends it
SIGABRT and SIGCONT (systemd's WatchdogSignal= and the SIGCONT it sends after), SIGKILL after
TimeoutAbortSec=, and restarts it the same way. Used by tests/ui/test_watchdog_process.py and
bench/restart.py.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.systemd.units import read_unit, seconds

_CREDENTIALS = struct.Struct("3i")  # struct ucred: pid, uid, gid
POLL_S = 0.02


@dataclass(frozen=True)
class Notification:
    """One message from the process: when it arrived (monotonic and wall clock), from whom."""

    at: float
    wall: float
    pid: int
    message: str

    @property
    def fields(self) -> set[str]:
        return set(self.message.split("\n"))


class NotifySocket:
    """A notification socket at ``path``; every message received is kept, in order."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(str(path))
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self._received: list[Notification] = []
        self._changed = threading.Condition()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._read, name="notify-socket", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._closing.is_set():
            ready, _, _ = select.select([self._sock], [], [], 0.1)
            if not ready:
                continue
            data, ancillary, _flags, _addr = self._sock.recvmsg(
                4096, socket.CMSG_SPACE(_CREDENTIALS.size)
            )
            at, wall = time.monotonic(), time.time()
            pid = 0
            for level, kind, payload in ancillary:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = _CREDENTIALS.unpack(payload[: _CREDENTIALS.size])[0]
            with self._changed:
                self._received.append(Notification(at, wall, pid, data.decode()))
                self._changed.notify_all()

    def received(self, pid: int | None = None, since: float = 0.0) -> list[Notification]:
        """Messages so far (from ``pid`` only, when given) that arrived at or after ``since``."""
        with self._changed:
            return [n for n in self._received if n.at >= since and (pid is None or n.pid == pid)]

    def wait_for(
        self, matches: Callable[[Notification], bool], timeout: float, since: float = 0.0
    ) -> Notification | None:
        """The first message since ``since`` that ``matches``, waiting up to ``timeout`` s."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for n in self._received:
                    if n.at >= since and matches(n):
                        return n
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._changed.wait(left)

    def close(self) -> None:
        self._closing.set()
        self._thread.join(timeout=5)
        self._sock.close()
        self.path.unlink(missing_ok=True)


@dataclass(frozen=True)
class UnitTimes:
    """What kiosk.service tells systemd about time, in seconds, and its Environment=."""

    restart_s: float
    watchdog_s: float
    abort_s: float
    start_timeout_s: float
    environment: Mapping[str, str]

    @classmethod
    def of_kiosk_unit(cls, **overrides: float) -> UnitTimes:
        service = read_unit("kiosk.service")["Service"]
        environment = {}
        for line in service.get("Environment", []):
            for assignment in line.split():
                name, _, value = assignment.partition("=")
                # %C and the like are systemd's specifiers; DISPLAY is the test's own.
                if "%" not in value and name != "DISPLAY":
                    environment[name] = value
        values = {
            "restart_s": seconds(service["RestartSec"][0]),
            "watchdog_s": seconds(service["WatchdogSec"][0]),
            "abort_s": seconds(service["TimeoutAbortSec"][0]),
            "start_timeout_s": seconds(service["TimeoutStartSec"][0]),
            "environment": environment,
        }
        return cls(**{**values, **overrides})


@dataclass
class Event:
    """What the supervisor saw or did: "start", "exit", "watchdog", "start-timeout"; when
    (monotonic and wall clock), to which process, and an exit's status."""

    kind: str
    at: float
    pid: int
    detail: int | None = None
    wall: float = field(default_factory=time.time)


@dataclass
class Supervisor:
    """Keeps ``argv`` running as systemd keeps kiosk.service running (see the module's doc)."""

    argv: list[str]
    env: Mapping[str, str]
    notify: NotifySocket
    times: UnitTimes
    log_dir: Path
    events: list[Event] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @property
    def main(self) -> subprocess.Popen[bytes]:
        return self.processes[-1]

    def start(self) -> None:
        self._spawn()
        self._thread = threading.Thread(target=self._supervise, name="supervisor", daemon=True)
        self._thread.start()

    def ready(
        self, timeout: float, since: float = 0.0, not_pid: int | None = None
    ) -> Notification | None:
        """The first READY=1 since ``since`` from a main process other than ``not_pid``."""

        def matches(n: Notification) -> bool:
            mine = any(p.pid == n.pid for p in self.processes)
            return mine and n.pid != not_pid and "READY=1" in n.fields

        return self.notify.wait_for(matches, timeout, since)

    def stop(self) -> None:
        """Stop supervising, then SIGTERM the process (SIGKILL after the unit's abort time)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        for proc in self.processes:
            _end(proc, grace_s=15)

    def _spawn(self) -> None:
        index = len(self.processes)
        env = {
            **self.env,
            **self.times.environment,
            "NOTIFY_SOCKET": str(self.notify.path),
            "WATCHDOG_USEC": str(round(self.times.watchdog_s * 1_000_000)),
        }
        # systemd sets WATCHDOG_PID to the main process's id; the shell's id is the one the
        # command keeps once the shell execs it.
        argv = ["/bin/sh", "-c", 'WATCHDOG_PID=$$ exec "$@"', "sh", *self.argv]
        with (self.log_dir / f"process-{index}.log").open("wb") as log:
            proc = subprocess.Popen(
                argv,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes.append(proc)
        self.events.append(Event("start", time.monotonic(), proc.pid))

    def _supervise(self) -> None:
        while not self._stop.is_set():
            proc = self.main
            started = self.events[-1].at
            returncode = self._watch(proc, started)
            if returncode is None:  # told to stop
                return
            self.events.append(Event("exit", time.monotonic(), proc.pid, returncode))
            if self._stop.wait(self.times.restart_s):
                return
            self._spawn()

    def _watch(self, proc: subprocess.Popen[bytes], started: float) -> int | None:
        """Until ``proc`` ends (its exit status) or the supervisor is stopped (None); kills it
        on a missed start or a silent watchdog."""
        while not self._stop.is_set():
            returncode = proc.poll()
            if returncode is not None:
                return returncode
            now = time.monotonic()
            heard = self.notify.received(pid=proc.pid, since=started)
            ready = [n for n in heard if "READY=1" in n.fields]
            stopping = any("STOPPING=1" in n.fields for n in heard)
            if not ready and now - started > self.times.start_timeout_s:
                self._kill(proc, "start-timeout")
            elif ready and not stopping:
                pings = [n.at for n in heard if "WATCHDOG=1" in n.fields or "READY=1" in n.fields]
                if now - pings[-1] > self.times.watchdog_s:
                    self._kill(proc, "watchdog")
            time.sleep(POLL_S)
        return None

    def _kill(self, proc: subprocess.Popen[bytes], why: str) -> None:
        self.events.append(Event(why, time.monotonic(), proc.pid))
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGABRT)
            os.kill(proc.pid, signal.SIGCONT)
        try:
            proc.wait(self.times.abort_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def _end(proc: subprocess.Popen[bytes], grace_s: float) -> None:
    """SIGTERM to a child's process group while it is unreaped, SIGKILL after ``grace_s``."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
