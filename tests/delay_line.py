"""A delay line for IP packets: what ``tc netem delay`` does, for kernels built without netem.

Run inside the test's wire namespace (``ip netns exec WIRE python -m tests.delay_line DEVICE
DELAY_MS JITTER_MS``). It makes the TUN device ``DEVICE``; the wire routes the kiosks' packets
into it, and each comes back out after DELAY_MS ± JITTER_MS (uniform, so packets may overtake
one another, as with netem's jitter), to be routed on to the other kiosk. Prints ``ready`` once
the device is up; ends when its standard input closes or it is terminated.
"""

from __future__ import annotations

import fcntl
import heapq
import itertools
import os
import random
import select
import struct
import subprocess
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000
MTU = 65535


def open_tun(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    subprocess.run(["ip", "link", "set", name, "up"], check=True)
    return fd


def run(device: str, delay_s: float, jitter_s: float) -> None:
    tun = open_tun(device)
    waiting: list[tuple[float, int, bytes]] = []  # (due, order, packet)
    order = itertools.count()
    print("ready", flush=True)
    stdin = sys.stdin.fileno()
    while True:
        timeout = max(0.0, waiting[0][0] - time.monotonic()) if waiting else None
        readable, _, _ = select.select([tun, stdin], [], [], timeout)
        if stdin in readable and not os.read(stdin, 1024):
            return
        if tun in readable:
            while True:
                try:
                    packet = os.read(tun, MTU)
                except BlockingIOError:
                    break
                due = time.monotonic() + delay_s + random.uniform(-jitter_s, jitter_s)
                heapq.heappush(waiting, (due, next(order), packet))
        now = time.monotonic()
        while waiting and waiting[0][0] <= now:
            os.write(tun, heapq.heappop(waiting)[2])


if __name__ == "__main__":
    name, delay_ms, jitter_ms = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    run(name, delay_ms / 1000, jitter_ms / 1000)
