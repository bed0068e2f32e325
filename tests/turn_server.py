"""A real TURN relay for the tests: Debian's coturn on loopback, one long-term user.

It is what a facility whose firewall lets no direct UDP out gives its kiosks: the calls then
go through it, relayed both ways. Started on free ports; everything it relays stays on 127.0.0.1
(``allow-loopback-peers``, which a real relay would never set).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from cloudsim.broker import free_port

USER, PASSWORD, REALM = "kiosk", "turn-test-secret", "facility.test"


class TurnServer:
    """``turnserver`` listening on 127.0.0.1; a context manager."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.log_path = workdir / "turnserver.log"
        self._process: subprocess.Popen | None = None

    @property
    def ice_server(self) -> dict[str, object]:
        """As the cloud's config names it (the contract's extension)."""
        return {
            "urls": [f"turn:127.0.0.1:{self.port}?transport=udp"],
            "username": USER,
            "credential": PASSWORD,
        }

    def __enter__(self) -> TurnServer:
        binary = shutil.which("turnserver")
        if binary is None:
            raise RuntimeError("coturn is not installed (.ci/system-deps installs it)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        relay_low = 40000 + (self.port % 20000)
        self._process = subprocess.Popen(
            [binary, "-n", "-v", "--no-cli", "--no-tls", "--no-dtls", "--fingerprint",
             "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", f"--listening-port={self.port}",
             f"--min-port={relay_low}", f"--max-port={relay_low + 200}",
             "--lt-cred-mech", f"--user={USER}:{PASSWORD}", f"--realm={REALM}",
             "--allow-loopback-peers", "--no-multicast-peers", "--simple-log",
             f"--log-file={self.log_path}", "--pidfile=" + str(self.workdir / "turn.pid"),
             "--userdb=" + str(self.workdir / "turndb")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            listening = subprocess.run(
                ["ss", "-Hlun", f"sport = :{self.port}"], capture_output=True, text=True
            ).stdout
            if listening.strip():
                return self
            if self._process.poll() is not None:
                break
            time.sleep(0.05)
        self.__exit__()
        raise RuntimeError(f"turnserver did not start; its log: {self.log_text()[-2000:]}")

    def __exit__(self, *_exc: object) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def log_text(self) -> str:
        logs = sorted(self.workdir.glob("turnserver*.log"))
        return "".join(path.read_text(errors="replace") for path in logs)
