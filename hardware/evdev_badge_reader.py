"""A USB keyboard-wedge badge reader, read through evdev: it types each card and presses Enter.

The reader's event node is grabbed, so its digits never reach the kiosk's UI or any other
program. Never log or keep a badge in clear: cards that fail are logged without their content,
and the repeat filter keeps only a keyed digest.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from types import MappingProxyType

import evdev
from evdev import ecodes

from hardware.badge_formats import FORMATS, RepeatFilter, canonical
from hardware.badge_tally import BadgeTally, ReaderStats
from hardware.evdev_source import EvdevSource, InputDeviceLike, key_capabilities
from hardware.interfaces import BadgeEvent
from hardware.listeners import Listeners
from hardware.reconnecting_reader import ReaderStatus

log = logging.getLogger(__name__)

# Longer than any badge of any supported format; a longer run without Enter is not a card
# (a stuck key, a keyboard on the wrong port) and must not grow without bound.
MAX_CARD_KEYS = 128
_BAD = "?"  # stands for a key no card has: the card then fails its format and is counted bad
_CARD_KEYS = MappingProxyType(
    {
        **{getattr(ecodes, f"KEY_{c}"): c for c in "0123456789ABCDEF"},
        **{getattr(ecodes, f"KEY_KP{d}"): str(d) for d in range(10)},
        # Separators some readers type between a UID's bytes; raw_uid() skips them.
        ecodes.KEY_MINUS: "-",
        ecodes.KEY_KPMINUS: "-",
        ecodes.KEY_SPACE: " ",
    }
)
_ENDS = frozenset({ecodes.KEY_ENTER, ecodes.KEY_KPENTER})
# Held for capitals or sent by habit: they type nothing of the card themselves.
_MODIFIERS = frozenset(
    {
        ecodes.KEY_LEFTSHIFT,
        ecodes.KEY_RIGHTSHIFT,
        ecodes.KEY_LEFTCTRL,
        ecodes.KEY_RIGHTCTRL,
        ecodes.KEY_LEFTALT,
        ecodes.KEY_RIGHTALT,
        ecodes.KEY_LEFTMETA,
        ecodes.KEY_RIGHTMETA,
        ecodes.KEY_CAPSLOCK,
        ecodes.KEY_NUMLOCK,
        ecodes.KEY_SCROLLLOCK,
    }
)
_KEY_DOWN = 1  # 0 is up and 2 autorepeat: neither types a character


class EvdevBadgeReader(ReaderStatus):
    """Implements :class:`hardware.interfaces.BadgeReader` for a keyboard-wedge reader.

    ``device`` is an event node path (``/dev/kiosk-badge``, ``/dev/input/by-id/...-event-kbd``)
    or ``vvvv:pppp``, the reader's USB ids, looked up among the input devices (the node with
    digit and Enter keys). Hex digit keys make up a card and Enter ends it; it is read as
    ``card_format`` (see :func:`hardware.badge_formats.canonical`). Keys more than
    ``inter_key_timeout`` seconds apart drop the card begun, and the same badge again within
    ``repeat_window_s`` counts once; both are measured on the kernel's timestamps of the keys,
    so a busy listener cannot stretch or squeeze them. ``clock`` dates events. Listeners are
    called on the reader's thread. ``open_device`` (default :class:`evdev.InputDevice`) is
    for tests.
    """

    def __init__(
        self,
        device: str,
        *,
        card_format: str = "raw",
        inter_key_timeout: float = 0.3,
        repeat_window_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        open_device: Callable[[str], InputDeviceLike] | None = None,
    ) -> None:
        if card_format not in FORMATS:
            known = ", ".join(sorted(FORMATS))
            raise ValueError(f"badge reader: unknown card_format {card_format!r} (known: {known})")
        if not inter_key_timeout > 0:
            raise ValueError(
                f"badge reader: inter_key_timeout must be positive, not {inter_key_timeout!r}"
            )
        if not repeat_window_s >= 0:
            raise ValueError(
                f"badge reader: repeat_window_s must not be negative, not {repeat_window_s!r}"
            )
        self._device = device
        self._format = card_format
        self._clock = clock
        self._repeats = RepeatFilter(repeat_window_s)
        self._typing = _Typing(inter_key_timeout)
        # Failures are logged without their messages: a listener's may quote the badge.
        self._listeners: Listeners[BadgeEvent] = Listeners("badge_reader", redact=True)
        self._tally = BadgeTally(f"badge reader {device}", card_format)
        try:
            # ReaderStatus reads state and detail from it.
            self._reader = EvdevSource(
                device,
                role="badge reader",
                thread_name=f"badge-reader {device}",
                handler=self,
                suits=_is_keyboard,
                grab=True,  # the digits must reach no other program, the UI included
                open_device=open_device,
            )
        except ValueError as exc:
            raise ValueError(f"badge reader: {exc}") from None

    @property
    def device(self) -> str:
        return self._device

    @property
    def stats(self) -> ReaderStats:
        """Counts of badges, repeats, bad and dropped cards, reconnects: never a badge."""
        return self._tally.stats

    def subscribe(self, listener: Callable[[BadgeEvent], None]) -> Callable[[], None]:
        """Call ``listener`` on every accepted badge read; returns a function that unsubscribes."""
        return self._listeners.subscribe(listener)

    def start(self) -> None:
        """Start reading in a thread of its own; opening the device is retried until it works."""
        self._reader.start()

    def stop(self) -> None:
        """Stop the thread (within about 0.1 s), release the grab and close the device."""
        self._reader.stop()
        self._repeats.reset()  # keep no trace of a badge longer than needed

    # -- EventHandler, on the reader thread ------------------------------------------------

    def opened(self, reconnect: bool) -> None:
        if reconnect:
            self._tally.count(reconnects=1)

    def handle(self, event: evdev.InputEvent) -> None:
        if event.type == ecodes.EV_SYN and event.code == ecodes.SYN_DROPPED:
            # The kernel lost events: the card being typed may miss keys, and one missing a
            # pair of digits is another valid card. Skip to its Enter.
            self._tally.count(dropped_partials=1)
            self._typing.skip(event.timestamp(), time.monotonic())
            log.debug("badge reader %s: events lost, the card being read is dropped", self._device)
            return
        if event.type != ecodes.EV_KEY or event.value != _KEY_DOWN or event.code in _MODIFIERS:
            return
        at = event.timestamp()
        self._tally.dropped(self._typing.expire(at))
        if event.code in _ENDS:
            card = self._typing.end()
            if card is not None:
                self._handle(card, at)
            return
        overflowed = self._typing.add(_CARD_KEYS.get(event.code, _BAD), at, time.monotonic())
        if overflowed:
            self._tally.bad()

    def idle(self, now: float) -> float | None:
        dropped, due = self._typing.idle(now)
        self._tally.dropped(dropped)
        return due

    def lost(self) -> None:
        self._tally.dropped(self._typing.reset())  # a half-read card must never join the next one

    # -- cards -----------------------------------------------------------------------------

    def _handle(self, card: str, at: float) -> None:
        try:
            badge_id = canonical(card, self._format)
        except ValueError:  # its message could quote the card
            self._tally.bad()
            return
        if not self._repeats.accept(badge_id, at):
            self._tally.count(repeats=1)
            return
        self._tally.count(badges=1)
        self._listeners.emit(BadgeEvent(badge_id=badge_id, at=self._clock()))


class _Typing:
    """The card being typed; dropped when its keys stop coming. Used by the reader thread only."""

    def __init__(self, gap_s: float) -> None:
        self._gap_s = gap_s
        self._keys: list[str] = []
        self._last_at = 0.0  # kernel timestamp of the last key
        self._last_seen = 0.0  # time.monotonic() when that key was handled
        self._skipping = False  # after lost events or an over-long run, until Enter or a pause

    def add(self, char: str, at: float, now: float) -> bool:
        """Type ``char``; returns whether the card just grew too long."""
        self._last_at, self._last_seen = at, now
        if self._skipping:
            return False
        self._keys.append(char)
        if len(self._keys) <= MAX_CARD_KEYS:
            return False
        self._keys.clear()
        self._skipping = True
        return True

    def end(self) -> str | None:
        """The card typed up to this Enter, if any."""
        card = "".join(self._keys) if self._keys and not self._skipping else None
        self._keys.clear()
        self._skipping = False
        return card

    def expire(self, at: float) -> int:
        """Drop a card whose previous key is too long before a key at ``at``; 1 if dropped."""
        return self.reset() if at - self._last_at > self._gap_s else 0

    def idle(self, now: float) -> tuple[int, float | None]:
        """Drop a card no key has come for: how many were dropped, seconds to the next check."""
        if not (self._keys or self._skipping):
            return 0, None
        left = self._gap_s - (now - self._last_seen)
        return (0, left) if left >= 0 else (self.reset(), None)

    def skip(self, at: float, now: float) -> None:
        """Events were lost: drop the card begun and what follows of it."""
        self._keys.clear()
        self._skipping = True
        self._last_at, self._last_seen = at, now

    def reset(self) -> int:
        """Forget the card being typed; returns 1 if one was dropped."""
        had = 1 if self._keys else 0
        self._keys.clear()
        self._skipping = False
        return had


def _is_keyboard(device: InputDeviceLike) -> bool:
    keys = key_capabilities(device)
    return ecodes.KEY_0 in keys and bool(keys & _ENDS)
