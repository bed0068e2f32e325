"""One evdev input device read in a thread of its own: found, opened, grabbed, reopened.

The badge reader and the handset both read a USB HID device through its ``/dev/input`` event
node. This module does what they share: find the node (a path, or ``vvvv:pppp`` USB ids looked
up among ``evdev.list_devices()``), open it, grab it if asked, and wait for events without
blocking ``stop()``; :class:`hardware.reconnecting_reader.ReconnectingReader` releases it when
it goes away, says so, and reopens it with backoff. What the events mean is the adapter's
business (an :class:`EventHandler`).

Never log an event: a keyboard-wedge reader's key codes are a badge.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import re
import select
import struct
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Protocol

import evdev

from hardware.interfaces import DeviceState
from hardware.reconnecting_reader import OpenFailed, ReaderStatus, ReconnectingReader

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 0.1  # how long stop() may wait for the reader thread to notice
# Events handled before the stop flag is looked at again: a device flooding events (a stuck
# key repeating) must not keep stop() waiting.
MAX_EVENTS_PER_WAKE = 512
# _IOW('E', 0xa0, int): which clock stamps this client's events. The kernel's default is
# CLOCK_REALTIME, which NTP may step while a card is being typed.
EVIOCSCLOCKID = 0x400445A0
_USB_IDS = re.compile(r"([0-9a-fA-F]{4}):([0-9a-fA-F]{4})")
# Open failures that mean a misconfigured kiosk (permissions, another program), not a device
# that is simply absent.
_OPEN_ERRORS = MappingProxyType(
    {
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EBUSY: "grabbed by another program",
    }
)
# A read failing with these means the device went away (unplugged, or its driver unbound).
_GONE = frozenset({errno.ENODEV, errno.ENXIO, errno.ENOENT, errno.EIO})


class InputDeviceLike(Protocol):
    """The part of :class:`evdev.InputDevice` the adapters use."""

    @property
    def path(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def info(self) -> evdev.DeviceInfo: ...
    def fileno(self) -> int: ...
    def read_one(self) -> evdev.InputEvent | None: ...
    def capabilities(self) -> Mapping[int, Sequence[Any]]: ...
    def grab(self) -> None: ...
    def ungrab(self) -> None: ...
    def close(self) -> None: ...


class EventHandler(Protocol):
    """What an adapter does with its device's events; called on the reader thread only."""

    def opened(self, reconnect: bool) -> None:
        """The device was opened (and grabbed); ``reconnect`` after it had been lost."""
        ...

    def handle(self, event: evdev.InputEvent) -> None: ...

    def idle(self, now: float) -> float | None:
        """Time-outs due at ``now`` (``time.monotonic()``); returns seconds to the next one."""
        ...

    def lost(self) -> None:
        """The device is gone, failed or stopped: drop anything half-read."""
        ...


def parse_device(device: str) -> tuple[str | None, tuple[int, int] | None]:
    """``(path, None)`` for a path, ``(None, (vendor, product))`` for ``vvvv:pppp``.

    Raises ``ValueError`` for anything else.
    """
    if not isinstance(device, str) or not device:
        raise ValueError("no input device given (a /dev/input path or vendor:product)")
    ids = _USB_IDS.fullmatch(device)
    if ids:
        return None, (int(ids[1], 16), int(ids[2], 16))
    if device.startswith("/"):
        return device, None
    raise ValueError(
        f"input device {device!r}: give an absolute path (/dev/kiosk-badge) or vendor:product "
        '(4 hex digits each, e.g. "0c27:3bfa")'
    )


def key_capabilities(device: InputDeviceLike) -> frozenset[int]:
    """The EV_KEY codes ``device`` can report."""
    return frozenset(device.capabilities().get(evdev.ecodes.EV_KEY, ()))


class EvdevSource(ReaderStatus):
    """Reads ``device`` in a thread named ``thread_name`` and hands its events to ``handler``.

    ``suits`` picks, among the nodes with the right USB ids, the one to read (a reader or
    handset often has several: keyboard, consumer keys, ...). ``grab`` takes the device for
    this process alone. ``open_device`` (default :class:`evdev.InputDevice`) is for tests.
    """

    def __init__(
        self,
        device: str,
        *,
        role: str,
        thread_name: str,
        handler: EventHandler,
        suits: Callable[[InputDeviceLike], bool],
        grab: bool,
        open_device: Callable[[str], InputDeviceLike] | None = None,
    ) -> None:
        self._path, self._ids = parse_device(device)
        self._spec = device
        self._role = role
        self._handler = handler
        self._suits = suits
        self._grab = grab
        self._open_device: Callable[[str], InputDeviceLike] = open_device or evdev.InputDevice
        self._reader: ReconnectingReader[InputDeviceLike] = ReconnectingReader(
            device,
            role=role,
            thread_name=thread_name,
            open_device=self._open,
            read_once=self._read_once,
            close_device=lambda d: _release(d, self._grab),
            on_open=handler.opened,
            on_lost=handler.lost,
            where=lambda d: "" if self._path else f" at {d.path}",
            open_errors=_OPEN_ERRORS,
            gone_errnos=_GONE,
        )

    def start(self) -> None:
        self._reader.start()

    def stop(self) -> None:
        self._reader.stop()

    def _read_once(self, device: InputDeviceLike, stop: threading.Event) -> None:
        timeout = READ_TIMEOUT_S
        due = self._handler.idle(time.monotonic())
        if due is not None:
            timeout = max(0.0, min(timeout, due))
        # poll, not select: select fails on descriptors past 1023, which a busy kiosk may reach.
        poller = select.poll()
        poller.register(device.fileno(), select.POLLIN)
        if not poller.poll(timeout * 1000):  # a vanished device polls ready (POLLHUP)
            return
        for _ in range(MAX_EVENTS_PER_WAKE):
            if stop.is_set():
                return
            event = device.read_one()  # the node is non-blocking: None once drained
            if event is None:
                return
            self._handler.handle(event)

    def _open(self) -> InputDeviceLike:
        device = self._open_path() if self._path else self._find()
        if device is None:
            raise OpenFailed(DeviceState.MISSING, "not found")
        if self._grab:
            try:
                device.grab()
            except OSError as exc:
                _release(device, grabbed=False)
                if exc.errno in _GONE:
                    raise OpenFailed(DeviceState.MISSING, "disconnected", exc) from exc
                problem = _OPEN_ERRORS.get(exc.errno or 0, "cannot grab")
                raise OpenFailed(DeviceState.ERROR, problem, exc) from exc
        _use_monotonic_timestamps(device)
        return device

    def _open_path(self) -> InputDeviceLike:
        assert self._path is not None
        device = self._open_device(self._path)
        try:
            suits = self._suits(device)
        except Exception:
            _release(device, grabbed=False)
            raise
        if not suits:
            # Read it anyway: the technician named this node. Say why nothing may come.
            log.warning(
                "%s %s: %r does not report the expected keys", self._role, self._spec, device.name
            )
        return device

    def _find(self) -> InputDeviceLike | None:
        denied: OSError | None = None
        # Readable nodes, not only writable ones: reading and grabbing need no write access.
        for path in sorted(evdev.list_devices(writable=False)):
            try:
                device = self._open_device(path)
            except OSError as exc:
                if exc.errno in (errno.EACCES, errno.EPERM):
                    denied = exc
                continue  # unplugged between listing and opening, or not ours to read
            try:
                info = device.info
                if (info.vendor, info.product) == self._ids and self._suits(device):
                    return device
            except OSError:
                pass
            _release(device, grabbed=False)
        if denied is not None:
            raise denied
        return None


def _use_monotonic_timestamps(device: InputDeviceLike) -> None:
    try:
        fcntl.ioctl(device.fileno(), EVIOCSCLOCKID, struct.pack("i", time.CLOCK_MONOTONIC))
    except OSError as exc:  # timestamps stay CLOCK_REALTIME: only their differences are used
        log.debug("input device timestamps stay on the wall clock (%s)", exc.strerror)


def _release(device: InputDeviceLike, grabbed: bool) -> None:
    if grabbed:
        try:
            device.ungrab()
        except OSError as exc:  # a vanished device has no grab left to release
            log.debug("releasing an input device's grab failed: %s", exc.strerror)
    try:
        device.close()
    except Exception as exc:
        log.debug("closing an input device failed: %s", type(exc).__name__)
