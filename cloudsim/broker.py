"""A Mosquitto broker of our own on a free loopback port, for the demo, the tests and benchmarks."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class BrokerUnavailable(RuntimeError):
    """Mosquitto is not installed or would not start."""


class LocalBroker:
    """``mosquitto`` listening on 127.0.0.1 only, persisting sessions under ``workdir``.

    By default one plain listener, anonymous clients welcome. ``listener_config`` replaces those
    two lines with the caller's (listeners, TLS, ``allow_anonymous``, ``acl_file``...; they must
    open ``port`` on 127.0.0.1, which ``start`` waits for), written after the common lines so that
    they may override those too. ``tls`` makes ``url`` an ``mqtts://`` address.
    """

    def __init__(
        self,
        workdir: Path,
        port: int | None = None,
        *,
        listener_config: Sequence[str] | None = None,
        tls: bool = False,
    ) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.listener_config = list(listener_config) if listener_config is not None else None
        self.tls = tls
        self.process: subprocess.Popen[bytes] | None = None
        self._parent_may_end: threading.Event | None = None
        self.config_path = workdir / "mosquitto.conf"
        self.log_path = workdir / "mosquitto.log"

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> LocalBroker:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(binary).exists():
            raise BrokerUnavailable("mosquitto is not installed (apt-get install mosquitto)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        default = self.listener_config is None
        listener = [f"listener {self.port} 127.0.0.1", "allow_anonymous true"]
        self.config_path.write_text(
            "\n".join(
                [
                    *(listener if default else []),
                    # Sessions and queued QoS 1 messages survive a broker restart, as in production.
                    "persistence true",
                    f"persistence_location {self.workdir}/",
                    "autosave_interval 1",
                    # A kiosk offline for a while must find everything queued for it.
                    "max_queued_messages 0",
                    "max_inflight_messages 0",
                    "max_packet_size 33554432",
                    "user root",
                    f"log_dest file {self.log_path}",
                    "log_type error",
                    "log_type warning",
                    *([] if default else self.listener_config),
                    "",
                ]
            )
        )
        self._spawn([binary, "-c", str(self.config_path)])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise BrokerUnavailable(f"mosquitto exited at start: {self._log_tail()}")
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return self
            time.sleep(0.05)
        self.stop()
        raise BrokerUnavailable(f"mosquitto did not listen on {self.port} within {timeout} s")

    def stop(self) -> None:
        """A clean stop: Mosquitto saves its sessions."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self._parent_may_end is not None:
            self._parent_may_end.set()
            self._parent_may_end = None

    def _spawn(self, argv: list[str]) -> None:
        """Start Mosquitto so that it cannot outlive the process that started it.

        A kiosk killed with SIGKILL (or a benchmark's probe ending with os._exit) runs no
        cleanup, so its broker used to stay, holding its port and files. The kernel's
        parent-death signal (prctl PR_SET_PDEATHSIG) covers every way a process can end,
        SIGKILL included, costs no extra process and no polling; a watcher process would
        itself have to be killed with its parent, and a pipe Mosquitto does not read cannot
        tell it anything. Mosquitto gets SIGTERM, so it still saves its sessions.

        The kernel sends that signal when the *thread* that forked ends, not the process, and
        LocalBroker is started from short-lived threads (the demo's starts in its own). So the
        fork is done by a thread of ours that stays parked until ``stop`` has reaped Mosquitto,
        or until the process ends.
        """
        spawned: list[subprocess.Popen[bytes] | BaseException] = []
        ready = threading.Event()
        parent_may_end = threading.Event()
        # util-linux's setpriv makes the call and execs Mosquitto: Python code run between
        # fork and exec (a preexec_fn) makes the child drop the other threads' objects first,
        # and one holding a thread pool of its own (PyAV's picture converter, left by a call)
        # hung the child for good in pthread_cond_destroy.
        setpriv = shutil.which("setpriv")
        if setpriv is not None:
            argv, child_setup = [setpriv, "--pdeathsig", "TERM", "--", *argv], None
        else:
            child_setup = _parent_death_signal(signal.SIGTERM)

        def parent() -> None:
            try:
                spawned.append(
                    subprocess.Popen(
                        argv,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                        preexec_fn=child_setup,
                    )
                )
            except BaseException as error:  # handed to the caller below
                spawned.append(error)
                parent_may_end.set()
            ready.set()
            parent_may_end.wait()

        threading.Thread(target=parent, name=f"mosquitto-{self.port}", daemon=True).start()
        ready.wait()
        if isinstance(spawned[0], BaseException):
            raise spawned[0]
        self.process = spawned[0]
        self._parent_may_end = parent_may_end

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> LocalBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text()[-500:].strip()
        except OSError:
            return "(no log)"


def _parent_death_signal(signum: int) -> Callable[[], None]:
    """What the child runs between fork and exec: ``signum`` when its parent thread ends.

    libc is looked up here, before the fork: the child only makes the call.
    """
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    prctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong)
    prctl.restype = ctypes.c_int
    parent_pid = os.getpid()

    def in_child() -> None:
        if prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        if os.getppid() != parent_pid:
            os._exit(1)  # the parent ended before the signal was armed: nobody wants a broker

    return in_child
