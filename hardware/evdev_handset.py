"""The hook switch of a USB telephony handset, read through evdev.

Linux does not map the HID Telephony page's Hook Switch (0x0B:0x20) to any input event:
``hid-input.c`` maps only Phone Mute and the keypad of that page and ignores the rest. What a
handset's hook reaches evdev as therefore depends on its firmware: ``KEY_PHONE`` (Consumer
0x08C), the answer/hang-up keys ``KEY_PICKUP_PHONE``/``KEY_HANGUP_PHONE``, or the key its
audio chip's button pin reports (``KEY_MUTE`` on some handsets built on USB audio codecs). So the
codes are configurable, and two ways of reporting are read: a level (the key held down while
the handset is lifted) and a toggle (each press flips the state).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import MappingProxyType

import evdev
from evdev import ecodes

from hardware.evdev_source import EvdevSource, InputDeviceLike, key_capabilities
from hardware.interfaces import HookEvent, HookState
from hardware.listeners import Listeners
from hardware.reconnecting_reader import ReaderStatus

log = logging.getLogger(__name__)

MODES = frozenset({"level", "toggle"})
_TONES_KEPT = 64  # the newest tones asked for; a kiosk runs for months
# Keys whose press says which way the hook went, whatever the mode.
_EXPLICIT_NAMES = (
    ("KEY_PICKUP_PHONE", HookState.OFF_HOOK),
    ("KEY_HANGUP_PHONE", HookState.ON_HOOK),
)
# KEY_TOGGLE_PHONE was proposed for the Hook Switch (with the two keys above for its on/off
# reports) but is not in every kernel's headers: watched only where evdev knows it.
DEFAULT_HOOK_CODES: tuple[int, ...] = tuple(
    getattr(ecodes, name)
    for name in ("KEY_PHONE", "KEY_TOGGLE_PHONE", *(n for n, _ in _EXPLICIT_NAMES))
    if hasattr(ecodes, name)
)
_EXPLICIT = MappingProxyType(
    {getattr(ecodes, n): s for n, s in _EXPLICIT_NAMES if hasattr(ecodes, n)}
)


@dataclass(frozen=True)
class HandsetStats:
    """Counts since the handset was built, for telemetry and tests."""

    changes: int = 0  # hook changes emitted
    bounces: int = 0  # changes undone within the debounce time, or presses bouncing
    duplicates: int = 0  # reports of the state already reported
    reconnects: int = 0  # times the device was opened again after it was lost


class EvdevHandset(ReaderStatus):
    """Implements :class:`hardware.interfaces.Handset` for a handset's hook switch.

    ``device`` is an event node path (``/dev/kiosk-handset``) or ``vvvv:pppp`` USB ids (the
    node reporting one of ``codes``). ``mode`` is ``level`` (a code's key down = off hook,
    up = on hook) or ``toggle`` (each press flips); ``KEY_PICKUP_PHONE`` and
    ``KEY_HANGUP_PHONE`` mean lifted and hung up in either. ``codes`` are key codes or their
    names (default :data:`DEFAULT_HOOK_CODES`). A change counts once it has held for
    ``debounce_s`` (measured on the kernel's timestamps), so a bouncing contact never hangs up
    a visit; presses closer than that in toggle mode are bounces. The node is grabbed, so its
    keys reach no other program. Starts on hook. Unplugged, the hook state stays as it was: a
    pulled cable ends nothing by itself. ``clock`` dates events; ``open_device`` (default
    :class:`evdev.InputDevice`) is for tests.
    """

    def __init__(
        self,
        device: str,
        *,
        mode: str = "level",
        codes: Iterable[int | str] | None = None,
        debounce_s: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
        open_device: Callable[[str], InputDeviceLike] | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"handset: unknown mode {mode!r} (known: {', '.join(sorted(MODES))})")
        if not debounce_s >= 0:
            raise ValueError(f"handset: debounce_s must not be negative, not {debounce_s!r}")
        self._device = device
        self._mode = mode
        self._codes = _key_codes(DEFAULT_HOOK_CODES if codes is None else codes)
        self._debounce_s = debounce_s
        self._clock = clock
        self._listeners: Listeners[HookEvent] = Listeners("handset")
        self._lock = threading.Lock()  # guards the tones
        self._tones: deque[str] = deque(maxlen=_TONES_KEPT)
        self._hook = HookState.ON_HOOK
        self._pending: tuple[HookState, float, float] | None = None  # state, kernel time, seen
        self._last_press: float | None = None  # kernel time of the last press, toggle mode
        self._stats = HandsetStats()
        try:
            # ReaderStatus reads state and detail from it.
            self._reader = EvdevSource(
                device,
                role="handset",
                thread_name=f"handset {device}",
                handler=self,
                suits=lambda d: bool(key_capabilities(d) & self._codes),
                # Grabbed: a hook reported as KEY_MUTE or KEY_PHONE must not also reach a
                # desktop's media keys (muting the visit) or the UI.
                grab=True,
                open_device=open_device,
            )
        except ValueError as exc:
            raise ValueError(f"handset: {exc}") from None

    @property
    def device(self) -> str:
        return self._device

    @property
    def mode(self) -> str:
        return self._mode

    @property
    def codes(self) -> frozenset[int]:
        return self._codes

    @property
    def hook_state(self) -> HookState:
        return self._hook

    @property
    def stats(self) -> HandsetStats:
        return self._stats

    @property
    def tones(self) -> tuple[str, ...]:
        """The latest tones asked for, oldest first."""
        with self._lock:
            return tuple(self._tones)

    def subscribe(self, listener: Callable[[HookEvent], None]) -> Callable[[], None]:
        """Call ``listener`` on every hook change; returns a function that unsubscribes."""
        return self._listeners.subscribe(listener)

    def start(self) -> None:
        """Start reading in a thread of its own; opening the device is retried until it works."""
        self._reader.start()

    def stop(self) -> None:
        """Stop the thread (within about 0.1 s) and close the device; the hook state stays."""
        self._reader.stop()

    def play_tone(self, kind: str) -> None:
        """A tone in the earpiece (``warning``: a visit's 5- and 1-minute warnings).

        Only recorded for now: playing it through the handset's ALSA device comes later.
        """
        with self._lock:
            self._tones.append(kind)
        log.debug("handset %s: tone %r asked for; no audio output yet", self._device, kind)

    # -- EventHandler, on the reader thread ------------------------------------------------

    def opened(self, reconnect: bool) -> None:
        # The kernel's key state is not read here: a handset re-enumerated while lifted shows
        # all keys up until it next reports, and believing that would hang up a visit.
        if reconnect:
            self._count(reconnects=1)

    def handle(self, event: evdev.InputEvent) -> None:
        at = event.timestamp()
        self._settle(at)  # any later event shows how long a pending change has held
        if event.type != ecodes.EV_KEY or event.code not in self._codes or event.value == 2:
            return  # 2 is autorepeat of a held key: no change
        explicit = _EXPLICIT.get(event.code)
        if explicit is not None or self._mode == "toggle":
            if event.value != 1:
                return  # a release says nothing; the press did
            if self._last_press is not None and at - self._last_press < self._debounce_s:
                self._last_press = at
                self._count(bounces=1)
                return
            self._last_press = at
        if explicit is not None:
            state = explicit
        elif self._mode == "toggle":
            state = (self._pending[0] if self._pending else self._hook).flipped()
        else:
            state = HookState.OFF_HOOK if event.value else HookState.ON_HOOK
        self._report(state, at)

    def idle(self, now: float) -> float | None:
        if self._pending is None:
            return None
        # No report undid it for debounce_s since it was read: it held.
        left = self._debounce_s - (now - self._pending[2])
        if left > 0:
            return left
        self._accept()
        return None

    def lost(self) -> None:
        # A change still bouncing when the cable went is not taken: unplugging ends nothing.
        self._pending = None
        self._last_press = None

    # -- debouncing ------------------------------------------------------------------------

    def _report(self, state: HookState, at: float) -> None:
        if state is (self._pending[0] if self._pending else self._hook):
            self._count(duplicates=1)
        elif self._pending is not None:  # back to the accepted state before it held
            self._pending = None
            self._count(bounces=1)
        else:
            self._pending = (state, at, time.monotonic())
            if self._debounce_s == 0:
                self._accept()

    def _settle(self, at: float) -> None:
        if self._pending is not None and at - self._pending[1] >= self._debounce_s:
            self._accept()  # it held until this later report

    def _accept(self) -> None:
        assert self._pending is not None
        self._hook = self._pending[0]
        self._pending = None
        self._count(changes=1)
        log.debug("handset %s: %s", self._device, self._hook)
        self._listeners.emit(HookEvent(state=self._hook, at=self._clock()))

    def _count(self, **increments: int) -> None:
        s = self._stats
        self._stats = HandsetStats(
            **{k: getattr(s, k) + increments.get(k, 0) for k in HandsetStats.__dataclass_fields__}
        )


def _key_codes(codes: Iterable[int | str]) -> frozenset[int]:
    """Key codes from codes or names (``"KEY_PHONE"``); ``ValueError`` on an unknown one."""
    if isinstance(codes, str | int):
        codes = (codes,)
    result: set[int] = set()
    for code in codes:
        if isinstance(code, str):
            number = ecodes.ecodes.get(code)
            if number is None or not code.startswith(("KEY_", "BTN_")):
                raise ValueError(f"handset: unknown key {code!r} (e.g. KEY_PHONE)")
            result.add(number)
        elif isinstance(code, int) and not isinstance(code, bool) and 0 <= code <= ecodes.KEY_MAX:
            result.add(code)
        else:
            raise ValueError(f"handset: {code!r} is not a key code")
    if not result:
        raise ValueError("handset: no hook key codes given")
    return frozenset(result)
