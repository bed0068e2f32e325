"""Recorded evdev event sequences of badge readers and handsets, and a player for them.

Each capture is written as ``evtest /dev/input/eventN`` prints it, so a technician's capture
of a new reader or handset can be pasted in as it is. :class:`Recording` reads that text;
:class:`Bus` and :class:`Node` stand in for ``/dev/input`` and its event nodes, and opening a
node gives a :class:`RecordedDevice`: the part of :class:`evdev.InputDevice` the adapters use,
delivering real :class:`evdev.InputEvent` objects, which can vanish mid-stream as an unplugged
device does (``OSError(ENODEV)``) and be opened again once plugged back in.

The player delivers a recording at once; the adapters measure key gaps, debounce and repeat
windows on the events' own timestamps, so a recording plays the same on any machine.
"""

from __future__ import annotations

import errno
import os
import re
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, NamedTuple

import evdev
from evdev import ecodes


class Row(NamedTuple):
    """One event line of a capture."""

    time_us: int
    type: int
    code: int
    value: int

    def event(self, offset_us: int = 0) -> evdev.InputEvent:
        sec, usec = divmod(self.time_us + offset_us, 1_000_000)
        return evdev.InputEvent(sec, usec, self.type, self.code, self.value)


# Where a capture ends because the device went away: evtest's read failed with ENODEV.
PULLED = "pulled"

_EVENT = re.compile(
    r"Event: time (?P<sec>\d+)\.(?P<usec>\d{6}), (?:"
    r"type (?P<type>\d+) \((?P<tname>\w+)\), code (?P<code>\d+) \((?P<cname>\w+)\), "
    r"value (?P<value>-?[0-9a-f]+)"
    r"|-+ (?P<syn>SYN_REPORT) -+"
    r"|>+ (?P<dropped>SYN_DROPPED) <+)$"
)
_SKIPPED = re.compile(r"expected \d+ bytes, got -?\d+")
_PULL = "evtest: error reading: No such device"


@dataclass(frozen=True)
class Recording:
    """An event sequence: rows and, where the device was pulled, :data:`PULLED`."""

    rows: tuple[Row | str, ...]

    @classmethod
    def evtest(cls, text: str) -> Recording:
        """Read ``evtest`` output; a name that does not match its number is an error."""
        rows: list[Row | str] = []
        for line in text.strip().splitlines():
            line = line.strip()
            if not line or line.startswith("#") or _SKIPPED.fullmatch(line):
                continue
            if line == _PULL:
                rows.append(PULLED)
                continue
            m = _EVENT.fullmatch(line)
            if m is None:
                raise ValueError(f"not an evtest line: {line!r}")
            time_us = int(m["sec"]) * 1_000_000 + int(m["usec"])
            if m["syn"]:
                rows.append(Row(time_us, ecodes.EV_SYN, ecodes.SYN_REPORT, 0))
            elif m["dropped"]:
                rows.append(Row(time_us, ecodes.EV_SYN, ecodes.SYN_DROPPED, 0))
            else:
                type_, code = int(m["type"]), int(m["code"])
                names = ecodes.bytype[type_][code]
                if ecodes.EV[type_] != m["tname"] or m["cname"] not in (
                    names if isinstance(names, list) else [names]
                ):
                    raise ValueError(f"names do not match numbers: {line!r}")
                # evtest prints scan codes in hex, everything else in decimal.
                base = 16 if type_ == ecodes.EV_MSC else 10
                rows.append(Row(time_us, type_, code, int(m["value"], base)))
        return cls(tuple(rows))

    @property
    def start_us(self) -> int:
        return next(r.time_us for r in self.rows if isinstance(r, Row))

    @property
    def end_us(self) -> int:
        return next(r.time_us for r in reversed(self.rows) if isinstance(r, Row))

    def then(self, other: Recording, gap_s: float) -> Recording:
        """This, then ``other`` beginning ``gap_s`` after this one's last event."""
        shift = self.end_us + round(gap_s * 1_000_000) - other.start_us
        moved = (
            r._replace(time_us=r.time_us + shift) if isinstance(r, Row) else r for r in other.rows
        )
        return Recording((*self.rows, *moved))

    def until_key(self, n: int) -> Recording:
        """The rows up to the report of the ``n``-th key press (a cut-short read)."""
        presses = 0
        for i, r in enumerate(self.rows):
            if isinstance(r, Row) and r.type == ecodes.EV_KEY and r.value == 1:
                presses += 1
            if presses >= n and isinstance(r, Row) and r.type == ecodes.EV_SYN:
                return Recording(self.rows[: i + 1])
        raise ValueError(f"the recording has fewer than {n} key presses")

    def pulled(self) -> Recording:
        """This, and then the device is unplugged."""
        return Recording((*self.rows, PULLED))


# -- the devices ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """What a node says of itself: name, USB ids, the keys it can report."""

    name: str
    vendor: int
    product: int
    keys: tuple[int, ...]


_KEYBOARD_KEYS = (*range(ecodes.KEY_ESC, ecodes.KEY_KPDOT + 1), ecodes.KEY_KPENTER)
# RF IDeas pcProx: its keyboard node, and the consumer-control node the same device also has.
WEDGE_READER = Identity("RFIDeas USB Keyboard", 0x0C27, 0x3BFA, _KEYBOARD_KEYS)
WEDGE_READER_CONSUMER = Identity(
    "RFIDeas USB Keyboard Consumer Control",
    0x0C27,
    0x3BFA,
    (ecodes.KEY_MUTE, ecodes.KEY_VOLUMEDOWN, ecodes.KEY_VOLUMEUP),
)
# A handset with its hook on the consumer "Telephone" key and the telephony answer/hang-up keys
# (USB ids of pid.codes' test range: no real product is implied).
HANDSET = Identity(
    "USB Handset",
    0x1209,
    0x0001,
    (
        ecodes.KEY_MUTE,
        ecodes.KEY_VOLUMEDOWN,
        ecodes.KEY_VOLUMEUP,
        ecodes.KEY_PHONE,
        ecodes.KEY_MICMUTE,
        ecodes.KEY_PICKUP_PHONE,
        ecodes.KEY_HANGUP_PHONE,
    ),
)


class RecordedDevice:
    """An opened event node playing recordings, with the interface of :class:`evdev.InputDevice`
    the adapters use: ``fileno``, ``read_one``, ``grab``/``ungrab``, ``capabilities``,
    ``name``, ``info``, ``path``, ``close``. ``calls`` lists what was called, in order.
    """

    def __init__(self, node: Node) -> None:
        self._node = node
        self.path = node.path
        self.name = node.identity.name
        self.info = evdev.DeviceInfo(0x03, node.identity.vendor, node.identity.product, 0x0111)
        self.calls: list[str] = []
        self.grabbed = False
        self.closed = False
        self._queue: deque[evdev.InputEvent | str] = deque()
        self._gone = False
        # A real descriptor, so the adapter's select() works: readable while events wait.
        self._r, self._w = os.pipe()
        os.set_blocking(self._r, False)
        self._readable = False
        self._lock = threading.Lock()

    @property
    def fd(self) -> int:
        return self._r

    def fileno(self) -> int:
        return self._r

    def capabilities(self, verbose: bool = False, absinfo: bool = True) -> dict[int, list[Any]]:
        return {
            ecodes.EV_SYN: [ecodes.SYN_REPORT, ecodes.EV_KEY, ecodes.EV_MSC],
            ecodes.EV_KEY: list(self._node.identity.keys),
            ecodes.EV_MSC: [ecodes.MSC_SCAN],
        }

    def read_one(self) -> evdev.InputEvent | None:
        with self._lock:
            self.calls.append("read")
            if self.closed:
                raise OSError(errno.EBADF, os.strerror(errno.EBADF))
            item = self._queue.popleft() if self._queue and not self._gone else None
            if item is None and not self._gone:
                self._set_readable(False)
                return None
        if item is None or item == PULLED:
            self._node.unplug()  # the kernel removes the node with the device
            raise OSError(errno.ENODEV, os.strerror(errno.ENODEV))
        assert isinstance(item, evdev.InputEvent)
        return item

    @property
    def unread(self) -> int:
        """Events delivered that the adapter has not read yet."""
        with self._lock:
            return len(self._queue)

    def grab(self) -> None:
        self.calls.append("grab")
        if self._gone:
            raise OSError(errno.ENODEV, os.strerror(errno.ENODEV))
        if self._node.grabbed_elsewhere or any(
            d.grabbed for d in self._node.handles if d is not self
        ):
            raise OSError(errno.EBUSY, os.strerror(errno.EBUSY))
        self.grabbed = True

    def ungrab(self) -> None:
        self.calls.append("ungrab")
        if self._gone:
            raise OSError(errno.ENODEV, os.strerror(errno.ENODEV))
        if not self.grabbed:
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
        self.grabbed = False

    def close(self) -> None:
        with self._lock:
            self.calls.append("close")
            if not self.closed:
                self.closed = True
                self.grabbed = False  # closing releases a grab, as the kernel does
                os.close(self._r)
                os.close(self._w)

    # -- the kernel's side -------------------------------------------------------------------

    def deliver(self, items: list[evdev.InputEvent | str]) -> None:
        with self._lock:
            if self.closed or self._gone:
                return
            self._queue.extend(items)
            self._set_readable(True)

    def vanish(self) -> None:
        """The device is gone: what was not read is lost, and every read fails."""
        with self._lock:
            if self._gone:
                return
            self._gone = True
            self._queue.clear()
            if not self.closed:
                self._set_readable(True)  # a gone device's node polls readable, as here

    def _set_readable(self, readable: bool) -> None:
        if readable and not self._readable:
            os.write(self._w, b"!")
        elif not readable and self._readable:
            os.read(self._r, 16)
        self._readable = readable


class Node:
    """An event node under ``/dev/input``: a device behind a path, plugged in or not."""

    def __init__(self, path: str, identity: Identity, *, plugged: bool = True) -> None:
        self.path = path
        self.identity = identity
        self.plugged = plugged
        self.denied = False  # opening fails with EACCES, as for a node of another group
        self.grabbed_elsewhere = False  # another program holds the grab
        self.handles: list[RecordedDevice] = []  # every open of the node, oldest first
        self._last_us: int | None = None
        self._lock = threading.Lock()

    def open(self) -> RecordedDevice:
        with self._lock:
            if not self.plugged:
                raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), self.path)
            if self.denied:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), self.path)
            handle = RecordedDevice(self)
            self.handles.append(handle)
            return handle

    @property
    def current(self) -> RecordedDevice | None:
        """The newest handle still open."""
        open_ = [h for h in self.handles if not h.closed]
        return open_[-1] if open_ else None

    def play(self, recording: Recording, *, after_s: float = 5.0) -> None:
        """Deliver ``recording`` to the open handles, ``after_s`` after the last one played
        (the first keeps its recorded times)."""
        with self._lock:
            shift = 0 if self._last_us is None else self._last_us + round(after_s * 1e6)
            if self._last_us is not None:
                shift -= recording.start_us
            self._last_us = recording.end_us + shift
            handles = [h for h in self.handles if not h.closed]
        if not handles:
            raise AssertionError(f"{self.path}: nobody has the node open")
        items = [r.event(shift) if isinstance(r, Row) else r for r in recording.rows]
        for handle in handles:
            handle.deliver(items)

    def all_read(self) -> bool:
        """Whether every open handle's events have been read (the player's part is done)."""
        return all(h.unread == 0 for h in self.handles if not h.closed)

    def unplug(self) -> None:
        with self._lock:
            self.plugged = False
            handles = list(self.handles)
        for handle in handles:
            handle.vanish()

    def plug(self) -> None:
        with self._lock:
            self.plugged = True


class Bus:
    """``/dev/input``: the nodes by path; ``open`` stands in for :class:`evdev.InputDevice`
    and ``list_devices`` for :func:`evdev.list_devices`."""

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}

    def add(self, path: str, identity: Identity, *, plugged: bool = True) -> Node:
        self.nodes[path] = Node(path, identity, plugged=plugged)
        return self.nodes[path]

    def open(self, path: str) -> RecordedDevice:
        node = self.nodes.get(path)
        if node is None:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
        return node.open()

    def list_devices(
        self, input_device_dir: str = "/dev/input", writable: bool = True
    ) -> list[str]:
        return [path for path, node in self.nodes.items() if node.plugged]

    def handles(self) -> list[RecordedDevice]:
        return [h for node in self.nodes.values() for h in node.handles]


# -- captures ---------------------------------------------------------------------------------
CARD_ID = "04A2B9C31F"  # a 5-byte UID, as the reader types it
OTHER_ID = "5D17E0A284"
KEYPAD_ID = "0412345678"
H10301_ID = "12:345"  # facility 12, card 345: typed as the 7 hex digits of its 26 bits
H10301_HEX = "01802B2"
H10301_BAD_PARITY_HEX = "01802B3"  # the same with its trailing parity bit flipped

# A wedge reader typing CARD_ID and Enter: a key every ~4 ms, down and up, Shift for letters.
CARD = Recording.evtest(
    """
Event: time 1764003600.412337, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70027
Event: time 1764003600.412337, type 1 (EV_KEY), code 11 (KEY_0), value 1
Event: time 1764003600.412337, -------------- SYN_REPORT ------------
Event: time 1764003600.414255, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70027
Event: time 1764003600.414255, type 1 (EV_KEY), code 11 (KEY_0), value 0
Event: time 1764003600.414255, -------------- SYN_REPORT ------------
Event: time 1764003600.416382, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70021
Event: time 1764003600.416382, type 1 (EV_KEY), code 5 (KEY_4), value 1
Event: time 1764003600.416382, -------------- SYN_REPORT ------------
Event: time 1764003600.418264, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70021
Event: time 1764003600.418264, type 1 (EV_KEY), code 5 (KEY_4), value 0
Event: time 1764003600.418264, -------------- SYN_REPORT ------------
Event: time 1764003600.420347, type 4 (EV_MSC), code 4 (MSC_SCAN), value 700e1
Event: time 1764003600.420347, type 1 (EV_KEY), code 42 (KEY_LEFTSHIFT), value 1
Event: time 1764003600.420347, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70004
Event: time 1764003600.420347, type 1 (EV_KEY), code 30 (KEY_A), value 1
Event: time 1764003600.420347, -------------- SYN_REPORT ------------
Event: time 1764003600.422257, type 4 (EV_MSC), code 4 (MSC_SCAN), value 700e1
Event: time 1764003600.422257, type 1 (EV_KEY), code 42 (KEY_LEFTSHIFT), value 0
Event: time 1764003600.422257, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70004
Event: time 1764003600.422257, type 1 (EV_KEY), code 30 (KEY_A), value 0
Event: time 1764003600.422257, -------------- SYN_REPORT ------------
Event: time 1764003600.424373, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7001f
Event: time 1764003600.424373, type 1 (EV_KEY), code 3 (KEY_2), value 1
Event: time 1764003600.424373, -------------- SYN_REPORT ------------
Event: time 1764003600.426453, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7001f
Event: time 1764003600.426453, type 1 (EV_KEY), code 3 (KEY_2), value 0
Event: time 1764003600.426453, -------------- SYN_REPORT ------------
Event: time 1764003600.428393, type 4 (EV_MSC), code 4 (MSC_SCAN), value 700e1
Event: time 1764003600.428393, type 1 (EV_KEY), code 42 (KEY_LEFTSHIFT), value 1
Event: time 1764003600.428393, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70005
Event: time 1764003600.428393, type 1 (EV_KEY), code 48 (KEY_B), value 1
Event: time 1764003600.428393, -------------- SYN_REPORT ------------
Event: time 1764003600.430437, type 4 (EV_MSC), code 4 (MSC_SCAN), value 700e1
Event: time 1764003600.430437, type 1 (EV_KEY), code 42 (KEY_LEFTSHIFT), value 0
Event: time 1764003600.430437, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70005
Event: time 1764003600.430437, type 1 (EV_KEY), code 48 (KEY_B), value 0
Event: time 1764003600.430437, -------------- SYN_REPORT ------------
Event: time 1764003600.432494, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70026
Event: time 1764003600.432494, type 1 (EV_KEY), code 10 (KEY_9), value 1
Event: time 1764003600.432494, -------------- SYN_REPORT ------------
Event: time 1764003600.434451, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70026
Event: time 1764003600.434451, type 1 (EV_KEY), code 10 (KEY_9), value 0
Event: time 1764003600.434451, -------------- SYN_REPORT ------------
Event: time 1764003600.436418, type 4 (EV_MSC), code 4 (MSC_SCAN), value 700e1
Event: time 1764003600.436418, type 1 (EV_KEY), code 42 (KEY_LEFTSHIFT), value 1
Event: time 1764003600.436418, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70006
Event: time 1764003600.436418, type 1 (EV_KEY), code 46 (KEY_C), value 1
Event: time 1764003600.436418, -------------- SYN_REPORT ------------
Event: time 1764003600.438517, type 4 (EV_MSC), code 4 (MSC_SCAN), value 700e1
Event: time 1764003600.438517, type 1 (EV_KEY), code 42 (KEY_LEFTSHIFT), value 0
Event: time 1764003600.438517, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70006
Event: time 1764003600.438517, type 1 (EV_KEY), code 46 (KEY_C), value 0
Event: time 1764003600.438517, -------------- SYN_REPORT ------------
Event: time 1764003600.440325, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70020
Event: time 1764003600.440325, type 1 (EV_KEY), code 4 (KEY_3), value 1
Event: time 1764003600.440325, -------------- SYN_REPORT ------------
Event: time 1764003600.442374, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70020
Event: time 1764003600.442374, type 1 (EV_KEY), code 4 (KEY_3), value 0
Event: time 1764003600.442374, -------------- SYN_REPORT ------------
Event: time 1764003600.444335, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7001e
Event: time 1764003600.444335, type 1 (EV_KEY), code 2 (KEY_1), value 1
Event: time 1764003600.444335, -------------- SYN_REPORT ------------
Event: time 1764003600.446186, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7001e
Event: time 1764003600.446186, type 1 (EV_KEY), code 2 (KEY_1), value 0
Event: time 1764003600.446186, -------------- SYN_REPORT ------------
Event: time 1764003600.448413, type 4 (EV_MSC), code 4 (MSC_SCAN), value 700e1
Event: time 1764003600.448413, type 1 (EV_KEY), code 42 (KEY_LEFTSHIFT), value 1
Event: time 1764003600.448413, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70009
Event: time 1764003600.448413, type 1 (EV_KEY), code 33 (KEY_F), value 1
Event: time 1764003600.448413, -------------- SYN_REPORT ------------
Event: time 1764003600.450491, type 4 (EV_MSC), code 4 (MSC_SCAN), value 700e1
Event: time 1764003600.450491, type 1 (EV_KEY), code 42 (KEY_LEFTSHIFT), value 0
Event: time 1764003600.450491, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70009
Event: time 1764003600.450491, type 1 (EV_KEY), code 33 (KEY_F), value 0
Event: time 1764003600.450491, -------------- SYN_REPORT ------------
Event: time 1764003600.452381, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70028
Event: time 1764003600.452381, type 1 (EV_KEY), code 28 (KEY_ENTER), value 1
Event: time 1764003600.452381, -------------- SYN_REPORT ------------
Event: time 1764003600.454348, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70028
Event: time 1764003600.454348, type 1 (EV_KEY), code 28 (KEY_ENTER), value 0
Event: time 1764003600.454348, -------------- SYN_REPORT ------------
"""
)

# The same reader typing OTHER_ID.
OTHER = Recording.evtest(
    """
Event: time 1764003655.118204, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70022
Event: time 1764003655.118204, type 1 (EV_KEY), code 6 (KEY_5), value 1
Event: time 1764003655.118204, -------------- SYN_REPORT ------------
Event: time 1764003655.120082, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70022
Event: time 1764003655.120082, type 1 (EV_KEY), code 6 (KEY_5), value 0
Event: time 1764003655.120082, -------------- SYN_REPORT ------------
Event: time 1764003655.122127, type 4 (EV_MSC), code 4 (MSC_SCAN), value 700e1
Event: time 1764003655.122127, type 1 (EV_KEY), code 42 (KEY_LEFTSHIFT), value 1
Event: time 1764003655.122127, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70007
Event: time 1764003655.122127, type 1 (EV_KEY), code 32 (KEY_D), value 1
Event: time 1764003655.122127, -------------- SYN_REPORT ------------
Event: time 1764003655.124020, type 4 (EV_MSC), code 4 (MSC_SCAN), value 700e1
Event: time 1764003655.124020, type 1 (EV_KEY), code 42 (KEY_LEFTSHIFT), value 0
Event: time 1764003655.124020, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70007
Event: time 1764003655.124020, type 1 (EV_KEY), code 32 (KEY_D), value 0
Event: time 1764003655.124020, -------------- SYN_REPORT ------------
Event: time 1764003655.126119, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7001e
Event: time 1764003655.126119, type 1 (EV_KEY), code 2 (KEY_1), value 1
Event: time 1764003655.126119, -------------- SYN_REPORT ------------
Event: time 1764003655.128055, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7001e
Event: time 1764003655.128055, type 1 (EV_KEY), code 2 (KEY_1), value 0
Event: time 1764003655.128055, -------------- SYN_REPORT ------------
Event: time 1764003655.130207, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70024
Event: time 1764003655.130207, type 1 (EV_KEY), code 8 (KEY_7), value 1
Event: time 1764003655.130207, -------------- SYN_REPORT ------------
Event: time 1764003655.132214, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70024
Event: time 1764003655.132214, type 1 (EV_KEY), code 8 (KEY_7), value 0
Event: time 1764003655.132214, -------------- SYN_REPORT ------------
Event: time 1764003655.134171, type 4 (EV_MSC), code 4 (MSC_SCAN), value 700e1
Event: time 1764003655.134171, type 1 (EV_KEY), code 42 (KEY_LEFTSHIFT), value 1
Event: time 1764003655.134171, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70008
Event: time 1764003655.134171, type 1 (EV_KEY), code 18 (KEY_E), value 1
Event: time 1764003655.134171, -------------- SYN_REPORT ------------
Event: time 1764003655.136129, type 4 (EV_MSC), code 4 (MSC_SCAN), value 700e1
Event: time 1764003655.136129, type 1 (EV_KEY), code 42 (KEY_LEFTSHIFT), value 0
Event: time 1764003655.136129, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70008
Event: time 1764003655.136129, type 1 (EV_KEY), code 18 (KEY_E), value 0
Event: time 1764003655.136129, -------------- SYN_REPORT ------------
Event: time 1764003655.138226, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70027
Event: time 1764003655.138226, type 1 (EV_KEY), code 11 (KEY_0), value 1
Event: time 1764003655.138226, -------------- SYN_REPORT ------------
Event: time 1764003655.140094, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70027
Event: time 1764003655.140094, type 1 (EV_KEY), code 11 (KEY_0), value 0
Event: time 1764003655.140094, -------------- SYN_REPORT ------------
Event: time 1764003655.142274, type 4 (EV_MSC), code 4 (MSC_SCAN), value 700e1
Event: time 1764003655.142274, type 1 (EV_KEY), code 42 (KEY_LEFTSHIFT), value 1
Event: time 1764003655.142274, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70004
Event: time 1764003655.142274, type 1 (EV_KEY), code 30 (KEY_A), value 1
Event: time 1764003655.142274, -------------- SYN_REPORT ------------
Event: time 1764003655.144205, type 4 (EV_MSC), code 4 (MSC_SCAN), value 700e1
Event: time 1764003655.144205, type 1 (EV_KEY), code 42 (KEY_LEFTSHIFT), value 0
Event: time 1764003655.144205, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70004
Event: time 1764003655.144205, type 1 (EV_KEY), code 30 (KEY_A), value 0
Event: time 1764003655.144205, -------------- SYN_REPORT ------------
Event: time 1764003655.146284, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7001f
Event: time 1764003655.146284, type 1 (EV_KEY), code 3 (KEY_2), value 1
Event: time 1764003655.146284, -------------- SYN_REPORT ------------
Event: time 1764003655.148335, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7001f
Event: time 1764003655.148335, type 1 (EV_KEY), code 3 (KEY_2), value 0
Event: time 1764003655.148335, -------------- SYN_REPORT ------------
Event: time 1764003655.150389, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70025
Event: time 1764003655.150389, type 1 (EV_KEY), code 9 (KEY_8), value 1
Event: time 1764003655.150389, -------------- SYN_REPORT ------------
Event: time 1764003655.152499, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70025
Event: time 1764003655.152499, type 1 (EV_KEY), code 9 (KEY_8), value 0
Event: time 1764003655.152499, -------------- SYN_REPORT ------------
Event: time 1764003655.154532, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70021
Event: time 1764003655.154532, type 1 (EV_KEY), code 5 (KEY_4), value 1
Event: time 1764003655.154532, -------------- SYN_REPORT ------------
Event: time 1764003655.156572, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70021
Event: time 1764003655.156572, type 1 (EV_KEY), code 5 (KEY_4), value 0
Event: time 1764003655.156572, -------------- SYN_REPORT ------------
Event: time 1764003655.158571, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70028
Event: time 1764003655.158571, type 1 (EV_KEY), code 28 (KEY_ENTER), value 1
Event: time 1764003655.158571, -------------- SYN_REPORT ------------
Event: time 1764003655.160648, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70028
Event: time 1764003655.160648, type 1 (EV_KEY), code 28 (KEY_ENTER), value 0
Event: time 1764003655.160648, -------------- SYN_REPORT ------------
"""
)

# An H10301 reader typing H10301_HEX.
H10301_CARD = Recording.evtest(
    """
Event: time 1764003702.530981, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70027
Event: time 1764003702.530981, type 1 (EV_KEY), code 11 (KEY_0), value 1
Event: time 1764003702.530981, -------------- SYN_REPORT ------------
Event: time 1764003702.532952, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70027
Event: time 1764003702.532952, type 1 (EV_KEY), code 11 (KEY_0), value 0
Event: time 1764003702.532952, -------------- SYN_REPORT ------------
Event: time 1764003702.535032, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7001e
Event: time 1764003702.535032, type 1 (EV_KEY), code 2 (KEY_1), value 1
Event: time 1764003702.535032, -------------- SYN_REPORT ------------
Event: time 1764003702.537160, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7001e
Event: time 1764003702.537160, type 1 (EV_KEY), code 2 (KEY_1), value 0
Event: time 1764003702.537160, -------------- SYN_REPORT ------------
Event: time 1764003702.538965, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70025
Event: time 1764003702.538965, type 1 (EV_KEY), code 9 (KEY_8), value 1
Event: time 1764003702.538965, -------------- SYN_REPORT ------------
Event: time 1764003702.541004, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70025
Event: time 1764003702.541004, type 1 (EV_KEY), code 9 (KEY_8), value 0
Event: time 1764003702.541004, -------------- SYN_REPORT ------------
Event: time 1764003702.543099, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70027
Event: time 1764003702.543099, type 1 (EV_KEY), code 11 (KEY_0), value 1
Event: time 1764003702.543099, -------------- SYN_REPORT ------------
Event: time 1764003702.545191, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70027
Event: time 1764003702.545191, type 1 (EV_KEY), code 11 (KEY_0), value 0
Event: time 1764003702.545191, -------------- SYN_REPORT ------------
Event: time 1764003702.547159, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7001f
Event: time 1764003702.547159, type 1 (EV_KEY), code 3 (KEY_2), value 1
Event: time 1764003702.547159, -------------- SYN_REPORT ------------
Event: time 1764003702.549306, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7001f
Event: time 1764003702.549306, type 1 (EV_KEY), code 3 (KEY_2), value 0
Event: time 1764003702.549306, -------------- SYN_REPORT ------------
Event: time 1764003702.551075, type 4 (EV_MSC), code 4 (MSC_SCAN), value 700e1
Event: time 1764003702.551075, type 1 (EV_KEY), code 42 (KEY_LEFTSHIFT), value 1
Event: time 1764003702.551075, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70005
Event: time 1764003702.551075, type 1 (EV_KEY), code 48 (KEY_B), value 1
Event: time 1764003702.551075, -------------- SYN_REPORT ------------
Event: time 1764003702.552931, type 4 (EV_MSC), code 4 (MSC_SCAN), value 700e1
Event: time 1764003702.552931, type 1 (EV_KEY), code 42 (KEY_LEFTSHIFT), value 0
Event: time 1764003702.552931, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70005
Event: time 1764003702.552931, type 1 (EV_KEY), code 48 (KEY_B), value 0
Event: time 1764003702.552931, -------------- SYN_REPORT ------------
Event: time 1764003702.555207, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7001f
Event: time 1764003702.555207, type 1 (EV_KEY), code 3 (KEY_2), value 1
Event: time 1764003702.555207, -------------- SYN_REPORT ------------
Event: time 1764003702.557297, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7001f
Event: time 1764003702.557297, type 1 (EV_KEY), code 3 (KEY_2), value 0
Event: time 1764003702.557297, -------------- SYN_REPORT ------------
Event: time 1764003702.559173, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70028
Event: time 1764003702.559173, type 1 (EV_KEY), code 28 (KEY_ENTER), value 1
Event: time 1764003702.559173, -------------- SYN_REPORT ------------
Event: time 1764003702.561305, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70028
Event: time 1764003702.561305, type 1 (EV_KEY), code 28 (KEY_ENTER), value 0
Event: time 1764003702.561305, -------------- SYN_REPORT ------------
"""
)

# The same reader with a misread bit: H10301_BAD_PARITY_HEX.
H10301_BAD_PARITY = Recording.evtest(
    """
Event: time 1764003731.077415, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70027
Event: time 1764003731.077415, type 1 (EV_KEY), code 11 (KEY_0), value 1
Event: time 1764003731.077415, -------------- SYN_REPORT ------------
Event: time 1764003731.079385, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70027
Event: time 1764003731.079385, type 1 (EV_KEY), code 11 (KEY_0), value 0
Event: time 1764003731.079385, -------------- SYN_REPORT ------------
Event: time 1764003731.081392, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7001e
Event: time 1764003731.081392, type 1 (EV_KEY), code 2 (KEY_1), value 1
Event: time 1764003731.081392, -------------- SYN_REPORT ------------
Event: time 1764003731.083294, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7001e
Event: time 1764003731.083294, type 1 (EV_KEY), code 2 (KEY_1), value 0
Event: time 1764003731.083294, -------------- SYN_REPORT ------------
Event: time 1764003731.085476, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70025
Event: time 1764003731.085476, type 1 (EV_KEY), code 9 (KEY_8), value 1
Event: time 1764003731.085476, -------------- SYN_REPORT ------------
Event: time 1764003731.087528, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70025
Event: time 1764003731.087528, type 1 (EV_KEY), code 9 (KEY_8), value 0
Event: time 1764003731.087528, -------------- SYN_REPORT ------------
Event: time 1764003731.089498, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70027
Event: time 1764003731.089498, type 1 (EV_KEY), code 11 (KEY_0), value 1
Event: time 1764003731.089498, -------------- SYN_REPORT ------------
Event: time 1764003731.091427, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70027
Event: time 1764003731.091427, type 1 (EV_KEY), code 11 (KEY_0), value 0
Event: time 1764003731.091427, -------------- SYN_REPORT ------------
Event: time 1764003731.093421, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7001f
Event: time 1764003731.093421, type 1 (EV_KEY), code 3 (KEY_2), value 1
Event: time 1764003731.093421, -------------- SYN_REPORT ------------
Event: time 1764003731.095305, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7001f
Event: time 1764003731.095305, type 1 (EV_KEY), code 3 (KEY_2), value 0
Event: time 1764003731.095305, -------------- SYN_REPORT ------------
Event: time 1764003731.097326, type 4 (EV_MSC), code 4 (MSC_SCAN), value 700e1
Event: time 1764003731.097326, type 1 (EV_KEY), code 42 (KEY_LEFTSHIFT), value 1
Event: time 1764003731.097326, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70005
Event: time 1764003731.097326, type 1 (EV_KEY), code 48 (KEY_B), value 1
Event: time 1764003731.097326, -------------- SYN_REPORT ------------
Event: time 1764003731.099381, type 4 (EV_MSC), code 4 (MSC_SCAN), value 700e1
Event: time 1764003731.099381, type 1 (EV_KEY), code 42 (KEY_LEFTSHIFT), value 0
Event: time 1764003731.099381, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70005
Event: time 1764003731.099381, type 1 (EV_KEY), code 48 (KEY_B), value 0
Event: time 1764003731.099381, -------------- SYN_REPORT ------------
Event: time 1764003731.101366, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70020
Event: time 1764003731.101366, type 1 (EV_KEY), code 4 (KEY_3), value 1
Event: time 1764003731.101366, -------------- SYN_REPORT ------------
Event: time 1764003731.103364, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70020
Event: time 1764003731.103364, type 1 (EV_KEY), code 4 (KEY_3), value 0
Event: time 1764003731.103364, -------------- SYN_REPORT ------------
Event: time 1764003731.105470, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70028
Event: time 1764003731.105470, type 1 (EV_KEY), code 28 (KEY_ENTER), value 1
Event: time 1764003731.105470, -------------- SYN_REPORT ------------
Event: time 1764003731.107350, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70028
Event: time 1764003731.107350, type 1 (EV_KEY), code 28 (KEY_ENTER), value 0
Event: time 1764003731.107350, -------------- SYN_REPORT ------------
"""
)

# OTHER_ID begun, the card taken away after five keys: no Enter.
HALF_CARD = Recording.evtest(
    """
Event: time 1764003790.264650, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70022
Event: time 1764003790.264650, type 1 (EV_KEY), code 6 (KEY_5), value 1
Event: time 1764003790.264650, -------------- SYN_REPORT ------------
Event: time 1764003790.266630, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70022
Event: time 1764003790.266630, type 1 (EV_KEY), code 6 (KEY_5), value 0
Event: time 1764003790.266630, -------------- SYN_REPORT ------------
Event: time 1764003790.268739, type 4 (EV_MSC), code 4 (MSC_SCAN), value 700e1
Event: time 1764003790.268739, type 1 (EV_KEY), code 42 (KEY_LEFTSHIFT), value 1
Event: time 1764003790.268739, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70007
Event: time 1764003790.268739, type 1 (EV_KEY), code 32 (KEY_D), value 1
Event: time 1764003790.268739, -------------- SYN_REPORT ------------
Event: time 1764003790.270772, type 4 (EV_MSC), code 4 (MSC_SCAN), value 700e1
Event: time 1764003790.270772, type 1 (EV_KEY), code 42 (KEY_LEFTSHIFT), value 0
Event: time 1764003790.270772, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70007
Event: time 1764003790.270772, type 1 (EV_KEY), code 32 (KEY_D), value 0
Event: time 1764003790.270772, -------------- SYN_REPORT ------------
Event: time 1764003790.272842, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7001e
Event: time 1764003790.272842, type 1 (EV_KEY), code 2 (KEY_1), value 1
Event: time 1764003790.272842, -------------- SYN_REPORT ------------
Event: time 1764003790.274963, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7001e
Event: time 1764003790.274963, type 1 (EV_KEY), code 2 (KEY_1), value 0
Event: time 1764003790.274963, -------------- SYN_REPORT ------------
Event: time 1764003790.276749, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70024
Event: time 1764003790.276749, type 1 (EV_KEY), code 8 (KEY_7), value 1
Event: time 1764003790.276749, -------------- SYN_REPORT ------------
Event: time 1764003790.278837, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70024
Event: time 1764003790.278837, type 1 (EV_KEY), code 8 (KEY_7), value 0
Event: time 1764003790.278837, -------------- SYN_REPORT ------------
Event: time 1764003790.280847, type 4 (EV_MSC), code 4 (MSC_SCAN), value 700e1
Event: time 1764003790.280847, type 1 (EV_KEY), code 42 (KEY_LEFTSHIFT), value 1
Event: time 1764003790.280847, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70008
Event: time 1764003790.280847, type 1 (EV_KEY), code 18 (KEY_E), value 1
Event: time 1764003790.280847, -------------- SYN_REPORT ------------
Event: time 1764003790.282824, type 4 (EV_MSC), code 4 (MSC_SCAN), value 700e1
Event: time 1764003790.282824, type 1 (EV_KEY), code 42 (KEY_LEFTSHIFT), value 0
Event: time 1764003790.282824, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70008
Event: time 1764003790.282824, type 1 (EV_KEY), code 18 (KEY_E), value 0
Event: time 1764003790.282824, -------------- SYN_REPORT ------------
"""
)

# CARD_ID while the kiosk was too slow: the kernel's buffer overflowed after "04A2"
# (SYN_DROPPED) and "B9" was lost; what follows, "C31F", would pass for a card of its own.
CARD_WITH_LOST_EVENTS = Recording.evtest(
    """
Event: time 1764003830.641207, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70027
Event: time 1764003830.641207, type 1 (EV_KEY), code 11 (KEY_0), value 1
Event: time 1764003830.641207, -------------- SYN_REPORT ------------
Event: time 1764003830.643350, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70027
Event: time 1764003830.643350, type 1 (EV_KEY), code 11 (KEY_0), value 0
Event: time 1764003830.643350, -------------- SYN_REPORT ------------
Event: time 1764003830.645317, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70021
Event: time 1764003830.645317, type 1 (EV_KEY), code 5 (KEY_4), value 1
Event: time 1764003830.645317, -------------- SYN_REPORT ------------
Event: time 1764003830.647208, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70021
Event: time 1764003830.647208, type 1 (EV_KEY), code 5 (KEY_4), value 0
Event: time 1764003830.647208, -------------- SYN_REPORT ------------
Event: time 1764003830.649341, type 4 (EV_MSC), code 4 (MSC_SCAN), value 700e1
Event: time 1764003830.649341, type 1 (EV_KEY), code 42 (KEY_LEFTSHIFT), value 1
Event: time 1764003830.649341, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70004
Event: time 1764003830.649341, type 1 (EV_KEY), code 30 (KEY_A), value 1
Event: time 1764003830.649341, -------------- SYN_REPORT ------------
Event: time 1764003830.651324, type 4 (EV_MSC), code 4 (MSC_SCAN), value 700e1
Event: time 1764003830.651324, type 1 (EV_KEY), code 42 (KEY_LEFTSHIFT), value 0
Event: time 1764003830.651324, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70004
Event: time 1764003830.651324, type 1 (EV_KEY), code 30 (KEY_A), value 0
Event: time 1764003830.651324, -------------- SYN_REPORT ------------
Event: time 1764003830.653250, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7001f
Event: time 1764003830.653250, type 1 (EV_KEY), code 3 (KEY_2), value 1
Event: time 1764003830.653250, -------------- SYN_REPORT ------------
Event: time 1764003830.655100, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7001f
Event: time 1764003830.655100, type 1 (EV_KEY), code 3 (KEY_2), value 0
Event: time 1764003830.655100, -------------- SYN_REPORT ------------
Event: time 1764003830.659872, >>>>>>>>>>>>>> SYN_DROPPED <<<<<<<<<<<<
Event: time 1764003830.665390, type 4 (EV_MSC), code 4 (MSC_SCAN), value 700e1
Event: time 1764003830.665390, type 1 (EV_KEY), code 42 (KEY_LEFTSHIFT), value 1
Event: time 1764003830.665390, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70006
Event: time 1764003830.665390, type 1 (EV_KEY), code 46 (KEY_C), value 1
Event: time 1764003830.665390, -------------- SYN_REPORT ------------
Event: time 1764003830.667405, type 4 (EV_MSC), code 4 (MSC_SCAN), value 700e1
Event: time 1764003830.667405, type 1 (EV_KEY), code 42 (KEY_LEFTSHIFT), value 0
Event: time 1764003830.667405, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70006
Event: time 1764003830.667405, type 1 (EV_KEY), code 46 (KEY_C), value 0
Event: time 1764003830.667405, -------------- SYN_REPORT ------------
Event: time 1764003830.669532, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70020
Event: time 1764003830.669532, type 1 (EV_KEY), code 4 (KEY_3), value 1
Event: time 1764003830.669532, -------------- SYN_REPORT ------------
Event: time 1764003830.671459, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70020
Event: time 1764003830.671459, type 1 (EV_KEY), code 4 (KEY_3), value 0
Event: time 1764003830.671459, -------------- SYN_REPORT ------------
Event: time 1764003830.673533, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7001e
Event: time 1764003830.673533, type 1 (EV_KEY), code 2 (KEY_1), value 1
Event: time 1764003830.673533, -------------- SYN_REPORT ------------
Event: time 1764003830.675407, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7001e
Event: time 1764003830.675407, type 1 (EV_KEY), code 2 (KEY_1), value 0
Event: time 1764003830.675407, -------------- SYN_REPORT ------------
Event: time 1764003830.677451, type 4 (EV_MSC), code 4 (MSC_SCAN), value 700e1
Event: time 1764003830.677451, type 1 (EV_KEY), code 42 (KEY_LEFTSHIFT), value 1
Event: time 1764003830.677451, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70009
Event: time 1764003830.677451, type 1 (EV_KEY), code 33 (KEY_F), value 1
Event: time 1764003830.677451, -------------- SYN_REPORT ------------
Event: time 1764003830.679575, type 4 (EV_MSC), code 4 (MSC_SCAN), value 700e1
Event: time 1764003830.679575, type 1 (EV_KEY), code 42 (KEY_LEFTSHIFT), value 0
Event: time 1764003830.679575, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70009
Event: time 1764003830.679575, type 1 (EV_KEY), code 33 (KEY_F), value 0
Event: time 1764003830.679575, -------------- SYN_REPORT ------------
Event: time 1764003830.681375, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70028
Event: time 1764003830.681375, type 1 (EV_KEY), code 28 (KEY_ENTER), value 1
Event: time 1764003830.681375, -------------- SYN_REPORT ------------
Event: time 1764003830.683412, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70028
Event: time 1764003830.683412, type 1 (EV_KEY), code 28 (KEY_ENTER), value 0
Event: time 1764003830.683412, -------------- SYN_REPORT ------------
"""
)

# A reader typing KEYPAD_ID on the keypad, its first key held long enough to autorepeat.
KEYPAD_CARD = Recording.evtest(
    """
Event: time 1764003870.208833, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70062
Event: time 1764003870.208833, type 1 (EV_KEY), code 82 (KEY_KP0), value 1
Event: time 1764003870.208833, -------------- SYN_REPORT ------------
Event: time 1764003870.458833, type 1 (EV_KEY), code 82 (KEY_KP0), value 2
Event: time 1764003870.458833, -------------- SYN_REPORT ------------
Event: time 1764003870.470210, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70062
Event: time 1764003870.470210, type 1 (EV_KEY), code 82 (KEY_KP0), value 0
Event: time 1764003870.470210, -------------- SYN_REPORT ------------
Event: time 1764003870.472223, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7005c
Event: time 1764003870.472223, type 1 (EV_KEY), code 75 (KEY_KP4), value 1
Event: time 1764003870.472223, -------------- SYN_REPORT ------------
Event: time 1764003870.474189, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7005c
Event: time 1764003870.474189, type 1 (EV_KEY), code 75 (KEY_KP4), value 0
Event: time 1764003870.474189, -------------- SYN_REPORT ------------
Event: time 1764003870.476217, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70059
Event: time 1764003870.476217, type 1 (EV_KEY), code 79 (KEY_KP1), value 1
Event: time 1764003870.476217, -------------- SYN_REPORT ------------
Event: time 1764003870.478259, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70059
Event: time 1764003870.478259, type 1 (EV_KEY), code 79 (KEY_KP1), value 0
Event: time 1764003870.478259, -------------- SYN_REPORT ------------
Event: time 1764003870.480149, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7005a
Event: time 1764003870.480149, type 1 (EV_KEY), code 80 (KEY_KP2), value 1
Event: time 1764003870.480149, -------------- SYN_REPORT ------------
Event: time 1764003870.482097, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7005a
Event: time 1764003870.482097, type 1 (EV_KEY), code 80 (KEY_KP2), value 0
Event: time 1764003870.482097, -------------- SYN_REPORT ------------
Event: time 1764003870.484229, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7005b
Event: time 1764003870.484229, type 1 (EV_KEY), code 81 (KEY_KP3), value 1
Event: time 1764003870.484229, -------------- SYN_REPORT ------------
Event: time 1764003870.486101, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7005b
Event: time 1764003870.486101, type 1 (EV_KEY), code 81 (KEY_KP3), value 0
Event: time 1764003870.486101, -------------- SYN_REPORT ------------
Event: time 1764003870.488150, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7005c
Event: time 1764003870.488150, type 1 (EV_KEY), code 75 (KEY_KP4), value 1
Event: time 1764003870.488150, -------------- SYN_REPORT ------------
Event: time 1764003870.490070, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7005c
Event: time 1764003870.490070, type 1 (EV_KEY), code 75 (KEY_KP4), value 0
Event: time 1764003870.490070, -------------- SYN_REPORT ------------
Event: time 1764003870.492113, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7005d
Event: time 1764003870.492113, type 1 (EV_KEY), code 76 (KEY_KP5), value 1
Event: time 1764003870.492113, -------------- SYN_REPORT ------------
Event: time 1764003870.494222, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7005d
Event: time 1764003870.494222, type 1 (EV_KEY), code 76 (KEY_KP5), value 0
Event: time 1764003870.494222, -------------- SYN_REPORT ------------
Event: time 1764003870.496066, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7005e
Event: time 1764003870.496066, type 1 (EV_KEY), code 77 (KEY_KP6), value 1
Event: time 1764003870.496066, -------------- SYN_REPORT ------------
Event: time 1764003870.498121, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7005e
Event: time 1764003870.498121, type 1 (EV_KEY), code 77 (KEY_KP6), value 0
Event: time 1764003870.498121, -------------- SYN_REPORT ------------
Event: time 1764003870.500130, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7005f
Event: time 1764003870.500130, type 1 (EV_KEY), code 71 (KEY_KP7), value 1
Event: time 1764003870.500130, -------------- SYN_REPORT ------------
Event: time 1764003870.501995, type 4 (EV_MSC), code 4 (MSC_SCAN), value 7005f
Event: time 1764003870.501995, type 1 (EV_KEY), code 71 (KEY_KP7), value 0
Event: time 1764003870.501995, -------------- SYN_REPORT ------------
Event: time 1764003870.504147, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70060
Event: time 1764003870.504147, type 1 (EV_KEY), code 72 (KEY_KP8), value 1
Event: time 1764003870.504147, -------------- SYN_REPORT ------------
Event: time 1764003870.506246, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70060
Event: time 1764003870.506246, type 1 (EV_KEY), code 72 (KEY_KP8), value 0
Event: time 1764003870.506246, -------------- SYN_REPORT ------------
Event: time 1764003870.508163, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70058
Event: time 1764003870.508163, type 1 (EV_KEY), code 96 (KEY_KPENTER), value 1
Event: time 1764003870.508163, -------------- SYN_REPORT ------------
Event: time 1764003870.510212, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70058
Event: time 1764003870.510212, type 1 (EV_KEY), code 96 (KEY_KPENTER), value 0
Event: time 1764003870.510212, -------------- SYN_REPORT ------------
"""
)

# A handset reporting its hook as a level on KEY_PHONE (held down while lifted).
HANDSET_LIFT = Recording.evtest(
    """
# lifted: the contact bounces (three changes in 14 ms), then the held key repeats
Event: time 1764004100.250113, type 4 (EV_MSC), code 4 (MSC_SCAN), value c008c
Event: time 1764004100.250113, type 1 (EV_KEY), code 169 (KEY_PHONE), value 1
Event: time 1764004100.250113, -------------- SYN_REPORT ------------
Event: time 1764004100.256134, type 4 (EV_MSC), code 4 (MSC_SCAN), value c008c
Event: time 1764004100.256134, type 1 (EV_KEY), code 169 (KEY_PHONE), value 0
Event: time 1764004100.256134, -------------- SYN_REPORT ------------
Event: time 1764004100.263987, type 4 (EV_MSC), code 4 (MSC_SCAN), value c008c
Event: time 1764004100.263987, type 1 (EV_KEY), code 169 (KEY_PHONE), value 1
Event: time 1764004100.263987, -------------- SYN_REPORT ------------
Event: time 1764004100.513987, type 1 (EV_KEY), code 169 (KEY_PHONE), value 2
Event: time 1764004100.513987, -------------- SYN_REPORT ------------
Event: time 1764004100.547324, type 1 (EV_KEY), code 169 (KEY_PHONE), value 2
Event: time 1764004100.547324, -------------- SYN_REPORT ------------
Event: time 1764004100.580658, type 1 (EV_KEY), code 169 (KEY_PHONE), value 2
Event: time 1764004100.580658, -------------- SYN_REPORT ------------
"""
)

# The same handset, 1.9 s later.
HANDSET_KNOCK = Recording.evtest(
    """
# the handset knocked against the cradle while lifted: open for 7 ms
Event: time 1764004102.118530, type 4 (EV_MSC), code 4 (MSC_SCAN), value c008c
Event: time 1764004102.118530, type 1 (EV_KEY), code 169 (KEY_PHONE), value 0
Event: time 1764004102.118530, -------------- SYN_REPORT ------------
Event: time 1764004102.125775, type 4 (EV_MSC), code 4 (MSC_SCAN), value c008c
Event: time 1764004102.125775, type 1 (EV_KEY), code 169 (KEY_PHONE), value 1
Event: time 1764004102.125775, -------------- SYN_REPORT ------------
"""
)

# The same handset, 2.3 s later.
HANDSET_HANG_UP = Recording.evtest(
    """
# hung up: the contact bounces again
Event: time 1764004104.461902, type 4 (EV_MSC), code 4 (MSC_SCAN), value c008c
Event: time 1764004104.461902, type 1 (EV_KEY), code 169 (KEY_PHONE), value 0
Event: time 1764004104.461902, -------------- SYN_REPORT ------------
Event: time 1764004104.467015, type 4 (EV_MSC), code 4 (MSC_SCAN), value c008c
Event: time 1764004104.467015, type 1 (EV_KEY), code 169 (KEY_PHONE), value 1
Event: time 1764004104.467015, -------------- SYN_REPORT ------------
Event: time 1764004104.473708, type 4 (EV_MSC), code 4 (MSC_SCAN), value c008c
Event: time 1764004104.473708, type 1 (EV_KEY), code 169 (KEY_PHONE), value 0
Event: time 1764004104.473708, -------------- SYN_REPORT ------------
"""
)

# A handset reporting each change twice, on two keys.
HANDSET_DUPLICATES = Recording.evtest(
    """
# lifted: the consumer Telephone key and the hook switch's pickup key in one report
Event: time 1764004160.702441, type 4 (EV_MSC), code 4 (MSC_SCAN), value c008c
Event: time 1764004160.702441, type 1 (EV_KEY), code 169 (KEY_PHONE), value 1
Event: time 1764004160.702441, type 4 (EV_MSC), code 4 (MSC_SCAN), value b0020
Event: time 1764004160.702441, type 1 (EV_KEY), code 445 (KEY_PICKUP_PHONE), value 1
Event: time 1764004160.702441, -------------- SYN_REPORT ------------
Event: time 1764004160.703443, type 4 (EV_MSC), code 4 (MSC_SCAN), value b0020
Event: time 1764004160.703443, type 1 (EV_KEY), code 445 (KEY_PICKUP_PHONE), value 0
Event: time 1764004160.703443, -------------- SYN_REPORT ------------
# hung up: both again
Event: time 1764004164.572556, type 4 (EV_MSC), code 4 (MSC_SCAN), value c008c
Event: time 1764004164.572556, type 1 (EV_KEY), code 169 (KEY_PHONE), value 0
Event: time 1764004164.572556, type 4 (EV_MSC), code 4 (MSC_SCAN), value b0020
Event: time 1764004164.572556, type 1 (EV_KEY), code 446 (KEY_HANGUP_PHONE), value 1
Event: time 1764004164.572556, -------------- SYN_REPORT ------------
Event: time 1764004164.573554, type 4 (EV_MSC), code 4 (MSC_SCAN), value b0020
Event: time 1764004164.573554, type 1 (EV_KEY), code 446 (KEY_HANGUP_PHONE), value 0
Event: time 1764004164.573554, -------------- SYN_REPORT ------------
"""
)

# A handset whose KEY_PHONE is pressed once per change (toggle mode).
HANDSET_TOGGLE = Recording.evtest(
    """
# lifted: one press
Event: time 1764004220.033719, type 4 (EV_MSC), code 4 (MSC_SCAN), value c008c
Event: time 1764004220.033719, type 1 (EV_KEY), code 169 (KEY_PHONE), value 1
Event: time 1764004220.033719, -------------- SYN_REPORT ------------
Event: time 1764004220.125061, type 4 (EV_MSC), code 4 (MSC_SCAN), value c008c
Event: time 1764004220.125061, type 1 (EV_KEY), code 169 (KEY_PHONE), value 0
Event: time 1764004220.125061, -------------- SYN_REPORT ------------
# hung up: one press whose contact bounces
Event: time 1764004223.545725, type 4 (EV_MSC), code 4 (MSC_SCAN), value c008c
Event: time 1764004223.545725, type 1 (EV_KEY), code 169 (KEY_PHONE), value 1
Event: time 1764004223.545725, -------------- SYN_REPORT ------------
Event: time 1764004223.548706, type 4 (EV_MSC), code 4 (MSC_SCAN), value c008c
Event: time 1764004223.548706, type 1 (EV_KEY), code 169 (KEY_PHONE), value 0
Event: time 1764004223.548706, -------------- SYN_REPORT ------------
Event: time 1764004223.552629, type 4 (EV_MSC), code 4 (MSC_SCAN), value c008c
Event: time 1764004223.552629, type 1 (EV_KEY), code 169 (KEY_PHONE), value 1
Event: time 1764004223.552629, -------------- SYN_REPORT ------------
Event: time 1764004223.641745, type 4 (EV_MSC), code 4 (MSC_SCAN), value c008c
Event: time 1764004223.641745, type 1 (EV_KEY), code 169 (KEY_PHONE), value 0
Event: time 1764004223.641745, -------------- SYN_REPORT ------------
"""
)

# -- scenarios made of the captures above -----------------------------------------------------

CARD_TWICE_300MS = CARD.then(CARD, 0.3)  # left on the reader: read again 300 ms later
CARD_TWICE_2500MS = CARD.then(CARD, 2.5)  # presented again 2.5 s later
BURST = CARD.then(OTHER, 0.012)  # two cards back to back
HALF_THEN_CARD = HALF_CARD.then(CARD, 1.0)  # a cut-short read, a 1 s pause, a full card
CARD_PULLED_MID_READ = CARD.until_key(6).pulled()  # the cable pulled after six keys
HANDSET_CALL = Recording((*HANDSET_LIFT.rows, *HANDSET_KNOCK.rows, *HANDSET_HANG_UP.rows))
