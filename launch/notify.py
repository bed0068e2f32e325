"""Tell the service manager how the kiosk process is doing: ready, still alive, stopping.

systemd's notification protocol (sd_notify(3)) through the ``sdnotify`` package. kiosk.service
is ``Type=notify`` with ``WatchdogSec=``: systemd counts the kiosk as started only once it says
READY=1, and restarts it when WATCHDOG=1 stops arriving. Outside systemd (no NOTIFY_SOCKET)
every call does nothing, so the demo and the tests run unchanged.

This module never imports Kivy: the window (``launch.window``) decides when the first frame
is on the glass and sends the pings from the loop that draws, so a hung screen stops them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import MutableMapping

import sdnotify

log = logging.getLogger(__name__)

# What systemd hands a notify service (systemd.exec(5)), removed once read: nothing the kiosk
# starts (the demo's Mosquitto is built with systemd support) may speak for the kiosk.
SERVICE_VARIABLES = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")


class ServiceNotifier:
    """One process's messages to its service manager; a no-op without NOTIFY_SOCKET."""

    def __init__(self, socket_address: str | None, watchdog_usec: int | None = None) -> None:
        self.socket_address = socket_address
        self.watchdog_usec = watchdog_usec if socket_address else None
        self._sd = _connect(socket_address) if socket_address else None
        self._stopping = False

    @classmethod
    def from_environment(
        cls, environ: MutableMapping[str, str] | None = None, pid: int | None = None
    ) -> ServiceNotifier:
        """The notifier systemd set up for this process (its variables taken out of
        ``environ``, by default ``os.environ``; ``pid`` is this process's, for WATCHDOG_PID)."""
        env = os.environ if environ is None else environ
        values = {name: env.pop(name, None) for name in SERVICE_VARIABLES}
        socket_address = values["NOTIFY_SOCKET"] or None
        watchdog_usec = _positive_int(values["WATCHDOG_USEC"])
        watchdog_pid = _positive_int(values["WATCHDOG_PID"])
        # sd_watchdog_enabled(3): a WATCHDOG_PID of another process means the watchdog is its.
        if watchdog_pid is not None and watchdog_pid != (os.getpid() if pid is None else pid):
            watchdog_usec = None
        return cls(socket_address, watchdog_usec)

    @property
    def enabled(self) -> bool:
        """Whether a service manager listens."""
        return self._sd is not None

    @property
    def watchdog_interval_s(self) -> float | None:
        """How often to ping: half the watchdog's timeout, as sd_watchdog_enabled(3) advises;
        None when there is no watchdog."""
        if self.watchdog_usec is None:
            return None
        return self.watchdog_usec / 2 / 1_000_000

    def ready(self, status: str | None = None) -> None:
        """Start-up is over (the first screen is drawn); ``status`` shows in systemctl status."""
        self._send("READY=1" + (f"\nSTATUS={status}" if status else ""))

    def watchdog(self) -> None:
        """Still alive: the loop that sends this is turning."""
        if self.watchdog_usec is not None:
            self._send("WATCHDOG=1")

    def status(self, text: str) -> None:
        """A line for ``systemctl status``: never a resident's data, it ends up in the journal."""
        self._send(f"STATUS={text}")

    def stopping(self) -> None:
        """The kiosk is shutting down on purpose; said once."""
        if not self._stopping:
            self._stopping = True
            self._send("STOPPING=1")

    def _send(self, message: str) -> None:
        if self._sd is not None:
            self._sd.notify(message)


def _connect(socket_address: str) -> sdnotify.SystemdNotifier | None:
    # sdnotify reads the address from the environment when it connects.
    previous = os.environ.get("NOTIFY_SOCKET")
    os.environ["NOTIFY_SOCKET"] = socket_address
    try:
        notifier = sdnotify.SystemdNotifier()
    finally:
        if previous is None:
            del os.environ["NOTIFY_SOCKET"]
        else:
            os.environ["NOTIFY_SOCKET"] = previous
    if notifier.socket is None:  # sdnotify swallows the error: say it once here
        log.warning("cannot reach the service manager's notification socket")
        return None
    return notifier


def _positive_int(value: str | None) -> int | None:
    try:
        number = int(value) if value else 0
    except ValueError:
        return None
    return number if number > 0 else None
