"""A device read in a thread of its own and reopened with backoff whenever it fails.

The serial badge reader, the evdev adapters and the serial hook contact share this loop: open,
read until reading fails, say why (missing or error, with a detail naming the device), wait,
open again. What is read and what it means stay the adapter's business.

Never log what was read: an exception's message is logged only for ``OSError``, whose text
names a device and an errno, never data.
"""

from __future__ import annotations

import errno
import logging
import threading
import traceback
from collections.abc import Callable, Collection, Mapping
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from hardware.interfaces import DeviceState

log = logging.getLogger(__name__)

BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 5.0
_JOIN_TIMEOUT_S = 2.0
# Open failures that mean a misconfigured kiosk (a technician should look at permissions or
# another program), not a device that is simply absent.
OPEN_ERRORS: Mapping[int, str] = MappingProxyType(
    {
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EBUSY: "in use by another program",
        errno.EAGAIN: "in use by another program",  # pyserial's exclusive lock is held elsewhere
    }
)

D = TypeVar("D")


class OpenFailed(Exception):
    """Raised by an opener that knows better than an errno what is wrong."""

    def __init__(self, state: DeviceState, what: str, cause: BaseException | None = None) -> None:
        super().__init__(what)
        self.state = state
        self.what = what
        self.cause = cause


class ReconnectingReader(Generic[D]):
    """Reads the device ``spec`` in a thread named ``thread_name`` until :meth:`stop`.

    ``open_device()`` returns an open device or raises: :class:`OpenFailed` says what is wrong
    itself; an ``OSError`` whose errno is in ``open_errors`` (default :data:`OPEN_ERRORS`) is
    that error (a misconfigured kiosk), any other one means the device is not there.
    ``read_once(device, stop)`` reads a little and returns within about 0.1 s, so that
    ``stop()`` is prompt. Once it raises, the device is closed with ``close_device`` and
    reopened after a backoff of 0.5 s doubling to 5 s; an ``OSError`` whose errno is in
    ``gone_errnos`` (any errno if ``None``) means the device went away. ``on_open(reconnect)``
    follows each open (``reconnect`` once the device had been lost), ``on_lost()`` each loss
    and the stop. ``where(device)`` is appended to an open device's detail (where a device
    named by its ids was found). Every callback runs on the reader's thread; ``role`` and
    ``spec`` name the device in the log and in :attr:`detail`.
    """

    def __init__(
        self,
        spec: str,
        *,
        role: str,
        thread_name: str,
        open_device: Callable[[], D],
        read_once: Callable[[D, threading.Event], None],
        close_device: Callable[[D], None],
        on_open: Callable[[bool], None] | None = None,
        on_lost: Callable[[], None] | None = None,
        where: Callable[[D], str] | None = None,
        open_errors: Mapping[int, str] = OPEN_ERRORS,
        gone_errnos: Collection[int] | None = None,
    ) -> None:
        self._spec = spec
        self._role = role
        self._thread_name = thread_name
        self._open_device = open_device
        self._read_once = read_once
        self._close_device = close_device
        self._on_open = on_open
        self._on_lost = on_lost
        self._where = where
        self._open_errors = open_errors
        self._gone_errnos = gone_errnos
        self._lock = threading.Lock()  # serialises start() and stop()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        # One tuple, replaced whole, so other threads never see a state with another's detail.
        self._status: tuple[DeviceState, str] = (DeviceState.MISSING, f"not started: {spec}")

    @property
    def state(self) -> DeviceState:
        return self._status[0]

    @property
    def detail(self) -> str:
        """What is wrong with the device (or ``open``), then which device it is."""
        return self._status[1]

    def start(self) -> None:
        """Start the thread; opening is retried until it works. Started twice is harmless."""
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
        """Stop the thread (within one ``read_once``) and close the device."""
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is None:
                return
            self._stop.set()
            if thread is not threading.current_thread():  # a listener may stop its adapter
                thread.join(_JOIN_TIMEOUT_S)
                if thread.is_alive():
                    log.warning("%s %s: thread did not stop in time", self._role, self._spec)

    def _run(self, stop: threading.Event) -> None:
        device: D | None = None
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
                    if self._on_open is not None:
                        self._on_open(opened_before)
                    opened_before = True
                    delay = BACKOFF_FIRST_S
                try:
                    self._read_once(device, stop)
                except Exception as exc:
                    # A device that failed is not read again: its driver may hold it half gone.
                    # Anything else is a bug, which must not end reading for good either.
                    # Closed first: whoever sees the new state may rely on the device being shut.
                    self._close(device)
                    device = None
                    self._lost()
                    self._report_failure(exc)
                    stop.wait(delay)
                    delay = min(delay * 2, BACKOFF_MAX_S)
        finally:
            if device is not None:
                self._close(device)
            self._lost()
            self._set_status(DeviceState.MISSING, "stopped")

    def _open(self) -> D | None:
        try:
            device = self._open_device()
        except OpenFailed as failed:
            self._set_status(failed.state, failed.what, failed.cause)
            return None
        except OSError as exc:  # serial.SerialException is an OSError
            problem = self._open_errors.get(exc.errno or 0)
            if problem is None:
                self._set_status(DeviceState.MISSING, "not found", exc)
            else:
                self._set_status(DeviceState.ERROR, problem, exc)
            return None
        except Exception as exc:  # e.g. a setting the driver refuses: keep trying, say so
            self._set_status(DeviceState.ERROR, f"cannot open ({type(exc).__name__})", exc)
            return None
        where = self._where(device) if self._where is not None else ""
        self._set_status(DeviceState.OK, "open", where=where)
        return device

    def _report_failure(self, exc: Exception) -> None:
        if not isinstance(exc, OSError):
            self._log_redacted(exc)
            self._set_status(DeviceState.ERROR, "read failed")
        elif self._gone_errnos is None or exc.errno in self._gone_errnos:
            self._set_status(DeviceState.MISSING, "disconnected", exc)
        else:
            self._set_status(DeviceState.ERROR, "read failed", exc)

    def _close(self, device: D) -> None:
        try:
            self._close_device(device)
        except Exception as exc:  # a device that vanished may fail to close; it is gone anyway
            log.debug("%s %s: closing failed: %s", self._role, self._spec, type(exc).__name__)

    def _lost(self) -> None:
        if self._on_lost is not None:
            self._on_lost()

    def _set_status(
        self, state: DeviceState, what: str, exc: BaseException | None = None, *, where: str = ""
    ) -> None:
        status = (state, f"{what}: {self._spec}{where}")
        if status == self._status:
            return  # log changes only: a device retried every 5 s would flood the log
        self._status = status
        level = logging.INFO if state is DeviceState.OK or what == "stopped" else logging.WARNING
        reason = f": {exc.strerror or exc}" if isinstance(exc, OSError) else ""
        log.log(level, "%s %s: %s (%s%s)", self._role, self._spec, state, what, reason)

    def _log_redacted(self, exc: BaseException) -> None:
        # Type and stack only: an unexpected exception's message might quote what was read.
        stack = "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__)))
        log.error(
            "%s %s: reading failed with %s\n%s",
            self._role,
            self._spec,
            type(exc).__name__,
            stack.rstrip(),
        )


class ReaderStatus:
    """``state`` and ``detail`` of an adapter whose device lives in a reader (``_reader``: a
    :class:`ReconnectingReader`, or another ``ReaderStatus`` such as an evdev source), as
    telemetry and the technician screen read them."""

    _reader: ReconnectingReader[Any] | ReaderStatus

    @property
    def state(self) -> DeviceState:
        return self._reader.state

    @property
    def detail(self) -> str:
        """Which device, and what is wrong with it."""
        return self._reader.detail
