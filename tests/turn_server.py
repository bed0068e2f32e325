"""A real TURN relay for the tests: Debian's coturn on loopback, one long-term user.

It is what a facility whose firewall lets no direct UDP out gives its kiosks: the calls then
go through it, relayed both ways. Started on free ports; everything it relays stays on 127.0.0.1
(``allow-loopback-peers``, which a real relay would never set).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
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


@contextlib.contextmanager
def line_cut(turn: TurnServer) -> Iterator[None]:
    """Everything between this relay and its clients dropped until the block ends: a cut on
    their side of the network (a kiosk whose relay is not the family's loses its line alone).
    An nftables table of its own, taken away after."""
    table = f"kiosk_cut_{os.getpid()}_{turn.port}"

    def nft(*command: str) -> None:
        subprocess.run(["nft", *command], check=True, capture_output=True)

    nft("add", "table", "inet", table)
    try:
        nft("add", "chain", "inet", table, "out",
            "{ type filter hook output priority 0; policy accept; }")  # fmt: skip
        nft("add", "rule", "inet", table, "out", "udp", "dport", str(turn.port), "drop")
        nft("add", "rule", "inet", table, "out", "udp", "sport", str(turn.port), "drop")
        yield
    finally:
        subprocess.run(["nft", "delete", "table", "inet", table], capture_output=True)
