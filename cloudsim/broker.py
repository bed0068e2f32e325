"""A Mosquitto broker of our own on a free loopback port, for the demo, the tests and benchmarks."""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path


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
        self.process = subprocess.Popen(
            [binary, "-c", str(self.config_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
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
