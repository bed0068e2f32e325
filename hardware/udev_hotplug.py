"""Hotplug notices from udev: the kiosk's devices coming and going, watched from the event loop.

The udev monitor's socket is read from the asyncio loop (``add_reader``), so no thread is
spawned and listeners run on the loop's thread. Where udev is not running (a container, a
test bench) the rules' ``/dev`` paths are polled instead.
"""

from __future__ import annotations

import asyncio
import glob
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

import pyudev

from hardware.device_match import DEVICES, DeviceRule, UdevDeviceLike, matches
from hardware.interfaces import DeviceEvent, DeviceState
from hardware.listeners import Listeners

log = logging.getLogger(__name__)


class UdevEventDevice(UdevDeviceLike, Protocol):
    """A device as a monitor hands it over: the matching fields plus the event's action."""

    @property
    def sys_path(self) -> str: ...
    @property
    def action(self) -> str | None: ...


class UdevMonitorLike(Protocol):
    """The part of :class:`pyudev.Monitor` used here."""

    def filter_by(self, subsystem: str) -> None: ...
    def start(self) -> None: ...
    def fileno(self) -> int: ...
    def poll(self, timeout: float | None = None) -> UdevEventDevice | None: ...


class UdevContextLike(Protocol):
    """The udev boundary: the database, a monitor on it, and where udev keeps its state."""

    @property
    def run_path(self) -> str: ...
    def list_devices(self, **match: str) -> Iterable[UdevEventDevice]: ...
    def monitor(self) -> UdevMonitorLike: ...


class PyudevContext:
    """The real boundary: a :class:`pyudev.Context` and a netlink monitor on it."""

    def __init__(self) -> None:
        self._context = pyudev.Context()

    @property
    def run_path(self) -> str:
        return self._context.run_path

    def list_devices(self, **match: str) -> Iterable[UdevEventDevice]:
        return self._context.list_devices(**match)

    def monitor(self) -> UdevMonitorLike:
        return pyudev.Monitor.from_netlink(self._context)


class UdevUnavailable(Exception):
    """udev cannot be used here; the reason is the message."""


class UdevHotplug:
    """Implements :class:`hardware.interfaces.Hotplug` for the devices ``rules`` describe.

    Call :meth:`start` and :meth:`stop` on the loop's thread (``loop`` or the running one).
    Events are emitted only when a device's state changes; :meth:`states` has the rest.
    """

    def __init__(
        self,
        rules: Sequence[DeviceRule],
        *,
        loop: asyncio.AbstractEventLoop | None = None,
        scan_interval_s: float = 2.0,
        context_factory: Callable[[], UdevContextLike] | None = None,
    ) -> None:
        if not rules:
            raise ValueError("UdevHotplug needs at least one device rule")
        if scan_interval_s <= 0:
            raise ValueError(f"scan_interval_s must be positive, not {scan_interval_s}")
        self._rules = tuple(rules)
        self._devices = tuple(d for d in DEVICES if any(r.device == d for r in self._rules))
        self._loop = loop
        self._scan_interval_s = scan_interval_s
        self._context_factory = context_factory or PyudevContext
        self._listeners: Listeners[DeviceEvent] = Listeners("hotplug")
        # Per device, the sys paths (udev) or /dev paths (scan) currently seen for it.
        self._present: dict[str, set[str]] = {d: set() for d in self._devices}
        self._states: dict[str, DeviceState] = {d: DeviceState.MISSING for d in self._devices}
        # Devices the /dev scan cannot see (USB ids only): reported as ERROR, not MISSING.
        self._unwatchable: frozenset[str] = frozenset()
        self._context: UdevContextLike | None = None
        self._monitor: UdevMonitorLike | None = None
        self._reader: tuple[asyncio.AbstractEventLoop, int] | None = None
        self._scan_handle: asyncio.TimerHandle | None = None
        self._warned_fallback = False
        self._started_before = False
        self._running = False

    # -- Hotplug ---------------------------------------------------------------------------

    def start(self) -> None:
        """Read every device's state, then watch udev (or poll ``/dev`` where udev is absent)."""
        if self._running:
            return
        loop = self._loop or _running_loop()
        self._running = True
        # The first reading is the baseline (read it with states()); after a restart, what
        # changed while stopped is announced.
        notify, self._started_before = self._started_before, True
        try:
            self._start_udev(loop, notify)
        except Exception as exc:
            self._close_monitor()
            self._start_scan(loop, exc, notify)

    def stop(self) -> None:
        """Stop watching; :meth:`states` keeps the last known states."""
        self._running = False
        if self._reader is not None:
            loop, fd = self._reader
            loop.remove_reader(fd)
            self._reader = None
        self._close_monitor()
        if self._scan_handle is not None:
            self._scan_handle.cancel()
            self._scan_handle = None

    def subscribe(self, listener: Callable[[DeviceEvent], None]) -> Callable[[], None]:
        """Call ``listener`` on every state change; returns a function that unsubscribes."""
        return self._listeners.subscribe(listener)

    @property
    def rules(self) -> tuple[DeviceRule, ...]:
        """How each watched device is recognised."""
        return self._rules

    def states(self) -> dict[str, DeviceState]:
        """Each watched device's current state (a copy)."""
        return dict(self._states)

    @property
    def using_udev(self) -> bool:
        """Whether events come from a udev monitor (False: the ``/dev`` scan, or stopped)."""
        return self._monitor is not None

    # -- udev ------------------------------------------------------------------------------

    def _start_udev(self, loop: asyncio.AbstractEventLoop, notify: bool) -> None:
        context = self._context_factory()
        # Without udevd the netlink monitor is created fine but never hears anything.
        if not os.path.isdir(context.run_path):
            raise UdevUnavailable(f"no udev database at {context.run_path}")
        monitor = context.monitor()
        for subsystem in sorted({r.subsystem for r in self._rules}):
            monitor.filter_by(subsystem)  # filtered in the kernel: no wake-ups for disks
        # Listening before the database is read: an event in between waits in the socket
        # and is applied after, instead of being lost.
        monitor.start()
        self._context, self._monitor = context, monitor
        self._unwatchable = frozenset()
        self._read_database("", notify=notify)
        fd = monitor.fileno()
        loop.add_reader(fd, self._on_readable)
        self._reader = (loop, fd)

    def _read_database(self, detail: str, *, notify: bool = True) -> None:
        assert self._context is not None
        seen: dict[str, set[str]] = {d: set() for d in self._devices}
        for subsystem in sorted({r.subsystem for r in self._rules}):
            for device in self._context.list_devices(subsystem=subsystem):
                for rule in self._rules:
                    if matches(rule, device):
                        seen[rule.device].add(device.sys_path)
        self._present.update(seen)
        self._publish(detail, notify=notify)

    def _on_readable(self) -> None:
        monitor = self._monitor
        if monitor is None:
            return
        while self._running:
            try:
                device = monitor.poll(timeout=0)
            except OSError as exc:
                # ENOBUFS and the like: events were dropped, so the database is the truth.
                log.warning("udev monitor read failed (%s); reading the udev database again", exc)
                self._read_database(detail="resynchronised after a lost udev event")
                return
            if device is None:
                return
            self._apply(device)

    def _apply(self, device: UdevEventDevice) -> None:
        action = device.action
        if action not in ("add", "change", "remove"):
            return  # bind/unbind/move: the node's add/remove follows
        path = device.sys_path
        for name in self._devices:
            if action == "remove":
                self._present[name].discard(path)
            # A change may drop the link a rule keys on, so it can un-match a device too.
            elif any(r.device == name and matches(r, device) for r in self._rules):
                self._present[name].add(path)
            else:
                self._present[name].discard(path)
        self._publish(f"{action} {device.device_node or path}")

    def _close_monitor(self) -> None:
        self._monitor = None
        self._context = None

    # -- fallback scan ---------------------------------------------------------------------

    def _start_scan(
        self, loop: asyncio.AbstractEventLoop, reason: BaseException, notify: bool
    ) -> None:
        if not self._warned_fallback:
            self._warned_fallback = True
            log.warning(
                "udev unavailable (%s: %s); polling /dev every %g s instead",
                type(reason).__name__,
                reason,
                self._scan_interval_s,
            )
        self._unwatchable = frozenset(
            name
            for name in self._devices
            if not any(r.device == name and (r.devnode or r.by_id) for r in self._rules)
        )
        for name in sorted(self._unwatchable):
            log.warning("%s: USB ids cannot be checked without udev; set devnode or by_id", name)
        self._scan("", notify=notify)
        self._scan_handle = loop.call_later(self._scan_interval_s, self._scan_tick, loop)

    def _scan_tick(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self._running:
            return
        self._scan("")
        self._scan_handle = loop.call_later(self._scan_interval_s, self._scan_tick, loop)

    def _scan(self, detail: str, *, notify: bool = True) -> None:
        for name in self._devices:
            found: set[str] = set()
            for rule in self._rules:
                if rule.device == name:
                    found |= _scan_rule(rule)
            self._present[name] = found
        self._publish(detail, notify=notify)

    # -- states ----------------------------------------------------------------------------

    def _publish(self, detail: str, *, notify: bool = True) -> None:
        for name in self._devices:
            paths = self._present[name]
            if name in self._unwatchable:
                state, text = DeviceState.ERROR, "cannot be watched without udev"
            elif paths:
                state, text = DeviceState.OK, detail or f"found {', '.join(sorted(paths))}"
            else:
                state, text = DeviceState.MISSING, detail or "gone"
            if state is self._states[name]:
                continue
            self._states[name] = state
            if notify:
                self._listeners.emit(DeviceEvent(name, state, text))


def _scan_rule(rule: DeviceRule) -> set[str]:
    """The ``/dev`` paths standing for ``rule``'s device now; empty if any criterion misses."""
    if not (rule.devnode or rule.by_id):
        return set()
    found: set[str] = set()
    if rule.devnode:
        if not os.path.exists(rule.devnode):  # follows links: a dangling one is a gone device
            return set()
        found.add(rule.devnode)
    if rule.by_id:
        hits = {p for g in rule.by_id_globs() for p in glob.glob(g) if os.path.exists(p)}
        if not hits:
            return set()
        found |= hits
    return found


def _running_loop() -> asyncio.AbstractEventLoop:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        raise RuntimeError(
            "UdevHotplug.start() needs a running asyncio loop, or loop= at construction"
        ) from None
