"""One evdev input device read in a thread of its own: found, opened, grabbed, reopened.

The badge reader and the handset both read a USB HID device through its ``/dev/input`` event
node. This module does what they share: find the node (a path, or ``vvvv:pppp`` USB ids looked
up among ``evdev.list_devices()``), open it, grab it if asked, wait for events without blocking
``stop()``, and when the device goes away release it, say so, and reopen it with backoff.
What the events mean is the adapter's business (an :class:`EventHandler`).

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
import traceback
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Protocol

import evdev

from hardware.interfaces import DeviceState

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 0.1  # how long stop() may wait for the reader thread to notice
BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 5.0
# Events handled before the stop flag is looked at again: a device flooding events (a stuck
# key repeating) must not keep stop() waiting.
MAX_EVENTS_PER_WAKE = 512
_JOIN_TIMEOUT_S = 2.0
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


class EvdevSource:
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
        self._thread_name = thread_name
        self._handler = handler
        self._suits = suits
        self._grab = grab
        self._open_device: Callable[[str], InputDeviceLike] = open_device or evdev.InputDevice
        self._lock = threading.Lock()  # serialises start() and stop()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        # One tuple, replaced whole, so other threads never see a state with another's detail.
        self._status: tuple[DeviceState, str] = (DeviceState.MISSING, f"not started: {device}")

    @property
    def state(self) -> DeviceState:
        return self._status[0]

    @property
    def detail(self) -> str:
        return self._status[1]

    def start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._run, args=(self._stop,), name=self._thread_name
            )
            self._thread.daemon = True  # a wedged driver must not keep the kiosk from exiting
            self._thread.start()

    def stop(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is None:
                return
            self._stop.set()
            if thread is not threading.current_thread():  # a listener may stop the adapter
                thread.join(_JOIN_TIMEOUT_S)
                if thread.is_alive():
                    log.warning("%s %s: thread did not stop in time", self._role, self._spec)

    def _run(self, stop: threading.Event) -> None:
        device: InputDeviceLike | None = None
        delay = BACKOFF_FIRST_S
        opened_before = False
        try:
            while not stop.is_set():
                if device is None:
                    device = self._open()
                    if device is None:
                        stop.wait(delay)
                        delay = min(delay * 2, BACKOFF_MAX_S)
                        continue
                    self._handler.opened(reconnect=opened_before)
                    opened_before = True
                    delay = BACKOFF_FIRST_S
                try:
                    self._read_once(device, stop)
                except Exception as exc:
                    # Released first: whoever sees the new state may rely on the grab being gone.
                    _release(device, self._grab)
                    device = None
                    self._handler.lost()
                    if isinstance(exc, OSError) and exc.errno in _GONE:
                        self._set_status(DeviceState.MISSING, "disconnected", exc)
                    elif isinstance(exc, OSError):
                        self._set_status(DeviceState.ERROR, "read failed", exc)
                    else:  # a bug must not end reading for good; its message may quote a key
                        _log_redacted(self._role, self._spec, exc)
                        self._set_status(DeviceState.ERROR, "read failed")
                    stop.wait(delay)
                    delay = min(delay * 2, BACKOFF_MAX_S)
        finally:
            if device is not None:
                _release(device, self._grab)
            self._handler.lost()
            self._set_status(DeviceState.MISSING, "stopped")

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

    def _open(self) -> InputDeviceLike | None:
        try:
            device = self._open_path() if self._path else self._find()
        except OSError as exc:
            problem = _OPEN_ERRORS.get(exc.errno or 0)
            if problem is None:
                self._set_status(DeviceState.MISSING, "not found", exc)
            else:
                self._set_status(DeviceState.ERROR, problem, exc)
            return None
        except Exception as exc:  # keep trying, and say so
            self._set_status(DeviceState.ERROR, f"cannot open ({type(exc).__name__})")
            return None
        if device is None:
            self._set_status(DeviceState.MISSING, "not found")
            return None
        if self._grab:
            try:
                device.grab()
            except OSError as exc:
                _release(device, grabbed=False)
                if exc.errno in _GONE:
                    self._set_status(DeviceState.MISSING, "disconnected", exc)
                else:
                    self._set_status(
                        DeviceState.ERROR, _OPEN_ERRORS.get(exc.errno or 0, "cannot grab"), exc
                    )
                return None
        _use_monotonic_timestamps(device)
        where = "" if self._path else f" at {device.path}"
        self._set_status(DeviceState.OK, "open", where=where)
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

    def _set_status(
        self, state: DeviceState, what: str, exc: BaseException | None = None, *, where: str = ""
    ) -> None:
        status = (state, f"{what}: {self._spec}{where}")
        if status == self._status:
            return  # log changes only: a device retried every 5 s would flood the log
        self._status = status
        level = logging.INFO if state is DeviceState.OK or what == "stopped" else logging.WARNING
        # OSError messages name the node and errno, never an event.
        reason = f": {exc.strerror or exc}" if isinstance(exc, OSError) else ""
        log.log(level, "%s %s: %s (%s%s)", self._role, self._spec, state, what, reason)


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


def _log_redacted(role: str, spec: str, exc: BaseException) -> None:
    # Type and stack only: an unexpected exception's message might quote a key.
    stack = "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__)))
    log.error("%s %s: reading failed with %s\n%s", role, spec, type(exc).__name__, stack.rstrip())
