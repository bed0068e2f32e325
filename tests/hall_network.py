"""Two kiosks on a network of their own, and the bad days we put on it.

The test makes three network namespaces: one per kiosk, and the wire between them, which routes
the calls' packets and is where the network goes bad. Every address is in the loopback range
(127.0.2.0/24 and 127.0.3.0/24, routed thanks to ``route_localnet``), so nothing can reach any
other address. The broker stays in the test's own namespace: each kiosk reaches it at its usual
``127.0.0.1`` address through a ``socat`` relay to the broker's Unix socket, so only the media
crosses the wire (the call's signals travel over MQTT as they always do).

The conditions are the ones ``tc netem`` would make, from parts this kernel has: loss from an
nftables ``numgen random`` rule, a rate cap from the ``tbf`` queue, a blackout from an nftables
drop, and delay with jitter from :mod:`tests.delay_line` (this kernel is built without netem).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DELAY_TABLE = "100"


@dataclass(frozen=True)
class Condition:
    """One bad day on the wire, applied both ways."""

    name: str
    loss_percent: int = 0
    delay_ms: int = 0
    jitter_ms: int = 0
    rate_kbit: int = 0
    blackout: bool = False


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


def in_ns(namespace: str, *command: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["ip", "netns", "exec", namespace, *command], check=check, capture_output=True, text=True
    )


def missing_tools() -> list[str]:
    return [tool for tool in ("ip", "tc", "nft", "socat") if shutil.which(tool) is None]


class HallNetwork:
    """The namespaces, the relays to the broker and the wire's conditions; a context manager."""

    def __init__(self, broker_socket: Path, broker_port: int, kiosk_ids: tuple[str, str]):
        tag = f"{os.getpid() % 100000}"
        self.wire = f"kwire{tag}"
        self.kiosks = {kiosk_ids[0]: f"ka{tag}", kiosk_ids[1]: f"kb{tag}"}
        self._sides = {kiosk_ids[0]: ("wa", "127.0.2"), kiosk_ids[1]: ("wb", "127.0.3")}
        self._broker_socket = broker_socket
        self._broker_port = broker_port
        self._relays: list[subprocess.Popen] = []
        self._delay_line: subprocess.Popen | None = None

    def namespace(self, kiosk_id: str) -> str:
        return self.kiosks[kiosk_id]

    def address(self, kiosk_id: str) -> str:
        return f"{self._sides[kiosk_id][1]}.2"

    def __enter__(self) -> HallNetwork:
        missing = missing_tools()
        if missing:
            raise RuntimeError(f"the network tests need {missing} (.ci/system-deps installs them)")
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _build(self) -> None:
        ip("netns", "add", self.wire)
        # Forwarding between 127.x subnets: the kernel treats them as martians otherwise.
        in_ns(self.wire, "sysctl", "-qw", "net.ipv4.ip_forward=1",
              "net.ipv4.conf.all.route_localnet=1", "net.ipv4.conf.all.rp_filter=0")  # fmt: skip
        in_ns(self.wire, "nft", "add table inet wire")
        forward = "type filter hook forward priority 0; policy accept;"
        in_ns(self.wire, "nft", f"add chain inet wire forward {{ {forward} }}")
        for kiosk_id, namespace in self.kiosks.items():
            wire_end, subnet = self._sides[kiosk_id]
            ip("netns", "add", namespace)
            ip("link", "add", wire_end, "netns", self.wire, "type", "veth",
               "peer", "name", "eth0", "netns", namespace)  # fmt: skip
            ip("-n", self.wire, "addr", "add", f"{subnet}.1/24", "dev", wire_end, "scope", "global")
            ip("-n", self.wire, "link", "set", wire_end, "up")
            in_ns(namespace, "sysctl", "-qw", "net.ipv4.conf.all.route_localnet=1",
                  "net.ipv4.conf.all.rp_filter=0")  # fmt: skip
            ip("-n", namespace, "link", "set", "lo", "up")
            # Only 127.0.0.1 stays this kiosk's own; the rest of 127/8 goes out on the wire.
            ip("-n", namespace, "route", "del", "table", "local", "127.0.0.0/8", "dev", "lo")
            ip("-n", namespace, "addr", "add", f"{subnet}.2/24", "dev", "eth0", "scope", "global")
            ip("-n", namespace, "link", "set", "eth0", "up")
            ip("-n", namespace, "route", "add", "default", "via", f"{subnet}.1")
            self._relays.append(self._relay_to_broker(namespace))
        for namespace in self.kiosks.values():
            self._wait_listening(namespace)

    def _relay_to_broker(self, namespace: str) -> subprocess.Popen:
        return subprocess.Popen(
            ["ip", "netns", "exec", namespace, "socat",
             f"TCP-LISTEN:{self._broker_port},bind=127.0.0.1,reuseaddr,fork",
             f"UNIX-CONNECT:{self._broker_socket}"],
            stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def _wait_listening(self, namespace: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = in_ns(namespace, "ss", "-Hltn", f"sport = :{self._broker_port}").stdout
            if out.strip():
                return
            time.sleep(0.05)
        raise RuntimeError(f"the relay to the broker in {namespace} never listened")

    # --- the wire's conditions ----------------------------------------------------------

    @contextlib.contextmanager
    def condition(self, condition: Condition) -> Iterator[None]:
        """The wire as ``condition`` says, both ways, until the block ends."""
        self._apply(condition)
        try:
            yield
        finally:
            self.clear()

    def _apply(self, condition: Condition) -> None:
        if condition.loss_percent:
            self._nft(f"add rule inet wire forward numgen random mod 100 < "
                      f"{condition.loss_percent} counter drop")  # fmt: skip
        if condition.blackout:
            self._nft("add rule inet wire forward counter drop")
        if condition.rate_kbit:
            for wire_end, _ in self._sides.values():
                # A queue of at most 200 ms, as a home router's: the rest is dropped.
                rate = f"{condition.rate_kbit}kbit"
                in_ns(self.wire, "tc", "qdisc", "replace", "dev", wire_end, "root",
                      "tbf", "rate", rate, "burst", "6kb", "latency", "200ms")  # fmt: skip
        if condition.delay_ms:
            self._start_delay_line(condition.delay_ms, condition.jitter_ms)

    def _nft(self, rule: str) -> None:
        in_ns(self.wire, "nft", rule)

    def dropped(self) -> int:
        """Packets the wire dropped since the condition began: by its rules, or its full queue."""
        out = in_ns(self.wire, "nft", "list chain inet wire forward").stdout
        by_rules = sum(int(part.split()[0]) for part in out.split("packets ")[1:] if part)
        by_queue = 0
        for wire_end, _ in self._sides.values():
            stats = in_ns(self.wire, "tc", "-s", "qdisc", "show", "dev", wire_end).stdout
            by_queue += sum(int(p.split()[0].rstrip(",")) for p in stats.split("dropped ")[1:])
        return by_rules + by_queue

    def _start_delay_line(self, delay_ms: int, jitter_ms: int) -> None:
        self._delay_line = subprocess.Popen(
            ["ip", "netns", "exec", self.wire, sys.executable, "-m", "tests.delay_line",
             "delay0", str(delay_ms), str(jitter_ms)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )  # fmt: skip
        if self._delay_line.stdout.readline().strip() != "ready":
            raise RuntimeError("the delay line did not start")
        ip("-n", self.wire, "route", "add", "default", "dev", "delay0", "table", DELAY_TABLE)
        for wire_end, _ in self._sides.values():
            ip("-n", self.wire, "rule", "add", "iif", wire_end, "table", DELAY_TABLE)

    def clear(self) -> None:
        """The wire as good as a cable again."""
        in_ns(self.wire, "nft", "flush chain inet wire forward", check=False)
        for wire_end, _ in self._sides.values():
            in_ns(self.wire, "tc", "qdisc", "del", "dev", wire_end, "root", check=False)
            in_ns(self.wire, "ip", "rule", "del", "iif", wire_end, "table", DELAY_TABLE,
                  check=False)  # fmt: skip
        if self._delay_line is not None:
            self._delay_line.stdin.close()
            self._delay_line.wait(timeout=10)
            self._delay_line = None

    def close(self) -> None:
        if self._delay_line is not None:
            self._delay_line.kill()
            self._delay_line.wait()
            self._delay_line = None
        for relay in self._relays:
            relay.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                relay.wait(timeout=5)
        for namespace in (*self.kiosks.values(), self.wire):
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True)


def enter_namespace(name: str) -> None:
    """Move the calling process (its first thread, before it starts others) into ``name``."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    clone_newnet = 0x40000000
    with open(f"/var/run/netns/{name}") as handle:
        if libc.setns(handle.fileno(), clone_newnet) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"setns into {name}: {os.strerror(errno)}")
